#!/usr/bin/env bash
# bmap_flash.sh BMAP IMAGE CARD
#
# Flashes IMAGE (plain, .zst or .gz) onto CARD, a file of the image's
# size holding old bytes (the caller fills it), the way a user flashes
# an SD card: `bmaptool copy --bmap BMAP IMAGE DEVICE`.  bmaptool checks
# the bmap's own checksum and every range's SHA-256 as it copies, and
# writes only the ranges the bmap lists.
#
# `bmaptool copy` truncates a regular-file destination (open "wb+"),
# which would erase the old bytes, so CARD is given to it as a block
# device: a loop device over CARD (root).  Where no loop device can be
# had, bmaptool's own copier (bmaptools.BmapCopy, the class `bmaptool
# copy` runs for a file) is driven on CARD opened without truncation.
#
# Prints "bmaptool wrote BYTES bytes of IMAGE_SIZE (HOW)", BYTES as the
# block device counted them (/sys/block/loopN/stat) or as the copier
# wrote them (/proc/self/io); exit status of the copy.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 BMAP IMAGE CARD" >&2; exit 2; }
bmap=$1 image=$2 card=$3
size=$(sed -n 's|.*<ImageSize> *\([0-9]*\) *</ImageSize>.*|\1|p' "$bmap")
[ -n "$size" ] || { echo "bmap_flash: no ImageSize in $bmap" >&2; exit 2; }

sectors_written() { awk '{ print $7 }' "/sys/block/${1#/dev/}/stat"; }

loop=''
if [ "$(id -u)" -eq 0 ]; then
	loop=$(losetup -f --show "$card" 2>/dev/null) || loop=''
fi
if [ -n "$loop" ]; then
	trap 'losetup -d "$loop"' EXIT
	before=$(sectors_written "$loop")
	rc=0
	bmaptool -q copy --bmap "$bmap" "$image" "$loop" || rc=$?
	sync
	after=$(sectors_written "$loop")
	echo "bmaptool wrote $(((after - before) * 512)) bytes of $size (bmaptool copy to $loop)"
	exit "$rc"
fi
echo "bmap_flash: note: no loop device; bmaptool's copier on the file" >&2
python3 - "$bmap" "$image" "$card" "$size" <<'PY'
import sys
from bmaptools import BmapCopy, TransRead

bmap, image, card, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def wchar():
    for line in open("/proc/self/io"):
        if line.startswith("wchar:"):
            return int(line.split()[1])

src = TransRead.TransRead(image)
with open(bmap, "r") as b, open(card, "r+b") as dst:
    before = wchar()
    BmapCopy.BmapCopy(src, dst, b, src.size).copy(True, True)
    after = wchar()
print(f"bmaptool wrote {after - before} bytes of {size} (bmaptools.BmapCopy on the file)")
PY
