#!/usr/bin/env bash
# bench/cold_lookup.sh [--scale S] [--seed N] [--rounds R] [--names N]
#                      [--workdir DIR] [--mkr2simg BIN]
#
# Cold lookups through the kernel in the closure's largest directory, on
# mkr2simg's image and on `mke2fs -d`'s of the same store (as bench/
# run.sh's mke2fs method makes it), and on that one after `e2fsck -fyD`
# indexed its directories.  Each image's root filesystem is loop-mounted
# read-only; per round and image: drop the page cache (echo 3 >
# /proc/sys/vm/drop_caches), stat N names that are not in the
# directory, drop it again, stat N that are (each name its own lookup,
# relative to the open directory); rounds alternate the images.  Prints
# the medians in ms.  Root only (loop devices, drop_caches); it slows
# everything else on the machine while it runs.  Defaults: scale 1, seed
# 1, 5 rounds, 3000 names, the closure cache of bench/run.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
scale=1 seed=1 rounds=5 names=3000 bin=$repo/build/mkr2simg
workdir=${MKR2SIMG_BENCH_DIR:-/var/tmp/mkr2simg-bench}
while [ $# -gt 0 ]; do
	case $1 in
	--scale) scale=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--names) names=$2; shift 2 ;;
	--workdir) workdir=$2; shift 2 ;;
	--mkr2simg) bin=$2; shift 2 ;;
	*) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "cold_lookup.sh: needs root (loop mounts, drop_caches)" >&2; exit 1; }
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

C=$workdir/closures/s$scale-seed$seed
mkdir -p "$workdir"
python3 "$here/gen_closure.py" --scale "$scale" --seed "$seed" "$C" >&2
work=$(mktemp -d "$workdir/cold-lookup.XXXXXX")
mounts=() loops=()
cleanup() {
	local m l
	for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || true; done
	for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

log "mkr2simg image"
"$bin" -q --store-root "$C/store" --registration "$C/registration" "$C/closure.txt" "$work/mkr2simg.img"
log "mke2fs -d image"
fs_bytes=$(python3 - "$C" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1] + "/meta.json"))
entries = m["files"] + m["symlinks"] + m["dirs"] + 3
b = 2 * 4096 * entries + int(m["file_bytes"] * 1.2)
print((b + (4 << 20) - 1) // (4 << 20) * (4 << 20))
EOF
)
mke2fs -q -F -t ext4 -L NIXOS_SD -d "$C/store" "$work/mke2fs.img" "$((fs_bytes / 1024))k" >&2
log "e2fsck -fyD of a copy of it"
cp --sparse=always "$work/mke2fs.img" "$work/rehashed.img"
e2fsck -fyD "$work/rehashed.img" >"$work/rehash.log" 2>&1 || [ $? -le 1 ] ||
	{ cat "$work/rehash.log" >&2; exit 1; }

# The largest directory, and the names: every k-th entry, and each with
# "~" appended (absent), in a fixed random order (in directory order a
# linear directory's lookups would each start where the last one ended).
read -r dir count < <(cd "$C/store" && python3 - <<'EOF'
import os
best = max(((len(fs) + len(ds), r) for r, ds, fs in os.walk("nix/store")), key=lambda t: t[0])
print("/" + best[1], best[0])
EOF
)
python3 - "$C/store$dir" "$names" "$work/hits" "$work/misses" <<'EOF'
import os, random, sys
d, n, hits, misses = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
all_ = sorted(os.listdir(os.fsencode(d)))
step = max(1, len(all_) // n)
pick = all_[::step][:n]
random.Random(1).shuffle(pick)
open(hits, "wb").write(b"\n".join(pick) + b"\n")
open(misses, "wb").write(b"\n".join(p + b"~" for p in pick) + b"\n")
EOF
log "largest directory: $dir ($count entries); $(wc -l <"$work/hits") names"

declare -A mnt
attach() { # NAME IMAGE OFFSET
	local dev
	dev=$(losetup -r -f --show -o "$3" "$2")
	loops+=("$dev")
	mkdir -p "$work/mnt-$1"
	mount -t ext4 -o ro "$dev" "$work/mnt-$1"
	mounts+=("$work/mnt-$1")
	mnt[$1]=$work/mnt-$1
}
off=$(partx -g -o START -n 2 "$work/mkr2simg.img" | awk '{ print $1 * 512 }')
attach mkr2simg "$work/mkr2simg.img" "$off"
attach mke2fs "$work/mke2fs.img" 0
attach rehashed "$work/rehashed.img" 0
for m in mkr2simg mke2fs rehashed; do
	flags=$(lsattr -d "${mnt[$m]}$dir" 2>/dev/null | cut -d' ' -f1)
	log "$m: $dir: $(($(stat -c %s "${mnt[$m]}$dir") / 4096)) blocks, lsattr $flags ($(case $flags in *I*) echo indexed ;; *) echo linear ;; esac))"
done

# cold DIR: "MISSES_MS HITS_MS", each after dropping the page cache
cold() {
	python3 - "$1" "$work/misses" "$work/hits" <<'EOF'
import os, sys, time
d, misses, hits = sys.argv[1:4]
fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
out = []
for f, absent in ((misses, True), (hits, False)):
    names = open(f, "rb").read().split(b"\n")[:-1]
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as p:
        p.write("3\n")
    t = time.perf_counter()
    found = 0
    for n in names:
        try:
            os.lstat(n, dir_fd=fd)
            found += 1
        except FileNotFoundError:
            pass
    out.append((time.perf_counter() - t) * 1000)
    if found != (0 if absent else len(names)):
        sys.exit("%s: %d of %d found" % (f, found, len(names)))
print("%.1f %.1f" % tuple(out))
EOF
}

declare -A res
for r in $(seq 1 "$rounds"); do
	for m in mkr2simg mke2fs rehashed; do
		v=$(cold "${mnt[$m]}$dir")
		res[$m]+="$v;"
		log "round $r $m: absent, present names: $v ms"
	done
done
median() { tr ';' '\n' | awk -v c="$1" 'NF { print $c }' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo "cold lookups in $dir ($count entries), $(wc -l <"$work/misses") absent and $(wc -l <"$work/hits") present names, median of $rounds rounds, kernel $(uname -r):"
printf '| image | %s absent names, ms | %s present names, ms |\n|---|---:|---:|\n' "$(wc -l <"$work/misses")" "$(wc -l <"$work/hits")"
for m in mkr2simg mke2fs rehashed; do
	label=$m
	# shellcheck disable=SC2016 # markdown backquotes
	case $m in
	mke2fs) label='`mke2fs -d`' ;;
	rehashed) label='`mke2fs -d`, then `e2fsck -fyD`' ;;
	esac
	printf '| %s | %s | %s |\n' "$label" "$(median 1 <<<"${res[$m]}")" "$(median 2 <<<"${res[$m]}")"
done
