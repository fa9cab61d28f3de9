#!/usr/bin/env bash
# Verify a store tree against a Nix registration with Nix itself.
#
#   nix_verify_tree.sh ROOTDIR REGISTRATION
#
# ROOTDIR contains nix/store/<hash>-<name>... (e.g. a copy of a closure or a
# mounted image); REGISTRATION is `nix-store --dump-db` / closureInfo
# registration text.  The registration is loaded into a throw-away Nix
# database (a temp state dir; ROOTDIR/nix/var and the host's /nix are not
# touched) whose real store dir is ROOTDIR/nix/store, then
# `nix-store --verify --check-contents` recomputes every path's NAR hash.
#
# Exits 0 only if every registered path exists, no unregistered store path
# is present, and Nix reports nothing (modified / disappeared / any error or
# warning).  Exit 77 if Nix is not installed.
#
# Note: the NAR hash covers names, file types, contents, the executable bit
# and symlink targets -- NOT ownership, timestamps or other mode bits.
set -euo pipefail

me=nix_verify_tree.sh
die() { echo "$me: FAIL: $*" >&2; exit 1; }

[ $# -eq 2 ] || { echo "usage: $0 ROOTDIR REGISTRATION" >&2; exit 2; }
root=$1
reg=$2

command -v nix-store >/dev/null 2>&1 ||
    { echo "$me: SKIP: nix-store not found (install Debian's nix-bin)" >&2; exit 77; }

case ${BASH_SOURCE[0]} in
    */*) here=${BASH_SOURCE[0]%/*} ;;
    *)   here=. ;;
esac
here=$(cd "$here" && pwd) || { echo "${0##*/}: error: cannot locate script directory" >&2; exit 1; }
# shellcheck source=nix_env.sh
. "$here/nix_env.sh"
unset NIX_REMOTE  # we pass an explicit --store

[ -d "$root/nix/store" ] || die "$root/nix/store is not a directory"
if [ ! -f "$reg" ] || [ ! -r "$reg" ]; then die "cannot read registration '$reg'"; fi
[ -s "$reg" ] || die "registration '$reg' is empty"
root=$(cd "$root" && pwd)
real="$root/nix/store"
case $real in
    *'?'*|*'&'*|*'%'*|*'#'*)
        die "ROOTDIR '$root' contains a character that cannot be used in a Nix store URI (?&%#)" ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nix-verify-tree.XXXXXX")
links_created=
cleanup() {
    # The LocalStore constructor creates REALSTORE/.links; remove it again if
    # we created it and it is still empty so the tree is left as we found it.
    if [ -n "$links_created" ]; then rmdir "$real/.links" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
[ -e "$real/.links" ] || links_created=1

# Parse the registration: PATH, HASH, NARSIZE, DERIVER, NREFS, REFS...
awk -v out="$tmp/paths" '
    function bad(msg) { printf "line %d: %s\n", NR, msg > "/dev/stderr"; err = 1; exit 1 }
    st == 0 { if ($0 == "") next
              # (no {32} intervals: the default awk on Debian is mawk)
              if (substr($0, 1, 11) != "/nix/store/" || substr($0, 12, 32) !~ /^[0-9a-df-np-sv-z]+$/ ||
                  length($0) < 45 || substr($0, 44, 1) != "-" || index(substr($0, 45), "/"))
                  bad("expected a store path, got \"" $0 "\"")
              print > out; st = 1; next }
    st == 1 { if ($0 !~ /^(sha256:)?[0-9a-z]+$/) bad("bad NAR hash \"" $0 "\""); st = 2; next }
    st == 2 { if ($0 !~ /^[0-9]+$/) bad("bad NAR size \"" $0 "\""); st = 3; next }
    st == 3 { st = 4; next }   # deriver (may be empty)
    st == 4 { if ($0 !~ /^[0-9]+$/) bad("bad reference count \"" $0 "\""); n = $0 + 0; st = (n ? 5 : 0); next }
    st == 5 { if ($0 !~ /^\/nix\/store\//) bad("bad reference \"" $0 "\""); if (--n == 0) st = 0; next }
    END { if (!err && st != 0) { printf "truncated registration (state %d)\n", st > "/dev/stderr"; exit 1 } }
' "$reg" || die "malformed registration '$reg'"
sort -u "$tmp/paths" -o "$tmp/paths"
[ -s "$tmp/paths" ] || die "no store paths in registration '$reg'"

# Registered paths must exist; nothing unregistered may be in the store.
problems=0
while IFS= read -r p; do
    [ -e "$real/${p#/nix/store/}" ] || [ -L "$real/${p#/nix/store/}" ] ||
        { echo "$me: missing: $p" >&2; problems=1; }
done < "$tmp/paths"
while IFS= read -r -d '' e; do
    name=${e##*/}
    [ "$name" = .links ] && continue
    grep -qxF "/nix/store/$name" "$tmp/paths" ||
        { echo "$me: not in registration: /nix/store/$name" >&2; problems=1; }
done < <(find "$real" -mindepth 1 -maxdepth 1 -print0)
[ "$problems" = 0 ] || die "store tree $real does not match the registration"

store="local?real=$real&state=$tmp/state&log=$tmp/log"

if ! nix-store --store "$store" --load-db < "$reg" > "$tmp/load.log" 2>&1; then
    cat "$tmp/load.log" >&2
    die "nix-store --load-db rejected '$reg'"
fi
if [ -s "$tmp/load.log" ]; then
    cat "$tmp/load.log" >&2
    die "nix-store --load-db printed unexpected messages"
fi

# Nix 2.8 exits 1 ("warning: not all store errors were fixed") for modified
# paths, but only prints (exit 0) for e.g. disappeared paths, so check both
# the status and that nothing but the progress lines was printed.
rc=0
nix-store --store "$store" --verify --check-contents > "$tmp/verify.log" 2>&1 || rc=$?
sed 's/\x1b\[[0-9;]*m//g' "$tmp/verify.log" > "$tmp/verify.txt"
if grep -vxE 'reading the Nix store\.\.\.|checking path existence\.\.\.|checking link hashes\.\.\.|checking store hashes\.\.\.|checking hashes\.\.\.' \
        "$tmp/verify.txt" > "$tmp/unexpected"; then
    cat "$tmp/verify.txt" >&2
    die "nix-store --verify --check-contents reported problems (exit $rc)"
fi
[ "$rc" = 0 ] || { cat "$tmp/verify.txt" >&2; die "nix-store --verify exited with status $rc"; }

echo "$me: OK: $(wc -l < "$tmp/paths") store paths in $real match $reg"
