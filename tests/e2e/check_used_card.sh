#!/usr/bin/env bash
# check_used_card.sh [--bmap BMAP] [CHECK_IMAGE OPTIONS] IMAGE
#
# The image on a used card: copies only IMAGE's data ranges onto a card
# file of old bytes (0xAA; flash_data_ranges.py), as a flasher that skips
# holes would, then runs check_image.sh with the given options on the
# card instead of the image.  A correct image passes both ways: no hole
# in it may be something a consumer reads.  Exit status as check_image.sh.
#
# With --bmap, the card (0xAA bytes, the bmap's ImageSize) is flashed by
# `bmaptool copy --bmap BMAP IMAGE` instead (bmap_flash.sh; IMAGE may be
# .zst or .gz), and what bmaptool wrote is printed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bmap=''
if [ "${1:-}" = --bmap ]; then
	bmap=$2
	shift 2
fi
[ $# -ge 1 ] || { echo "usage: $0 [--bmap BMAP] [CHECK_IMAGE OPTIONS] IMAGE" >&2; exit 2; }
image=${*: -1}
card=$(mktemp "${image%/*}/card.XXXXXX")
trap 'rm -f "$card"' EXIT
if [ -n "$bmap" ]; then
	size=$(sed -n 's|.*<ImageSize> *\([0-9]*\) *</ImageSize>.*|\1|p' "$bmap")
	python3 - "$card" "$size" <<'PY'
import sys
block = b"\xaa" * (1 << 20)
with open(sys.argv[1], "wb") as f:
    left = int(sys.argv[2])
    while left:
        left -= f.write(block[:min(left, len(block))])
PY
	bash "$here/bmap_flash.sh" "$bmap" "$image" "$card" ||
		{ echo "FAIL: bmaptool copy --bmap $bmap $image failed"; exit 1; }
else
	python3 "$here/flash_data_ranges.py" "$image" "$card" >/dev/null
fi
rc=0
bash "$here/check_image.sh" "${@:1:$#-1}" "$card" || rc=$?
[ "$rc" -eq 0 ] || echo "FAIL: the image copied onto a used card (0xAA where it has holes) does not check out" >&2
exit "$rc"
