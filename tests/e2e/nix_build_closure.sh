#!/usr/bin/env bash
# Build the test closure described in nix/closure.nix with the host's Nix
# (Debian nix-bin) and write:
#   OUTDIR/result        GC root -> toplevel (keeps the closure alive)
#   OUTDIR/toplevel      the toplevel store path (one line)
#   OUTDIR/closure.txt   all store paths of its closure, one per line
#                        (nix-store -qR; like closureInfo's store-paths)
#   OUTDIR/registration  `nix-store --dump-db` of the closure, i.e. exactly
#                        what `nix-store --load-db` reads (NAR hash in base16,
#                        deriver filled in)
#   OUTDIR/registration.closureinfo
#                        the same in nixpkgs closureInfo's style
#                        ("sha256:<base32>" hash, empty deriver line)
# Idempotent: a second run only re-evaluates (Nix caches the builds).
# Exit status 77 (meson: skip) when Nix is not usable on this host.
set -euo pipefail

die() { echo "nix_build_closure.sh: error: $*" >&2; exit 1; }
# Under CI a missing prerequisite is a failure, never a quiet skip.
skip() {
    if [ "${CI:-}" = true ]; then
        echo "nix_build_closure.sh: error (CI=true, no skipping): $*" >&2; exit 1
    fi
    echo "nix_build_closure.sh: SKIP: $*" >&2; exit 77
}

# The nearest existing folder at or above $1.
existing_ancestor() {
    local d=$1
    while [ ! -e "$d" ]; do d=$(dirname "$d"); done
    printf '%s\n' "$d"
}

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
outdir=$1

case ${BASH_SOURCE[0]} in
    */*) here=${BASH_SOURCE[0]%/*} ;;
    *)   here=. ;;
esac
here=$(cd "$here" && pwd) || { echo "${0##*/}: error: cannot locate script directory" >&2; exit 1; }
expr="$here/nix/closure.nix"
[ -f "$expr" ] || die "missing Nix expression $expr"

for tool in nix-build nix-store nix-hash; do
    command -v "$tool" >/dev/null 2>&1 ||
        skip "'$tool' not found (install Debian's nix-bin to run the Nix e2e tests)"
done

# shellcheck source=nix_env.sh
. "$here/nix_env.sh"

# On a fresh machine /nix does not exist yet: Nix creates it where the
# nearest existing ancestor is writable (as root: /).
if [ "$NIX_REMOTE" = local ] && ! [ -w "$(existing_ancestor /nix/var/nix/db)" ]; then
    skip "the Nix store database /nix/var/nix/db is not writable by $(id -un); run as root"
fi

mkdir -p "$outdir" || die "cannot create $outdir"
outdir=$(cd "$outdir" && pwd)

# Build.  -o makes OUTDIR/result an indirect GC root for the toplevel, so
# the closure survives `nix-collect-garbage`.
toplevel=$(nix-build -o "$outdir/result" "$expr") ||
    die "nix-build $expr failed (see messages above)"
if [ -z "$toplevel" ] || [ ! -d "$toplevel" ]; then
    die "nix-build returned no toplevel directory (got '$toplevel')"
fi
case $toplevel in
    */nix/store/*-nixos-system-*) ;;
    *) die "unexpected toplevel path '$toplevel'" ;;
esac

# Hardlink identical files store-wide, as a long-lived NixOS store would
# have them (auto-optimise-store / nix-store --optimise).  After that every
# regular file and symlink in the store has st_nlink >= 2 (the extra link is
# /nix/store/.links/<hash>).
nix-store --optimise >&2 || die "nix-store --optimise failed"

# Write the outputs atomically so readers never see half-written files.
tmp=$(mktemp -d "$outdir/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

printf '%s\n' "$toplevel" > "$tmp/toplevel"
nix-store -qR "$toplevel" > "$tmp/closure.txt" || die "nix-store -qR failed"
[ -s "$tmp/closure.txt" ] || die "empty closure for $toplevel"
# shellcheck disable=SC2046
nix-store --dump-db $(cat "$tmp/closure.txt") > "$tmp/registration" ||
    die "nix-store --dump-db failed"

# The same information in the form nixpkgs' closureInfo writes it (from
# exportReferencesGraph JSON via jq): NAR hash as "sha256:<nix-base32>" and an
# empty deriver line, paths sorted (exportReferencesGraph order) -- byte for
# byte what closureInfo would produce.  `nix-store --load-db` accepts both.
# shellcheck disable=SC2046
nix-store --dump-db $(LC_ALL=C sort "$tmp/closure.txt") > "$tmp/registration.sorted" ||
    die "nix-store --dump-db failed"
state=path
while IFS= read -r line; do
    case $state in
        path)    printf '%s\n' "$line"; state="hash" ;;
        hash)    printf 'sha256:%s\n' "$(nix-hash --type sha256 --to-base32 "$line")"; state=size ;;
        size)    printf '%s\n' "$line"; state=deriver ;;
        deriver) printf '\n'; state=nrefs ;;
        nrefs)   printf '%s\n' "$line"; left=$line; [ "$left" -gt 0 ] && state=refs || state=path ;;
        refs)    printf '%s\n' "$line"; left=$((left - 1)); [ "$left" -gt 0 ] || state=path ;;
    esac
done < "$tmp/registration.sorted" > "$tmp/registration.closureinfo"
[ "$state" = path ] || die "could not parse the output of nix-store --dump-db"

for f in toplevel closure.txt registration registration.closureinfo; do
    mv -f "$tmp/$f" "$outdir/$f"
done

n=$(wc -l < "$outdir/closure.txt")
# Directories always have st_nlink >= 2; count files and symlinks only.
# shellcheck disable=SC2046
links=$(find $(cat "$outdir/closure.txt") ! -type d -links +1 | wc -l)
# Inodes that occur more than once inside the closure itself (the rest of
# their links are /nix/store/.links/<hash> or paths outside the closure).
# shellcheck disable=SC2046
shared=$(find $(cat "$outdir/closure.txt") ! -type d -links +1 -printf '%i\n' |
         sort | uniq -d | wc -l)
echo "toplevel: $toplevel" >&2
echo "closure: $n store paths; $links files/symlinks with st_nlink > 1;" \
     "$shared inodes linked more than once within the closure" >&2
if [ "$shared" -lt 1 ]; then
    die "no hardlinks inside the closure after nix-store --optimise"
fi
