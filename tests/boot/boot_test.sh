#!/usr/bin/env bash
# Boot test: build an R2S image with mkr2simg from real arm64 Debian parts
# and boot it in QEMU under Debian's U-Boot.
#
#   boot_test.sh MKR2SIMG MODE
#
# Builds (in a temporary folder) a check initramfs (busybox, cpio newc; see
# init.sh) that verifies the root file system against a manifest of the
# store paths, wraps it and Debian's arm64 kernel into a NixOS-like
# toplevel store path (real Nix store paths from toplevel.nix when
# nix-build works, else a fixture-like store tree read with --store-root),
# writes the image with MKR2SIMG (Debian's real RK3328 idbloader.img and
# u-boot.itb in the raw regions, default FDT line), then boots it:
#
#   qemu-system-aarch64 -M virt -cpu cortex-a53 -m 1024 -nographic \
#     -nic none -bios u-boot.bin -drive if=virtio,format=raw,file=IMG -snapshot
#
# MODE
#   boot                   the image as written: passes only when U-Boot
#                          reads /extlinux/extlinux.conf on partition 1,
#                          loads its kernel and initrd, and the initramfs
#                          prints its success line; first checks, by
#                          reading the image, the bootloader regions and
#                          that the FDT file named by extlinux.conf exists
#   corrupt-store-file     a copy with one data block of one store file
#                          overwritten: passes only when the initramfs
#                          reports exactly that file as differing
#   zero-root-superblock   a copy with NIXOS_SD's superblock zeroed: passes
#                          only when the initramfs reports no NIXOS_SD
#   wrong-hash-seed        a copy whose NIXOS_SD superblock has another
#                          htree hash seed (debugfs ssv): passes only when
#                          the initramfs reports names of the indexed
#                          directory as not found
#   damage-extlinux        a copy with extlinux.conf's data overwritten:
#                          passes only when U-Boot reads it, rejects it
#                          ("EXTLINUX FAILED"), starts no kernel and falls
#                          back to its prompt
#   kernel-at-gap          the kernel's header image_size set to the whole
#   kernel-over-gap        gap booti leaves below ramdisk_addr_r in QEMU's
#                          U-Boot (qemu_arm64: 0x40400000 to 0x44000000,
#                          60 MiB), or 4 KiB more: at the gap the boot must
#                          pass, over it U-Boot must stop with "RD image
#                          overlaps OS image" at its prompt; and mkr2simg's
#                          memory-map check, given qemu_arm64's u-boot.bin
#                          as the bootloader, must accept the first and
#                          refuse the second (issue 9: the model is U-Boot's)
#
# The console goes to console-MODE.log in the current folder (kept; printed on
# failure).  A boot stops as soon as the log shows the result, a kernel
# panic or U-Boot's prompt, or after MKR2SIMG_BOOT_TIMEOUT seconds (90).
# Other settings: MKR2SIMG_BOOT_CACHE (see fetch.sh), MKR2SIMG_BOOT_NIX=0
# (use the store tree even where Nix works), MKR2SIMG_BOOT_KEEP=1 (keep
# the temporary folder and say where it is).
# Exit status: 0 pass, 1 fail, 77 skip (prerequisites missing; under CI
# that is a failure instead, see lib.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
BOOT_PROG="boot_test.sh${2:+ $2}"

[ $# -eq 2 ] || { echo "usage: $0 MKR2SIMG boot|corrupt-store-file|zero-root-superblock|wrong-hash-seed|damage-extlinux|kernel-at-gap|kernel-over-gap" >&2; exit 2; }
mkr2simg=$1
mode=$2
case $mode in
boot | corrupt-store-file | zero-root-superblock | wrong-hash-seed | damage-extlinux | kernel-at-gap | kernel-over-gap) ;;
*) die "unknown mode '$mode'" ;;
esac
[ -x "$mkr2simg" ] || die "$mkr2simg is not an executable"
mkr2simg=$(cd "$(dirname "$mkr2simg")" && pwd)/${mkr2simg##*/}

timeout_s=${MKR2SIMG_BOOT_TIMEOUT:-90}
log=$PWD/console-$mode.log
TAG=MKR2SIMG-BOOT-CHECK
KERNEL_PARAMS='console=ttyAMA0 loglevel=4'
DTB=rockchip/rk3328-nanopi-r2s.dtb

PATH=$PATH:/usr/sbin:/sbin # depmod, debugfs, sfdisk
need_tools qemu-system-aarch64 cpio depmod gzip perl sha256sum sfdisk jq debugfs flock
t_start=$(date +%s)

files=$("$here/fetch.sh") || exit $?
kver=$(cat "$files/kernel-version")

work=$(mktemp -d "${TMPDIR:-/tmp}/mkr2simg-boot.XXXXXX")
qpid=
cleanup() {
	if [ -n "$qpid" ]; then
		kill "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
	fi
	if [ "${MKR2SIMG_BOOT_KEEP:-0}" = 1 ]; then
		say "kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# ---------------------------------------------------------------------------
# Store paths: real ones from toplevel.nix, or the same layout in a tree.

use_nix=0
if [ "${MKR2SIMG_BOOT_NIX:-1}" != 0 ] && command -v nix-build >/dev/null 2>&1 &&
	command -v nix-store >/dev/null 2>&1; then
	# shellcheck source=../e2e/nix_env.sh
	. "$here/../e2e/nix_env.sh"
	if [ "$NIX_REMOTE" != local ] || [ -w /nix/var/nix/db ] || [ -w /nix/var/nix ]; then
		use_nix=1
	fi
fi

# ---------------------------------------------------------------------------
# The kernel: Debian's Image, or for kernel-*-gap a copy whose header's
# image_size fills booti's gap in QEMU's U-Boot (or 4 KiB more).

kernel_image=$files/Image
# env_addr NAME: NAME's value in qemu_arm64's u-boot.bin default environment
env_addr() {
	local v
	v=$(grep -a -o "$1=0x[0-9a-fA-F]*" "$files/u-boot.bin" | head -n 1)
	[ -n "$v" ] || die "no $1 in $files/u-boot.bin"
	printf '%d\n' "${v#*=}"
}
# le64 FILE OFFSET: the little-endian 64-bit number at OFFSET
le64() { od -A n -t u8 -j "$2" -N 8 --endian=little "$1" | tr -d ' '; }
if [ "$mode" = kernel-at-gap ] || [ "$mode" = kernel-over-gap ]; then
	ka=$(env_addr kernel_addr_r) ra=$(env_addr ramdisk_addr_r)
	text_offset=$(le64 "$files/Image" 8)
	flags=$(le64 "$files/Image" 24)
	[ $((flags & 8)) -ne 0 ] || die "Debian's Image lacks flags bit 3"
	two_mib=$((2 << 20))
	# booti_setup: the 2 MiB boundary at or above kernel_addr_r - text_offset
	os_start=$(((ka - text_offset + two_mib - 1) / two_mib * two_mib + text_offset))
	gap=$((ra - os_start))
	size=$gap
	[ "$mode" = kernel-at-gap ] || size=$((gap + 4096))
	kernel_image=$work/Image
	cp "$files/Image" "$kernel_image"
	perl -e 'print pack("Q<", $ARGV[0])' "$size" |
		dd of="$kernel_image" bs=1 seek=16 conv=notrunc status=none
	[ "$(le64 "$kernel_image" 16)" = "$size" ] || die "could not set image_size"
	say "kernel: Debian's Image with image_size $size (gap: $gap bytes from 0x$(printf %x "$os_start") to ramdisk_addr_r 0x$(printf %x "$ra"))"
fi

nix_args=(--argstr kernelImage "$kernel_image" --argstr kernelVersion "$kver"
	--argstr kernelParams "$KERNEL_PARAMS")
# nix_build ATTR...: build, keep a GC root in $work, print the store paths
nix_build() {
	local a args=()
	for a in "$@"; do args+=(-A "$a"); done
	nix-build --quiet -o "$work/result" "${nix_args[@]}" "${args[@]}" "$here/toplevel.nix" ||
		die "nix-build ${args[*]} $here/toplevel.nix failed"
}

store_root=
if [ "$use_nix" = 1 ]; then
	say "building the store paths with nix-build ($here/toplevel.nix)"
	mapfile -t p < <(nix_build linux dataA dataB note bigDir)
	[ ${#p[@]} -eq 5 ] || die "nix-build gave ${#p[@]} paths, expected 5"
	LINUX=${p[0]} DATA_A=${p[1]} DATA_B=${p[2]} NOTE=${p[3]} BIG=${p[4]}
else
	say "nix-build not usable here: laying out the store paths in a tree (--store-root)"
	store_root=$work/store-root
	mkdir -p "$store_root/nix/store"
	# fake_path NAME: /nix/store/<32 characters of Nix's base-32>-NAME
	fake_path() {
		printf '/nix/store/%s-%s\n' \
			"$(printf '%s' "$1" | sha256sum | cut -c1-32 | tr 'ef' 'gh')" "$1"
	}
	LINUX=$(fake_path "linux-$kver")
	DATA_A=$(fake_path mkr2simg-boot-data-a-1.0)
	DATA_B=$(fake_path mkr2simg-boot-data-b-1.0)
	NOTE=$(fake_path mkr2simg-boot-note.sh)
	BIG=$(fake_path mkr2simg-boot-big-dir-1.0)
	role() { # ROLE OUT [VAR=VALUE...]
		local r=$1 o=$2
		shift 2
		env "$@" out="$store_root$o" PATH=/usr/bin:/bin LC_ALL=C sh -eu "$here/payload.sh" "$r" ||
			die "payload.sh $r failed"
	}
	role linux "$LINUX" kernelImage="$kernel_image"
	role data-b "$DATA_B"
	role data-a "$DATA_A" dataB="$DATA_B"
	role note "$NOTE"
	role big-dir "$BIG"
fi
checked=("$LINUX" "$DATA_A" "$DATA_B" "$NOTE")

# ---------------------------------------------------------------------------
# The manifest: what init.sh must find on NIXOS_SD, in its format (the
# metadata mkr2simg gives store contents: root:root, mtime 1, 0444/0555
# files, 0555 directories).

# manifest_entries PATH...: the manifest lines for store paths under $store_root
manifest_entries() {
	local p e perm
	for p in "$@"; do
		(cd "${store_root:-/}" && find "${p#/}" -print0) | LC_ALL=C sort -z
	done | while IFS= read -r -d '' e; do
		if [ -L "${store_root:-}/$e" ]; then
			printf 'l 777 0:0 1 /%s -> %s\n' "$e" "$(readlink "${store_root:-}/$e")"
		elif [ -d "${store_root:-}/$e" ]; then
			printf 'd 555 0:0 1 /%s\n' "$e"
		elif [ -f "${store_root:-}/$e" ]; then
			perm=$(stat -c %a "${store_root:-}/$e")
			if ((8#$perm & 8#111)); then perm=555; else perm=444; fi
			printf 'f %s 0:0 1 %s /%s\n' "$perm" \
				"$(sha256sum <"${store_root:-}/$e" | cut -d' ' -f1)" "$e"
		else
			die "unexpected file type: ${store_root:-}/$e"
		fi
	done
}

# The indexed directory: init.sh looks up every one of its names and a
# third as many that are not there (names with "~" appended), one by
# one, through the kernel (too many entries to hash each under
# emulation).
big_entries=$BIG/entries
printf '%s\n' "${big_entries#/}" >"$work/big-dir"
(cd "${store_root:-}$big_entries" && find . -mindepth 1 -printf '%f\n') | LC_ALL=C sort >"$work/big-hits"
awk 'NR % 3 == 1 { print $0 "~" }' "$work/big-hits" >"$work/big-misses"

# ---------------------------------------------------------------------------
# The check initramfs.

# make_initramfs MANIFEST PATHS REGISTRATION-EXPECTED OUT
make_initramfs() {
	local d=$work/initramfs
	rm -rf "$d"
	mkdir -p "$d/bin" "$d/etc/boot-check" "$d/proc" "$d/sys" "$d/dev" "$d/mnt" "$d/tmp" "$d/lib/modules"
	cp "$files/busybox" "$d/bin/busybox"
	cp "$here/init.sh" "$d/init"
	chmod 0755 "$d/bin/busybox" "$d/init"
	cp -R "$files/modules/lib/modules/$kver" "$d/lib/modules/"
	depmod -b "$d" "$kver" || die "depmod -b $d $kver failed"
	cp "$1" "$d/etc/boot-check/manifest"
	cp "$2" "$d/etc/boot-check/paths"
	cp "$3" "$d/etc/boot-check/registration-expected"
	cp "$work/big-dir" "$work/big-hits" "$work/big-misses" "$d/etc/boot-check/"
	# Same bytes for the same contents: a rebuilt initramfs is the same
	# store path.
	find "$d" -exec touch -h -d @1 {} +
	(cd "$d" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -6n >"$4" ||
		die "cannot write the initramfs"
}

# ---------------------------------------------------------------------------
# The toplevel, the closure, the image.

: >"$work/paths"
for p in "${checked[@]}"; do printf '%s\n' "${p#/}" >>"$work/paths"; done
manifest_entries "${checked[@]}" >"$work/manifest"
# With Nix, the image gets the closure's registration; its contents depend
# on the initramfs (the toplevel and initrd are in it), so the initramfs
# cannot hold its hash: it checks that the file is there and names the
# checked paths and the toplevel.
if [ "$use_nix" = 1 ]; then echo yes; else echo no; fi >"$work/registration-expected"
make_initramfs "$work/manifest" "$work/paths" "$work/registration-expected" "$work/initrd.cpio.gz"
say "initramfs: $(stat -c %s "$work/initrd.cpio.gz") bytes; manifest: $(wc -l <"$work/manifest") entries of ${#checked[@]} store paths"

registration=
if [ "$use_nix" = 1 ]; then
	nix_args+=(--argstr initrdFile "$work/initrd.cpio.gz")
	TOPLEVEL=$(nix_build toplevel)
	mapfile -t closure < <(nix-store -qR "$TOPLEVEL")
	INITRD=$(readlink "$TOPLEVEL/initrd")
	INITRD=${INITRD%/initrd}
	# as tests/e2e/nix_build_closure.sh: what `nix-store --load-db` reads
	registration=$work/registration
	nix-store --dump-db "${closure[@]}" >"$registration" || die "nix-store --dump-db failed"
else
	INITRD=$(fake_path initrd-mkr2simg-boot-check)
	TOPLEVEL=$(fake_path nixos-system-mkr2simg-boot-test-24.05)
	role initrd "$INITRD" initrdFile="$work/initrd.cpio.gz"
	role toplevel "$TOPLEVEL" linux="$LINUX" initrd="$INITRD" dataA="$DATA_A" \
		dataB="$DATA_B" note="$NOTE" bigDir="$BIG" kernelParams="$KERNEL_PARAMS"
	closure=("${checked[@]}" "$BIG" "$INITRD" "$TOPLEVEL")
fi
printf '%s\n' "${closure[@]}" >"$work/closure.txt"
for p in "${checked[@]}" "$BIG" "$INITRD" "$TOPLEVEL"; do
	grep -qxF "$p" "$work/closure.txt" || die "$p is not in the closure of $TOPLEVEL"
done
say "toplevel $TOPLEVEL (${#closure[@]} store paths)"

img=$work/r2s.img
mk_common=(--toplevel "$TOPLEVEL")
[ -z "$store_root" ] || mk_common+=(--store-root "$store_root")
[ -z "$registration" ] || mk_common+=(--registration "$registration")
mk_args=(--idbloader "$files/idbloader.img" --uboot-itb "$files/u-boot.itb" "${mk_common[@]}")
env -u SOURCE_DATE_EPOCH "$mkr2simg" "${mk_args[@]}" "$work/closure.txt" "$img" ||
	die "mkr2simg failed"

# part N: "START SECTORS" of partition N (1-based)
part() {
	sfdisk --json "$img" | jq -r ".partitiontable.partitions[$(($1 - 1))] | \"\\(.start) \\(.size)\""
}
read -r p1_start _ < <(part 1)
read -r p2_start _ < <(part 2)
# dfs N IMAGE COMMAND: run one debugfs command on partition N of IMAGE
dfs() {
	local start=$p1_start
	[ "$1" = 1 ] || start=$p2_start
	debugfs -R "$3" "$2?offset=$((512 * start))" 2>/dev/null
}

# The directory the kernel is to search is an htree of two levels.
dfs 2 "$img" "htree $big_entries" >"$work/big.htree"
{ grep -q 'Indirect levels: 1$' "$work/big.htree" && [ $(($(dfs 2 "$img" "stat $big_entries" |
	sed -n 's/.*Flags: \(0x[0-9a-f]*\).*/\1/p') & 0x1000)) -ne 0 ]; } ||
	die "$big_entries is not an indexed directory of two levels in the image"
say "image: $big_entries is an htree of two levels ($(wc -l <"$work/big-hits") entries)"

# ---------------------------------------------------------------------------
# The boot.

outcome=
boot_seconds=
# boot IMAGE: boot it, console to $log; sets outcome to passed | failed |
# panic | prompt | exited | timeout, and boot_seconds.
boot() {
	local t0 now poweroff=no
	: >"$log"
	t0=$(date +%s%N)
	qemu-system-aarch64 -M virt -cpu cortex-a53 -m 1024 -nographic -nic none \
		-bios "$files/u-boot.bin" -drive "if=virtio,format=raw,file=$1" -snapshot \
		</dev/null >"$log" 2>&1 &
	qpid=$!
	outcome=
	while [ -z "$outcome" ]; do
		sleep 0.2
		now=$(date +%s%N)
		if grep -aq "^$TAG: PASSED" "$log"; then
			outcome=passed
		elif grep -aq "^$TAG: FAILED" "$log"; then
			outcome=failed
		elif grep -aq 'Kernel panic' "$log"; then
			outcome=panic
			sleep 1 # the rest of the panic message
		elif grep -aqE '^=> ?$' "$log"; then
			outcome=prompt
		elif ! kill -0 "$qpid" 2>/dev/null; then
			outcome=exited
		elif [ $(((now - t0) / 1000000000)) -ge "$timeout_s" ]; then
			outcome=timeout
		fi
	done
	boot_seconds=$(((now - t0) / 1000000)) # ms, for now
	boot_seconds=$((boot_seconds / 1000)).$(printf '%03d' $((boot_seconds % 1000)))
	if [ "$outcome" = passed ] || [ "$outcome" = failed ]; then
		# init.sh powers off: QEMU should exit by itself.
		for _ in $(seq 50); do
			kill -0 "$qpid" 2>/dev/null || { poweroff=yes; break; }
			sleep 0.2
		done
	fi
	kill "$qpid" 2>/dev/null || true
	wait "$qpid" 2>/dev/null || true
	qpid=
	say "boot: $outcome after $boot_seconds s (QEMU exited by poweroff: $poweroff; console log: $log)"
}

# console_text: the console log without carriage returns and terminal
# escape sequences
console_text() { tr -d '\r' <"$log" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g'; }

show_log() {
	echo "----- console log ($log) -----"
	console_text
	echo "----- end of console log -----"
}

# key_lines: the lines of the console log that tell the story
key_lines() {
	console_text | grep -aE "^U-Boot 20|Scanning|Found|Retrieving file|Ignoring unknown|Moving Image|overlaps|Starting kernel|^boot-check: |^[-+][fdl?] |^$TAG: |Kernel panic|^=> ?|Power down" | cut -c1-300 || true
}

check_fail() { # MESSAGE: report and exit 1 with the log
	show_log
	die "$*"
}

# log_has REGEX: the console log has a line matching REGEX (ERE)
log_has() { console_text | grep -aqE "$1"; }

kname=${LINUX#/nix/store/}-Image
iname=${INITRD#/nix/store/}-initrd

case $mode in
boot)
	# The bootloader regions hold Debian's RK3328 U-Boot.
	cmp -s -n "$(stat -c %s "$files/idbloader.img")" -i 0:$((64 * 512)) "$files/idbloader.img" "$img" ||
		die "the image has no idbloader.img at sector 64"
	cmp -s -n "$(stat -c %s "$files/u-boot.itb")" -i 0:$((16384 * 512)) "$files/u-boot.itb" "$img" ||
		die "the image has no u-boot.itb at sector 16384"
	# The FDT line (the QEMU boot cannot prove it: U-Boot's qemu_arm64
	# environment has no fdt_addr_r and uses QEMU's own device tree).
	dfs 1 "$img" 'cat /extlinux/extlinux.conf' >"$work/extlinux.conf"
	fdt=$(awk '$1 == "FDT" { print $2 }' "$work/extlinux.conf")
	[ "$fdt" = "../nixos/${LINUX#/nix/store/}-dtbs/$DTB" ] ||
		die "extlinux.conf's FDT line names '$fdt', expected ../nixos/${LINUX#/nix/store/}-dtbs/$DTB"
	dfs 1 "$img" "dump /${fdt#../} $work/fdt.dtb" >/dev/null
	cmp -s "$work/fdt.dtb" "${store_root:-}$LINUX/dtbs/$DTB" ||
		die "/${fdt#../} on NIXOS_BOOT is missing or differs from $LINUX/dtbs/$DTB"
	say "image: bootloaders at sectors 64 and 16384; FDT /${fdt#../} present on partition 1"

	boot "$img"
	[ "$outcome" = passed ] || check_fail "the boot did not pass: $outcome"
	{ log_has '^Scanning virtio 0:1\.\.\.' && log_has '^Found /extlinux/extlinux.conf' &&
		log_has 'Retrieving file: /extlinux/extlinux.conf'; } ||
		check_fail "U-Boot did not read /extlinux/extlinux.conf from partition 1"
	log_has "Retrieving file: /extlinux/\.\./nixos/$kname\$" ||
		check_fail "U-Boot did not load ../nixos/$kname"
	log_has "Retrieving file: /extlinux/\.\./nixos/$iname\$" ||
		check_fail "U-Boot did not load ../nixos/$iname"
	log_has "^$TAG: PASSED: .*; $(wc -l <"$work/big-hits") names of an indexed directory found\$" ||
		check_fail "the initramfs did not look up the names of $big_entries"
	;;
corrupt-store-file)
	victim=$DATA_B/share/big.bin
	read -r blk _ < <(dfs 2 "$img" "blocks $victim")
	[ -n "$blk" ] || die "debugfs found no data block of $victim"
	bs=$(dfs 2 "$img" stats | awk -F': *' '$1 == "Block size" { print $2 }')
	off=$((p2_start * 512 + blk * bs))
	cp --sparse=always "$img" "$work/bad.img"
	head -c "$bs" /dev/zero | tr '\0' '\252' |
		dd of="$work/bad.img" bs="$bs" seek=$((off / bs)) conv=notrunc status=none
	! cmp -s -n "$bs" -i "$off:$off" "$img" "$work/bad.img" || die "the block did not change"
	say "overwrote block $blk of $victim (byte $off of the image) with 0xaa"
	boot "$work/bad.img"
	[ "$outcome" = failed ] || check_fail "expected the initramfs to report a failure, got: $outcome"
	# Exactly that file's line differs: "- expected" and "+ found".
	if ! log_has "^-f 444 0:0 1 [0-9a-f]{64} $victim\$" || ! log_has "^\+f 444 0:0 1 [0-9a-f]{64} $victim\$" ||
		! log_has "^$TAG: FAILED: 2 manifest lines differ"; then
		check_fail "the failure does not name exactly $victim"
	fi
	;;
zero-root-superblock)
	cp --sparse=always "$img" "$work/bad.img"
	dd if=/dev/zero of="$work/bad.img" bs=1024 count=1 seek=$((p2_start / 2 + 1)) conv=notrunc status=none
	say "zeroed the superblock of NIXOS_SD (bytes $((p2_start * 512 + 1024))..+1024)"
	boot "$work/bad.img"
	[ "$outcome" = failed ] || check_fail "expected the initramfs to report a failure, got: $outcome"
	log_has "^$TAG: FAILED: no file system labelled NIXOS_SD" ||
		check_fail "the failure is not the missing NIXOS_SD file system"
	;;
wrong-hash-seed)
	cp --sparse=always "$img" "$work/bad.img"
	debugfs -w -R "ssv hash_seed 0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0" \
		"$work/bad.img?offset=$((512 * p2_start))" 2>/dev/null
	[ "$(dfs 2 "$work/bad.img" stats | sed -n 's/^Directory Hash Seed: *//p')" = 0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0 ] ||
		die "could not change the hash seed"
	say "gave NIXOS_SD another htree hash seed"
	boot "$work/bad.img"
	[ "$outcome" = failed ] || check_fail "expected the initramfs to report a failure, got: $outcome"
	log_has "^$TAG: FAILED: [0-9]+ of $(wc -l <"$work/big-hits") names of /${big_entries#/} not found" ||
		check_fail "the failure is not names of the indexed directory not found"
	;;
damage-extlinux)
	read -r blk _ < <(dfs 1 "$img" 'blocks /extlinux/extlinux.conf')
	[ -n "$blk" ] || die "debugfs found no data block of /extlinux/extlinux.conf"
	bs=$(dfs 1 "$img" stats | awk -F': *' '$1 == "Block size" { print $2 }')
	dfs 1 "$img" "dump /extlinux/extlinux.conf $work/extlinux.conf" >/dev/null
	size=$(stat -c %s "$work/extlinux.conf")
	{ [ "$size" -gt 0 ] && [ "$size" -le "$bs" ]; } || die "unexpected size of extlinux.conf: $size"
	off=$((p1_start * 512 + blk * bs))
	cp --sparse=always "$img" "$work/bad.img"
	# printable garbage of the file's length: no line U-Boot can use
	perl -e 'srand(42); print map { chr(33 + int(rand(94))) } 1 .. $ARGV[0]' "$size" |
		dd of="$work/bad.img" bs=1 seek="$off" conv=notrunc status=none
	say "overwrote the $size bytes of /extlinux/extlinux.conf (block $blk) with garbage"
	boot "$work/bad.img"
	[ "$outcome" = prompt ] || check_fail "expected U-Boot to fall back to its prompt, got: $outcome"
	log_has 'Retrieving file: /extlinux/extlinux.conf' ||
		check_fail "U-Boot did not read the damaged /extlinux/extlinux.conf"
	{ log_has 'Ignoring unknown command' && log_has 'EXTLINUX FAILED'; } ||
		check_fail "U-Boot did not reject the damaged lines of extlinux.conf"
	! log_has 'Retrieving file: /extlinux/\.\./nixos/' || check_fail "U-Boot loaded a file named by the damaged extlinux.conf"
	! log_has 'Starting kernel' || check_fail "U-Boot started a kernel"
	;;
kernel-at-gap | kernel-over-gap)
	# mkr2simg's prediction with QEMU's U-Boot as the bootloader.
	rc=0
	env -u SOURCE_DATE_EPOCH "$mkr2simg" -v "${mk_common[@]}" \
		--uboot-rockchip "$files/u-boot.bin" "$work/closure.txt" "$work/predict.img" \
		>"$work/predict.log" 2>&1 || rc=$?
	say "mkr2simg with qemu_arm64's u-boot.bin: exit $rc: $(grep -E 'memory map|U-Boot cannot' "$work/predict.log" | cut -c1-400)"
	boot "$img"
	if [ "$mode" = kernel-at-gap ]; then
		[ "$rc" = 0 ] || { cat "$work/predict.log" >&2; die "mkr2simg refused a kernel that fits the gap"; }
		[ "$outcome" = passed ] || check_fail "a kernel of image_size = the gap did not boot: $outcome"
		# booti says where it moves the Image, unless it stays put
		if [ "$os_start" != "$ka" ]; then
			log_has "Moving Image from 0x[0-9a-f]+ to 0x$(printf %x "$os_start"), end=$(printf %x "$ra")\$" ||
				check_fail "U-Boot did not place the kernel up to ramdisk_addr_r as computed"
		fi
		grep -q "kernels up to $((gap >> 20)) MiB fit" "$work/predict.log" ||
			{ cat "$work/predict.log" >&2; die "mkr2simg -v did not report the gap of $gap bytes"; }
	else
		if [ "$rc" != 1 ] || ! grep -q 'RD image overlaps OS image' "$work/predict.log"; then
			cat "$work/predict.log" >&2
			die "mkr2simg did not predict U-Boot's refusal"
		fi
		[ "$outcome" = prompt ] || check_fail "expected U-Boot to stop at its prompt, got: $outcome"
		log_has "ERROR: RD image overlaps OS image \(OS=0x$(printf %x "$os_start")\.\.0x$(printf %x $((os_start + size)))\)" ||
			check_fail "U-Boot did not refuse with the overlap error"
		! log_has 'Starting kernel' || check_fail "U-Boot started the kernel"
	fi
	;;
esac

echo "--- key lines of the console log ($log) ---"
key_lines
echo "---"
echo "boot_test.sh $mode: OK (boot $boot_seconds s, whole test $(($(date +%s) - t_start)) s)"
