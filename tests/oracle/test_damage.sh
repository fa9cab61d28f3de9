#!/usr/bin/env bash
# test_damage.sh MKR2SIMG
#
# The oracle must be able to fail: on one small generated tree, each kind of
# damage check_tree.py --damage applies must be reported, by the check that
# owns it:
#   store-byte   one byte of a store file on the card -> "FAIL content: PATH"
#                naming the damaged file
#   gpt-entries  the card's primary GPT entry array zeroed -> "FAIL card
#                sgdisk -v"
#   repro        the second image differs by one byte -> "FAIL reproducible"
# Each must also make check_tree.py exit 1, and the line must be absent
# from an undamaged run of the same tree.  Exit 0 when all were caught.
set -euo pipefail

mk=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/var/tmp}/oracle_damage.XXXXXX")
trap 'rm -rf "$work"' EXIT
export TMPDIR=$work
seed=3
python3 "$here/gen_tree.py" --seed "$seed" --out "$work/tree" >/dev/null

failed=0
# the undamaged run: a damage's line must not be there already
python3 "$here/check_tree.py" "$mk" "$work/tree" >"$work/baseline" 2>&1 || true
expect() { # KIND PATTERN
	local rc=0
	python3 "$here/check_tree.py" --damage "$1" "$mk" "$work/tree" >"$work/out" 2>"$work/err" || rc=$?
	local pat=$2
	if [ "$1" = store-byte ]; then
		# the checker names the damaged file on stderr; the report must name it
		local p
		p=$(sed -n 's/^check_tree: damaged one byte of //p' "$work/err")
		[ -n "$p" ] || { echo "FAIL: $1: check_tree did not say which file it damaged"; failed=1; return; }
		pat="FAIL content: $p: bytes differ"
	fi
	if grep -qF -- "$pat" "$work/baseline"; then
		echo "FAIL: damage $1: '$pat' is reported without any damage too, so this run proves nothing:"
		grep -F -- "$pat" "$work/baseline" | head -n 3 | cut -c1-300 | sed 's/^/    /'; failed=1
	elif [ "$rc" -ne 1 ]; then
		echo "FAIL: damage $1: check_tree exit $rc, expected 1"; failed=1
	elif ! grep -qF -- "$pat" "$work/out"; then
		echo "FAIL: damage $1: no line '$pat' in the report:"; sed 's/^/    /' "$work/out" | head -n 20; failed=1
	else
		echo "ok: damage $1 caught: $(grep -F -- "$pat" "$work/out" | head -n1 | cut -c1-200)"
	fi
}
expect store-byte ''
expect gpt-entries 'FAIL card sgdisk -v'
expect repro 'FAIL reproducible'
exit "$failed"
