#!/usr/bin/env bash
# nix_verify.sh ROOTFS_DIR REGISTRATION
#
# Lets Nix itself judge an extracted root filesystem: loads REGISTRATION
# (nix-store --dump-db / closureInfo format) into a throw-away Nix
# database for a chroot store whose store directory is ROOTFS_DIR/nix/store,
# then runs `nix-store --verify --check-contents`, which recomputes every
# registered path's NAR hash from the files.
#
# Nix may exit 0 even when it prints "was modified!", so its output is
# read: any line besides its progress lines fails the check.  The host's
# /nix is never touched and ROOTFS_DIR is not written to (the database,
# logs and settings live in a temporary directory).
set -euo pipefail

die() { echo "nix_verify: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: nix_verify.sh ROOTFS_DIR REGISTRATION"
rootfs=$(cd "$1" && pwd) || die "no such directory: $1"
reg=$2
[ -d "$rootfs/nix/store" ] || die "$rootfs/nix/store is not a directory"
[ -r "$reg" ] || die "cannot read registration $reg"
command -v nix-store >/dev/null || die "needs nix-store (apt-get install nix-bin)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/state" "$tmp/log" "$tmp/conf" "$tmp/cache"

export NIX_STATE_DIR=$tmp/state NIX_LOG_DIR=$tmp/log NIX_CONF_DIR=$tmp/conf
export XDG_CACHE_HOME=$tmp/cache HOME=$tmp
export NIX_CONFIG='sandbox = false
build-users-group =
substituters =
require-sigs = false
experimental-features = nix-command'
unset NIX_REMOTE NIX_PATH
store="local?root=$rootfs&state=$tmp/state&log=$tmp/log"

if ! nix-store --store "$store" --load-db <"$reg" >"$tmp/load.out" 2>&1; then
	sed 's/^/nix_verify: load-db: /' "$tmp/load.out" >&2
	die "nix-store --load-db rejected $reg"
fi

# Every path named in the registration must now be valid.
awk 'BEGIN { st = 0 }
     st == 0 { print; st = 1; next }          # path
     st == 1 { st = 2; next }                 # hash
     st == 2 { st = 3; next }                 # size
     st == 3 { st = 4; next }                 # deriver
     st == 4 { n = $1; st = (n > 0) ? 5 : 0; next }
     st == 5 { if (--n == 0) st = 0 }' "$reg" >"$tmp/paths"
[ -s "$tmp/paths" ] || die "no store paths in $reg"
if ! xargs nix-store --store "$store" --check-validity <"$tmp/paths" >"$tmp/valid.out" 2>&1; then
	sed 's/^/nix_verify: /' "$tmp/valid.out" >&2
	die "registered paths are not valid after --load-db"
fi

status=0
nix-store --store "$store" --verify --check-contents >"$tmp/verify.out" 2>&1 || status=$?
bad=$(grep -v -x -e 'reading the Nix store\.\.\.' -e 'checking path existence\.\.\.' \
	-e 'checking link hashes\.\.\.' -e 'checking store hashes\.\.\.' "$tmp/verify.out" || true)
if [ "$status" -ne 0 ] || [ -n "$bad" ]; then
	printf '%s\n' "$bad" | sed 's/^/nix_verify: /' >&2
	die "nix-store --verify --check-contents failed (exit $status)"
fi
echo "nix_verify: $(wc -l <"$tmp/paths") store paths verified by nix-store --verify --check-contents"
