#!/bin/sh
# uboot-memory-map.sh DIR
#
# Moves the RK3328 U-Boot's load addresses (DIR: a U-Boot source tree) so
# that NixOS kernels fit: U-Boot's `booti` moves an arm64 Image (flags bit
# 3, text_offset 0) from kernel_addr_r=0x02080000 to the 2 MiB boundary
# above, 0x02200000, and refuses to boot when the kernel's image_size
# reaches ramdisk_addr_r.  Upstream's 0x06000000 leaves 62 MiB; NixOS's
# aarch64 kernels are larger (about 72 MB with linuxPackages_latest).
#
#   ramdisk_addr_r      0x06000000 -> 0x0c000000  kernel: up to 158 MiB
#   kernel_comp_addr_r  0x08000000 -> 0x1c000000  initrd: up to 256 MiB
#                       (where present: U-Boot 2023.04 and later; it
#                       lay inside the kernel's new room)
#
# fdt_addr_r, kernel_addr_r and everything below stay; the R2S has 1 GiB
# and U-Boot relocates itself to its top, far above 0x1e000000.  Used by
# the NixOS module (nix/sd-image.nix, postPatch of the default U-Boot)
# and by tests/boot/build_uboot.sh on Debian's U-Boot source, so both get
# the same change.  Fails when the file does not hold the expected
# upstream values (a U-Boot that changed them needs a new look).
set -eu
f=${1:?usage: uboot-memory-map.sh U-BOOT-SOURCE-DIR}/include/configs/rk3328_common.h
old_rd='"ramdisk_addr_r=0x06000000\\0"'
new_rd='"ramdisk_addr_r=0x0c000000\\0"'
old_comp='"kernel_comp_addr_r=0x08000000\\0"'
new_comp='"kernel_comp_addr_r=0x1c000000\\0"'

die() { echo "uboot-memory-map.sh: $*" >&2; exit 1; }
[ -f "$f" ] || die "no $f"
[ "$(grep -c "$old_rd" "$f")" = 1 ] ||
    die "$f does not define ramdisk_addr_r=0x06000000 exactly once; look at its ENV_MEM_LAYOUT_SETTINGS"
sed -i -e "s/$old_rd/$new_rd/" -e "s/$old_comp/$new_comp/" "$f"
grep -q "$new_rd" "$f" || die "could not change $f"
! grep -q "kernel_comp_addr_r=0x08000000" "$f" || die "could not move kernel_comp_addr_r in $f"
echo "uboot-memory-map.sh: $f: ramdisk_addr_r=0x0c000000$(grep -q kernel_comp_addr_r "$f" && echo ', kernel_comp_addr_r=0x1c000000')"
