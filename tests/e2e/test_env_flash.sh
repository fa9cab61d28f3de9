#!/usr/bin/env bash
# test_env_flash.sh MKR2SIMG [BUILDER]
#
# Issue 13: a card's old U-Boot saved environment must not survive
# flashing.  U-Boot loads `saveenv` data from 0x3F8000 (32 KiB: a CRC32,
# then NUL-separated variables) instead of its built-in default whenever
# the CRC is right; an image that leaves that range a hole lets the old
# one through a flasher that skips holes.
#
# For each bootloader layout (idbloader + u-boot.itb with zeros around
# them; u-boot-rockchip.bin padded with zeros, and with 0xFF as binman
# pads it), with an image written by BUILDER (default MKR2SIMG):
#   - `MKR2SIMG inspect` finds a valid environment planted into a copy of
#     the image (a card that held it and then got a saveenv), and one
#     elsewhere with --env-offset/--env-size;
#   - a used card (0xAA bytes) holding a valid environment gets only the
#     image's data ranges (flash_data_ranges.py: SEEK_DATA/SEEK_HOLE, as
#     cp --sparse or dd conv=sparse write), and another one a
#     `bmaptool copy --bmap` with the image's own bmap (BUILDER's --bmap,
#     written in the same run) onto it as a block device (a loop device:
#     onto a regular file bmaptool truncates first, which would hide the
#     old bytes); afterwards inspect and uboot_env.py (Python's zlib,
#     apart from the C code) both say there is no valid environment.
# Without loop devices (not root) the bmaptool part is skipped, under
# CI=true that is a failure.
set -euo pipefail

mk=$(realpath "$1")
builder=$(realpath "${2:-$1}")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
loop=
cleanup() {
	[ -z "$loop" ] || losetup -d "$loop" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

for t in python3 bmaptool losetup; do
	command -v "$t" >/dev/null || { echo "FAIL: $t is not installed"; exit 1; }
done

bash "$here/prepare_fixtures.sh" "$work/fx" >/dev/null 2>&1
fx=$work/fx
bl=$fx/bootloader
# u-boot-rockchip.bin as binman makes it: idbloader, 0xFF to the FIT.
python3 - "$bl" <<'EOF'
import sys
d = sys.argv[1]
idb = open(f"{d}/idbloader.img", "rb").read()
itb = open(f"{d}/u-boot.itb", "rb").read()
pad = (16384 - 64) * 512 - len(idb)
open(f"{d}/u-boot-rockchip-ff.bin", "wb").write(idb + b"\xff" * pad + itb)
EOF

# env_state CARD: "valid VARS" or "none CONTENT", as inspect --json says.
env_state() {
	"$mk" inspect --json "$1" | python3 -c '
import json, sys
e = json.load(sys.stdin)["uboot_env"]
c = e["copies"][0]
assert c["offset"] == 0x3F8000 and e["size"] == 0x8000, e
if e["valid"]:
    print("valid " + " ".join(v["name"] + "=" + v["value"] for v in c["variables"]))
else:
    print("none " + c["content"])'
}

# used_card FILE SIZE: 0xAA bytes and a valid environment of an old system.
used_card() {
	python3 -c 'import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"\xaa" * int(sys.argv[2]))' "$1" "$2"
	python3 "$here/uboot_env.py" plant "$1" "bootcmd=run old_system" \
		"ramdisk_addr_r=0x06000000"
}

# after NAME CARD: the range holds no valid environment, by both readers.
after() {
	local state py rc=0
	state=$(env_state "$2")
	py=$(python3 "$here/uboot_env.py" check "$2") || rc=$?
	if [[ $state == valid* ]] || [ "$rc" -eq 0 ]; then
		fail "$1: the old environment survived: inspect: $state; uboot_env.py: $py"
	else
		ok "$1: no valid environment left (inspect: $state; uboot_env.py: $py)"
	fi
}

run() {
	local name=$1 img=$work/$1.img size state
	shift
	echo "== $name"
	"$builder" -q --store-root "$fx/store" --seed env-flash --boot-size 64M \
		--root-headroom 8M --bmap "$work/bmap" "$@" "$fx/closure.txt" "$img" 2>/dev/null
	size=$(stat -c %s "$img")

	# inspect sees a saved environment where there is one.
	cp --sparse=always "$img" "$work/planted"
	python3 "$here/uboot_env.py" plant "$work/planted" "bootcmd=run saved"
	state=$(env_state "$work/planted")
	if [ "$state" = "valid bootcmd=run saved" ] &&
		python3 "$here/uboot_env.py" check "$work/planted" >/dev/null; then
		ok "$name: inspect finds a planted environment ($state)"
	else
		fail "$name: planted environment not seen as such: '$state'"
	fi
	# Elsewhere (another U-Boot build): found only where told to look.
	python3 "$here/uboot_env.py" plant --offset 0x600000 --size 0x4000 \
		"$work/planted" "bootcmd=run elsewhere"
	if "$mk" inspect --env-offset 0x600000 --env-size 16K "$work/planted" |
		grep -qx '    bootcmd=run elsewhere' &&
		"$mk" inspect --json --env-offset 0x600000 --env-size 0x4000 \
			"$work/planted" | python3 -c 'import json, sys
e = json.load(sys.stdin)["uboot_env"]
assert e["valid"] and e["size"] == 0x4000 and e["copies"][0]["offset"] == 0x600000'; then
		ok "$name: inspect --env-offset/--env-size look elsewhere"
	else
		fail "$name: inspect --env-offset 0x600000 does not find it"
	fi
	rm -f "$work/planted"

	# Only the data ranges onto a used card.
	used_card "$work/card" "$size"
	python3 "$here/uboot_env.py" check "$work/card" >/dev/null ||
		fail "$name: the used card's environment is not valid to begin with"
	python3 "$here/flash_data_ranges.py" --keep "$img" "$work/card" >/dev/null
	after "$name: data ranges" "$work/card"
	rm -f "$work/card"

	# bmaptool copy with the image's bmap onto the card as a block device.
	used_card "$work/card" "$size"
	if [ "$(id -u)" -eq 0 ] && loop=$(losetup -f --show "$work/card" 2>"$work/losetup.log"); then
		bmaptool -q copy --bmap "$work/bmap" "$img" "$loop"
		# inspect reads the card's block device too.
		after "$name: bmaptool copy, read on $loop" "$loop"
		losetup -d "$loop"
		loop=
		after "$name: bmaptool copy" "$work/card"
	elif [ "${CI:-}" = true ]; then
		fail "$name: no loop device for bmaptool copy, and CI may not skip ($(cat "$work/losetup.log" 2>/dev/null))"
	else
		echo "SKIP: $name: bmaptool copy needs a loop device (root)"
	fi
	rm -f "$work/card" "$work/bmap" "$img"
}

run separate --idbloader "$bl/idbloader.img" --uboot-itb "$bl/u-boot.itb"
run rockchip-zero-padded --uboot-rockchip "$bl/u-boot-rockchip.bin"
run rockchip-ff-padded --uboot-rockchip "$bl/u-boot-rockchip-ff.bin"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
