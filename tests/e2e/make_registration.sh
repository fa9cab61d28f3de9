#!/usr/bin/env bash
# make_registration.sh STORE_ROOT CLOSURE > registration
#
# Writes a Nix path registration (the format of `nix-store --dump-db` and
# of nixpkgs' closureInfo `registration`, read by `nix-store --load-db`)
# for a store tree that Nix did not build, such as the test fixtures:
#
#   /nix/store/<hash>-<name>      store path
#   sha256:<nix-base32 NAR hash>  as closureInfo writes it
#   <NAR size in bytes>
#   <deriver>                     always empty here
#   <number of references>
#   /nix/store/...                one line per reference, sorted
#
# STORE_ROOT is the directory holding nix/store/...; CLOSURE lists absolute
# /nix/store/... paths, one a line.  References are found the way Nix finds
# them: the closure paths (itself included) whose 32-character hash part
# occurs anywhere in the path's NAR serialisation (file bytes, file names,
# symlink targets).  Paths are written in sorted order.
set -euo pipefail

die() { echo "make_registration: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: make_registration.sh STORE_ROOT CLOSURE > registration"
root=${1%/}
closure=$2
[ -d "$root/nix/store" ] || die "$root/nix/store is not a directory"
[ -r "$closure" ] || die "cannot read closure file $closure"
command -v nix-store >/dev/null || die "needs nix-store (apt-get install nix-bin)"
command -v nix-hash >/dev/null || die "needs nix-hash (apt-get install nix-bin)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The closure, cleaned: no blanks, no duplicates, sorted.
grep -v '^[[:space:]]*$' "$closure" | sed 's/[[:space:]]*$//' | LC_ALL=C sort -u >"$tmp/paths"
re='^/nix/store/[0123456789abcdfghijklmnpqrsvwxyz]{32}-[A-Za-z0-9+._?=-]+$'
while IFS= read -r p; do
	[[ $p =~ $re ]] || die "not a store path: $p"
	[ -e "$root$p" ] || [ -L "$root$p" ] || die "missing from the store root: $root$p"
done <"$tmp/paths"
# hash part -> path
awk '{ h = substr($0, 12, 32); print h, $0 }' "$tmp/paths" | LC_ALL=C sort >"$tmp/hashes"

while IFS= read -r p; do
	nix-store --dump "$root$p" >"$tmp/nar"
	size=$(stat -c %s "$tmp/nar")
	hash=$(nix-hash --type sha256 --flat --base32 "$tmp/nar")
	# every 32-character window of every run of nix-base32 characters
	LC_ALL=C grep -aoE '[0123456789abcdfghijklmnpqrsvwxyz]{32,}' "$tmp/nar" |
		awk '{ for (i = 1; i + 31 <= length($0); i++) print substr($0, i, 32) }' |
		LC_ALL=C sort -u >"$tmp/found" || true
	LC_ALL=C join -o 2.2 "$tmp/found" "$tmp/hashes" | LC_ALL=C sort >"$tmp/refs"
	printf '%s\nsha256:%s\n%s\n\n%s\n' "$p" "$hash" "$size" "$(wc -l <"$tmp/refs")"
	cat "$tmp/refs"
done <"$tmp/paths"
