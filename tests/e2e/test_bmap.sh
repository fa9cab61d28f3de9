#!/usr/bin/env bash
# test_bmap.sh MKR2SIMG
#
# --bmap FILE, judged by bmaptool (Debian's bmap-tools):
#   - the bmap of the plain image is byte for byte what `bmaptool create`
#     writes for it; a .zst OUTPUT gets the same bmap (ImageSize is the
#     plain image's); the same bytes run to run;
#   - `bmaptool copy --bmap FILE IMAGE` (IMAGE plain and .zst) onto a
#     card of 0xAA bytes, which checks the bmap's checksum and every
#     range's SHA-256, gives a card that check_image.sh passes: sgdisk -v,
#     e2fsck -fn on both partitions, every store file compared (and Nix's
#     verify when nix-store is installed); bmaptool wrote less than a
#     quarter of the image (the figure is printed);
#   - --bmap naming OUTPUT or an input, or in a missing, read-only or
#     non-folder, is refused before any work: one line naming it, exit
#     non-zero, neither OUTPUT nor the bmap left; a run killed (-9) while
#     writing a .zst with a bmap leaves nothing.
#
# Prints "N passed, N failed"; exit 1 on any failure.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 MKR2SIMG" >&2; exit 2; }
mk=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
mounted=''
trap '[ -z "$mounted" ] || umount "$mounted"; rm -rf "$work"' EXIT
command -v bmaptool >/dev/null || { echo "FAIL: bmaptool is not installed (apt-get install bmap-tools)"; exit 1; }

bash "$here/prepare_fixtures.sh" "$work/fx" >/dev/null
fx=$work/fx
bl=$fx/bootloader
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }

reg=() nix_verify=()
if [ -s "$fx/registration" ]; then
	reg=(--registration "$fx/registration")
	nix_verify=(--nix-verify)
fi
mk_opts=(-q --store-root "$fx/store" "${reg[@]}" --idbloader "$bl/idbloader.img" --uboot-itb "$bl/u-boot.itb")
check_opts=(-q --store-root "$fx/store" --closure "$fx/closure.txt" "${reg[@]}" "${nix_verify[@]}"
	--idbloader "$bl/idbloader.img" --uboot-itb "$bl/u-boot.itb")

# build OUTPUT BMAP: the fixture image and its bmap
build() {
	mkdir -p "$(dirname "$1")" "$(dirname "$2")"
	"$mk" "${mk_opts[@]}" --bmap "$2" "$fx/closure.txt" "$1" 2>"$work/mk.err" ||
		{ cat "$work/mk.err"; return 1; }
}

# ---- the bmap itself -------------------------------------------------
build "$work/a/r2s.img" "$work/a/r2s.bmap" || bad "plain image with --bmap: mkr2simg failed"
build "$work/z/r2s.img.zst" "$work/z/r2s.bmap" || bad ".zst image with --bmap: mkr2simg failed"
build "$work/b/r2s.img" "$work/b/r2s.bmap" || bad "second run: mkr2simg failed"
if bmaptool -q create -o "$work/created.bmap" "$work/a/r2s.img" &&
	cmp "$work/a/r2s.bmap" "$work/created.bmap"; then
	ok "the bmap is byte for byte bmaptool create's"
else
	bad "the bmap differs from bmaptool create's: $(diff "$work/a/r2s.bmap" "$work/created.bmap" | head -n 6 | tr '\n' ' ')"
fi
cmp -s "$work/a/r2s.bmap" "$work/z/r2s.bmap" &&
	ok "a .zst OUTPUT gets the plain image's bmap" ||
	bad "the .zst OUTPUT's bmap differs from the plain image's"
cmp -s "$work/a/r2s.bmap" "$work/b/r2s.bmap" &&
	ok "the same bmap bytes run to run" || bad "bmap bytes differ run to run"
[ "$(ls -A "$work/z")" = "$(printf 'r2s.bmap\nr2s.img.zst')" ] &&
	ok "only OUTPUT and the bmap left" || bad "left in OUTPUT's folder: $(ls -A "$work/z" | tr '\n' ' ')"

# ---- flashed by bmaptool onto a used card ------------------------------
size=$(stat -c %s "$work/a/r2s.img")
for img in "$work/a/r2s.img" "$work/z/r2s.img.zst"; do
	name=${img##*/}
	if out=$(bash "$here/check_used_card.sh" --bmap "${img%/*}/r2s.bmap" "${check_opts[@]}" "$img" 2>&1); then
		ok "$name: bmaptool copy onto a 0xAA card: the card checks out"
	else
		bad "$name: bmaptool copy onto a 0xAA card: $(grep -m 5 -e FAIL -e rror <<<"$out" | tr '\n' ' ')"
	fi
	wrote=$(sed -n 's/^bmaptool wrote \([0-9]*\) bytes.*/\1/p' <<<"$out")
	if [ -n "$wrote" ] && [ "$((wrote * 4))" -lt "$size" ]; then
		ok "$name: bmaptool wrote $wrote of $size bytes ($((wrote * 100 / size))%)"
	else
		bad "$name: bmaptool wrote '${wrote}' of $size bytes, not under a quarter"
	fi
done

# ---- refused before any work ------------------------------------------
out=$work/out
mkdir "$out"
# expect_error NAME WANT BMAP [OUTPUT]: one line containing WANT, exit
# non-zero, OUTPUT's folder empty and the bmap not made.
expect_error() {
	local name=$1 want=$2 bmap=$3 output=${4:-$out/r2s.img.zst} rc=0 msg had
	had=$(ls -A "$(dirname "$bmap")" 2>/dev/null || true)
	"$mk" "${mk_opts[@]}" --bmap "$bmap" "$fx/closure.txt" "$output" 2>"$work/stderr" >/dev/null || rc=$?
	msg=$(grep -v '^mkr2simg: warning: ' "$work/stderr" || true)
	if [ "$rc" -eq 0 ]; then
		bad "$name: exit 0"
	elif [ "$(printf '%s\n' "$msg" | grep -c .)" -ne 1 ]; then
		bad "$name: expected one error line, got: $msg"
	elif [[ $msg != *"$want"* ]]; then
		bad "$name: message '$msg' does not contain '$want'"
	elif [ -n "$(ls -A "$out")" ]; then
		bad "$name: left behind: $(ls -A "$out")"
	elif [ "$(ls -A "$(dirname "$bmap")" 2>/dev/null || true)" != "$had" ]; then
		bad "$name: the bmap's folder changed: $(ls -A "$(dirname "$bmap")")"
	else
		ok "$name: $msg"
	fi
	rm -rf "${out:?}"/* "$out"/.[!.]* 2>/dev/null || true
}
expect_error "--bmap is OUTPUT" "$out/r2s.img.zst: is also OUTPUT" "$out/r2s.img.zst"
expect_error "--bmap is OUTPUT, spelled otherwise" "is also OUTPUT" "$out/../out/./r2s.img" "$out/r2s.img"
cp "$fx/closure.txt" "$work/closure-copy"
ln "$fx/closure.txt" "$work/closure-link"
expect_error "--bmap is CLOSURE" "is the input $fx/closure.txt" "$fx/closure.txt"
expect_error "--bmap is a hardlink of CLOSURE" "$work/closure-link: is the input" "$work/closure-link"
[ ${#reg[@]} -eq 0 ] ||
	expect_error "--bmap is --registration" "is the input $fx/registration" "$fx/registration"
expect_error "--bmap is --idbloader" "is the input $bl/idbloader.img" "$bl/idbloader.img"
expect_error "--bmap in a missing folder" "$work/nope/r2s.bmap: cannot create the bmap in its folder" "$work/nope/r2s.bmap"
expect_error "--bmap in a file, not a folder" "$work/closure-copy/r2s.bmap: cannot create the bmap in its folder" "$work/closure-copy/r2s.bmap"
expect_error "--bmap is a folder" "$work/a: is a directory; --bmap must be" "$work/a"
mkdir "$work/ro"
if mount -t tmpfs -o ro,size=1m tmpfs "$work/ro" 2>/dev/null; then
	mounted=$work/ro
	expect_error "--bmap in a read-only folder" "$work/ro/r2s.bmap: cannot create the bmap in its folder" "$work/ro/r2s.bmap"
	umount "$work/ro"
	mounted=''
elif [ "${CI:-}" = true ]; then
	bad "read-only folder: cannot mount a read-only tmpfs, and CI may not skip"
else
	echo "skip: read-only folder (needs root to mount a tmpfs)"
fi

# ---- killed while writing: nothing left ---------------------------------
mkfifo "$work/never"
"$mk" "${mk_opts[@]}" --bmap "$out/r2s.bmap" - "$out/r2s.img.zst" <"$work/never" >/dev/null 2>&1 &
pid=$!
exec 3>"$work/never" # mkr2simg now waits for CLOSURE with its files open
n=0
for _ in $(seq 500); do
	n=$(ls -l "/proc/$pid/fd" 2>/dev/null | grep -c "$out/#[0-9]* (deleted)" || true)
	[ "$n" -ge 2 ] && break
	sleep 0.01
done
kill -KILL "$pid"
{ wait "$pid"; } 2>/dev/null || true
exec 3>&-
if [ "$n" -ge 2 ] && [ -z "$(ls -A "$out")" ]; then
	ok "killed (-9) with the .zst and its scratch image open: nothing left"
else
	bad "killed (-9): $n unnamed files were open; left: $(ls -A "$out" | tr '\n' ' ')"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
