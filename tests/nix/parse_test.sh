#!/usr/bin/env bash
# parse_test.sh
#
# Every Nix file of the repository (flake.nix, nix/, tests/) parses, with
# variables resolved: `nix-instantiate --parse` also reports undefined
# variables (the modules use no `with`, which would hide them).
# Exit 77 (skip) only when Nix is not installed.
set -euo pipefail

me=parse_test
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

need_nix
n=0
while IFS= read -r -d '' f; do
	nix-instantiate --parse "$f" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; fail "$f does not parse"; }
	n=$((n + 1))
done < <(find "$SRC/flake.nix" "$SRC/nix" "$SRC/tests" -name '*.nix' -print0)
[ "$n" -ge 8 ] || fail "found only $n Nix files"
if grep -nE '^[[:space:]]*with[[:space:]]+(lib|pkgs)[[:space:]]*;' "$SRC/nix"/*.nix "$SRC/flake.nix"; then
	fail "'with lib;' / 'with pkgs;' hides undefined variables from this test"
fi
note "OK: $n Nix files parse"
