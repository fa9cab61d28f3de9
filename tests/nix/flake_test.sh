#!/usr/bin/env bash
# flake_test.sh
#
# flake.nix and its template (nix/template) through Nix's own flake
# commands, as a newcomer meets them: this repository as a git repository
# (a copy of its tracked and new files, committed: a git+file flake sees
# only those), its nixpkgs locked to the stub (stub-nixpkgs/, a path:
# flake; the lock file stands in for the one a published repository
# carries), then `nix flake init -t` into an empty folder.  Proves:
#
#  - `nix flake show` lists packages.{aarch64,x86_64}-linux.sdImage, the
#    template and every other output README names; `nix flake check
#    --no-build` passes;
#  - the x86_64-linux sdImage is the example system cross-built: its
#    configuration has buildPlatform x86_64-linux and hostPlatform
#    aarch64-linux, the image derivation runs on x86_64-linux with the
#    x86_64-linux mkr2simg package; the aarch64-linux one is native;
#  - the template: `nix flake init -t` writes its two files; with its
#    inputs locked to this repository and the stub, `nix flake show`,
#    `nix build .#sdImage --dry-run` as typed, `nix flake check --no-build`
#    pass; its configuration has the R2S basics (serial console, device
#    tree, SSH with a key, DHCP), mkr2simg follows its nixpkgs, the same
#    nixpkgs branch as this flake's, and README's `nix flake init -t` URL
#    is the template's mkr2simg URL.
# Exit 77 (skip) only when Nix is not installed.
set -euo pipefail

me=flake_test
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

need_nix
command -v git >/dev/null || fail "needs git"
command -v jq >/dev/null || fail "needs jq"
git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
	fail "$SRC is not a git checkout: the flake is tested as a git+file flake of its tracked files"
start=$SECONDS
NIX_CONFIG="$NIX_CONFIG
experimental-features = nix-command flakes"
export NIX_CONFIG
# git without the user's configuration
export GIT_CONFIG_NOSYSTEM=1 HOME=$W GIT_AUTHOR_NAME=test GIT_AUTHOR_EMAIL=test@example.org \
	GIT_COMMITTER_NAME=test GIT_COMMITTER_EMAIL=test@example.org

# run NAME CMD...: CMD's stdout to $W/NAME, its stderr shown when it fails
run() {
	local name=$1
	shift
	"$@" >"$W/$name" 2>"$W/$name.err" || { cat "$W/$name.err" >&2; fail "$* failed"; }
}
expect() { # WHAT ACTUAL EXPECTED
	[ "$2" = "$3" ] || fail "$1: got $2, expected $3"
}
# show FILE: `nix flake show`'s lines, colours and tree drawing removed, sorted
show() { sed 's/\x1b\[[0-9;]*m//g; s/^[^a-z]*//' "$1" | grep ': ' | LC_ALL=C sort; }
system=$(nix-instantiate --eval -E builtins.currentSystem | tr -d '"')

# ---- this repository as a git flake, nixpkgs locked to the stub -------------------------------
repo=$W/repo stub=$W/stub
mkdir -p "$repo"
git -C "$SRC" ls-files -z --cached --others --exclude-standard |
	(cd "$SRC" && tar -cf - --null -T -) | tar -xf - -C "$repo"
cp -r "$SRC/tests/nix/stub-nixpkgs" "$stub"
git -C "$repo" init -q
git -C "$repo" add -A
git -C "$repo" commit -q -m copy
run lock-repo nix flake lock "git+file://$repo" --override-input nixpkgs "path:$stub"
git -C "$repo" add flake.lock
git -C "$repo" commit -q -m lock
flake=git+file://$repo
note "[$((SECONDS - start)) s] $flake"

run show-repo nix flake show "$flake"
show "$W/show-repo" >"$W/show"
cat >"$W/show.expected" <<'EOF'
default: NixOS module
default: Nixpkgs overlay
default: package 'mkr2simg-0.1.0'
default: package 'mkr2simg-0.1.0'
default: template: NixOS on a NanoPi R2S: configuration.nix and nix build .#sdImage (x86_64-linux or aarch64-linux)
lib: unknown
mkr2simg: derivation 'mkr2simg-0.1.0'
mkr2simg: derivation 'mkr2simg-0.1.0'
mkr2simg: package 'mkr2simg-0.1.0'
mkr2simg: package 'mkr2simg-0.1.0'
r2s-example-cross: NixOS configuration
r2s-example: NixOS configuration
sd-image-eval: derivation 'r2s-sd-image-drv-path'
sd-image-eval: derivation 'r2s-sd-image-drv-path'
sd-image: NixOS module
sdImage: package 'nixos-r2s-sd-image-25.05.stub-aarch64-linux.img.zst'
sdImage: package 'nixos-r2s-sd-image-25.05.stub-aarch64-linux.img.zst'
EOF
diff -u "$W/show.expected" "$W/show" >&2 || fail "nix flake show lists other outputs"
grep -q '^[^a-z]*aarch64-linux' <(sed 's/\x1b\[[0-9;]*m//g' "$W/show-repo") || fail "no aarch64-linux outputs"

# ev NAME ATTR: `nix eval --json FLAKE#ATTR`
ev() { run "$1" nix eval --json "$flake#$2"; cat "$W/$1"; }
platforms() { # CONFIGURATION: [build, host] of nixosConfigurations.CONFIGURATION
	ev "platforms-$1" "nixosConfigurations.$1.config.nixpkgs" >/dev/null
	jq -c '[.buildPlatform.system, .hostPlatform.system]' "$W/platforms-$1"
}
expect "r2s-example-cross's platforms" "$(platforms r2s-example-cross)" '["x86_64-linux","aarch64-linux"]'
expect "r2s-example's platforms" "$(platforms r2s-example)" '["aarch64-linux","aarch64-linux"]'
# drv NAME ATTR: the .drv of FLAKE#ATTR, as JSON (nix show-derivation)
drv() { run "drv-$1" nix show-derivation "$flake#$2"; jq -c '.[]' "$W/drv-$1"; }
drv x86 packages.x86_64-linux.sdImage >"$W/x86.json"
drv arm packages.aarch64-linux.sdImage >"$W/arm.json"
mkr2simg_x86=$(ev mkr2simg-x86 packages.x86_64-linux.mkr2simg.outPath)
mkr2simg_arm=$(ev mkr2simg-arm packages.aarch64-linux.mkr2simg.outPath)
expect "the cross image's builder system and mkr2simg" "$(jq -c '[.system, .env.mkr2simg]' "$W/x86.json")" "[\"x86_64-linux\",$mkr2simg_x86]"
expect "the native image's builder system and mkr2simg" "$(jq -c '[.system, .env.mkr2simg]' "$W/arm.json")" "[\"aarch64-linux\",$mkr2simg_arm]"
toplevel_x86=$(ev toplevel-x86 nixosConfigurations.r2s-example-cross.config.system.build.toplevel.outPath)
expect "the cross image holds the cross-built system" "$(jq -c .env.toplevel "$W/x86.json")" "$toplevel_x86"
ev toplevel-system nixosConfigurations.r2s-example-cross.config.system.build.toplevel.system >/dev/null
expect "the cross-built system's platform" "$(cat "$W/toplevel-system")" '"aarch64-linux"'

run check-repo nix flake check --no-build "$flake"
note "[$((SECONDS - start)) s] flake show, eval, check: $flake"

# ---- the template, as a newcomer uses it --------------------------------------------------------------
user=$W/user
mkdir "$user"
(cd "$user" && run init nix flake init -t "$flake")
expect "files from nix flake init" "$(cd "$user" && find . -type f | LC_ALL=C sort | tr '\n' ' ')" "./configuration.nix ./flake.nix "
for f in configuration.nix flake.nix; do
	cmp "$user/$f" "$SRC/nix/template/$f" >&2 || fail "nix flake init wrote a different $f"
done
(cd "$user" && run lock-user nix flake lock --override-input mkr2simg "$flake" --override-input nixpkgs "path:$stub")
[ -f "$user/flake.lock" ] || fail "no flake.lock in $user"
expect "mkr2simg's nixpkgs follows the template's" "$(jq -c .nodes.mkr2simg.inputs.nixpkgs "$user/flake.lock")" '["nixpkgs"]'

# From here on, what the user types, in their folder.
cd "$user"
run show-user nix flake show
show "$W/show-user" >"$W/show"
cat >"$W/show.expected" <<'EOF'
r2s-cross: NixOS configuration
r2s: NixOS configuration
sdImage: package 'nixos-r2s-sd-image-25.05.stub-aarch64-linux.img.zst'
sdImage: package 'nixos-r2s-sd-image-25.05.stub-aarch64-linux.img.zst'
EOF
diff -u "$W/show.expected" "$W/show" >&2 || fail "the template's nix flake show lists other outputs"
flake=.
expect "template r2s-cross's platforms" "$(platforms r2s-cross)" '["x86_64-linux","aarch64-linux"]'
expect "template r2s's platforms" "$(platforms r2s)" '["aarch64-linux","aarch64-linux"]'
run build-dry nix build .#sdImage --dry-run
drv typed sdImage >"$W/typed.json"
drv this "packages.$system.sdImage" >"$W/this.json"
cmp -s "$W/typed.json" "$W/this.json" || fail ".#sdImage is not packages.$system.sdImage"
run basics nix eval --json .#nixosConfigurations.r2s-cross.config --apply 'c: {
  console = builtins.elem "console=ttyS2,1500000" c.boot.kernelParams;
  inherit (c.hardware.deviceTree) name;
  ssh = c.services.openssh.enable;
  password = c.services.openssh.settings.PasswordAuthentication;
  keys = map (u: builtins.length u.openssh.authorizedKeys.keys) (builtins.attrValues c.users.users);
  dhcp = c.networking.useDHCP;
  fs = builtins.mapAttrs (_: f: f.device) c.fileSystems;
}'
expect "the template's R2S basics" "$(jq -c . "$W/basics")" \
	'{"console":true,"dhcp":true,"fs":{"/":"/dev/disk/by-label/NIXOS_SD","/boot":"/dev/disk/by-label/NIXOS_BOOT"},"keys":[1],"name":"rockchip/rk3328-nanopi-r2s.dtb","password":false,"ssh":true}'
run check-user nix flake check --no-build
note "[$((SECONDS - start)) s] template: init, show, build --dry-run, eval, check"

# ---- URLs in step ----------------------------------------------------------------------------------------------
url() { sed -n "s/^ *inputs\\.$2\\.url = \"\\([^\"]*\\)\";\$/\\1/p" "$1"; }
nixpkgs_url=$(url "$SRC/flake.nix" nixpkgs)
[ -n "$nixpkgs_url" ] || fail "no inputs.nixpkgs.url in flake.nix"
expect "the template's nixpkgs" "$(url "$SRC/nix/template/flake.nix" nixpkgs)" "$nixpkgs_url"
mkr2simg_url=$(url "$SRC/nix/template/flake.nix" mkr2simg)
[ -n "$mkr2simg_url" ] || fail "no inputs.mkr2simg.url in the template"
grep -qF "nix flake init -t $mkr2simg_url" "$SRC/README.md" ||
	fail "README does not say 'nix flake init -t $mkr2simg_url' (the template's mkr2simg URL)"

note "OK [$((SECONDS - start)) s]"
