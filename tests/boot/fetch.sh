#!/usr/bin/env bash
# Obtain, from Debian 12's arm64 packages and without installing them, what
# the boot test needs, and keep it in a cache folder outside the source
# tree (see boot_cache_dir in lib.sh; MKR2SIMG_BOOT_CACHE overrides it):
#
#   CACHE/files/u-boot.bin      u-boot-qemu: qemu_arm64/u-boot.bin (QEMU -bios)
#   CACHE/files/idbloader.img   u-boot-rockchip: rock64-rk3328/idbloader.img
#   CACHE/files/u-boot.itb      u-boot-rockchip: rock64-rk3328/u-boot.itb
#   CACHE/files/busybox         busybox-static: /bin/busybox (arm64, static)
#   CACHE/files/Image           the kernel that linux-image-arm64 depends on:
#                               its /boot/vmlinuz-* (an uncompressed Image)
#   CACHE/files/modules/lib/modules/VERSION/...
#                               the few modules the check initramfs loads
#                               (and what they depend on), modules.builtin*
#   CACHE/files/kernel-version  VERSION
#   CACHE/files/packages        the package versions used
#
# A second run finds CACHE/files/complete (for the same module list) and
# touches no network.  Set
# MKR2SIMG_BOOT_REFRESH=1 to download the current packages again.
# Prints the files folder on stdout.  Exit 77 (SKIP) when the mirror
# cannot be reached and nothing is cached (an error under CI).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

# Modules the initramfs loads; their dependencies are added.
MODULES=(virtio_pci virtio_blk crc32c_generic ext4)
# What files/complete holds: a cache made for another list is made again.
STAMP="format 1; modules ${MODULES[*]}"
PATH=$PATH:/usr/sbin:/sbin

cache=$(boot_cache_dir)
files=$cache/files
mkdir -p "$cache" || die "cannot create the cache folder $cache"
cache=$(cd "$cache" && pwd)
files=$cache/files

exec 9>"$cache/.lock"
flock 9 || die "cannot lock $cache/.lock"

if [ "$(cat "$files/complete" 2>/dev/null)" = "$STAMP" ] && [ "${MKR2SIMG_BOOT_REFRESH:-0}" != 1 ]; then
	say "using cached arm64 packages in $files ($(paste -sd' ' "$files/packages"))"
	printf '%s\n' "$files"
	exit 0
fi

need_tools apt-get apt-cache dpkg depmod modprobe

tmp=$(mktemp -d "$cache/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# A private apt state: arm64 only, own lists and package cache, so the
# host's apt is neither used nor disturbed.
mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial"
apt_opts=(
	-o APT::Architecture=arm64 -o APT::Architectures=arm64
	-o "Dir::State::Lists=$cache/apt/lists"
	-o "Dir::Cache=$cache/apt/cache"
	-o Acquire::Retries=2 -o Acquire::http::Timeout=30 -o Acquire::https::Timeout=30
)
# apt drops privileges to _apt for downloads, which cannot write here.
[ "$(id -u)" -ne 0 ] || apt_opts+=(-o APT::Sandbox::User=root)

say "updating the arm64 package lists in $cache/apt"
if ! apt-get "${apt_opts[@]}" --error-on=any -q update >"$tmp/update.log" 2>&1; then
	sed 's/^/  /' "$tmp/update.log" >&2
	skip "cannot reach the Debian mirror (apt-get update for arm64 failed, see above) and no cached packages in $files"
fi

kpkg=$(apt-cache "${apt_opts[@]}" depends linux-image-arm64 |
	awk '$1 ~ /Depends:$/ && $2 ~ /^linux-image-/ { print $2; exit }')
[ -n "$kpkg" ] || die "cannot tell which kernel package linux-image-arm64 depends on"
pkgs=(u-boot-qemu u-boot-rockchip busybox-static "$kpkg")

mkdir -p "$tmp/debs"
say "downloading ${pkgs[*]}"
if ! (cd "$tmp/debs" && apt-get "${apt_opts[@]}" -q download "${pkgs[@]}") >"$tmp/download.log" 2>&1; then
	sed 's/^/  /' "$tmp/download.log" >&2
	skip "cannot download ${pkgs[*]} from the Debian mirror (see above)"
fi

mkdir -p "$tmp/x" "$tmp/files"
for deb in "$tmp"/debs/*.deb; do
	dpkg -x "$deb" "$tmp/x" || die "dpkg -x $deb failed"
	# shellcheck disable=SC2016 # dpkg-deb's own ${field} syntax
	dpkg-deb --showformat='${Package}=${Version}\n' -W "$deb" >>"$tmp/files/packages"
done
x=$tmp/x
get() { # SRC DEST
	[ -f "$x/$1" ] || die "the packages have no $1"
	cp "$x/$1" "$tmp/files/$2"
}
get usr/lib/u-boot/qemu_arm64/u-boot.bin u-boot.bin
get usr/lib/u-boot/rock64-rk3328/idbloader.img idbloader.img
get usr/lib/u-boot/rock64-rk3328/u-boot.itb u-boot.itb
get bin/busybox busybox

set -- "$x"/boot/vmlinuz-*
{ [ $# -eq 1 ] && [ -f "$1" ]; } || die "expected one /boot/vmlinuz-* in $kpkg"
kver=${1##*/vmlinuz-}
# An arm64 Image has "ARMd" at offset 56; U-Boot's booti needs it plain.
[ "$(dd if="$1" bs=1 skip=56 count=4 status=none)" = ARMd ] ||
	die "$1 is not an uncompressed arm64 Image"
cp "$1" "$tmp/files/Image"
printf '%s\n' "$kver" >"$tmp/files/kernel-version"

# The modules and their dependencies (modprobe reads modules.dep, which
# depmod writes for the whole unpacked tree first).
[ -d "$x/lib/modules/$kver" ] || die "$kpkg has no /lib/modules/$kver"
depmod -b "$x" "$kver" || die "depmod -b on the unpacked kernel failed"
modprobe -d "$x" -S "$kver" --show-depends -a "${MODULES[@]}" >"$tmp/show-depends" ||
	die "modprobe --show-depends ${MODULES[*]} failed"
mdir=$tmp/files/modules/lib/modules/$kver
mkdir -p "$mdir"
for f in modules.builtin modules.builtin.modinfo modules.order; do
	cp "$x/lib/modules/$kver/$f" "$mdir/"
done
awk '$1 == "insmod" { print $2 }' "$tmp/show-depends" | while IFS= read -r ko; do
	rel=${ko#"$x/lib/modules/$kver/"}
	mkdir -p "$mdir/${rel%/*}"
	cp "$ko" "$mdir/$rel"
done

printf '%s\n' "$STAMP" >"$tmp/files/complete"
rm -rf "$files.old"
[ ! -e "$files" ] || mv "$files" "$files.old"
mv "$tmp/files" "$files"
rm -rf "$files.old"
say "cached $(paste -sd' ' "$files/packages") in $files"
printf '%s\n' "$files"
