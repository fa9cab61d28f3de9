#!/usr/bin/env bash
# test_nix.sh MKR2SIMG
#
# End to end on real store paths built by Debian's nix-bin (executables,
# absolute/relative/long symlinks, empty dirs and files, a 105 MiB file,
# identical files across paths, hardlinks from `nix-store --optimise`):
# mkr2simg writes the image from the host's /nix/store, check_image.sh
# proves it file by file, and Nix itself verifies the registered store.
# Reports the time and peak memory of the build.  Exit 77 (skip) only
# when nix-build is not installed.
set -euo pipefail

mk=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v nix-build >/dev/null; then
	echo "skip: nix-build is not installed (apt-get install nix-bin)"
	[ "${CI:-}" = true ] && exit 1 # CI never passes by skipping
	exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rc=0
bash "$here/nix_build_closure.sh" "$work/nix" || rc=$?
[ "$rc" -eq 0 ] || exit "$rc"
closure=$work/nix/closure.txt
reg=$work/nix/registration
echo "closure: $(wc -l <"$closure") store paths, toplevel $(cat "$work/nix/toplevel")"

passed=0 failed=0
check() { # NAME IMAGE CHECK-OPTIONS...  (CHECKER: check_image.sh)
	local name=$1 img=$2
	shift 2
	if bash "$here/${CHECKER:-check_image.sh}" -q --store-root / --closure "$closure" \
		--registration "$reg" --nix-verify --timeout 1 "$@" "$img"; then
		passed=$((passed + 1))
	else
		echo "FAIL: $name"
		failed=$((failed + 1))
	fi
}

measure=()
[ -x /usr/bin/time ] && measure=(/usr/bin/time -f "build: %e s wall, %U s user, %S s sys, %M KiB peak RSS")
"${measure[@]}" "$mk" --registration "$reg" "$closure" "$work/a.img"
check dedup "$work/a.img" --dedup yes
# On a used card that got only the data ranges: the 105 MiB file's zero
# blocks, the GPT's unused entries and the journal must not read as 0xAA.
CHECKER=check_used_card.sh check used-card "$work/a.img" --dedup yes

"$mk" -q --no-dedup --registration "$reg" "$closure" "$work/b.img"
check no-dedup "$work/b.img" --dedup no
if cmp -s "$work/a.img" "$work/b.img"; then
	echo "FAIL: --no-dedup made the same image"
	failed=$((failed + 1))
fi
rm -f "$work/b.img"

# The same closure again, shuffled and from stdin: the same bytes.
sort -r "$closure" | sed 'p' | "$mk" -q --registration "$reg" - "$work/c.img"
if cmp -s "$work/a.img" "$work/c.img"; then
	echo "ok: rebuilt from a shuffled, repeated closure on stdin: identical"
	passed=$((passed + 1))
else
	echo "FAIL: a rebuild from the shuffled closure differs"
	failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
