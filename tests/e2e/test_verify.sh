#!/usr/bin/env bash
# test_verify.sh MKR2SIMG [-v] [CASE...]
#
# `mkr2simg verify` on the fixture store: images made by mkr2simg pass
# (exit 0, the image unchanged, byte for byte); each kind of damage,
# made with real tools (debugfs -w, dd, sgdisk), one per case, fails
# with exit 1 and a line naming the file or region; a different closure
# or different options fail the same way; bad usage and unreadable
# inputs exit 2.  The case `nix` does the same on real store paths built
# by Debian's nix-bin.  No CASE: all but `nix` (its own meson test).
#
# Ends with "N passed, N failed"; exit 1 if any case failed.
set -euo pipefail
export LC_ALL=C # lines may hold any bytes (a damaged symlink target)

mk=$(realpath "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
verbose=no
if [ "${1:-}" = -v ]; then verbose=yes; shift; fi
# shellcheck source-path=SCRIPTDIR source=damage.sh
. "$here/damage.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
F=$tmp/fx
bash "$here/prepare_fixtures.sh" "$F" >/dev/null 2>&1
BL=$F/bootloader
# verify compares the registration's bytes only: without nix-store any
# file stands in for closureInfo's.
REG=$F/registration
[ -s "$REG" ] || printf 'a registration\n' >"$REG"

S=/nix/store
LINUX=$(grep -- '-linux-6.6.1$' "$F/closure.txt" | grep -v initrd)
CU=$(grep -- '-coreutils-9.4$' "$F/closure.txt")
HELLO=$(grep -- '-hello-2.12.1$' "$F/closure.txt")
HELLO_LINK=$(grep -- '-hello-link$' "$F/closure.txt")

build() { # build IMAGE OPTIONS...: mkr2simg on the fixture store
	local img=$1
	shift
	"$mk" -q --store-root "$F/store" "$@" "$F/closure.txt" "$img"
}
ref_opts=(--registration "$REG" --idbloader "$BL/idbloader.img" --uboot-itb "$BL/u-boot.itb")

passed=0 failed=0
case_ok() { passed=$((passed + 1)); echo "ok   $1${2:+: $2}"; }
case_bad() { failed=$((failed + 1)); echo "FAIL $1: $2"; }
show() { [ "$verbose" = no ] || sed 's/^/    /' "$tmp/out" "$tmp/err"; }

# verify IMAGE ARGS...: runs mkr2simg verify; stdout in $tmp/out,
# stderr in $tmp/err, exit code in $rc
verify() {
	local img=$1
	shift
	rc=0
	"$mk" verify --store-root "$F/store" "$@" "$img" "${CLOSURE:-$F/closure.txt}" \
		>"$tmp/out" 2>"$tmp/err" || rc=$?
}

# expect_pass NAME IMAGE ARGS...: exit 0, and the image not touched
expect_pass() {
	local name=$1 img=$2 before after
	shift 2
	before=$(sha256sum <"$img")$(stat -c %Y.%s "$img")
	verify "$img" "$@"
	after=$(sha256sum <"$img")$(stat -c %Y.%s "$img")
	if [ "$rc" -ne 0 ]; then
		case_bad "$name" "exit $rc: $(head -n3 "$tmp/out" "$tmp/err" | tr '\n' '|')"
	elif [ "$before" != "$after" ]; then
		case_bad "$name" "verify changed the image"
	else
		case_ok "$name" "$(cat "$tmp/out")"
	fi
	show
}

# expect_fail NAME IMAGE REGEX ARGS...: exit 1, a whole line of stdout
# matching REGEX, and at most 101 lines
expect_fail() {
	local name=$1 img=$2 re=$3
	shift 3
	verify "$img" "$@"
	if [ "$rc" -eq 1 ] && grep -E -q -x -- "$re" "$tmp/out" &&
		[ "$(wc -l <"$tmp/out")" -le 101 ]; then
		case_ok "$name" "$(grep -E -x -m1 -- "$re" "$tmp/out")"
	else
		case_bad "$name" "exit $rc, no line /$re/: $(head -n4 "$tmp/out" "$tmp/err" | tr '\n' '|')"
	fi
	show
}

# expect_trouble NAME REGEX ARGS...: exit 2 and REGEX on stderr
expect_trouble() {
	local name=$1 re=$2
	shift 2
	rc=0
	"$mk" verify "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" -eq 2 ] && grep -E -q -- "$re" "$tmp/err"; then
		case_ok "$name" "$(head -n1 "$tmp/err")"
	else
		case_bad "$name" "exit $rc, no /$re/ on stderr: $(head -n3 "$tmp/out" "$tmp/err" | tr '\n' '|')"
	fi
	show
}

# damaged NAME: a fresh copy of the reference image
damaged() { cp --sparse=always "$tmp/ref.img" "$tmp/$1.img"; echo "$tmp/$1.img"; }
# ERE for a literal string
re() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'; }

# ---- images that must pass ------------------------------------------

t_reference() { expect_pass "$1" "$tmp/ref.img" "${ref_opts[@]}"; }
t_nodedup_rockchip() {
	build "$tmp/nodedup.img" --no-dedup --uboot-rockchip "$BL/u-boot-rockchip.bin" \
		--dtb none --timeout 0 --registration "$REG"
	expect_pass "$1" "$tmp/nodedup.img" --uboot-rockchip "$BL/u-boot-rockchip.bin" \
		--dtb none --timeout 0 --registration "$REG"
}
t_bare_epoch() { # no bootloader, no registration, sizes and seed given
	SOURCE_DATE_EPOCH=1700000000 build "$tmp/bare.img" --timeout none \
		--boot-size 64M --root-size 200M --seed fixture-seed
	SOURCE_DATE_EPOCH=1700000000 expect_pass "$1" "$tmp/bare.img" --timeout none \
		--toplevel "$(cat "$F/toplevel")"
}

# ---- compressed images (imgread.c) ------------------------------------

# the build's own .zst OUTPUT of the reference image
zst_ref() { [ -e "$tmp/ref.img.zst" ] || build "$tmp/ref.img.zst" "${ref_opts[@]}"; }
t_zst_gz() {
	zst_ref
	build "$tmp/ref.img.gz" "${ref_opts[@]}"
	expect_pass "$1-zst" "$tmp/ref.img.zst" "${ref_opts[@]}"
	expect_pass "$1-gz" "$tmp/ref.img.gz" "${ref_opts[@]}"
}
t_zst_damaged() { # decompressed, damaged with debugfs, recompressed
	local img=$tmp/zdamaged.img
	zst_ref
	zstd -q -d -f "$tmp/ref.img.zst" -o "$img"
	dbg "$img" "$(p2_offset "$img")" "sif \"$HELLO/bin/hello\" mode 0100755"
	zstd -q -f --rm "$img" -o "$img.zst"
	expect_fail "$1" "$img.zst" "$(re "$HELLO/bin/hello"): mode 0755, expected 0555" "${ref_opts[@]}"
}
t_zst_cut() { # a stream that ends early cannot be compared: exit 2
	zst_ref
	head -c 100000 "$tmp/ref.img.zst" >"$tmp/cut.img.zst"
	expect_trouble "$1" "$(re "$tmp/cut.img.zst"): the zstd stream ends early" \
		--store-root "$F/store" "$tmp/cut.img.zst" "$F/closure.txt"
}

# ---- damage to a store file ------------------------------------------

t_store_byte() {
	local img off
	img=$(damaged "$1")
	off=$(data_offset "$img" "$(p2_offset "$img")" "$CU/bin/ls")
	flip "$img" $((off + 100))
	expect_fail "$1" "$img" "$(re "$CU/bin/ls"): content differs \(first at byte 100\)" "${ref_opts[@]}"
}
t_mode() {
	local img
	img=$(damaged "$1")
	dbg "$img" "$(p2_offset "$img")" "sif \"$HELLO/bin/hello\" mode 0100755"
	expect_fail "$1" "$img" "$(re "$HELLO/bin/hello"): mode 0755, expected 0555" "${ref_opts[@]}"
}
t_store_dir_mode() {
	local img
	img=$(damaged "$1")
	dbg "$img" "$(p2_offset "$img")" "sif /nix/store mode 040755"
	expect_fail "$1" "$img" '/nix/store: mode 0755, expected 1775' "${ref_opts[@]}"
}
t_owner() {
	local img
	img=$(damaged "$1")
	dbg "$img" "$(p2_offset "$img")" "sif \"$HELLO/share/doc/hello/secret.txt\" uid 1000"
	expect_fail "$1" "$img" "$(re "$HELLO/share/doc/hello/secret.txt"): owner 1000:0, expected 0:0" "${ref_opts[@]}"
}
t_mtime() {
	local img
	img=$(damaged "$1")
	dbg "$img" "$(p2_offset "$img")" "sif \"$LINUX/dtbs\" mtime 2"
	expect_fail "$1" "$img" "$(re "$LINUX/dtbs"): mtime 2, expected 1" "${ref_opts[@]}"
}
t_xattr() {
	local img
	img=$(damaged "$1")
	dbg "$img" "$(p2_offset "$img")" "ea_set \"$HELLO/bin/hello\" security.capability 0x2000000"
	expect_fail "$1" "$img" "$(re "$HELLO/bin/hello"): 1 extended attribute \(security.capability\), expected none" "${ref_opts[@]}"
}
t_immutable() { # chattr +i, extents kept
	local img
	img=$(damaged "$1")
	dbg "$img" "$(p1_offset "$img")" "sif /extlinux/extlinux.conf flags 0x80010"
	expect_fail "$1" "$img" "/boot/extlinux/extlinux.conf: inode flags 0x10, expected none of them .*" "${ref_opts[@]}"
}
t_needs_recovery() {
	local img
	img=$(damaged "$1")
	dbg "$img" "$(p2_offset "$img")" "feature needs_recovery"
	expect_fail "$1" "$img" 'partition 2 \(NIXOS_SD\): the journal needs recovery, .*' "${ref_opts[@]}"
}
t_not_clean() {
	local img
	img=$(damaged "$1")
	dbg "$img" "$(p1_offset "$img")" "ssv state 0"
	expect_fail "$1" "$img" 'partition 1 \(NIXOS_BOOT\): marked not cleanly unmounted' "${ref_opts[@]}"
}
t_orphans() {
	local img
	img=$(damaged "$1")
	dbg "$img" "$(p2_offset "$img")" "ssv last_orphan 12"
	expect_fail "$1" "$img" 'partition 2 \(NIXOS_SD\): orphan inodes from inode 12, .*' "${ref_opts[@]}"
}
t_symlink_target() { # link-61 keeps its target in a data block
	local img off
	img=$(damaged "$1")
	off=$(data_offset "$img" "$(p2_offset "$img")" "$HELLO/share/doc/hello/link-61")
	flip "$img" $((off + 7))
	expect_fail "$1" "$img" "$(re "$HELLO/share/doc/hello/link-61"): symlink to '.*', expected '.*'" "${ref_opts[@]}"
}
t_file_removed() {
	local img
	img=$(damaged "$1")
	dbg "$img" "$(p2_offset "$img")" "rm \"$CU/share/doc/coreutils/read me.txt\""
	expect_fail "$1" "$img" "$(re "$CU/share/doc/coreutils/read me.txt"): missing" "${ref_opts[@]}"
}
t_type_changed() {
	local img
	img=$(damaged "$1")
	dbg "$img" "$(p2_offset "$img")" "rm \"$CU/share/doc/coreutils/it's\"" "mkdir \"$CU/share/doc/coreutils/it's\""
	expect_fail "$1" "$img" "$(re "$CU/share/doc/coreutils/it's"): directory, expected regular file" "${ref_opts[@]}"
}
t_extra_file() {
	local img
	img=$(damaged "$1")
	echo extra >"$tmp/extra"
	dbg "$img" "$(p2_offset "$img")" "cd \"$HELLO/share\"" "write $tmp/extra extra"
	expect_fail "$1" "$img" "$(re "$HELLO/share/extra"): not in the closure" "${ref_opts[@]}"
}
t_extra_store_dir() {
	local img x=$S/00000000000000000000000000000000-extra
	img=$(damaged "$1")
	dbg "$img" "$(p2_offset "$img")" "mkdir $x"
	expect_fail "$1" "$img" "$(re "$x"): not in the closure" "${ref_opts[@]}"
}
t_links_count() { # yes-wrapper, no-wrapper and hello-wrapper: one inode
	local img
	img=$(damaged "$1")
	dbg "$img" "$(p2_offset "$img")" "sif \"$CU/bin/yes-wrapper\" links_count 2"
	expect_fail "$1" "$img" "$(re "$HELLO/bin/hello-wrapper"): links count 2, but its inode has 3 names" "${ref_opts[@]}"
}
t_link_other_content() { # bin/ls becomes a name of bin/hello's inode
	local img
	img=$(damaged "$1")
	dbg "$img" "$(p2_offset "$img")" "unlink \"$CU/bin/ls\"" "link \"$HELLO/bin/hello\" \"$CU/bin/ls\"" \
		"sif \"$HELLO/bin/hello\" links_count 2"
	expect_fail "$1" "$img" "$(re "$CU/bin/ls"): (size [0-9]+, expected [0-9]+|content differs.*)" "${ref_opts[@]}"
}
t_registration() {
	local img off
	img=$(damaged "$1")
	off=$(data_offset "$img" "$(p2_offset "$img")" /nix-path-registration)
	flip "$img" $((off + 5))
	expect_fail "$1" "$img" '/nix-path-registration: content differs \(first at byte 5\)' "${ref_opts[@]}"
}
t_registration_not_given() {
	expect_fail "$1" "$tmp/ref.img" '/nix-path-registration: not written by mkr2simg' \
		--idbloader "$BL/idbloader.img" --uboot-itb "$BL/u-boot.itb"
}
t_registration_absent() {
	build "$tmp/noreg.img" --idbloader "$BL/idbloader.img" --uboot-itb "$BL/u-boot.itb"
	expect_fail "$1" "$tmp/noreg.img" '/nix-path-registration: missing' "${ref_opts[@]}"
}

# ---- /boot -----------------------------------------------------------

t_extlinux_edited() { # TIMEOUT 10 -> TIMEOUT 50
	local img blk rel
	img=$(damaged "$1")
	blk=$(data_offset "$img" "$(p1_offset "$img")" /extlinux/extlinux.conf)
	rel=$(dd if="$img" bs=4096 iflag=skip_bytes skip="$blk" count=1 status=none | grep -a -b -o 'TIMEOUT 10' | cut -d: -f1)
	printf 5 | dd of="$img" bs=1 seek=$((blk + rel + 8)) conv=notrunc status=none
	expect_fail "$1" "$img" "/boot/extlinux/extlinux.conf: content differs \(first at byte $((rel + 8))\)" "${ref_opts[@]}"
}
t_kernel_changed() {
	local img k off
	img=$(damaged "$1")
	k=${LINUX#"$S"/}-Image
	off=$(data_offset "$img" "$(p1_offset "$img")" "/nixos/$k")
	flip "$img" $((off + 4095))
	expect_fail "$1" "$img" "/boot/nixos/$(re "$k"): content differs \(first at byte 4095\)" "${ref_opts[@]}"
}
t_boot_extra() {
	local img
	img=$(damaged "$1")
	echo extra >"$tmp/extra"
	dbg "$img" "$(p1_offset "$img")" "cd /nixos" "write $tmp/extra old-Image"
	expect_fail "$1" "$img" '/boot/nixos/old-Image: not written by mkr2simg' "${ref_opts[@]}"
}
t_wrong_timeout() {
	expect_fail "$1" "$tmp/ref.img" '/boot/extlinux/extlinux.conf: (size|content).*' "${ref_opts[@]}" --timeout 3
}
t_wrong_epoch() {
	SOURCE_DATE_EPOCH=1700000000 expect_fail "$1" "$tmp/ref.img" \
		'/boot/extlinux/extlinux.conf: mtime 1, expected 1700000000' "${ref_opts[@]}"
}

# ---- partition table and raw area ------------------------------------

t_backup_gpt() {
	local img size
	img=$(damaged "$1")
	size=$(stat -c %s "$img")
	dd if=/dev/zero of="$img" bs=512 seek=$((size / 512 - 1)) count=1 conv=notrunc status=none
	expect_fail "$1" "$img" "GPT backup header \(sector $((size / 512 - 1)), the last\): no GPT header .*" "${ref_opts[@]}"
}
t_backup_gpt_entry() { # one byte of the backup's partition 1 name
	local img size
	img=$(damaged "$1")
	size=$(stat -c %s "$img")
	flip "$img" $(((size / 512 - 33) * 512 + 56))
	expect_fail "$1" "$img" 'GPT backup header \(sector [0-9]+, the last\): entries CRC32 .*' "${ref_opts[@]}"
}
t_backup_of_other_image() { # both copies valid, other GUIDs (--seed)
	local img size
	img=$(damaged "$1")
	build "$tmp/other.img" "${ref_opts[@]}" --seed other
	size=$(stat -c %s "$img")
	[ "$(stat -c %s "$tmp/other.img")" -eq "$size" ]
	dd if="$tmp/other.img" of="$img" bs=512 skip=$((size / 512 - 33)) seek=$((size / 512 - 33)) \
		count=33 conv=notrunc status=none
	expect_fail "$1" "$img" 'GPT backup \(against the primary\): disk GUID [0-9A-F-]+, expected [0-9A-F-]+' "${ref_opts[@]}"
}
t_primary_entry_sgdisk() {
	local img
	img=$(damaged "$1")
	sgdisk -c 2:ROOT "$img" >/dev/null 2>&1
	expect_fail "$1" "$img" "GPT: partition 2 name 'ROOT', expected 'NIXOS_SD'" "${ref_opts[@]}"
}
t_primary_entry_byte() {
	local img
	img=$(damaged "$1")
	flip "$img" $((2 * 512 + 56)) # partition 1's name, in the primary
	expect_fail "$1" "$img" 'GPT primary header \(sector 1\): entries CRC32 .*' "${ref_opts[@]}"
}
t_attribute_sgdisk() {
	local img
	img=$(damaged "$1")
	sgdisk -A 1:clear:2 "$img" >/dev/null 2>&1
	expect_fail "$1" "$img" 'GPT: partition 1 attributes 0x0, expected 0x4' "${ref_opts[@]}"
}
t_partition_moved_sgdisk() {
	local img end
	img=$(damaged "$1")
	end=$(sgdisk -i 2 "$img" | sed -n 's/^Last sector: \([0-9]*\).*/\1/p')
	sgdisk -d 2 -n "2:$(($(p2_offset "$img") / 512 + 8192)):$end" \
		-t 2:B921B045-1DF0-41C3-AF44-4C6F280D3FAE -c 2:NIXOS_SD "$img" >/dev/null 2>&1
	expect_fail "$1" "$img" 'GPT: partition 2 starts at sector [0-9]+, expected [0-9]+ \(right after partition 1\)' "${ref_opts[@]}"
}
t_mbr_byte() {
	local img
	img=$(damaged "$1")
	flip "$img" 100 # boot code, zero in a protective MBR mkr2simg writes
	expect_fail "$1" "$img" 'protective MBR \(sector 0\): 1 byte differs from the table mkr2simg writes, first at byte 100' "${ref_opts[@]}"
}
t_idbloader_byte() {
	local img
	img=$(damaged "$1")
	flip "$img" $((64 * 512 + 1000))
	expect_fail "$1" "$img" "bootloader area: --idbloader $(re "$BL/idbloader.img") at sector 64: 1 byte differs, first at byte 1000 of the file" "${ref_opts[@]}"
}
t_wrong_uboot_itb() {
	expect_fail "$1" "$tmp/ref.img" "bootloader area: --uboot-itb $(re "$BL/idbloader.img") at sector 16384: [0-9]+ bytes differ, first at byte 0 of the file" \
		--registration "$REG" --idbloader "$BL/idbloader.img" --uboot-itb "$BL/idbloader.img"
}
t_raw_area_byte() { # between the bootloaders, where zeros must be
	local img
	img=$(damaged "$1")
	flip "$img" $((8000 * 512))
	expect_fail "$1" "$img" 'bootloader area \(sectors 34-32767\): 1 byte is not zero outside the bootloaders given, first at sector 8000' "${ref_opts[@]}"
}
t_no_bootloader_given() {
	expect_fail "$1" "$tmp/ref.img" 'bootloader area \(sectors 34-32767\): [0-9]+ bytes are not zero outside the bootloaders given, first at sector 64' \
		--registration "$REG"
}

# ---- U-Boot's saved environment (issue 13) --------------------------

ENV_RANGE='U-Boot saved environment at 0x3F8000-0x3FFFFF \(--env-offset, sectors 8128-8191\)'
# plant IMAGE [uboot_env.py options] NAME=VALUE...: a valid environment,
# its CRC by Python's zlib (uboot_env.py), apart from the C reader
plant() { python3 "$here/uboot_env.py" plant "$@"; }
# only_line NAME: the difference is the only line (the raw-area check
# does not report the same bytes again)
only_line() {
	[ "$(wc -l <"$tmp/out")" -eq 1 ] ||
		case_bad "$1" "more than the one line: $(tr '\n' '|' <"$tmp/out")"
}
t_env_planted() {
	local img
	img=$(damaged "$1")
	plant "$img" "bootcmd=run old_system" "ramdisk_addr_r=0x06000000"
	expect_fail "$1" "$img" "$ENV_RANGE: a valid saved environment of 2 variables, which U-Boot would load instead of its default environment" "${ref_opts[@]}"
	only_line "$1"
}
t_env_rockchip() { # under u-boot-rockchip.bin's padding: the range's line
	local img=$tmp/rockchip-env.img
	build "$img" --uboot-rockchip "$BL/u-boot-rockchip.bin" --registration "$REG"
	plant "$img" "bootcmd=run saved"
	expect_fail "$1" "$img" "$ENV_RANGE: a valid saved environment of 1 variable, which U-Boot would load instead of its default environment" \
		--uboot-rockchip "$BL/u-boot-rockchip.bin" --registration "$REG"
	only_line "$1"
}
t_env_not_valid() { # a CRC that does not match: other bytes, no more
	local img
	img=$(damaged "$1")
	plant "$img" "bootcmd=run old_system"
	flip "$img" $((0x3F8000 + 4))
	expect_fail "$1" "$img" "$ENV_RANGE: [0-9]+ bytes differ from what mkr2simg writes there \(no valid environment\), first at sector 8128" "${ref_opts[@]}"
	only_line "$1"
}
t_env_elsewhere() { # another U-Boot build's range, as build is told it
	local img
	img=$(damaged "$1")
	plant --offset 0x600000 --size 0x4000 "$img" "bootcmd=run elsewhere"
	expect_fail "$1" "$img" 'U-Boot saved environment at 0x600000-0x603FFF \(--env-offset, sectors 12288-12319\): a valid saved environment of 1 variable, .*' \
		"${ref_opts[@]}" --env-offset 0x600000 --env-size 16K
	only_line "$1"
	expect_fail "$1-default-range" "$img" 'bootloader area \(sectors 34-32767\): [0-9]+ bytes are not zero outside the bootloaders given, first at sector 12288' "${ref_opts[@]}"
}
t_env_redundant() { # with two copies U-Boot reads a flags byte after
	local img     # the CRC: a single copy's layout is not valid there
	img=$(damaged "$1")
	plant "$img" "bootcmd=run one"
	expect_fail "$1" "$img" "$ENV_RANGE: [0-9]+ bytes differ from what mkr2simg writes there \(no valid environment\), .*" \
		"${ref_opts[@]}" --env-redundant-offset 0x3F0000
	only_line "$1"
}
t_env_options() { # refused as the build refuses them
	expect_trouble "$1-outside" '--env-offset 0x200, --env-size 0x8000: not inside the raw area' \
		--store-root "$F/store" --env-offset 0x200 "$tmp/ref.img" "$F/closure.txt"
	expect_trouble "$1-not-offset" '--env-offset soon: not an offset' \
		--store-root "$F/store" --env-offset soon "$tmp/ref.img" "$F/closure.txt"
	expect_pass "$1-none" "$tmp/ref.img" "${ref_opts[@]}" --env-offset none
}

# ---- another closure -------------------------------------------------

t_closure_one_more() {
	local x=$S/11111111111111111111111111111111-extra-1.0
	mkdir -p "$F/store$x"
	echo more >"$F/store$x/file"
	{ cat "$F/closure.txt"; echo "$x"; } >"$tmp/more.txt"
	CLOSURE=$tmp/more.txt expect_fail "$1" "$tmp/ref.img" "$(re "$x"): missing" "${ref_opts[@]}"
}
t_closure_one_less() {
	grep -v -- "$HELLO_LINK" "$F/closure.txt" >"$tmp/less.txt"
	CLOSURE=$tmp/less.txt expect_fail "$1" "$tmp/ref.img" "$(re "$HELLO_LINK"): not in the closure" "${ref_opts[@]}"
}
t_many_capped() { # 300 files differ in the store: 100 lines, then a count
	cp -a "$F/store" "$tmp/store2"
	for f in "$tmp/store2$CU"/share/many/*; do
		rm -f "$f" && echo different >"$f"
	done
	rc=0
	"$mk" verify --store-root "$tmp/store2" "${ref_opts[@]}" "$tmp/ref.img" "$F/closure.txt" \
		>"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/out")" -eq 101 ] &&
		[ "$(grep -c '/share/many/.*: size [0-9]*, expected 10$' "$tmp/out")" -eq 100 ] &&
		tail -n1 "$tmp/out" | grep -q -x 'and 200 more'; then
		case_ok "$1" "$(tail -n1 "$tmp/out")"
	else
		case_bad "$1" "exit $rc, $(wc -l <"$tmp/out") lines: $(tail -n2 "$tmp/out" | tr '\n' '|')"
	fi
	show
}

# ---- bad usage and unreadable inputs: exit 2 -------------------------

t_usage() {
	expect_trouble "$1-no-args" 'expected IMAGE and CLOSURE'
	expect_trouble "$1-unknown-option" "unrecognized option|Try 'mkr2simg verify --help'" --bogus "$tmp/ref.img" "$F/closure.txt"
	expect_trouble "$1-bad-timeout" 'timeout soon' --timeout soon "$tmp/ref.img" "$F/closure.txt"
	expect_trouble "$1-no-closure" "$(re "$tmp/none.txt")" --store-root "$F/store" "$tmp/ref.img" "$tmp/none.txt"
	expect_trouble "$1-no-image" "$(re "$tmp/none.img")" --store-root "$F/store" "$tmp/none.img" "$F/closure.txt"
	expect_trouble "$1-image-dir" "$(re "$tmp"): is a directory, not an image file" --store-root "$F/store" "$tmp" "$F/closure.txt"
	expect_trouble "$1-store-path-gone" "listed in .* but cannot be read" --store-root "$tmp" "$tmp/ref.img" "$F/closure.txt"
}

# ---- real store paths ------------------------------------------------

# An image of real Nix store paths (executables, symlinks, a 105 MiB
# file, identical files across paths and hardlinks in the store) with
# registration and bootloaders, with and without dedup.
t_nix() {
	local rc=0 nx=$tmp/nix img big
	if ! command -v nix-build >/dev/null; then
		echo "skip: nix-build is not installed (apt-get install nix-bin)"
		[ "${CI:-}" = true ] && exit 1 # CI never passes by skipping
		exit 77
	fi
	bash "$here/nix_build_closure.sh" "$nx" >/dev/null || rc=$?
	[ "$rc" -eq 0 ] || exit "$rc"
	local -a bl=(--idbloader "$BL/idbloader.img" --uboot-itb "$BL/u-boot.itb")
	local -a reg=(--registration "$nx/registration")
	"$mk" "${reg[@]}" "${bl[@]}" "$nx/closure.txt" "$tmp/nix.img" >"$tmp/summary"
	# Files are linked (the store's identical files became one inode),
	# so verify walks real hardlink groups.
	if ! grep -q ' [1-9][0-9]* identical files hardlinked' "$tmp/summary"; then
		case_bad "$1" "no hardlinks in the image: $(cat "$tmp/summary")"
	fi
	"$mk" -q --no-dedup "${reg[@]}" "${bl[@]}" "$nx/closure.txt" "$tmp/nix-nodedup.img"
	CLOSURE=$nx/closure.txt expect_pass "$1-dedup" "$tmp/nix.img" --store-root / "${reg[@]}" "${bl[@]}"
	CLOSURE=$nx/closure.txt expect_pass "$1-no-dedup" "$tmp/nix-nodedup.img" --store-root / "${reg[@]}" "${bl[@]}"
	# One byte of the 105 MiB file (its first block is random bytes).
	img=$tmp/nix.img
	big=$(grep -- '-mkr2simg-big-file$' "$nx/closure.txt")/big.bin
	flip "$img" $(($(data_offset "$img" "$(p2_offset "$img")" "$big") + 7))
	CLOSURE=$nx/closure.txt expect_fail "$1-damaged" "$img" "$(re "$big"): content differs \(first at byte 7\)" \
		--store-root / "${reg[@]}" "${bl[@]}"
}

build "$tmp/ref.img" "${ref_opts[@]}"

all=(reference nodedup_rockchip bare_epoch zst_gz zst_damaged zst_cut store_byte mode store_dir_mode owner mtime
	xattr immutable needs_recovery not_clean orphans symlink_target file_removed type_changed extra_file extra_store_dir links_count
	link_other_content registration registration_not_given registration_absent
	extlinux_edited kernel_changed boot_extra wrong_timeout wrong_epoch backup_gpt
	backup_gpt_entry backup_of_other_image primary_entry_sgdisk primary_entry_byte attribute_sgdisk
	partition_moved_sgdisk mbr_byte idbloader_byte wrong_uboot_itb raw_area_byte
	no_bootloader_given env_planted env_rockchip env_not_valid env_elsewhere env_redundant
	env_options closure_one_more closure_one_less many_capped usage)
[ $# -gt 0 ] || set -- "${all[@]}"
for c in "$@"; do
	"t_$c" "$c"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
