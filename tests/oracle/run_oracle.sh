#!/usr/bin/env bash
# run_oracle.sh MKR2SIMG [--seeds LIST | --long N] [--minutes M] [--keep]
#               [--build-timeout S]
#
# Owns the loop of the random-tree oracle (issue 8): for each seed,
# gen_tree.py makes a store tree and check_tree.py judges mkr2simg's image of
# it (see their headers).  One line per tree:
#   seed S: files=F dirs=D symlinks=L bytes=B special=K  T s  OK
#   seed S: ...  T s  FAIL (checks)      followed by the checker's FAIL lines
# and a last line "N passed, N failed".  Exit 1 if any tree failed.
#
#   --seeds LIST   fast scale; LIST is comma-separated seeds or ranges A-B
#                  (default 1-30)
#   --long N       long scale (sparse files up to 5 GiB, every seed divisible
#                  by 5 has a 5 GiB one), seeds --start .. --start+N-1, and
#                  totals at the end (trees, files, dirs, bytes, failures)
#   --start S      first seed of --long (default 1)
#   --minutes M    start no new tree after M minutes
#   --build-timeout S  seconds one mkr2simg run may take (default 600)
#   --keep         keep each tree and the checker's work files
#
# Seeds ending in 7 run mkr2simg --no-dedup; seeds ending in 3 set
# SOURCE_DATE_EPOCH=1700000000.
#
# Work files go to a new directory under $TMPDIR (default /var/tmp); each
# tree is deleted after its check unless --keep.  Needs root (debugfs reads,
# odd source modes), python3, e2fsprogs, gdisk, fdisk; missing tools fail
# under CI=true and skip (exit 77) otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }

[ $# -ge 1 ] || usage
mk=$(realpath "$1"); shift
seeds=1-30 scale=fast long=0 start=1 minutes=0 keep=no build_timeout=600
while [ $# -gt 0 ]; do
	case $1 in
	--seeds) seeds=$2; shift 2 ;;
	--long) scale=long long=$2; shift 2 ;;
	--start) start=$2; shift 2 ;;
	--minutes) minutes=$2; shift 2 ;;
	--build-timeout) build_timeout=$2; shift 2 ;;
	--keep) keep=yes; shift ;;
	*) usage ;;
	esac
done

for t in python3 sfdisk sgdisk e2fsck debugfs; do
	if ! command -v "$t" >/dev/null; then
		echo "run_oracle: needs $t"
		[ "${CI:-}" = true ] && exit 1
		exit 77
	fi
done
[ -x "$mk" ] || { echo "run_oracle: $mk is not executable"; exit 2; }
if [ "$(id -u)" -ne 0 ]; then
	echo "run_oracle: must run as root"
	[ "${CI:-}" = true ] && exit 1
	exit 77
fi

list=()
if [ "$scale" = long ]; then
	for ((s = start; s < start + long; s++)); do list+=("$s"); done
else
	IFS=, read -r -a items <<<"$seeds"
	for it in "${items[@]}"; do
		if [[ $it =~ ^([0-9]+)-([0-9]+)$ ]]; then
			for ((s = BASH_REMATCH[1]; s <= BASH_REMATCH[2]; s++)); do list+=("$s"); done
		elif [[ $it =~ ^[0-9]+$ ]]; then
			list+=("$it")
		else
			echo "run_oracle: bad seed list item '$it'"; exit 2
		fi
	done
fi

work=$(mktemp -d "${TMPDIR:-/var/tmp}/run_oracle.XXXXXX")
[ "$keep" = yes ] || trap 'rm -rf "$work"' EXIT
export TMPDIR=$work
keepopt=(--build-timeout "$build_timeout")
[ "$keep" = no ] || keepopt+=(--keep)

passed=0 failed=0 trees=0 tfiles=0 tdirs=0 tlinks=0 tbytes=0 failed_seeds=''
t0=$SECONDS
for s in "${list[@]}"; do
	if [ "$minutes" -gt 0 ] && [ $((SECONDS - t0)) -ge $((minutes * 60)) ]; then
		echo "run_oracle: $minutes minutes are up, no more trees"
		break
	fi
	tree=$work/tree-$s
	t1=$(date +%s.%N)
	if ! stats=$(python3 "$here/gen_tree.py" --seed "$s" --scale "$scale" --out "$tree" 2>"$work/gen.err"); then
		echo "seed $s: generator failed: $(tail -n1 "$work/gen.err")"
		failed=$((failed + 1)) failed_seeds+=" $s"
		rm -rf "$tree"
		continue
	fi
	rc=0
	# every seed ending in 7 also exercises --no-dedup
	nd=()
	[ $((s % 10)) -ne 7 ] || nd=(--no-dedup) stats+=" no-dedup"
	# every seed ending in 3 sets SOURCE_DATE_EPOCH (store times must stay 1;
	# a time after now would be e2fsck's "in the future" complaint)
	[ $((s % 10)) -ne 3 ] || nd=(--epoch 1700000000) stats+=" epoch=1700000000"
	python3 "$here/check_tree.py" "${keepopt[@]}" "${nd[@]}" "$mk" "$tree" >"$work/check.out" 2>&1 || rc=$?
	secs=$(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	trees=$((trees + 1))
	for kv in $stats; do
		case $kv in
		files=*) tfiles=$((tfiles + ${kv#files=})) ;;
		dirs=*) tdirs=$((tdirs + ${kv#dirs=})) ;;
		symlinks=*) tlinks=$((tlinks + ${kv#symlinks=})) ;;
		bytes=*) tbytes=$((tbytes + ${kv#bytes=})) ;;
		esac
	done
	if [ "$rc" -eq 0 ]; then
		echo "seed $s: $stats  $secs s  OK"
		passed=$((passed + 1))
	else
		echo "seed $s: $stats  $secs s  FAIL ($(tail -n1 "$work/check.out" | sed 's/^FAILED: //'))"
		head -n 40 "$work/check.out" | sed 's/^/    /'
		failed=$((failed + 1)) failed_seeds+=" $s"
	fi
	[ "$keep" = yes ] || rm -rf "$tree"
done

if [ "$scale" = long ]; then
	echo "totals: trees=$trees files=$tfiles dirs=$tdirs symlinks=$tlinks bytes=$tbytes ($(numfmt --to=iec "$tbytes")B) failures=$failed seconds=$((SECONDS - t0))"
fi
[ -z "$failed_seeds" ] || echo "failed seeds:$failed_seeds"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
