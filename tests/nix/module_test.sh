#!/usr/bin/env bash
# module_test.sh MKR2SIMG
#
# Runs the NixOS module (nix/sd-image.nix) and flake.nix against
# stub-nixpkgs/ through module-stub.nix -- no nixpkgs exists here, so this
# is an evaluation by the stub's small module system (nixpkgs' declaration,
# priority and type rules), not by NixOS itself; real nixpkgs is needed
# for that (`nix flake check` evaluates checks.<system>.sd-image-eval).
# What it does prove:
#
#  - the module declares the documented mkr2simg.sdImage.* options with
#    their defaults, and sets fileSystems "/" and "/boot" by label,
#    boot.loader.generic-extlinux-compatible, grub off, the R2S device tree;
#  - its system.build.sdImage is the core builder fed correctly: built
#    here (host tools in place of pkgs), it equals mkr2simg run by hand
#    with the options the module derives (boot.loader.timeout, the device
#    tree, sizes, the U-Boot package's files, storePaths), zstd-compressed
#    by default, named by image.fileName, its bmap beside it;
#  - boot.postBootCommands runs the first-boot script, which wraps
#    first-boot.sh and runs;
#  - flake.nix: overlays.default, packages.<system>.{mkr2simg, default},
#    nixosModules.{sd-image,default} have the right shapes (flake_test.sh
#    runs the flake through Nix's flake commands).
# Exit 77 (skip) only when Nix is not installed.
set -euo pipefail

me=module_test
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 MKR2SIMG" >&2; exit 2; }
exe=$(readlink -f "$1")
need_nix
start=$SECONDS
expr=$SRC/tests/nix/module-stub.nix

stage_mkr2simg "$exe" "$W/mkr2simg"
zstd=true
command -v zstd >/dev/null 2>&1 || { zstd=false; note "zstd not installed: the module's image is built uncompressed"; }
args=(--argstr mkr2simgDir "$W/mkr2simg" --arg compressImage "$zstd")
# ev EXPR: EXPR as JSON, with m = module-stub.nix's attribute set
ev() {
	nix-instantiate --eval --strict --json -E \
		"let m = import $expr { mkr2simgDir = \"$W/mkr2simg\"; compressImage = $zstd; }; in $1"
}
expect() { # WHAT ACTUAL EXPECTED
	[ "$2" = "$3" ] || fail "$1: got $2, expected $3"
}

# ---- options and settings -----------------------------------------------------------
system=$(nix-instantiate --eval -E builtins.currentSystem | tr -d '"')
expect "mkr2simg.sdImage options" "$(ev '(o: builtins.attrNames o) m.options.mkr2simg.sdImage')" \
	'["bootSize","compressImage","dedup","dtb","expandOnBoot","package","rootHeadroom","rootSize","seed","storePaths","uboot"]'
expect "option defaults" "$(ev '(s: { inherit (s) bootSize rootSize rootHeadroom seed dedup dtb expandOnBoot; }) m.config.mkr2simg.sdImage')" \
	'{"bootSize":"512M","dedup":true,"dtb":"rockchip/rk3328-nanopi-r2s.dtb","expandOnBoot":true,"rootHeadroom":"64M","rootSize":"auto","seed":null}'
expect "image.*" "$(ev '(i: { inherit (i) baseName extension fileName filePath; }) m.config.image')" \
	'{"baseName":"nixos-r2s-sd-image-24.05.test-'"$system"'","extension":"img'"$([ "$zstd" = true ] && echo .zst)"'","fileName":"nixos-r2s-sd-image-24.05.test-'"$system"'.img'"$([ "$zstd" = true ] && echo .zst)"'","filePath":"sd-image/nixos-r2s-sd-image-24.05.test-'"$system"'.img'"$([ "$zstd" = true ] && echo .zst)"'"}'
expect "fileSystems" "$(ev m.config.fileSystems)" \
	'{"/":{"device":"/dev/disk/by-label/NIXOS_SD","fsType":"ext4","options":["defaults"]},"/boot":{"device":"/dev/disk/by-label/NIXOS_BOOT","fsType":"ext4","options":["defaults"]}}'
expect "boot.loader" "$(ev '(l: { inherit (l) grub; generic-extlinux-compatible = { inherit (l.generic-extlinux-compatible) enable; }; }) m.config.boot.loader')" \
	'{"generic-extlinux-compatible":{"enable":true},"grub":{"enable":false}}'
expect "hardware.deviceTree.name" "$(ev m.config.hardware.deviceTree.name)" '"rockchip/rk3328-nanopi-r2s.dtb"'
expect "storePaths" "$(ev '(map (p: p.name)) m.config.mkr2simg.sdImage.storePaths')" '["nixos-system-r2s-nix-test-24.05","r2s-nix-test-extra"]'
expect "U-Boot default" "$(ev '(a: { inherit (a) defconfig filesToInstall; }) m.config.mkr2simg.sdImage.uboot.stubArgs')" \
	'{"defconfig":"nanopi-r2s-rk3328_defconfig","filesToInstall":["u-boot.itb","idbloader.img","u-boot-rockchip.bin"]}'
# the default U-Boot moves ramdisk_addr_r (tests/boot/uboot_test.sh proves
# the script on U-Boot's source)
expect "U-Boot default memory map" \
	"$(ev '(p: builtins.isList (builtins.match "sh /nix/store/[a-z0-9]+-uboot-memory-map[.]sh [.]" p)) m.config.mkr2simg.sdImage.uboot.stubArgs.prePatch')" true
# mkr2simg.sdImage.package: pkgs.buildPackages.mkr2simg, else this repository's package.nix
expect "mkr2simg.sdImage.package is pkgs.buildPackages.mkr2simg" \
	"$(ev 'toString m.config.mkr2simg.sdImage.package == toString m.t.mkr2simg')" true
expect "mkr2simg.sdImage.package without pkgs.mkr2simg" "$(ev m.modulePackageFallback.drvPath)" "$(ev m.package.drvPath)"

# ---- flake outputs --------------------------------------------------------------------
expect "nixosModules.sd-image" "$(ev "(x: map toString x.imports) m.nixosModule")" "[\"$SRC/nix/sd-image.nix\"]"
expect "nixosModules.default" "$(ev "(x: map toString x.imports) m.nixosModuleDefault")" "[\"$SRC/nix/sd-image.nix\"]"
expect "packages.default" "$(ev m.packageDefault.drvPath)" "$(ev m.package.drvPath)"
expect "overlays.default" "$(ev m.overlayPackage.drvPath)" "$(ev m.package.drvPath)"
expect "package name" "$(ev m.package.name)" '"mkr2simg-0.1.0"'
expect "package meta.mainProgram" "$(ev m.package.meta.mainProgram)" '"mkr2simg"'

# ---- the image ----------------------------------------------------------------------------
note "[$((SECONDS - start)) s] building the module's system.build.sdImage"
nb "${args[@]}" -o "$W/result" "$expr" -A image -A t.toplevel -A t.ubootPair \
	-A image.closureInfo -A postBootCommands >"$W/outs"
mapfile -t outs <"$W/outs"
[ "${#outs[@]}" -eq 5 ] || fail "expected 5 outputs from nix-build, got ${#outs[@]}"
out=${outs[0]} toplevel=${outs[1]} pair=${outs[2]} ci=${outs[3]} post_boot=${outs[4]}
name=$(ev m.config.image.fileName | tr -d '"')
[ "sd-image/$name" = "$(ev m.config.image.filePath | tr -d '"')" ] || fail "image.filePath is not sd-image/$name"
[ -f "$out/sd-image/$name" ] || fail "no $out/sd-image/$name"
if [ "$zstd" = true ]; then
	zstd -q -d -c "$out/sd-image/$name" >"$W/module.img"
else
	cp --sparse=always "$out/sd-image/$name" "$W/module.img"
fi
bmap=$out/sd-image/${name%.img*}.bmap
[ -f "$bmap" ] || fail "no bmap $bmap beside the image"
grep -qx "file bmap $bmap" "$out/nix-support/hydra-build-products" ||
	fail "hydra-build-products: $(cat "$out/nix-support/hydra-build-products")"
grep -qx "file sd-image $out/sd-image/$name" "$out/nix-support/hydra-build-products" ||
	fail "hydra-build-products: $(cat "$out/nix-support/hydra-build-products")"
grep -q -- '-r2s-nix-test-extra$' "$ci/store-paths" || fail "mkr2simg.sdImage.storePaths did not reach the closure"
SOURCE_DATE_EPOCH=1 "$exe" -q --toplevel "$toplevel" --registration "$ci/registration" \
	--idbloader "$pair/idbloader.img" --uboot-itb "$pair/u-boot.itb" \
	--dtb rockchip/rk3328-nanopi-r2s.dtb --timeout 5 --boot-size 512M --root-size auto \
	--root-headroom 64M "$ci/store-paths" "$W/manual.img"
cmp "$W/manual.img" "$W/module.img" >&2 || fail "the module's image differs from mkr2simg run by hand with its options"
rm -f "$W/manual.img" "$W/module.img"

# ---- boot.loader.timeout = null ------------------------------------------------------------
# NixOS's extlinux builder writes TIMEOUT 0 (wait for a choice) for null;
# the module once let mkr2simg's default (1 s: TIMEOUT 10) stand instead.
nb --argstr mkr2simgDir "$W/mkr2simg" --arg compressImage false --arg loaderTimeout null \
	-o "$W/result-null" "$expr" -A image >"$W/outs-null"
null_img=$(cat "$W/outs-null")/sd-image/${name%.zst}
p1=$(sfdisk --json "$null_img" | jq '.partitiontable.partitions[0].start')
timeout_line=$(debugfs -R 'cat /extlinux/extlinux.conf' "$null_img?offset=$((p1 * 512))" 2>/dev/null | grep '^TIMEOUT')
expect "boot.loader.timeout = null: extlinux.conf's TIMEOUT" "$timeout_line" "TIMEOUT 0"

# ---- first boot ----------------------------------------------------------------------------
first_boot=$(grep -o '/nix/store/[a-z0-9]*-r2s-first-boot' "$post_boot" | head -n 1)
[ -n "$first_boot" ] || { cat "$post_boot" >&2; fail "postBootCommands runs no r2s-first-boot"; }
grep -q -- '--no-grow' "$post_boot" && fail "postBootCommands has --no-grow although expandOnBoot is on"
# as stage 2 runs it on a system that has booted before: nothing to do
bash -n "$post_boot" || fail "postBootCommands is not valid shell"
[ -x "$first_boot" ] || fail "$first_boot is not executable"
"$first_boot" --help >"$W/help" 2>&1 || { cat "$W/help" >&2; fail "$first_boot --help failed"; }
grep -q '^r2s-first-boot \[--root DIR\]' "$W/help" || { cat "$W/help" >&2; fail "$first_boot does not run first-boot.sh"; }
# with no registration it must do nothing, quietly
mkdir -p "$W/empty-root"
"$first_boot" --root "$W/empty-root" >"$W/noop" 2>&1 || fail "$first_boot without a registration failed"
[ ! -s "$W/noop" ] || { cat "$W/noop" >&2; fail "$first_boot without a registration printed something"; }

note "OK [$((SECONDS - start)) s]"
