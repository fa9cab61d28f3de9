#!/usr/bin/env bash
# test_limits.sh MKR2SIMG CASE
#
# Cards that must work at ext4's limits and on a used card.  Each CASE
# adds what it needs to a copy of the fixture store as one more store
# path, writes the image, and lets the real consumers judge it (e2fsck,
# sgdisk, debugfs); mkr2simg's word is never taken.
#
#   links-70000    70,000 identical one-byte files: dedup may give one
#                  inode at most 65,000 names (ext4's EXT4_LINK_MAX), so
#                  e2fsck -fn finds every link count right
#   dir-nlink      directories with 64,998 and 64,999
#                  subdirectories (65,000 links and the dir_nlink step
#                  after it): e2fsck -fn clean
#   used-card      the image copied onto a card of 0xAA bytes, data ranges
#                  only (flash_data_ranges.py): sgdisk -v, e2fsck -fn on
#                  both partitions and a store file with all-zero blocks
#                  read back from the card, each judged on its own
#   time-2038      SOURCE_DATE_EPOCH=3000000000 (2065): every inode and the
#                  superblock say 2065; 10737418239 (2310-04-04, the last
#                  time e2fsck reads back) is written and read back; one
#                  second more is refused with one line and no output
#
# Prints "N passed, N failed"; exit 1 on any failure.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 MKR2SIMG CASE" >&2; exit 2; }
mk=$(realpath "$1")
case=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bash "$here/prepare_fixtures.sh" "$work/fx" >/dev/null
fx=$work/fx
S=$fx/store/nix/store
extra=/nix/store/9l2mpxbwrzsxhqyyi0aqrhpl5y4vqvfs-limits
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }

# add_store_path: the extra path joins the closure
add_store_path() { echo "$extra" >>"$fx/closure.txt"; }

# build IMAGE [MKR2SIMG OPTIONS]: the image of the fixture closure
build() {
	local img=$1
	shift
	"$mk" -q --store-root "$fx/store" "$@" "$fx/closure.txt" "$img" 2>"$work/mk.err" ||
		{ cat "$work/mk.err"; return 1; }
}

# part_offset IMAGE N: byte offset of partition N, from the GPT as sgdisk reads it
part_offset() {
	local first
	first=$(sgdisk -i "$2" "$1" | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
	[ -n "$first" ] || { echo "no partition $2 in $1" >&2; return 1; }
	echo $((first * 512))
}

# fsck_clean NAME DEVICE [E2FSCK_TIME]: e2fsck -fn says nothing but its passes
fsck_clean() {
	local out rc=0 clock=()
	# A filesystem stamped in the future is checked at a later "now".
	[ -z "${3:-}" ] || clock=(env "E2FSCK_TIME=$3")
	out=$("${clock[@]}" e2fsck -fn "$2" 2>&1) || rc=$?
	out=$(grep -v -e '^e2fsck [0-9]' -e '^Pass [1-5]' -e ' files (.* blocks$' <<<"$out" || true)
	if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
		ok "$1: e2fsck -fn clean"
	else
		bad "$1: e2fsck -fn exit $rc: $(head -n 3 <<<"$out" | tr '\n' ' ')"
	fi
}

case_links() {
	mkdir -p "$S/${extra#/nix/store/}"
	python3 - "$S/${extra#/nix/store/}" <<'PY'
import os, sys
for i in range(70000):
    with open(os.path.join(sys.argv[1], "f%05d" % i), "w") as f:
        f.write("x")
PY
	add_store_path
	build "$work/a.img" || { bad "mkr2simg failed"; return; }
	local dev
	dev="$work/a.img?offset=$(part_offset "$work/a.img" 2)"
	fsck_clean NIXOS_SD "$dev"
	# The counts themselves: 65,000 on the first inode, 5,000 on the next.
	local n1 n2
	n1=$(debugfs -R "stat $extra/f00000" "$dev" 2>/dev/null | sed -n 's/.*Links: \([0-9]*\).*/\1/p')
	n2=$(debugfs -R "stat $extra/f69999" "$dev" 2>/dev/null | sed -n 's/.*Links: \([0-9]*\).*/\1/p')
	if [ "$n1" = 65000 ] && [ "$n2" = 5000 ]; then
		ok "70,000 identical files: inodes with 65000 and 5000 links"
	else
		bad "70,000 identical files: link counts $n1 and $n2, want 65000 and 5000"
	fi
}

case_dir_nlink() {
	python3 - "$S/${extra#/nix/store/}" <<'PY'
import os, sys
for n in (64998, 64999):
    d = os.path.join(sys.argv[1], "d%d" % n)
    os.makedirs(d)
    for i in range(n):
        os.mkdir(os.path.join(d, "%05d" % i))
PY
	add_store_path
	build "$work/a.img" || { bad "mkr2simg failed"; return; }
	local dev n want links
	dev="$work/a.img?offset=$(part_offset "$work/a.img" 2)"
	fsck_clean NIXOS_SD "$dev"
	for n in 64998 64999; do
		want=$((n + 2))
		[ "$want" -le 65000 ] || want=1
		links=$(debugfs -R "stat $extra/d$n" "$dev" 2>/dev/null | sed -n 's/.*Links: \([0-9]*\).*/\1/p')
		if [ "$links" = "$want" ]; then
			ok "$n subdirectories: $links links"
		else
			bad "$n subdirectories: $links links, want $want"
		fi
	done
}

case_used_card() {
	# A store file with data, all-zero blocks, data: the zero blocks must
	# read as zero from the card, so they are ext4 holes, not unwritten
	# blocks of the image.
	mkdir -p "$S/${extra#/nix/store/}"
	python3 - "$S/${extra#/nix/store/}/zeros" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"head" * 1024 + bytes(5 * 4096) + b"tail" * 1024 + bytes(100))
PY
	add_store_path
	build "$work/a.img" --idbloader "$fx/bootloader/idbloader.img" \
		--uboot-itb "$fx/bootloader/u-boot.itb" || { bad "mkr2simg failed"; return; }
	python3 "$here/flash_data_ranges.py" "$work/a.img" "$work/card.img"
	if sgdisk -v "$work/card.img" | grep -q 'No problems found'; then
		ok "card: sgdisk -v finds no problems"
	else
		bad "card: sgdisk -v: $(sgdisk -v "$work/card.img" | grep -i -m2 -e error -e caution | tr '\n' ' ')"
	fi
	local p1 p2
	p1=$(part_offset "$work/a.img" 1) p2=$(part_offset "$work/a.img" 2)
	fsck_clean "card NIXOS_BOOT" "$work/card.img?offset=$p1"
	fsck_clean "card NIXOS_SD" "$work/card.img?offset=$p2"
	debugfs -R "dump $extra/zeros $work/zeros.card" "$work/card.img?offset=$p2" 2>/dev/null
	if cmp -s "$work/zeros.card" "$S/${extra#/nix/store/}/zeros"; then
		ok "card: a store file's all-zero blocks read back as zeros"
	else
		bad "card: store file with zero blocks differs: $(cmp "$work/zeros.card" "$S/${extra#/nix/store/}/zeros" 2>&1 | head -n1)"
	fi
	if cmp -s <(dd if="$work/a.img" bs=512 skip=34 count=$((32768 - 34)) status=none) \
		<(dd if="$work/card.img" bs=512 skip=34 count=$((32768 - 34)) status=none); then
		ok "card: the raw area before partition 1 is the image's"
	else
		bad "card: the raw area before partition 1 kept old bytes"
	fi
}

# inode_times DEVICE PATH: the years debugfs reads for a path's four times
inode_years() {
	debugfs -R "stat $2" "$1" 2>/dev/null |
		sed -n 's/^ *\(a\|c\|m\|cr\)time: .* \([0-9]\{4\}\)$/\2/p' | sort -u | tr '\n' ' '
}

case_time() {
	local img=$work/a.img dev y t want path
	for t in 3000000000:2065 10737418239:2310; do
		SOURCE_DATE_EPOCH=${t%:*} build "$img" || { bad "SOURCE_DATE_EPOCH=${t%:*}: mkr2simg failed"; continue; }
		for p in 1 2; do
			dev="$img?offset=$(part_offset "$img" "$p")"
			fsck_clean "SOURCE_DATE_EPOCH=${t%:*} partition $p" "$dev" $((${t%:*} + 60))
			# What the image makes has the epoch's time; store
			# contents keep Nix's canonical time 1.
			for path in / /lost+found $([ "$p" = 2 ] && echo /nix /nix/store "$(head -n1 "$fx/closure.txt")"); do
				want=${t#*:}
				case $path in /nix/store/?*) want=1970 ;; esac
				y=$(inode_years "$dev" "$path")
				if [ "$y" = "$want " ]; then
					ok "SOURCE_DATE_EPOCH=${t%:*}: partition $p $path times in $want"
				else
					bad "SOURCE_DATE_EPOCH=${t%:*}: partition $p $path times in '$y', want $want"
				fi
			done
		done
		# The superblock's 40-bit times: low 32 bits and the _hi byte.
		local off sb lo hi
		off=$(part_offset "$img" 2)
		sb=$(od -A n -t u4 -j $((off + 1024 + 0x30)) -N 4 "$img" | tr -d ' ')
		hi=$(od -A n -t u1 -j $((off + 1024 + 0x274)) -N 1 "$img" | tr -d ' ')
		if [ $((hi * 4294967296 + sb)) -eq "${t%:*}" ]; then
			ok "SOURCE_DATE_EPOCH=${t%:*}: superblock write time"
		else
			bad "SOURCE_DATE_EPOCH=${t%:*}: superblock write time $((hi * 4294967296 + sb))"
		fi
		rm -f "$img"
	done
	if SOURCE_DATE_EPOCH=10737418240 build "$img" >/dev/null; then
		bad "SOURCE_DATE_EPOCH=10737418240 (past 2310-04-04) was accepted"
	elif [ "$(wc -l <"$work/mk.err")" -eq 1 ] && grep -q '2310-04-04' "$work/mk.err" && [ ! -e "$img" ] &&
		[ -z "$(find "$work" -maxdepth 1 -name '.a.img.*')" ]; then
		ok "past 2310-04-04: refused with one line, nothing left"
	else
		bad "past 2310-04-04: message or debris: $(cat "$work/mk.err")"
	fi
}

case $case in
links-70000) case_links ;;
dir-nlink) case_dir_nlink ;;
used-card) case_used_card ;;
time-2038) case_time ;;
*) echo "unknown case $case" >&2; exit 2 ;;
esac
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
