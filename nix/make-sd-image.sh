# Builder of make-sd-image.nix's image derivation (POSIX sh, run as
# `SHELL -eu make-sd-image.sh`).  All inputs are environment variables set
# by make-sd-image.nix; empty means "not given".  Runs mkr2simg once, which
# writes the image compressed or not and its bmap in the same pass, and
# leaves in $out only
#   sd-image/$imageName[.zst]           the image (sparse unless compressed)
#   sd-image/<name>.bmap                its bmaptool block map (<name>:
#                                       $imageName without .img)
#   nix-support/hydra-build-products    "file sd-image <image>" and
#                                       "file bmap <bmap>" for Hydra
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

# mkr2simg compresses an OUTPUT ending in .zst itself (the same bytes for
# any number of threads); NIX_BUILD_CORES 0 means all, mkr2simg's default.
img=$out/sd-image/$imageName
[ -n "$compress" ] && img=$img.zst
bmap=$out/sd-image/${imageName%.img}.bmap
[ "$bmap" != "$img" ] || die "imageName '$imageName' is the name of its own bmap"
set -- "$@" --bmap "$bmap"
[ "${NIX_BUILD_CORES:-0}" -gt 0 ] && set -- "$@" --threads "$NIX_BUILD_CORES"

mkdir -p "$out/sd-image" "$out/nix-support"
# SOURCE_DATE_EPOCH is in the environment (make-sd-image.nix sets it).
"$mkr2simg/bin/mkr2simg" "$@" "$closureInfo/store-paths" "$img"

printf 'file sd-image %s\nfile bmap %s\n' "$img" "$bmap" > "$out/nix-support/hydra-build-products"
echo "$buildSystem" > "$out/nix-support/system"
