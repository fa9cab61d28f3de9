#!/usr/bin/env bash
# build_uboot.sh: U-Boot for the NanoPi R2S, built from Debian 12's U-Boot
# source (the version behind u-boot-rockchip and u-boot-qemu) with the
# memory-map change the NixOS module applies to its default U-Boot
# (nix/uboot-memory-map.sh), for RK3328 with Debian's aarch64 cross
# compiler and the RK3328 BL31 of Debian's arm-trusted-firmware (arm64
# package, unpacked, not installed).  The result is kept in
#
#   CACHE/uboot-r2s/out/u-boot.itb, idbloader.img, u-boot-rockchip.bin
#   CACHE/uboot-r2s/out/versions   source and BL31 package versions
#   CACHE/uboot-r2s/out/complete   what was built (a stamp)
#
# (CACHE: see boot_cache_dir in lib.sh; MKR2SIMG_BOOT_CACHE overrides it).
# A second run finds the stamp and builds nothing; MKR2SIMG_UBOOT_REBUILD=1
# builds again.  Prints the out folder on stdout.  The build takes about
# 10 minutes on 2 cores (MKR2SIMG_UBOOT_JOBS, default: all cores, at nice
# 10).  Host packages it needs (Debian): gcc-aarch64-linux-gnu make bc
# bison flex swig libpython3-dev python3-setuptools python3-pyelftools
# device-tree-compiler libssl-dev libgnutls28-dev uuid-dev dpkg-dev.
# Exit 77 (SKIP) when the mirror cannot be reached and nothing is cached.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
BOOT_PROG=build_uboot.sh

DEFCONFIG=nanopi-r2s-rk3328_defconfig
MEMORY_MAP=$here/../../nix/uboot-memory-map.sh
STAMP="format 1; $DEFCONFIG; $(sha256sum <"$MEMORY_MAP" | cut -d' ' -f1)"
# binman and pylibfdt need Debian's python3 (pyelftools, setuptools), not
# whatever python3 comes first in a user's PATH.
PATH=/usr/bin:/bin:/usr/sbin:/sbin:$PATH

cache=$(boot_cache_dir)/uboot-r2s
mkdir -p "$cache" || die "cannot create the cache folder $cache"
cache=$(cd "$cache" && pwd)
out=$cache/out
exec 9>"$cache/.lock"
flock 9 || die "cannot lock $cache/.lock"

if [ "$(cat "$out/complete" 2>/dev/null)" = "$STAMP" ] && [ "${MKR2SIMG_UBOOT_REBUILD:-0}" != 1 ]; then
	say "using the U-Boot built before in $out ($(paste -sd' ' "$out/versions"))"
	printf '%s\n' "$out"
	exit 0
fi

need_tools apt-get dpkg-source dpkg make gcc aarch64-linux-gnu-gcc bc bison flex swig dtc
python3 -c 'import elftools, setuptools' 2>/dev/null ||
	skip "python3 lacks elftools or setuptools (Debian: python3-pyelftools python3-setuptools)"

tmp=$(mktemp -d "$cache/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# A private apt state: its own sources (Debian 12's source packages and
# arm64 binaries), lists and package cache; the host's apt is untouched.
mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial" "$cache/apt/parts"
mirror=${MKR2SIMG_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cat >"$cache/apt/sources.list" <<EOS
deb-src $mirror bookworm main
deb-src $mirror-security bookworm-security main
deb [arch=arm64] $mirror bookworm main
EOS
apt_opts=(
	-o "Dir::Etc::SourceList=$cache/apt/sources.list"
	-o "Dir::Etc::SourceParts=$cache/apt/parts"
	-o APT::Architecture=arm64 -o APT::Architectures=arm64
	-o "Dir::State::Lists=$cache/apt/lists"
	-o "Dir::Cache=$cache/apt/cache"
	-o Acquire::Retries=2 -o Acquire::http::Timeout=30
)
[ "$(id -u)" -ne 0 ] || apt_opts+=(-o APT::Sandbox::User=root)

say "updating the source and arm64 package lists in $cache/apt"
if ! apt-get "${apt_opts[@]}" -q update >"$tmp/update.log" 2>&1; then
	sed 's/^/  /' "$tmp/update.log" >&2
	skip "cannot reach the Debian mirror (apt-get update failed, see above) and no U-Boot built in $out"
fi
mkdir -p "$tmp/src" "$tmp/debs" "$tmp/atf"
say "downloading the u-boot source package and arm-trusted-firmware (arm64)"
if ! (cd "$tmp/src" && apt-get "${apt_opts[@]}" -q source --download-only u-boot &&
	cd "$tmp/debs" && apt-get "${apt_opts[@]}" -q download arm-trusted-firmware) >"$tmp/download.log" 2>&1; then
	sed 's/^/  /' "$tmp/download.log" >&2
	skip "cannot download the u-boot source or arm-trusted-firmware (see above)"
fi
dsc=$(echo "$tmp"/src/u-boot_*.dsc)
[ -f "$dsc" ] || die "no u-boot .dsc downloaded"
# Debian's patches are applied, as in u-boot-rockchip.
dpkg-source -x "$dsc" "$tmp/src/u-boot" >"$tmp/dpkg-source.log" 2>&1 ||
	{ cat "$tmp/dpkg-source.log" >&2; die "dpkg-source -x $dsc failed"; }
dpkg -x "$tmp"/debs/arm-trusted-firmware_*.deb "$tmp/atf"
bl31=$tmp/atf/usr/lib/arm-trusted-firmware/rk3328/bl31.elf
[ -f "$bl31" ] || die "arm-trusted-firmware has no rk3328/bl31.elf"

src=$tmp/src/u-boot
sh "$MEMORY_MAP" "$src" >&2 || die "nix/uboot-memory-map.sh does not apply to Debian's U-Boot"

jobs=${MKR2SIMG_UBOOT_JOBS:-$(nproc)}
say "building $DEFCONFIG with $jobs jobs (about 10 minutes on 2 cores; log: $cache/build.log)"
mk=(make -C "$src" O="$tmp/build" CROSS_COMPILE=aarch64-linux-gnu- BL31="$bl31" -j"$jobs")
if ! { nice -n 10 "${mk[@]}" "$DEFCONFIG" && nice -n 10 "${mk[@]}"; } >"$cache/build.log" 2>&1; then
	tail -n 40 "$cache/build.log" >&2
	die "the U-Boot build failed (whole log: $cache/build.log)"
fi

mkdir -p "$tmp/out"
for f in u-boot.itb idbloader.img u-boot-rockchip.bin; do
	[ -s "$tmp/build/$f" ] || die "the build made no $f"
	cp "$tmp/build/$f" "$tmp/out/"
done
{
	echo "u-boot-source=$(basename "$dsc" .dsc | sed 's/^u-boot_//')"
	# shellcheck disable=SC2016 # dpkg-deb's own ${field} syntax
	dpkg-deb --showformat='${Package}=${Version}\n' -W "$tmp"/debs/arm-trusted-firmware_*.deb
	echo "defconfig=$DEFCONFIG"
} >"$tmp/out/versions"
printf '%s\n' "$STAMP" >"$tmp/out/complete"
rm -rf "$out"
mv "$tmp/out" "$out"
say "built $(paste -sd' ' "$out/versions") in $out"
printf '%s\n' "$out"
