#!/usr/bin/env bash
# test_compressed.sh MKR2SIMG
#
# OUTPUT ending in .zst or .gz: the real `zstd -d` and `gzip -d` give
# exactly the plain image the same inputs give (sha256); `zstd -t`
# passes; the .zst is one zstd frame per 2 MiB of the image, each with
# its size and a checksum, the units padded by skippable frames, and
# mkr2simg -v says how many frames it compressed again because they
# were written after (`zstd -lv`); the gzip header
# has time 0, no name and the Unix OS byte; the .zst bytes are the same
# for --threads 1, 3 and the default (all cores), and both kinds are the
# same run to run and from another folder; nothing but OUTPUT is left in
# its folder; --threads outside 1..200 is a usage error.
#
# Prints "N passed, N failed"; exit 1 on any failure.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 MKR2SIMG" >&2; exit 2; }
mk=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in zstd gzip sha256sum; do
	command -v "$t" >/dev/null || { echo "FAIL: $t is not installed"; exit 1; }
done

bash "$here/prepare_fixtures.sh" "$work/fx" >/dev/null
fx=$work/fx
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }

reg=()
[ -s "$fx/registration" ] && reg=(--registration "$fx/registration")
# build OUTPUT [OPTIONS]: the fixture image with bootloaders
build() {
	local out=$1
	shift
	mkdir -p "$(dirname "$out")"
	"$mk" -q --store-root "$fx/store" "${reg[@]}" \
		--idbloader "$fx/bootloader/idbloader.img" \
		--uboot-itb "$fx/bootloader/u-boot.itb" "$@" \
		"$fx/closure.txt" "$out" 2>"$work/mk.err" ||
		{ cat "$work/mk.err"; return 1; }
}
# only_file DIR NAME: DIR holds NAME and nothing else (no temporaries)
only_file() {
	local left
	left=$(ls -A "$1")
	if [ "$left" = "$2" ]; then
		ok "$2: nothing else left in its folder"
	else
		bad "$2: its folder holds: $(echo "$left" | tr '\n' ' ')"
	fi
}

build "$work/plain/r2s.img" || { bad "plain image: mkr2simg failed"; echo "$passed passed, $failed failed"; exit 1; }
want=$(sha256sum <"$work/plain/r2s.img" | cut -d' ' -f1)
size=$(stat -c %s "$work/plain/r2s.img")

# --- zstd ------------------------------------------------------------
for t in default 1 3; do
	opts=()
	[ "$t" = default ] || opts=(--threads "$t")
	if build "$work/z$t/r2s.img.zst" "${opts[@]}"; then
		only_file "$work/z$t" r2s.img.zst
	else
		bad "zstd, threads $t: mkr2simg failed"
	fi
done
got=$(zstd -dc "$work/zdefault/r2s.img.zst" | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] && ok "zstd -d gives the plain image ($want)" ||
	bad "zstd -d gives $got, the plain image is $want"
for t in 1 3; do
	if cmp -s "$work/zdefault/r2s.img.zst" "$work/z$t/r2s.img.zst"; then
		ok "--threads $t: the same .zst bytes as the default"
	else
		bad "--threads $t: .zst bytes differ from the default ($(cmp "$work/zdefault/r2s.img.zst" "$work/z$t/r2s.img.zst" | head -1))"
	fi
done
if zstd -tq "$work/zdefault/r2s.img.zst"; then
	ok "zstd -t: the .zst tests good"
else
	bad "zstd -t fails on the .zst"
fi
info=$(zstd -lv "$work/zdefault/r2s.img.zst" 2>&1)
frames=$(( (size + 2097151) / 2097152 ))
if grep -q "Decompressed Size:.*($size B)" <<<"$info" && grep -q 'Check: XXH64' <<<"$info" &&
	grep -q "# Zstandard Frames: $frames\$" <<<"$info" &&
	grep -q '# Skippable Frames: [1-9]' <<<"$info"; then
	ok "zstd -lv: $frames frames of 2 MiB, content size $size, XXH64 checksums, skippable padding"
else
	bad "zstd -lv: want $frames frames, size $size, XXH64, skippable frames: $(tr '\n' ' ' <<<"$info")"
fi
# -v tells how the stream was made; the bytes never depend on it.
mkdir -p "$work/zv"
if "$mk" -v --store-root "$fx/store" "${reg[@]}" \
	--idbloader "$fx/bootloader/idbloader.img" --uboot-itb "$fx/bootloader/u-boot.itb" \
	"$fx/closure.txt" "$work/zv/r2s.img.zst" 2>"$work/mk.err" &&
	cmp -s "$work/zdefault/r2s.img.zst" "$work/zv/r2s.img.zst" &&
	grep -Eq "zstd: $frames frames of 2 MiB, [0-9]+ compressed while writing, [0-9]+ again" "$work/mk.err"; then
	ok "-v: $(grep -E 'zstd: [0-9]+ frames' "$work/mk.err")"
else
	bad "-v: no frame counts, or other bytes: $(grep zstd "$work/mk.err")"
fi

# --- gzip ------------------------------------------------------------
if build "$work/g/r2s.img.gz"; then
	only_file "$work/g" r2s.img.gz
	got=$(gzip -dc "$work/g/r2s.img.gz" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ] && ok "gzip -d gives the plain image" ||
		bad "gzip -d gives $got, the plain image is $want"
	# RFC 1952: ID1 ID2 CM FLG MTIME(4) XFL OS
	head=$(od -A n -t x1 -N 10 "$work/g/r2s.img.gz" | tr -d ' \n')
	if [[ $head == 1f8b0800000000000003 ]]; then
		ok "gzip header: deflate, no name, time 0, OS Unix ($head)"
	else
		bad "gzip header $head, want 1f8b0800000000000003"
	fi
else
	bad "gzip: mkr2simg failed"
fi

# --- bad --threads: usage error (exit 2), one line, nothing written -----
for t in 0 201 x; do
	rc=0
	"$mk" -q --store-root "$fx/store" --threads "$t" "$fx/closure.txt" "$work/bad/r2s.img.zst" 2>"$work/stderr" || rc=$?
	if [ "$rc" -eq 2 ] && [ "$(grep -c . "$work/stderr")" -eq 1 ] &&
		grep -q -- "--threads $t: not a number of threads from 1 to 200" "$work/stderr" &&
		[ ! -e "$work/bad" ]; then
		ok "--threads $t refused: $(cat "$work/stderr")"
	else
		bad "--threads $t: exit $rc: $(cat "$work/stderr")"
	fi
done

# --- run to run, another folder ----------------------------------------
build "$work/again/deeper/r2s.img.zst" --threads 2 &&
	cmp -s "$work/zdefault/r2s.img.zst" "$work/again/deeper/r2s.img.zst" &&
	ok ".zst: the same bytes run to run, in another folder" ||
	bad ".zst: bytes differ run to run"
build "$work/again/r2s.img.gz" &&
	cmp -s "$work/g/r2s.img.gz" "$work/again/r2s.img.gz" &&
	ok ".gz: the same bytes run to run, in another folder" ||
	bad ".gz: bytes differ run to run"

# --- a folder on tmpfs: no O_DIRECT or range shifting there ---------------
# (the stream is mended by moving it in place); and one too small for
# the scratch image: one line naming OUTPUT, nothing left.
mounted=
trap '[ -z "$mounted" ] || umount "$mounted"; rm -rf "$work"' EXIT
mkdir -p "$work/tmpfs"
if mount -t tmpfs -o size=256m tmpfs "$work/tmpfs" 2>/dev/null; then
	mounted=$work/tmpfs
	build "$work/tmpfs/r2s.img.zst" &&
		cmp -s "$work/zdefault/r2s.img.zst" "$work/tmpfs/r2s.img.zst" &&
		ok ".zst on tmpfs: the same bytes" || bad ".zst on tmpfs: other bytes"
	umount "$work/tmpfs"
	mount -t tmpfs -o size=8m tmpfs "$work/tmpfs"
	rc=0
	build "$work/tmpfs/r2s.img.zst" >/dev/null || rc=$?
	msg=$(grep -v warning "$work/mk.err" || true)
	left=$(ls -A "$work/tmpfs")
	if [ "$rc" -ne 0 ] && [ "$(grep -c . <<<"$msg")" -eq 1 ] &&
		[[ $msg == *"$work/tmpfs/r2s.img.zst"*"No space left"* ]] && [ -z "$left" ]; then
		ok ".zst on a full disk: $msg"
	else
		bad ".zst on a full disk: rc=$rc msg='$msg' left='$left'"
	fi
	umount "$work/tmpfs"
	mounted=
elif [ "${CI:-}" = true ]; then
	bad "tmpfs: cannot mount one, and CI may not skip"
else
	echo "skip: .zst on tmpfs (needs root to mount a tmpfs)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
