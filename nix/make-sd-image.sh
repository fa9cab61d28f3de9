# Builder of make-sd-image.nix's image derivation (POSIX sh, run as
# `SHELL -eu make-sd-image.sh`).  All inputs are environment variables set
# by make-sd-image.nix; empty means "not given".  Runs mkr2simg once and
# leaves in $out only
#   sd-image/$imageName[.zst]           the image (sparse unless compressed)
#   nix-support/hydra-build-products    "file sd-image <path>" for Hydra
#   nix-support/system                  the system the image was built on
# shellcheck shell=sh disable=SC2154  # the inputs are environment variables
set -u

die() { echo "make-sd-image: error: $*" >&2; exit 1; }

[ -x "$mkr2simg/bin/mkr2simg" ] || die "$mkr2simg/bin/mkr2simg is not an executable"
if [ ! -r "$closureInfo/store-paths" ] || [ ! -r "$closureInfo/registration" ]; then
    die "$closureInfo has no store-paths and registration (not a closureInfo?)"
fi
case $imageName in
    '' | */* | .*) die "bad imageName '$imageName'" ;;
esac

# Positional parameters collect mkr2simg's options (POSIX sh: no arrays).
set -- --toplevel "$toplevel" --registration "$closureInfo/registration"

# Bootloader: explicit files win; else the U-Boot package's files.  A
# package with both layouts uses the pair (idbloader.img + u-boot.itb).
if [ -n "$idbloader$ubootItb$ubootRockchip" ]; then
    [ -n "$idbloader" ] && set -- "$@" --idbloader "$idbloader"
    [ -n "$ubootItb" ] && set -- "$@" --uboot-itb "$ubootItb"
    [ -n "$ubootRockchip" ] && set -- "$@" --uboot-rockchip "$ubootRockchip"
elif [ -n "$uboot" ]; then
    if [ -f "$uboot/idbloader.img" ] && [ -f "$uboot/u-boot.itb" ]; then
        set -- "$@" --idbloader "$uboot/idbloader.img" --uboot-itb "$uboot/u-boot.itb"
    elif [ -f "$uboot/u-boot-rockchip.bin" ]; then
        set -- "$@" --uboot-rockchip "$uboot/u-boot-rockchip.bin"
    else
        die "U-Boot package $uboot has neither idbloader.img + u-boot.itb nor u-boot-rockchip.bin"
    fi
fi

[ -n "$dtb" ] && set -- "$@" --dtb "$dtb"
[ -n "$timeout" ] && set -- "$@" --timeout "$timeout"
[ -n "$bootSize" ] && set -- "$@" --boot-size "$bootSize"
[ -n "$rootSize" ] && set -- "$@" --root-size "$rootSize"
[ -n "$rootHeadroom" ] && set -- "$@" --root-headroom "$rootHeadroom"
[ -n "$seed" ] && set -- "$@" --seed "$seed"
[ -n "$dedup" ] || set -- "$@" --no-dedup

mkdir -p "$out/sd-image" "$out/nix-support"
img=$out/sd-image/$imageName

# SOURCE_DATE_EPOCH is in the environment (make-sd-image.nix sets it).
"$mkr2simg/bin/mkr2simg" "$@" "$closureInfo/store-paths" "$img"

if [ -n "$compress" ]; then
    # zstd's output does not depend on the number of threads (-T).
    zstd -q -T"${NIX_BUILD_CORES:-1}" --rm "$img"
    img=$img.zst
fi

echo "file sd-image $img" > "$out/nix-support/hydra-build-products"
echo "$buildSystem" > "$out/nix-support/system"
