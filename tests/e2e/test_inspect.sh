#!/usr/bin/env bash
# test_inspect.sh MKR2SIMG
#
# `mkr2simg inspect` end to end, judged by stock tools (inspect_check.py:
# sgdisk, blkid, dumpe2fs, debugfs):
#   - images of the fixture store in both bootloader layouts, their JSON
#     parsed by Python and checked field by field; the idbloader, FIT and
#     environment regions where the RK3328 and U-Boot look;
#   - the same images compressed by the real zstd and gzip: the same
#     report but for "image" and "compression";
#   - a GPT image made by sgdisk (unknown data in a gap, a Microsoft
#     basic data partition, an ext4 with other features made by mke2fs);
#   - the text form; a non-image, a truncated stream: one line, exit 1;
#   - the verbs: --help lists them, inspect --help, build with and
#     without the verb writes the same bytes.
set -euo pipefail

mk=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for t in python3 sgdisk blkid dumpe2fs debugfs mke2fs zstd gzip; do
	command -v "$t" >/dev/null || { echo "FAIL: $t is not installed"; exit 1; }
done

passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

bash "$here/prepare_fixtures.sh" "$work/fx" >/dev/null 2>&1
fx=$work/fx
# Bootloaders that start as the real ones do: the boot ROM's encrypted
# header magic with the SPL's "RK32" tag 2 KiB in, and a FIT's FDT magic.
python3 - "$work" <<'PY'
import sys
d = sys.argv[1]
idb = bytearray(b"\x3b\x8c\xdc\xfc" + bytes(range(256)) * 400)
idb[2048:2052] = b"RK32"
itb = b"\xd0\x0d\xfe\xed" + (1200).to_bytes(4, "big") + bytes(range(7, 250)) * 3000
open(f"{d}/idbloader.img", "wb").write(idb)
open(f"{d}/u-boot.itb", "wb").write(itb)
pad = (16384 - 64) * 512 - len(idb)
open(f"{d}/u-boot-rockchip.bin", "wb").write(bytes(idb) + b"\xff" * pad + itb)
PY

# check_json NAME JSON IMAGE [PYTHON ASSERTIONS]: inspect_check.py, then
# assertions on d (the report).
check_json() {
	local name=$1 json=$2 image=$3 extra=${4:-}
	if ! python3 "$here/inspect_check.py" "$json" "$image"; then
		fail "$name: inspect --json disagrees with the stock tools"
	elif ! python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
kinds = {(r['first_lba'], r['kind']) for r in d['regions']}
$extra" "$json"; then
		fail "$name: report assertions"
	else
		ok "$name: inspect --json agrees with sgdisk, blkid, dumpe2fs, debugfs"
	fi
}

ours='
assert [p["name"] for p in d["partitions"]] == ["NIXOS_BOOT", "NIXOS_SD"]
assert [p["filesystem"]["label"] for p in d["partitions"]] == ["NIXOS_BOOT", "NIXOS_SD"]
assert [p["type"] for p in d["partitions"]] == ["Linux filesystem", "Linux ARM64 root (/)"]
assert d["partitions"][0]["legacy_bios_bootable"]
assert (64, "idbloader") in kinds and (16384, "fit") in kinds, kinds
assert (8128, "uboot-env") in kinds, kinds
e = d["uboot_env"]
assert not e["valid"] and not e["redundant"] and e["size"] == 32768
assert e["copies"][0]["offset"] == 0x3F8000 and not e["copies"][0]["valid"]
x = d["extlinux"]
assert x["partition"] == 1 and x["path"] == "/extlinux/extlinux.conf"
assert x["label"] == "nixos-default" and x["linux"].startswith("../nixos/")
assert x["fdt"].endswith("/rockchip/rk3328-nanopi-r2s.dtb")
'

layout() {
	local name=$1 img=$work/$1.img
	shift
	echo "== $name"
	"$mk" -q --store-root "$fx/store" --seed inspect "$@" \
		"$fx/closure.txt" "$img" 2>/dev/null
	"$mk" inspect --json "$img" >"$work/$name.json"
	check_json "$name" "$work/$name.json" "$img" "$ours
$extra_checks"
	# Compressed by the real tools: the same report.
	zstd -q -T0 "$img" -o "$work/$name.img.zst"
	gzip -c "$img" >"$work/$name.img.gz"
	for z in zst gz; do
		"$mk" inspect --json "$work/$name.img.$z" >"$work/$name.$z.json"
		if python3 - "$work/$name.json" "$work/$name.$z.json" "$z" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
want = {"zst": "zstd", "gz": "gzip"}[sys.argv[3]]
assert b["compression"] == want and a["compression"] == "none"
for d in (a, b):
    del d["image"], d["compression"]
assert a == b, "reports differ"
PY
		then
			ok "$name: .$z gives the plain image's report"
		else
			fail "$name: .$z report differs from the plain image's"
		fi
	done
	# Text for people.
	"$mk" inspect "$work/$name.img.zst" >"$work/$name.txt"
	for want in "zstd-compressed image" 'partition 1 "NIXOS_BOOT"' \
		'partition 2 "NIXOS_SD"' "Rockchip idbloader: SPL tag RK32" \
		"FIT image (u-boot.itb)" "none valid: U-Boot uses its built-in default" \
		"both copies valid and alike" "LABEL    nixos-default"; do
		grep -qF -- "$want" "$work/$name.txt" ||
			fail "$name: text has no '$want'"
	done
	rm -f "$img" "$work/$name.img.zst" "$work/$name.img.gz"
}

extra_checks='assert (8192, "empty") in kinds, kinds'
layout separate --idbloader "$work/idbloader.img" --uboot-itb "$work/u-boot.itb"
extra_checks='assert (8192, "fill") in kinds and (65 + 4, "fill") not in kinds, kinds'
layout rockchip --uboot-rockchip "$work/u-boot-rockchip.bin"

echo "== a GPT image made by sgdisk"
f=$work/foreign.img
truncate -s 64M "$f"
sgdisk -n 1:2048:+8M -t 1:0700 -c 1:DATA -n 2:0:+16M -t 2:8300 \
	-c 2:"other root" "$f" >/dev/null
p2=$(sgdisk -i 2 "$f" | sed -n 's/^First sector: \([0-9]*\) .*/\1/p')
mke2fs -q -t ext4 -b 1024 -O quota,project,inline_data,^resize_inode \
	-L "lab el" -E offset=$((p2 * 512)) "$f" 16M
# Unknown bytes in the gap after partition 2.
python3 -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(100000 * 512); f.write(b"unknown!" * 512)' "$f"
"$mk" inspect --json "$f" >"$work/foreign.json"
check_json foreign "$work/foreign.json" "$f" '
p1, p2 = d["partitions"]
assert p1["type"] == "Microsoft basic data" and p1["filesystem"] is None
assert p2["filesystem"]["label"] == "lab el" and "inline_data" in p2["filesystem"]["features"]
assert (100000, "data") in kinds, kinds
assert not {k for _, k in kinds} & {"idbloader", "fit"}, kinds
assert d["extlinux"] is None
'

# Not an image, a broken stream, usage: one line on stderr, no stdout.
expect_error() {
	local name=$1 want=$2 rc=0
	shift 2
	"$mk" "$@" >"$work/out" 2>"$work/err" || rc=$?
	if [ "$rc" -eq 0 ] || [ -s "$work/out" ] ||
		[ "$(grep -c . "$work/err")" -ne 1 ] || ! grep -qF -- "$want" "$work/err"; then
		fail "$name: exit $rc, stdout $(wc -c <"$work/out") bytes, stderr: $(cat "$work/err")"
	else
		ok "$name: exit $rc: $(cat "$work/err")"
	fi
}
expect_error "not an image" "closure.txt: not a disk image" inspect "$fx/closure.txt"
gzip -c "$fx/closure.txt" | head -c 30 >"$work/cut.img.gz"
expect_error "truncated gzip" "cut.img.gz: the gzip stream ends early" inspect "$work/cut.img.gz"
expect_error "no image" "expected one IMAGE" inspect
# An unknown option: getopt's line, then where to look (as for build).
rc=0
"$mk" inspect --frobnicate "$f" >"$work/out" 2>"$work/err" || rc=$?
if [ "$rc" -eq 2 ] && [ ! -s "$work/out" ] && grep -q "frobnicate" "$work/err" &&
	grep -qF "Try 'mkr2simg inspect --help'." "$work/err"; then
	ok "unknown option: exit 2"
else
	fail "unknown option: exit $rc: $(cat "$work/err")"
fi

# The verbs.
if "$mk" --help | grep -q '^  inspect ' && "$mk" --help | grep -q '^  build ' &&
	"$mk" inspect --help | grep -q '^Usage: mkr2simg inspect'; then
	ok "--help lists the verbs; inspect --help its usage"
else
	fail "--help / inspect --help"
fi
"$mk" -q --store-root "$fx/store" --seed verbs "$fx/closure.txt" "$work/a.img" 2>/dev/null
"$mk" build -q --store-root "$fx/store" --seed verbs "$fx/closure.txt" "$work/b.img" 2>/dev/null
if cmp -s "$work/a.img" "$work/b.img"; then
	ok "build with and without the verb: the same bytes"
else
	fail "build with and without the verb differ"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
