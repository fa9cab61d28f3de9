#!/usr/bin/env bash
# sd_image_test.sh MKR2SIMG
#
# End-to-end test of the Nix wrapper with the real Nix (Debian's nix-bin,
# as root, sandbox off): builds the fixtures of test.nix -- a fake NixOS
# toplevel (kernel, initrd, dtbs, init, kernel-params) and extra store
# paths made with plain derivations, fake U-Boot packages -- and images of
# them through flake.nix's lib.makeSdImage (nix/make-sd-image.nix) with
# the freshly built MKR2SIMG (the meson build tree's, staged into the
# store by content), then checks:
#
#  - $out holds the image, its bmap and nix-support/ only; the image is
#    sparse; hydra-build-products lists image and bmap;
#  - the closure info is nixpkgs closureInfo's, byte for byte (store-paths
#    = the closure of toplevel + storePaths, registration = nix-store
#    --dump-db in closureInfo's form, total-nar-size);
#  - the image passes tests/e2e/check_image.sh, including Nix itself
#    loading /nix-path-registration into a store rooted at the extracted
#    tree and `nix-store --verify --check-contents` (--nix-verify);
#  - reproducibility: `nix-build --check` rebuilds the image bit for bit;
#    a second derivation (other name, closure info passed in, U-Boot
#    package with both layouts) gives the same bytes;
#  - every layout option, the combined u-boot-rockchip.bin and zstd (when
#    the host has zstd; written by mkr2simg itself, no second pass) reach
#    mkr2simg: the result equals both the uncompressed twin with the pair
#    of files and mkr2simg run by hand with the same options; so does the
#    default image (and its bmap: mkr2simg --bmap's), and one with
#    sourceDateEpoch equals mkr2simg run with that SOURCE_DATE_EPOCH;
#  - README's flashing line works on the compressed image and its bmap:
#    bmaptool copy gives a card that check_image.sh accepts;
#  - a U-Boot package without bootloader files fails the build, saying so.
# Exit 77 (skip) only when Nix is not installed.
set -euo pipefail

me=sd_image_test
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 MKR2SIMG" >&2; exit 2; }
exe=$(readlink -f "$1")
need_nix
start=$SECONDS
checker=$SRC/tests/e2e/check_image.sh
expr=$SRC/tests/nix/test.nix

stage_mkr2simg "$exe" "$W/mkr2simg"
zstd=false
if command -v zstd >/dev/null 2>&1; then
	zstd=true
else
	note "zstd not installed: image c is built uncompressed (compression untested)"
fi
args=(--argstr mkr2simgDir "$W/mkr2simg" --arg zstd "$zstd")

# ---- build (GC roots in $W) --------------------------------------------------------
note "building the fixtures and images a-e"
nb "${args[@]}" -o "$W/result" "$expr" \
	-A images.a -A images.b -A images.c -A images.d -A images.e \
	-A toplevel -A extra -A ubootPair -A ubootCombined -A images.a.closureInfo >"$W/outs"
mapfile -t outs <"$W/outs"
[ "${#outs[@]}" -eq 10 ] || fail "expected 10 outputs from nix-build, got ${#outs[@]}"
a=${outs[0]} b=${outs[1]} c=${outs[2]} d=${outs[3]} e=${outs[4]}
toplevel=${outs[5]} extra=${outs[6]} pair=${outs[7]} combined=${outs[8]} ci=${outs[9]}
extra_file=$(nix-instantiate --eval "${args[@]}" "$expr" -A extraFile | tr -d '"')
[ -f "$extra_file" ] || fail "extraFile '$extra_file' is not a file in the store"
[ -d "$ci" ] || fail "closure info $ci was not built"
note "[$((SECONDS - start)) s] built $a"

# ---- $out ----------------------------------------------------------------------------
(cd "$a" && find . | LC_ALL=C sort) >"$W/out.list"
printf '%s\n' . ./nix-support ./nix-support/hydra-build-products ./nix-support/system \
	./sd-image ./sd-image/r2s-a.bmap ./sd-image/r2s-a.img >"$W/out.expected"
diff -u "$W/out.expected" "$W/out.list" >&2 || fail "unexpected contents of $a"
img_a=$a/sd-image/r2s-a.img
[ "$(cat "$a/nix-support/hydra-build-products")" = "file sd-image $img_a
file bmap $a/sd-image/r2s-a.bmap" ] ||
	fail "hydra-build-products: $(cat "$a/nix-support/hydra-build-products")"
apparent=$(stat -c %s "$img_a")
allocated=$(($(stat -c %b "$img_a") * $(stat -c %B "$img_a")))
[ "$allocated" -lt $((apparent / 8)) ] ||
	fail "the image is not sparse in the store: $allocated of $apparent bytes allocated"
[ -f "$c/sd-image/r2s-c.img$([ "$zstd" = true ] && echo .zst)" ] || fail "no image file in $c"

# ---- closure info = closureInfo --------------------------------------------------------
nix-store -qR "$toplevel" "$extra" "$extra_file" | LC_ALL=C sort >"$W/closure.expected"
cmp -s "$W/closure.expected" "$ci/store-paths" ||
	{ diff -u "$W/closure.expected" "$ci/store-paths" >&2; fail "store-paths is not the closure of toplevel + storePaths"; }
# closureInfo's registration: nix-store --dump-db with the NAR hash as
# sha256:<base32> and an empty deriver line, in store-path order.
# shellcheck disable=SC2046
nix-store --dump-db $(cat "$W/closure.expected") >"$W/dump-db"
state=path
total=0
while IFS= read -r line; do
	case $state in
	path) printf '%s\n' "$line"; state='hash' ;;
	hash) printf 'sha256:%s\n' "$(nix-hash --type sha256 --to-base32 "$line")"; state=size ;;
	size) printf '%s\n' "$line"; total=$((total + line)); state=deriver ;;
	deriver) printf '\n'; state=nrefs ;;
	nrefs) printf '%s\n' "$line"; left=$line; if [ "$left" -gt 0 ]; then state=refs; else state=path; fi ;;
	refs) printf '%s\n' "$line"; left=$((left - 1)); [ "$left" -gt 0 ] || state=path ;;
	esac
done <"$W/dump-db" >"$W/registration.expected"
[ "$state" = path ] || fail "could not parse nix-store --dump-db"
cmp "$W/registration.expected" "$ci/registration" >&2 ||
	{ diff -u "$W/registration.expected" "$ci/registration" >&2 | head -40; fail "registration is not closureInfo's"; }
[ "$(cat "$ci/total-nar-size")" = "$total" ] || fail "total-nar-size $(cat "$ci/total-nar-size"), expected $total"

# ---- the image, checked independently ----------------------------------------------------------------
note "[$((SECONDS - start)) s] check_image.sh --nix-verify on image a"
"$checker" -q --store-root / --closure "$ci/store-paths" --toplevel "$toplevel" \
	--registration "$ci/registration" --nix-verify \
	--idbloader "$pair/idbloader.img" --uboot-itb "$pair/u-boot.itb" "$img_a" >&2 ||
	fail "check_image.sh rejected image a"

# ---- reproducibility ----------------------------------------------------------------------------------
note "[$((SECONDS - start)) s] nix-build --check: rebuilding image a"
nb "${args[@]}" --check --no-out-link "$expr" -A images.a >/dev/null
cmp "$img_a" "$b/sd-image/r2s-b.img" >&2 ||
	fail "two derivations of the same image (a, b) differ"

# ---- options, combined bootloader, compression -----------------------------------------------
img_d=$d/sd-image/r2s-d.img
if [ "$zstd" = true ]; then
	zstd -q -d -c "$c/sd-image/r2s-c.img.zst" >"$W/c.img"
	cmp "$W/c.img" "$img_d" >&2 || fail "image c (combined u-boot-rockchip.bin, zstd) differs from d (the pair)"
	# README's flashing line (onto a used card: tests/e2e/test_bmap.sh)
	command -v bmaptool >/dev/null || fail "needs bmaptool (bmap-tools)"
	card=$W/card.img
	bmaptool -q copy --bmap "$c/sd-image/r2s-c.bmap" "$c/sd-image/r2s-c.img.zst" "$card" 2>"$W/bmaptool.err" ||
		{ cat "$W/bmaptool.err" >&2; fail "bmaptool copy of image c.zst with its bmap failed"; }
	"$checker" -q --store-root / --closure "$ci/store-paths" --toplevel "$toplevel" \
		--registration "$ci/registration" --uboot-rockchip "$combined/u-boot-rockchip.bin" \
		--dedup no --dtb none --timeout 3 --boot-size 64M "$card" >&2 ||
		fail "check_image.sh rejected the card bmaptool wrote from image c.zst and its bmap"
	rm -f "$card"
else
	cmp "$c/sd-image/r2s-c.img" "$img_d" >&2 || fail "image c (combined u-boot-rockchip.bin) differs from d (the pair)"
fi
note "[$((SECONDS - start)) s] check_image.sh on image c/d (all options)"
"$checker" -q --store-root / --closure "$ci/store-paths" --toplevel "$toplevel" \
	--registration "$ci/registration" --uboot-rockchip "$combined/u-boot-rockchip.bin" \
	--dedup no --dtb none --timeout 3 --boot-size 64M "$img_d" >&2 ||
	fail "check_image.sh rejected image d"

# The wrapper is mkr2simg with those options, nothing else: run it by hand.
rm -f "$W/c.img"
manual() { # NAME EPOCH [OPTIONS]: mkr2simg by hand -> $W/manual-NAME.img
	local name=$1 epoch=$2
	shift 2
	SOURCE_DATE_EPOCH=$epoch "$exe" -q --toplevel "$toplevel" --registration "$ci/registration" \
		--idbloader "$pair/idbloader.img" --uboot-itb "$pair/u-boot.itb" "$@" \
		"$ci/store-paths" "$W/manual-$name.img"
}
options_c=(--seed r2s-nix-test --no-dedup --dtb none --timeout 3 --boot-size 64M --root-headroom 16M)
manual d '' "${options_c[@]}"
cmp "$W/manual-d.img" "$img_d" >&2 || fail "image d differs from mkr2simg run by hand with the same options"
manual e 1700000000 "${options_c[@]}"
cmp "$W/manual-e.img" "$e/sd-image/r2s-e.img" >&2 ||
	fail "image e differs from mkr2simg run by hand with SOURCE_DATE_EPOCH=1700000000"
cmp -s "$W/manual-d.img" "$W/manual-e.img" && fail "SOURCE_DATE_EPOCH made no difference"
rm -f "$W/manual-d.img" "$W/manual-e.img"
manual a 1 --bmap "$W/manual-a.bmap"
cmp "$W/manual-a.img" "$img_a" >&2 || fail "image a differs from mkr2simg run by hand"
cmp "$W/manual-a.bmap" "$a/sd-image/r2s-a.bmap" >&2 || fail "image a's bmap differs from mkr2simg --bmap's"
rm -f "$W/manual-a.img" "$W/manual-a.bmap"

# ---- a U-Boot package without bootloader files ----------------------------------------------------
if nix-build --no-out-link "${args[@]}" "$expr" -A images.bad-uboot >"$W/bad.out" 2>"$W/bad.log"; then
	fail "an image with a U-Boot package without bootloader files was built"
fi
grep -q 'has neither idbloader.img + u-boot.itb nor u-boot-rockchip.bin' "$W/bad.log" ||
	{ cat "$W/bad.log" >&2; fail "the failed build does not say what is missing"; }

note "OK [$((SECONDS - start)) s]: images a-e built by Nix and checked; $(wc -l <"$ci/store-paths") store paths"
