#!/usr/bin/env bash
# check_used_card.sh [CHECK_IMAGE OPTIONS] IMAGE
#
# The image on a used card: copies only IMAGE's data ranges onto a card
# file of old bytes (0xAA; flash_data_ranges.py), as a flasher that skips
# holes would, then runs check_image.sh with the given options on the
# card instead of the image.  A correct image passes both ways: no hole
# in it may be something a consumer reads.  Exit status as check_image.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 [CHECK_IMAGE OPTIONS] IMAGE" >&2; exit 2; }
image=${*: -1}
card=$(mktemp "${image%/*}/card.XXXXXX")
trap 'rm -f "$card"' EXIT
python3 "$here/flash_data_ranges.py" "$image" "$card" >/dev/null
rc=0
bash "$here/check_image.sh" "${@:1:$#-1}" "$card" || rc=$?
[ "$rc" -eq 0 ] || echo "FAIL: the image copied onto a used card (0xAA where it has holes) does not check out" >&2
exit "$rc"
