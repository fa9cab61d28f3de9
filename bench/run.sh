#!/usr/bin/env bash
# bench/run.sh - mkr2simg against the classic ways to make the same image.
#
#   bench/run.sh [--scales "0.25 0.5 1 2"] [--runs 3] [--workdir DIR]
#                [--only "mkr2simg pipeline ..."] [--main SCALE] [--seed N]
#                [--scale-methods "mkr2simg"] [--mkr2simg BIN] [--no-build]
#                [--results FILE] [--keep-closures] [--no-near]
#                [--cache "warm cold"]
#
# See bench/README.md.  Needs root only for apt-get (missing tools).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
COMMAND="bench/run.sh${*:+ $(printf '%q ' "$@")}"
COMMAND=${COMMAND% }

scales="0.25 0.5 1 2"
runs=3
workdir=${MKR2SIMG_BENCH_DIR:-/var/tmp/mkr2simg-bench}
only=""
main=""
seed=1
scale_methods="mkr2simg"
bin=""
build=1
results=""
near=1
caches=warm
ALL_METHODS="mkr2simg mkr2simg-nodedup mkr2simg-zst mkr2simg-then-zstd pipeline mke2fs genimage floor floor-nosync"

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
while [ $# -gt 0 ]; do
	case $1 in
	--scales) scales=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--workdir) workdir=$2; shift 2 ;;
	--only) only=${2//,/ }; shift 2 ;;
	--main) main=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--scale-methods) scale_methods=${2//,/ }; shift 2 ;;
	--mkr2simg) bin=$2; build=0; shift 2 ;;
	--no-build) build=0; shift ;;
	--results) results=$2; shift 2 ;;
	--no-near) near=0; shift ;;
	--cache) caches=${2//,/ }; shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "run.sh: unknown argument $1" >&2; usage ;;
	esac
done
methods=${only:-$ALL_METHODS}
for m in $methods $scale_methods; do
	case " $ALL_METHODS " in *" $m "*) ;; *) echo "run.sh: unknown method $m (have: $ALL_METHODS)" >&2; exit 2 ;; esac
done
for c in $caches; do
	case $c in warm | cold) ;; *) echo "run.sh: --cache takes warm and/or cold, not $c" >&2; exit 2 ;; esac
done
case " $caches " in *" cold "*)
	[ -w /proc/sys/vm/drop_caches ] || { echo "run.sh: --cache cold drops the page cache before each run: run as root" >&2; exit 2; } ;;
esac
[ "$runs" -ge 1 ] 2>/dev/null || { echo "run.sh: --runs must be >= 1" >&2; exit 2; }
if [ -z "$main" ]; then
	main=$(printf '%s\n' $scales | awk '$1 == 1 { print; f = 1; exit } END { }')
	[ -n "$main" ] || main=$(printf '%s\n' $scales | head -n 1)
fi
mkdir -p "$workdir"
workdir=$(cd "$workdir" && pwd)
results=${results:-$workdir/results.md}

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# ------------------------------------------------------------ tools
need_pkgs=()
command -v python3 >/dev/null || need_pkgs+=(python3)
[ -x /usr/bin/time ] || need_pkgs+=(time)
command -v sgdisk >/dev/null || need_pkgs+=(gdisk)
command -v partx >/dev/null || need_pkgs+=(util-linux)
command -v mke2fs >/dev/null && command -v debugfs >/dev/null || need_pkgs+=(e2fsprogs)
command -v zstd >/dev/null || need_pkgs+=(zstd)
case " $methods " in *" genimage "*) command -v genimage >/dev/null || need_pkgs+=(genimage) ;; esac
if [ ${#need_pkgs[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		log "installing ${need_pkgs[*]} with apt-get"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null ||
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null; }
	else
		echo "run.sh: missing tools; run: sudo apt-get install ${need_pkgs[*]}" >&2
		exit 1
	fi
fi

# ------------------------------------------------- mkr2simg snapshot
# The binary is copied (with its library) so that a rebuild during the
# run cannot change what is measured half-way.
if [ -z "$bin" ]; then
	if [ "$build" = 1 ] && [ -f "$REPO/build/build.ninja" ]; then
		log "ninja -C $REPO/build"
		ninja -C "$REPO/build" >/dev/null
	fi
	bin=$REPO/build/mkr2simg
fi
[ -x "$bin" ] || { echo "run.sh: no mkr2simg at $bin (build it: meson setup build && ninja -C build)" >&2; exit 1; }
bindir=$(cd "$(dirname "$bin")" && pwd)
rm -rf "$workdir/bin" && mkdir -p "$workdir/bin"
cp -L "$bin" "$workdir/bin/mkr2simg"
for l in "$bindir"/libmkr2simg.so.0 "$bindir"/libmkr2simg.so.[0-9]*.[0-9]*.[0-9]; do
	[ -f "$l" ] && cp -L "$l" "$workdir/bin/"
done
bin_fingerprint() {
	{ cat "$bin"; cat "$bindir"/libmkr2simg.so.0 2>/dev/null || true; } | sha256sum | cut -c1-12
}
bin_sha=$(bin_fingerprint)
export MKR2SIMG=$workdir/bin/mkr2simg
"$MKR2SIMG" --version >/dev/null 2>&1 || "$MKR2SIMG" --help >/dev/null
git_rev=$(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)

# ------------------------------------------------------------ state
R=$workdir/results
rm -rf "$R" && mkdir -p "$R"
printf 'scale\tmethod\tround\twall\tuser\tsys\tmaxrss_kb\tapparent\tallocated\tfs_used\tzst\n' > "$R/raw.tsv"
printf 'scale\tmethod\tround\tstep\tseconds\n' > "$R/steps.tsv"
: > "$R/notes.txt"
: > "$R/failures.tsv"

# --------------------------------------------------------- helpers
closure_dir() { printf '%s/closures/s%s-seed%s' "$workdir" "$1" "$seed"; }

gen() {
	local s=$1 d
	d=$(closure_dir "$s")
	python3 "$HERE/gen_closure.py" --scale "$s" --seed "$seed" "$d" >&2
}

warm() {        # one untimed read of the whole store: warm page cache
	(cd "$1/store/nix/store" && find . -type f -print0 | xargs -0 cat > /dev/null)
}

# Byte offset of partition N of IMG (GPT), via partx.
part_offset() { partx -g -o START -n "$2" "$1" | awk '{ print $1 * 512 }'; }

fs_used() {     # bytes in use in the ext4 at IMG?offset=OFF
	dumpe2fs -h "$1?offset=$2" 2>/dev/null | awk -F: '
		/^Block count/ { c = $2 } /^Free blocks/ { f = $2 } /^Block size/ { b = $2 }
		END { printf "%.0f", (c - f) * b }'
}

# Checks an image made by a method; fails the benchmark on a broken one.
validate() {
	local method=$1 img=$2 closure=$3 off=0 boot_off n want
	want=$(grep -c . "$closure/closure.txt")
	case $method in floor*) return 0 ;; esac
	if [ "$method" != mke2fs ]; then
		boot_off=$(part_offset "$img" 1)
		off=$(part_offset "$img" 2)
		e2fsck -fn "$img?offset=$boot_off" > "$R/fsck.log" 2>&1 ||
			{ cat "$R/fsck.log" >&2; echo "run.sh: $method: boot filesystem is broken" >&2; exit 1; }
		debugfs -R 'stat /extlinux/extlinux.conf' "$img?offset=$boot_off" 2>/dev/null | grep -q 'Type: regular' ||
			{ echo "run.sh: $method: no /extlinux/extlinux.conf on the boot partition" >&2; exit 1; }
		debugfs -R 'stat /nix-path-registration' "$img?offset=$off" 2>/dev/null | grep -q 'Type: regular' ||
			{ echo "run.sh: $method: no /nix-path-registration" >&2; exit 1; }
	fi
	e2fsck -fn "$img?offset=$off" > "$R/fsck.log" 2>&1 ||
		{ cat "$R/fsck.log" >&2; echo "run.sh: $method: root filesystem is broken" >&2; exit 1; }
	n=$(debugfs -R 'ls -p /nix/store' "$img?offset=$off" 2>/dev/null | grep -c '^/' || true)
	n=$((n - 2))
	[ "$n" = "$want" ] ||
		{ echo "run.sh: $method: /nix/store has $n entries, the closure $want" >&2; exit 1; }
}

# fail SCALE METHOD ROUND WHY: a run that is not timed, reported as failed.
fail() {
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$R/failures.tsv"
	log "  scale $1  $2  round $3: FAILED ($4)"
	rm -rf "$workdir/out"
}

# measure SCALE METHOD ROUND: one timed run, its image checked and removed.
# measure SCALE METHOD ROUND [CACHE]: CACHE cold drops the page cache
# (after a sync) just before the timed run; its results are METHOD@cold.
measure() {
	local s=$1 m=$2 r=$3 cache=${4:-warm} C O t img off used app alloc name=$2
	[ "$cache" = cold ] && name=$m@cold
	C=$(closure_dir "$s")
	O=$workdir/out
	rm -rf "$O" && mkdir -p "$O"
	if [ "$m" = mkr2simg ] || [ "$m" = mkr2simg-nodedup ]; then
		[ "$(bin_fingerprint)" = "$bin_sha" ] ||
			grep -q 'changed' "$R/notes.txt" ||
			echo "The mkr2simg build changed during the run (at scale $s, $m round $r); every mkr2simg number is from the snapshot taken at the start ($bin_sha)." >> "$R/notes.txt"
	fi
	if [ "$cache" = cold ]; then
		sync
		echo 3 > /proc/sys/vm/drop_caches
	fi
	if ! /usr/bin/time -f '%e %U %S %M' -o "$O/time" \
		bash "$HERE/methods.sh" "$m" "$C" "$O" > "$O/log" 2>&1; then
		tail -n 5 "$O/log" >&2
		fail "$s" "$name" "$r" "exited non-zero: $(grep -v '^Command exited' "$O/log" | tail -n 1)"
		return 0
	fi
	read -r wall user sys rss < <(tail -n 1 "$O/time")
	img=$O/image
	# A compressed image: its size, then (untimed) the image it holds,
	# which is checked like every other.
	zst=0
	if [ -f "$O/image.zst" ]; then
		zst=$(stat -c %s "$O/image.zst")
		[ -f "$img" ] || zstd -q -d "$O/image.zst" -o "$img"
	fi
	app=$(stat -c %s "$img")
	alloc=$(du -B1 "$img" | cut -f1)
	used=0
	case $m in
	floor*) ;;
	mke2fs) used=$(fs_used "$img" 0) ;;
	*) off=$(part_offset "$img" 2); used=$(fs_used "$img" "$off") ;;
	esac
	# every mkr2simg image, and the first of every other method, is checked
	if [ "$r" = 1 ] || [ "${m%%-*}" = mkr2simg ]; then
		if ! why=$(validate "$m" "$img" "$C" 2>&1); then
			fail "$s" "$name" "$r" "broken image: $(printf '%s' "$why" | tail -n 1)"
			return 0
		fi
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$name" "$r" "$wall" "$user" "$sys" \
		"$rss" "$app" "$alloc" "$used" "$zst" >> "$R/raw.tsv"
	if [ -f "$O/steps.tsv" ]; then
		while IFS=$'\t' read -r st sec; do
			printf '%s\t%s\t%s\t%s\t%s\n' "$s" "$name" "$r" "$st" "$sec" >> "$R/steps.tsv"
		done < "$O/steps.tsv"
	fi
	log "  scale $s  $name  round $r: wall ${wall}s user ${user}s sys ${sys}s rss $((rss / 1024)) MiB  image $((app / 1048576)) MiB"
	rm -rf "$O"
	sync        # untimed: the next run starts with no dirty pages of this one
}

# ------------------------------------------------------------ runs
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(date +%s)

all_scales=$(printf '%s\n' $scales "$main" | awk '!seen[$1]++')
for s in $all_scales; do
	log "closure at scale $s (seed $seed)"
	gen "$s"
done

run_scale() {   # run_scale SCALE "METHODS": alternating rounds ABCD ABCD ...
	local s=$1 ms=$2 C r m free need
	C=$(closure_dir "$s")
	need=$(python3 -c "import json; print(int(json.load(open('$C/meta.json'))['file_bytes'] * 4 / 2**30) + 2)")
	free=$(df -P -B1G "$workdir" | awk 'NR == 2 { print $4 }')
	[ "$free" -ge "$need" ] || log "warning: $free GiB free in $workdir; scale $s may need about $need GiB"
	log "scale $s: warm-up read of the store (untimed)"
	warm "$C"
	for r in $(seq 1 "$runs"); do
		for m in $ms; do
			for c in $caches; do
				measure "$s" "$m" "$r" "$c"
			done
		done
	done
}

# Compute the fixed root filesystem size for mke2fs and genimage: the
# nixpkgs estimate (2 inodes' worth of 4 KiB blocks per entry + 120% of
# the data), rounded up to 4 MiB; untimed, once per closure.
root_fs_bytes() {
	python3 - "$1" <<-'EOF'
	import json, sys
	m = json.load(open(sys.argv[1] + "/meta.json"))
	entries = m["files"] + m["symlinks"] + m["dirs"] + 3
	b = 2 * 4096 * entries + int(m["file_bytes"] * 1.2)
	print((b + (4 << 20) - 1) // (4 << 20) * (4 << 20))
	EOF
}

export ROOT_FS_BYTES
ROOT_FS_BYTES=$(root_fs_bytes "$(closure_dir "$main")")
log "main closure: scale $main, methods: $methods, $runs runs each, alternating"
run_scale "$main" "$methods"

for s in $scales; do
	[ "$s" = "$main" ] && continue
	ROOT_FS_BYTES=$(root_fs_bytes "$(closure_dir "$s")")
	log "scaling: scale $s, methods: $scale_methods"
	run_scale "$s" "$scale_methods"
done

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
[ "$(bin_fingerprint)" = "$bin_sha" ] || grep -q 'changed' "$R/notes.txt" ||
	echo "The mkr2simg build changed during the run; every mkr2simg number is from the snapshot taken at the start ($bin_sha)." >> "$R/notes.txt"

# ---------------------------------------------------------- report
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
fs=$(findmnt -n -T "$workdir" -o FSTYPE,SOURCE | tr -s ' ')
python3 "$HERE/report.py" --results-dir "$R" --workdir "$workdir" --seed "$seed" \
	--main "$main" --scales "$scales" --runs "$runs" --methods "$methods" \
	--command "$COMMAND" --nproc "$(nproc)" --mem "$mem" --cpu "$cpu" --fs "$fs" \
	--kernel "$(uname -r)" --e2fsprogs "$(mke2fs -V 2>&1 | head -n 1)" \
	--genimage "$(genimage --version 2>/dev/null | head -n 1 || echo none)" \
	--mkr2simg "$git_rev (binary $bin_sha)" --load "$load_start -> $load_end" \
	--caches "$caches" \
	--minutes "$(( ($(date +%s) - t_start + 59) / 60 ))" --out "$results"
log "results: $results (raw: $R/raw.tsv, $R/steps.tsv)"

# ------------------------------------------- dedup's worst case
if [ "$near" = 1 ]; then
	log "dedup worst case: near-identical files (bench/near_identical.sh)"
	near_line=$(LD_LIBRARY_PATH="$workdir/bin" bash "$HERE/near_identical.sh" --runs "$runs" --mkr2simg "$MKR2SIMG") &&
		{ printf '\n%s\n' "$near_line" >>"$results"; echo "$near_line"; }
fi
