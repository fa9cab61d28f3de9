#!/bin/sh
# smoke.sh - a short libFuzzer run of one harness, for `meson test`.
#
# Owns: running FUZZER over its seed corpus (never writing into it: new
# inputs go to a scratch corpus that is removed afterwards) and then
# mutating for FUZZ_SMOKE_RUNS runs or FUZZ_SMOKE_SECONDS seconds,
# whichever ends first; a crash, leak, timeout or broken promise fails
# it and leaves the input in ARTIFACTS/<name>-crash-*.  Missing seeds
# are a failure too, never a skip.
#
# Usage: smoke.sh FUZZER SEED_DIR ARTIFACTS
set -eu

[ $# -eq 3 ] || { echo "usage: $0 FUZZER SEED_DIR ARTIFACTS" >&2; exit 2; }
fuzzer=$1
seeds=$2
artifacts=$3
name=$(basename "$fuzzer")

if [ -z "$(ls -A "$seeds" 2>/dev/null)" ]; then
	echo "FAIL: no seed corpus in $seeds" >&2
	exit 1
fi
# A tmpfs when there is one: the toplevel harness makes and removes a
# small tree per input, several times faster there than on a disk.
base=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
work=$(mktemp -d "$base/mkr2simg-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus" "$work/tmp"

# TMPDIR: the toplevel harness makes its private store root there.
# libFuzzer's own exit code for a crash is 77, which meson reads as a
# skip: a crash must fail the test, so it is 1 here.
TMPDIR="$work/tmp" \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
nice -n 10 "$fuzzer" \
	-runs="${FUZZ_SMOKE_RUNS:-100000}" \
	-max_total_time="${FUZZ_SMOKE_SECONDS:-15}" \
	-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-error_exitcode=1 -timeout_exitcode=1 \
	-artifact_prefix="$artifacts/$name-" \
	"$work/corpus" "$seeds"
