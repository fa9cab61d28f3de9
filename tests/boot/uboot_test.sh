#!/usr/bin/env bash
# uboot_test.sh MKR2SIMG: the NixOS module's U-Boot memory map, proven on
# U-Boot's real source (issue 9).
#
# build_uboot.sh builds nanopi-r2s-rk3328_defconfig from Debian 12's
# U-Boot source with nix/uboot-memory-map.sh applied (cached after the
# first run, ~3-10 minutes on 2 cores); fetch.sh has Debian's stock
# rock64-rk3328 u-boot.itb.  With a toplevel whose kernel is an arm64
# Image header claiming 72 MiB (as NixOS's linuxPackages_latest kernels
# are), mkr2simg must
#   - refuse it with Debian's stock idbloader.img + u-boot.itb
#     (ramdisk_addr_r=0x06000000: 62 MiB),
#   - accept it with the built idbloader.img + u-boot.itb and the built
#     u-boot-rockchip.bin, reading ramdisk_addr_r=0x0c000000 from them,
# and the largest kernel each accepts is found to the byte (4 KiB more
# is refused).  Exit 77 (skip) as fetch.sh and build_uboot.sh do (under
# CI an error).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
BOOT_PROG=uboot_test.sh

[ $# -eq 1 ] || { echo "usage: $0 MKR2SIMG" >&2; exit 2; }
mk=$(cd "$(dirname "$1")" && pwd)/${1##*/}
fixtures=$here/../../fixtures
need_tools perl od

files=$("$here/fetch.sh") || exit $?
built=$("$here/build_uboot.sh") || exit $?

work=$(mktemp -d "${TMPDIR:-/tmp}/mkr2simg-uboot.XXXXXX")
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT

store=$work/store
cp -a "$fixtures/store" "$store"
closure=$fixtures/closure.txt
top=$(grep -- '-nixos-system-' "$closure")
kfile=$(readlink "$store$top/kernel")
chmod u+w "$store${kfile%/*}" "$store$kfile"
# kernel BYTES: an arm64 Image header (text_offset 0, flags 0xa) + 4 KiB
kernel() {
	perl -e 'print pack("VVQ<Q<Q<Q<Q<Q<VV", 0x5a4d, 0, 0, $ARGV[0], 0xa, 0, 0, 0, 0x644d5241, 0), "\0" x 4032' "$1" >"$store$kfile"
}
# run NAME ARGS...: mkr2simg -v; sets rc, keeps the log in $work/NAME.log
run() {
	local name=$1
	shift
	rc=0
	"$mk" -v --store-root "$store" "$@" "$closure" "$work/$name.img" >"$work/$name.log" 2>&1 || rc=$?
	rm -f "$work/$name.img"
}
stock=(--idbloader "$files/idbloader.img" --uboot-itb "$files/u-boot.itb")
pair=(--idbloader "$built/idbloader.img" --uboot-itb "$built/u-boot.itb")
combined=(--uboot-rockchip "$built/u-boot-rockchip.bin")

# largest NAME ARGS...: the largest image_size accepted, in 4 KiB steps
# between 32 MiB and 1 GiB (binary search); each step is one mkr2simg run
largest() {
	local name=$1 lo=$((32 << 8)) hi=$((1024 << 8)) mid
	shift
	while [ $((hi - lo)) -gt 1 ]; do
		mid=$(((lo + hi) / 2))
		kernel $((mid << 12))
		run "$name" "$@"
		if [ "$rc" = 0 ]; then lo=$mid; else hi=$mid; fi
	done
	echo $((lo << 12))
}

failed=0
check() { # WHAT CONDITION...
	local what=$1
	shift
	if "$@"; then say "ok: $what"; else say "FAIL: $what"; failed=1; fi
}

kernel $((72 << 20))
run stock "${stock[@]}"
check "stock Debian rock64-rk3328 u-boot.itb refuses a 72 MiB kernel" \
	[ "$rc" = 1 ]
check "... saying U-Boot's error and its ramdisk_addr_r" \
	grep -q 'ramdisk_addr_r=0x06000000.*RD image overlaps OS image' "$work/stock.log"
run pair "${pair[@]}"
check "built nanopi-r2s u-boot.itb accepts it" [ "$rc" = 0 ]
check "... read from the built itb: ramdisk_addr_r=0x0c000000" \
	grep -q "$built/u-boot.itb: kernel_addr_r=0x02080000 ramdisk_addr_r=0x0c000000" "$work/pair.log"
run combined "${combined[@]}"
check "built u-boot-rockchip.bin accepts it" [ "$rc" = 0 ]
check "... read from it: ramdisk_addr_r=0x0c000000" \
	grep -q "ramdisk_addr_r=0x0c000000" "$work/combined.log"
check "the built U-Boot is the R2S's (fdtfile)" \
	grep -aq 'fdtfile=rockchip/rk3328-nanopi-r2s.dtb' "$built/u-boot.itb"

# nix/uboot-memory-map.sh on the layout of later U-Boots (2023.04 on:
# kernel_comp_addr_r in the kernel's new room moves too) and on one that
# no longer has the upstream value (it must fail, not build silently).
mm=$here/../../nix/uboot-memory-map.sh
mkdir -p "$work/later/include/configs" "$work/other/include/configs"
cat >"$work/later/include/configs/rk3328_common.h" <<'EOF'
#define ENV_MEM_LAYOUT_SETTINGS \
	"kernel_addr_r=0x02080000\0" \
	"ramdisk_addr_r=0x06000000\0" \
	"kernel_comp_addr_r=0x08000000\0" \
	"kernel_comp_size=0x2000000\0"
EOF
sed 's/0x06000000/0x04000000/' "$work/later/include/configs/rk3328_common.h" \
	>"$work/other/include/configs/rk3328_common.h"
sh "$mm" "$work/later" >/dev/null 2>&1 || true
check "uboot-memory-map.sh moves ramdisk_addr_r and kernel_comp_addr_r of later U-Boots" \
	grep -q 'ramdisk_addr_r=0x0c000000.*' "$work/later/include/configs/rk3328_common.h"
check "... kernel_comp_addr_r=0x1c000000" \
	grep -q 'kernel_comp_addr_r=0x1c000000' "$work/later/include/configs/rk3328_common.h"
refuses() { ! sh "$mm" "$1" >/dev/null 2>&1; }
check "uboot-memory-map.sh fails on a U-Boot without the upstream ramdisk_addr_r" \
	refuses "$work/other"

max_stock=$(largest stock "${stock[@]}")
max_built=$(largest pair "${pair[@]}")
check "stock limit is 62 MiB ($max_stock bytes)" [ "$max_stock" = $((62 << 20)) ]
check "built limit is 158 MiB ($max_built bytes), at least 128 MiB" [ "$max_built" = $((158 << 20)) ]
say "largest kernel image_size accepted: stock rock64-rk3328 $max_stock bytes ($((max_stock >> 20)) MiB), built nanopi-r2s $max_built bytes ($((max_built >> 20)) MiB); U-Boot: $(paste -sd' ' "$built/versions")"
[ "$failed" = 0 ] || { for f in "$work"/*.log; do echo "--- $f"; cat "$f"; done >&2; exit 1; }
echo "uboot_test.sh: OK"
