#!/usr/bin/env bash
# test_checker.sh: proves tests/e2e/check_image.sh on reference images made
# by make_reference_image.sh: conforming images must pass, and each kind of
# damage (one per case) must fail with the expected FAIL line.  Needs root.
#
#   tests/e2e/test_checker.sh [-v] [CASE...]     (no CASE: all of them)
#
# Ends with "N passed, N failed"; exit 1 if any case failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
verbose=no
if [ "${1:-}" = -v ]; then verbose=yes; shift; fi
[ "$(id -u)" -eq 0 ] || { echo "test_checker: must run as root" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
F=$tmp/fx
"$here/prepare_fixtures.sh" "$F"
BL=$F/bootloader
TOP=$(cat "$F/toplevel")
common=(--store-root "$F/store" --closure "$F/closure.txt")

ref() { # ref IMAGE [make_reference_image options]
	local out=$1
	shift
	"$here/make_reference_image.sh" --store-root "$F/store" "$@" "$F/closure.txt" "$out" 2>/dev/null
}
ref "$tmp/ref.img" --registration "$F/registration" --idbloader "$BL/idbloader.img" --uboot-itb "$BL/u-boot.itb"
ref "$tmp/nodedup.img" --no-dedup --uboot-rockchip "$BL/u-boot-rockchip.bin" --dtb none --timeout 0
ref "$tmp/bare.img" --timeout 5 --boot-size 64M
ref_args=("${common[@]}" --registration "$F/registration" --idbloader "$BL/idbloader.img" --uboot-itb "$BL/u-boot.itb")

# shellcheck source-path=SCRIPTDIR source=damage.sh
. "$here/damage.sh"

passed=0 failed=0
case_ok() { passed=$((passed + 1)); echo "ok   $1${2:+: $2}"; }
case_bad() { failed=$((failed + 1)); echo "FAIL $1: $2"; }
# expect_pass NAME IMAGE CHECK_ARGS...
expect_pass() {
	local name=$1 img=$2 out rc=0
	shift 2
	out=$("$here/check_image.sh" -q "$@" "$img" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then case_ok "$name" "$(tail -n1 <<<"$out")"; else case_bad "$name" "checker said: $(head -n3 <<<"$out" | tr '\n' '|')"; fi
	[ "$verbose" = no ] || printf '%s\n' "$out" | sed 's/^/    /'
}
# expect_fail NAME IMAGE REGEX CHECK_ARGS...: exit 1 and a FAIL line matching REGEX
expect_fail() {
	local name=$1 img=$2 re=$3 out rc=0
	shift 3
	out=$("$here/check_image.sh" -q "$@" "$img" 2>&1) || rc=$?
	if [ "$rc" -eq 1 ] && grep -E -q -- "^FAIL: .*$re" <<<"$out"; then
		case_ok "$name" "$(grep -E -m1 -- "^FAIL: .*$re" <<<"$out")"
	else
		case_bad "$name" "exit $rc, no FAIL line matching /$re/: $(head -n3 <<<"$out" | tr '\n' '|')"
	fi
	[ "$verbose" = no ] || printf '%s\n' "$out" | sed 's/^/    /'
}
# damaged NAME: a fresh copy of the reference image
damaged() { cp --sparse=always "$tmp/ref.img" "$tmp/$1.img"; echo "$tmp/$1.img"; }

selected=("$@")
run() { # run CASE FUNCTION
	if [ ${#selected[@]} -eq 0 ] || [[ " ${selected[*]} " == *" $1 "* ]]; then "$2" "$1"; fi
}

S=/nix/store
LINUX=$(grep -- '-linux-6.6.1$' "$F/closure.txt" | grep -v initrd)
CU=$(grep -- '-coreutils-9.4$' "$F/closure.txt")
HELLO=$(grep -- '-hello-2.12.1$' "$F/closure.txt")

t_reference() { expect_pass "$1" "$tmp/ref.img" "${ref_args[@]}" --nix-verify; }
t_nodedup() { expect_pass "$1" "$tmp/nodedup.img" "${common[@]}" --dedup no --uboot-rockchip "$BL/u-boot-rockchip.bin" --dtb none --timeout 0; }
t_bare() { expect_pass "$1" "$tmp/bare.img" "${common[@]}" --timeout 5 --boot-size 64M --toplevel "$TOP"; }
t_nodedup_as_dedup() { expect_fail "$1" "$tmp/nodedup.img" 'not one inode' "${common[@]}" --uboot-rockchip "$BL/u-boot-rockchip.bin" --dtb none --timeout 0; }
t_dedup_as_nodedup() { expect_fail "$1" "$tmp/ref.img" 'link count [0-9]+, expected 1' "${ref_args[@]}" --dedup no; }
t_wrong_timeout() { expect_fail "$1" "$tmp/ref.img" 'extlinux.conf: (expected|image): +TIMEOUT' "${ref_args[@]}" --timeout 3; }
t_no_bootloader_expected() { expect_fail "$1" "$tmp/ref.img" 'bootloader area.*must be zero' "${common[@]}" --registration "$F/registration"; }
t_missing_registration() { expect_fail "$1" "$tmp/bare.img" 'missing from the image: /nix-path-registration' "${common[@]}" --timeout 5 --registration "$F/registration"; }

t_store_byte() {
	local img off
	img=$(damaged "$1")
	off=$(data_offset "$img" "$(p2_offset "$img")" "$CU/bin/ls")
	flip "$img" $((off + 100))
	expect_fail "$1" "$img" "NIXOS_SD: $CU/bin/ls: bytes differ" "${ref_args[@]}"
}
t_mode() {
	local img
	img=$(damaged "$1")
	dbg "$img" "$(p2_offset "$img")" "sif \"$HELLO/bin/hello\" mode 0100755"
	expect_fail "$1" "$img" "$HELLO/bin/hello: mode 0755, expected 0555" "${ref_args[@]}"
}
t_owner() {
	local img
	img=$(damaged "$1")
	dbg "$img" "$(p2_offset "$img")" "sif \"$HELLO/share/doc/hello/secret.txt\" uid 1000"
	expect_fail "$1" "$img" "secret.txt: owner 1000:0, expected 0:0" "${ref_args[@]}"
}
t_mtime() {
	local img
	img=$(damaged "$1")
	dbg "$img" "$(p2_offset "$img")" "sif \"$LINUX/dtbs\" mtime 2"
	expect_fail "$1" "$img" "$LINUX/dtbs: mtime 0x00000002" "${ref_args[@]}"
}
t_store_perm() {
	local img
	img=$(damaged "$1")
	dbg "$img" "$(p2_offset "$img")" "sif /nix/store mode 040755"
	expect_fail "$1" "$img" '/nix/store: mode 0755, expected 1775' "${ref_args[@]}"
}
t_missing_file() {
	local img
	img=$(damaged "$1")
	dbg "$img" "$(p2_offset "$img")" "rm \"$CU/share/doc/coreutils/read me.txt\""
	expect_fail "$1" "$img" "missing from the image: $CU/share/doc/coreutils/read me.txt" "${ref_args[@]}"
}
t_extra_file() {
	local img
	img=$(damaged "$1")
	echo extra >"$tmp/extra"
	dbg "$img" "$(p2_offset "$img")" "cd \"$HELLO/share\"" "write $tmp/extra extra"
	expect_fail "$1" "$img" "not expected in the image: $HELLO/share/extra" "${ref_args[@]}"
}
t_symlink_target() {
	local img off
	img=$(damaged "$1")
	off=$(data_offset "$img" "$(p2_offset "$img")" "$HELLO/share/doc/hello/link-61")
	flip "$img" $((off + 7))
	expect_fail "$1" "$img" 'link-61: symlink target differs' "${ref_args[@]}"
}
t_extlinux_line() {
	local img blk rel
	img=$(damaged "$1")
	blk=$(data_offset "$img" "$(p1_offset "$img")" /extlinux/extlinux.conf)
	rel=$(dd if="$img" bs=4096 iflag=skip_bytes skip="$blk" count=1 status=none | grep -a -b -o 'TIMEOUT 10' | cut -d: -f1)
	printf 5 | dd of="$img" bs=1 seek=$((blk + rel + 8)) conv=notrunc status=none   # TIMEOUT 10 -> TIMEOUT 50
	expect_fail "$1" "$img" 'extlinux.conf: image: +TIMEOUT 50' "${ref_args[@]}"
}
t_kernel_byte() {
	local img k off
	img=$(damaged "$1")
	k=${LINUX#"$S"/}-Image
	off=$(data_offset "$img" "$(p1_offset "$img")" "/nixos/$k")
	flip "$img" $((off + 4095))
	expect_fail "$1" "$img" "/nixos/$k: bytes differ" "${ref_args[@]}"
}
t_bootloader_byte() {
	local img
	img=$(damaged "$1")
	flip "$img" $((16384 * 512 + 12345))
	expect_fail "$1" "$img" 'bootloader area.*in u-boot.itb at offset 12345' "${ref_args[@]}"
}
t_dedup_link() {
	local img
	img=$(damaged "$1")
	cp "$F/store$CU/bin/no-wrapper" "$tmp/no-wrapper"
	dbg "$img" "$(p2_offset "$img")" "rm \"$CU/bin/no-wrapper\"" "cd \"$CU/bin\"" "write $tmp/no-wrapper no-wrapper" \
		"sif no-wrapper mode 0100555" "sif no-wrapper uid 0" "sif no-wrapper gid 0" \
		"sif no-wrapper atime 1" "sif no-wrapper mtime 1" "sif no-wrapper ctime 1" "sif no-wrapper crtime 1"
	expect_fail "$1" "$img" 'not one inode' "${ref_args[@]}"
}
t_fsck() {
	local img blk
	img=$(damaged "$1")
	blk=$(debugfs -R "bmap \"$HELLO/bin/hello\" 0" "$img?offset=$(p2_offset "$img")" 2>/dev/null)
	dbg "$img" "$(p2_offset "$img")" "freeb $blk"
	expect_fail "$1" "$img" 'NIXOS_SD: e2fsck' "${ref_args[@]}"
}
t_part_name() {
	local img
	img=$(damaged "$1")
	sgdisk -c 2:ROOT "$img" >/dev/null 2>&1
	expect_fail "$1" "$img" "partition 2 name 'ROOT', expected NIXOS_SD" "${ref_args[@]}"
}
t_attr() {
	local img
	img=$(damaged "$1")
	sgdisk -A 1:clear:2 "$img" >/dev/null 2>&1
	expect_fail "$1" "$img" 'bit 2 \(LegacyBIOSBootable\) not set' "${ref_args[@]}"
}
t_backup_gpt() {
	local img size
	img=$(damaged "$1")
	size=$(stat -c %s "$img")
	dd if=/dev/zero of="$img" bs=512 seek=$((size / 512 - 1)) count=1 conv=notrunc status=none
	expect_fail "$1" "$img" 'GPT: no backup header' "${ref_args[@]}"
}
t_label() {
	local img
	img=$(damaged "$1")
	e2label "$img?offset=$(p1_offset "$img")" BOOT 2>/dev/null ||
		dbg "$img" "$(p1_offset "$img")" "ssv volume_name BOOT"
	expect_fail "$1" "$img" "NIXOS_BOOT: volume label 'BOOT'" "${ref_args[@]}"
}
t_registration_bytes() {
	local img off
	img=$(damaged "$1")
	off=$(data_offset "$img" "$(p2_offset "$img")" /nix-path-registration)
	flip "$img" $((off + 20))
	expect_fail "$1" "$img" '/nix-path-registration: bytes differ' "${ref_args[@]}"
}
t_nix_verify() {
	local img off
	img=$(damaged "$1")
	off=$(data_offset "$img" "$(p2_offset "$img")" "$CU/share/doc/coreutils/exactly-4097")
	flip "$img" $((off + 4096))   # the one byte in the second block
	expect_fail "$1" "$img" 'nix verify: .*was modified' "${ref_args[@]}" --nix-verify
}

t_type_change() {
	local img
	img=$(damaged "$1")
	dbg "$img" "$(p2_offset "$img")" "rm \"$CU/share/doc/coreutils/it's\"" "mkdir \"$CU/share/doc/coreutils/it's\""
	expect_fail "$1" "$img" "it's: directory in the image, regular file in the source" "${ref_args[@]}"
}
t_empty_linked() {
	local img h=$HELLO/share/hello
	img=$(damaged "$1")
	dbg "$img" "$(p2_offset "$img")" "rm $h/also-empty" "link $h/empty $h/also-empty" "sif $h/empty links_count 2"
	expect_fail "$1" "$img" 'inode [0-9]+ is shared by files that must be separate' "${ref_args[@]}"
}
t_p2_start() {
	local img end
	img=$(damaged "$1")
	end=$(sgdisk -i 2 "$img" | sed -n 's/^Last sector: \([0-9]*\).*/\1/p')
	sgdisk -d 2 -n "2:$(($(p2_offset "$img") / 512 + 2048)):$end" -t 2:B921B045-1DF0-41C3-AF44-4C6F280D3FAE -c 2:NIXOS_SD "$img" >/dev/null 2>&1
	expect_fail "$1" "$img" 'partition 2 starts at sector [0-9]+, expected' "${ref_args[@]}"
}
t_image_size() {
	local img
	img=$(damaged "$1")
	truncate -s +1M "$img"
	expect_fail "$1" "$img" 'not a multiple of 4 MiB' "${ref_args[@]}"
}
t_dtb() {
	local img off
	img=$(damaged "$1")
	off=$(data_offset "$img" "$(p1_offset "$img")" "/nixos/${LINUX#"$S"/}-dtbs/rockchip/rk3328-nanopi-r2s.dtb")
	flip "$img" $((off + 1))
	expect_fail "$1" "$img" 'rk3328-nanopi-r2s.dtb: bytes differ' "${ref_args[@]}"
}

for c in reference nodedup bare nodedup_as_dedup dedup_as_nodedup wrong_timeout no_bootloader_expected \
	missing_registration store_byte mode owner mtime store_perm missing_file extra_file symlink_target \
	extlinux_line kernel_byte bootloader_byte dedup_link fsck part_name attr backup_gpt label \
	registration_bytes nix_verify type_change empty_linked p2_start image_size dtb; do
	run "$c" "t_$c"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
