#!/usr/bin/env bash
# test_htree.sh MKR2SIMG
#
# Indexed directories, judged by e2fsprogs alone.  One more store path
# joins the fixture closure with two large directories: 17,779 entries
# (the largest of the 1x bench closure; one level of index) and 100,000
# (two levels), names of 1 to 255 bytes, some with bytes from 0x80
# (they hash differently with signed and unsigned chars).  Then:
#
#   - e2fsck -fn of the root filesystem is clean (it checks every leaf's
#     hashes against the index, the dx checksums and limits);
#   - debugfs: `stat` shows the Indexed flag (0x1000) on both and not on
#     a one-block directory, `htree` shows the root (hash version 1,
#     half_md4) and the levels, `ls` lists exactly the source's names,
#     and names (all of the 17,779, a sample of the 100,000, and absent
#     ones) are looked up one by one;
#   - e2fsck -fyD on a copy rebuilds both indexes exactly as written
#     (debugfs htree dumps of the copy and the original are the same);
#   - the check can fail: e2fsck -fn reports the copy whose hash seed
#     was changed (debugfs ssv) and the one with a dx_root checksum
#     byte flipped.
#
# Prints "N passed, N failed"; exit 1 on any failure.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 MKR2SIMG" >&2; exit 2; }
mk=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
PATH=$PATH:/usr/sbin:/sbin

bash "$here/prepare_fixtures.sh" "$work/fx" >/dev/null
fx=$work/fx
extra=/nix/store/3h6w1yqmr4k8v2n0s5b7c9d1f2g3h4j5-htree-test
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }

# The directories: deterministic names, lengths 1 to 255.
python3 - "$fx/store$extra" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(12)
for n in (17779, 100000):
    d = os.path.join(root, "d%d" % n)
    os.makedirs(d)
    for i in range(n):
        stem = "%x-" % i  # unique: hex digits, then the first "-"
        r = rng.random()
        if r < 0.001:
            length = 255
        elif r < 0.05:
            length = len(stem) + rng.randint(0, 8)
        else:
            length = rng.randint(len(stem) + 10, 80)
        tail = "\u00e9\u00fc".encode() if i % 7 == 0 else b""  # bytes >= 0x80
        if length - len(stem) < len(tail):
            tail = b""
        pad = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789.-_+")
                      for _ in range(length - len(stem) - len(tail)))
        name = stem.encode() + pad.encode() + tail
        open(os.path.join(d.encode(), name), "wb").close()
os.makedirs(os.path.join(root, "small"))
open(os.path.join(root, "small", "one"), "wb").close()
PY
echo "$extra" >>"$fx/closure.txt"

img=$work/a.img
if ! "$mk" -q --store-root "$fx/store" "$fx/closure.txt" "$img" 2>"$work/mk.err"; then
	cat "$work/mk.err"
	echo "FAIL: mkr2simg failed"
	echo "0 passed, 1 failed"
	exit 1
fi
first=$(sgdisk -i 2 "$img" | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
off=$((first * 512))
dev="$img?offset=$off"
dfs() { debugfs -R "$1" "${2:-$dev}" 2>/dev/null; }

# fsck NAME DEVICE: e2fsck -fn's problem lines (none: clean), exit code in $fsck_rc
fsck() {
	fsck_rc=0
	fsck_out=$(e2fsck -fn "$2" 2>&1) || fsck_rc=$?
	fsck_out=$(grep -v -e '^e2fsck [0-9]' -e '^Pass [1-5]' -e ' files (.* blocks$' <<<"$fsck_out" || true)
}

fsck NIXOS_SD "$dev"
if [ "$fsck_rc" -eq 0 ] && [ -z "$fsck_out" ]; then
	ok "e2fsck -fn clean"
else
	bad "e2fsck -fn exit $fsck_rc: $(head -n 5 <<<"$fsck_out" | tr '\n' ' ')"
fi

# flags PATH: the inode flags debugfs stat shows
flags() { dfs "stat $1" | sed -n 's/.*Flags: \(0x[0-9a-f]*\).*/\1/p'; }
for d in d17779 d100000; do
	f=$(flags "$extra/$d")
	if [ -n "$f" ] && [ $((f & 0x1000)) -ne 0 ]; then
		ok "$d: debugfs stat shows the Indexed flag ($f)"
	else
		bad "$d: flags '$f' lack Indexed (0x1000)"
	fi
done
f=$(flags "$extra/small")
if [ -n "$f" ] && [ $((f & 0x1000)) -eq 0 ]; then
	ok "a one-block directory stays linear ($f)"
else
	bad "small: flags '$f'"
fi

for dl in d17779:0 d100000:1; do
	d=${dl%:*} levels=${dl#*:}
	dfs "htree $extra/$d" >"$work/$d.htree"
	if grep -q '^Root node dump:' "$work/$d.htree" &&
		grep -q "Hash Version: 1\$" "$work/$d.htree" &&
		grep -q "Indirect levels: $levels\$" "$work/$d.htree"; then
		ok "$d: debugfs htree shows a half_md4 index of $((levels + 1)) level(s), $(grep -m1 'Number of entries (count)' "$work/$d.htree" | awk '{ print $NF }') root entries"
	else
		bad "$d: debugfs htree: $(head -n 8 "$work/$d.htree" | tr '\n\t' '  ')"
	fi
done

# Every name, as debugfs lists it (ls -p: /inode/mode/uid/gid/name/size/;
# inode 0: a dx_node's empty entry, not a name).
for d in d17779 d100000; do
	dfs "ls -p $extra/$d" | awk -F/ 'NF >= 7 && $2 != 0 && $6 != "." && $6 != ".." { print $6 }' |
		LC_ALL=C sort >"$work/$d.listed"
	(cd "$fx/store$extra/$d" && find . -mindepth 1 -printf '%f\n') | LC_ALL=C sort >"$work/$d.source"
	if cmp -s "$work/$d.listed" "$work/$d.source"; then
		ok "$d: debugfs lists exactly the $(wc -l <"$work/$d.source") names"
	else
		bad "$d: debugfs ls differs from the source: $(diff "$work/$d.source" "$work/$d.listed" | head -n 4 | tr '\n' ' ')"
	fi
done

# Names looked up one by one (debugfs testi: ext2fs_namei), and absent ones.
lookups() { # DIR SAMPLE_EVERY
	local d=$1 every=$2 want=0
	awk -v e="$every" -v p="$extra/$1" 'NR % e == 1 || e == 1 { print "testi \"" p "/" $0 "\"" }' \
		"$work/$d.source" >"$work/$d.cmds"
	want=$(wc -l <"$work/$d.cmds")
	for a in absent zz-not-here "$(head -n 1 "$work/$d.source")x"; do
		echo "testi \"$extra/$d/$a\"" >>"$work/$d.cmds"
	done
	debugfs -f "$work/$d.cmds" "$dev" >"$work/$d.found" 2>&1 || true
	local found missing
	found=$(grep -c 'is marked in use' "$work/$d.found" || true)
	missing=$(grep -c 'File not found by ext2_lookup' "$work/$d.found" || true)
	if [ "$found" -eq "$want" ] && [ "$missing" -eq 3 ]; then
		ok "$d: debugfs finds the $want names looked up and none of 3 absent ones"
	else
		bad "$d: debugfs found $found of $want names, $missing of 3 absent ones missing"
	fi
}
lookups d17779 1
lookups d100000 97

# e2fsck -D rebuilds each index exactly as mkr2simg wrote it.
cp --sparse=always "$img" "$work/rehashed.img"
e2fsck -fyD "$work/rehashed.img?offset=$off" >"$work/rehash.log" 2>&1 || true
for d in d17779 d100000; do
	if dfs "htree $extra/$d" "$work/rehashed.img?offset=$off" | cmp -s - "$work/$d.htree"; then
		ok "$d: e2fsck -fyD rebuilds the same index ($(wc -l <"$work/$d.htree") lines of debugfs htree)"
	else
		bad "$d: e2fsck -fyD builds another index: $(dfs "htree $extra/$d" "$work/rehashed.img?offset=$off" |
			diff "$work/$d.htree" - | head -n 4 | tr '\n\t' '  ')"
	fi
done

# The check fails on a changed hash seed and on a dx checksum byte.
cp --sparse=always "$img" "$work/seed.img"
debugfs -w -R "ssv hash_seed 0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0" "$work/seed.img?offset=$off" 2>/dev/null
fsck seed "$work/seed.img?offset=$off"
if [ "$fsck_rc" -ne 0 ] && grep -q 'HTREE directory inode' <<<"$fsck_out"; then
	ok "another hash seed: e2fsck -fn reports $(grep -c 'HTREE directory inode' <<<"$fsck_out") htree problems"
else
	bad "another hash seed: e2fsck -fn exit $fsck_rc: $(head -n 3 <<<"$fsck_out" | tr '\n' ' ')"
fi
cp --sparse=always "$img" "$work/csum.img"
blk=$(dfs "bmap $extra/d100000 0")
at=$((off + blk * 4096 + 4092)) # the last byte of the dx_root's dx_tail
printf '%b' "\\x$(printf %02x $((0x$(od -A n -t x1 -j "$at" -N 1 "$img" | tr -d ' ') ^ 0xff)))" |
	dd of="$work/csum.img" bs=1 seek="$at" conv=notrunc status=none
fsck csum "$work/csum.img?offset=$off"
if [ "$fsck_rc" -ne 0 ] && grep -qi 'checksum' <<<"$fsck_out"; then
	ok "a dx_root checksum byte flipped: e2fsck -fn: $(grep -i -m1 checksum <<<"$fsck_out")"
else
	bad "a dx_root checksum byte flipped: e2fsck -fn exit $fsck_rc: $(head -n 3 <<<"$fsck_out" | tr '\n' ' ')"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
