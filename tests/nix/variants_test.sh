#!/usr/bin/env bash
# variants_test.sh
#
# nix/sd-image.nix beside nixpkgs' image machinery, evaluated by the stub's
# module system (stub-nixpkgs/: declarations shaped like nixpkgs 25.05's
# image/images.nix, image/file-options.nix and installer/sd-card/
# sd-image.nix; see variants.nix for the configurations).  Proves:
#
#  - the collision is gone: a configuration with the module evaluates its
#    sd-card image variant (which imports nixpkgs' sd-image.nix and its
#    sdImage.* options), there nixpkgs' module makes the card and this one
#    steps back (no /boot by label, no first-boot step; the R2S device
#    tree and extlinux stay); the stub does tell a collision (a module
#    declaring sdImage.compressImage, as this one once did, fails with
#    "already declared");
#  - the variant `r2s` (nixos-rebuild build-image --image-variant r2s) is
#    the module's system.build.sdImage, at image.filePath;
#  - the file is named by image.baseName / image.extension / image.fileName
#    (nixpkgs' options on 25.05, the module's own before), .zst by
#    mkr2simg.sdImage.compressImage, the file name deciding compression;
#  - importing nixpkgs' sd-image.nix by hand gives nixpkgs' card;
#  - an old option name (sdImage.bootSize) is an error naming it.
# Exit 77 (skip) only when Nix is not installed.
set -euo pipefail

me=variants_test
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

need_nix
expr=$SRC/tests/nix/variants.nix
# ev ATTR: the attribute of variants.nix as JSON
ev() {
	nix-instantiate --eval --strict --json "$expr" -A "$1" 2>"$W/err" ||
		{ cat "$W/err" >&2; fail "evaluating $1 failed"; }
}
# q ATTR JQ: a field of ev ATTR
q() { ev "$1" | jq -c "$2"; }
expect() { # WHAT ACTUAL EXPECTED
	[ "$2" = "$3" ] || fail "$1: got $2, expected $3"
}
name=nixos-r2s-sd-image-25.05.stub-aarch64-linux

# ---- NixOS 25.05: image variants ------------------------------------------------
ev new >"$W/new.json"
j() { jq -c "$1" "$W/new.json"; }
expect "system.build.images" "$(j .images)" '["r2s","sd-card"]'
expect "image.fileName" "$(j .fileName)" "\"$name.img.zst\""
expect "system.build.sdImage" "$(j .sdImage.name)" "\"$name.img.zst\""
expect "the r2s variant is system.build.sdImage" "$(j .r2s.drvPath)" "$(j .sdImage.drvPath)"
expect "the r2s variant's filePath" "$(j .r2s.filePath)" "\"sd-image/$name.img.zst\""
expect "the module's card" "$(j '[.fileSystems, .firstBoot, .extlinux, .grub, .dtb]')" \
	'[["/","/boot"],true,true,false,"rockchip/rk3328-nanopi-r2s.dtb"]'
# the sd-card variant: nixpkgs' sd-image.nix makes that card
expect "the sd-card variant's image" "$(j '.["sd-card"] | [.sdImage.name, .filePath]')" \
	'["nixos-image-sd-card-25.05.stub-aarch64-linux.img.zst","sd-image/nixos-image-sd-card-25.05.stub-aarch64-linux.img.zst"]'
expect "the sd-card variant is nixpkgs' card" "$(j '.["sd-card"] | [.fileSystems, .firstBoot, .extlinux, .grub, .dtb]')" \
	'[["/","/boot/firmware"],false,true,false,"rockchip/rk3328-nanopi-r2s.dtb"]'

# The stub can tell a collision: sdImage.compressImage declared twice.
if nix-instantiate --eval --strict "$expr" -A clash >/dev/null 2>"$W/clash"; then
	fail "a second declaration of sdImage.compressImage was accepted: the stub cannot tell a collision"
fi
grep -q "The option \`sdImage.compressImage' in \`[^']*/installer/sd-card/sd-image.nix' is already declared" "$W/clash" ||
	{ cat "$W/clash" >&2; fail "the collision is not reported as nixpkgs reports it"; }

# ---- names ----------------------------------------------------------------------------
expect "image.baseName" "$(q baseName '[.fileName, .sdImage.name, .sdImage.imageName, .sdImage.compress]')" \
	'["my-r2s.img.zst","my-r2s.img.zst","my-r2s.img","1"]'
expect "image.fileName without .zst" "$(q fileName '[.filePath, .sdImage.name, .sdImage.compress]')" \
	'["sd-image/my-r2s.img","my-r2s.img",""]'
expect "compressImage = false" "$(q uncompressed '[.fileName, .sdImage.name, .sdImage.compress]')" \
	"[\"$name.img\",\"$name.img\",\"\"]"

# ---- NixOS before 25.05: the module's own image.* options ------------------------------
expect "old NixOS" "$(q old '[.hasImages, .fileName, .filePath, .sdImage.name, .fileSystems, .firstBoot]')" \
	"[false,\"$name.img.zst\",\"sd-image/$name.img.zst\",\"$name.img.zst\",[\"/\",\"/boot\"],true]"
expect "old NixOS, image.baseName" "$(q oldBaseName '[.fileName, .sdImage.name]')" '["my-r2s.img.zst","my-r2s.img.zst"]'

# ---- nixpkgs' sd-image.nix imported by hand ---------------------------------------------
expect "with nixpkgs' sd-image.nix" "$(q both '[.sdImage.name, .fileSystems, .firstBoot, .dtb]')" \
	'["nixos-image-sd-card-25.05.stub-aarch64-linux.img.zst",["/","/boot/firmware"],false,"rockchip/rk3328-nanopi-r2s.dtb"]'

# ---- an old option name ------------------------------------------------------------------------
if nix-instantiate --eval --strict "$expr" -A oldName >/dev/null 2>"$W/old-name"; then
	fail "sdImage.bootSize (renamed mkr2simg.sdImage.bootSize) was accepted"
fi
grep -q "The option \`sdImage.bootSize' does not exist" "$W/old-name" ||
	{ cat "$W/old-name" >&2; fail "setting sdImage.bootSize does not name the option"; }

note "OK"
