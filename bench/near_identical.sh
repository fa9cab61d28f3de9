#!/usr/bin/env bash
# bench/near_identical.sh [--files N] [--size BYTES] [--runs R] [--mkr2simg BIN]
#
# Dedup's worst case: N files of one size that share their first and last
# 4 KiB (so every sample collides) but differ in the middle, in one store
# path beside the fixture closure.  Runs mkr2simg with and without
# --no-dedup alternately, R times each, and prints the medians and their
# ratio (dedup reads each such file twice: once to hash it, once to write
# it).  Defaults: 4000 files of 128 KiB, 3 runs, build/mkr2simg.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
files=4000 size=131072 runs=3 bin=$repo/build/mkr2simg
while [ $# -gt 0 ]; do
	case $1 in
	--files) files=$2; shift 2 ;;
	--size) size=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--mkr2simg) bin=$2; shift 2 ;;
	*) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
work=$(mktemp -d "${MKR2SIMG_BENCH_DIR:-/var/tmp}/near.XXXXXX")
trap 'rm -rf "$work"' EXIT

bash "$repo/tests/e2e/prepare_fixtures.sh" "$work/fx" >/dev/null
path=/nix/store/0n3arjdcnsca11y5q1xqzc5qbdqvmm2k-near-identical
python3 - "$work/fx/store$path" "$files" "$size" <<'PY'
import os, sys
d, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(d)
base = bytearray(os.urandom(size))
for i in range(n):
    base[size // 2:size // 2 + 8] = i.to_bytes(8, "little")
    with open(os.path.join(d, "f%06d" % i), "wb") as f:
        f.write(base)
PY
echo "$path" >>"$work/fx/closure.txt"
# Warm the page cache once so every run reads from memory.
cat "$work/fx/store$path"/* >/dev/null

t_dedup=() t_nodedup=()
timed() { # OUT OPTIONS...
	local out=$1 s e
	shift
	s=$(date +%s.%N)
	"$bin" -q --store-root "$work/fx/store" "$@" "$work/fx/closure.txt" "$out" 2>"$work/err" ||
		{ cat "$work/err" >&2; exit 1; }
	e=$(date +%s.%N)
	rm -f "$out"
	echo "$e - $s" | bc
}
for r in $(seq "$runs"); do
	t_dedup+=("$(timed "$work/a.img")")
	t_nodedup+=("$(timed "$work/b.img" --no-dedup)")
	echo "run $r: dedup ${t_dedup[-1]} s, --no-dedup ${t_nodedup[-1]} s" >&2
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
md=$(median "${t_dedup[@]}") mn=$(median "${t_nodedup[@]}")
printf '| near-identical files | %d × %d B | dedup %.2f s | --no-dedup %.2f s | ratio %.2f× |\n' \
	"$files" "$size" "$md" "$mn" "$(echo "$md / $mn" | bc -l)"
