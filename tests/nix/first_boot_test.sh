#!/usr/bin/env bash
# first_boot_test.sh MKR2SIMG
#
# Tests nix/first-boot.sh, the NixOS module's first-boot step, on the
# image that test.nix's images.a builds through the Nix wrapper (as
# sd_image_test.sh does; Nix reuses that build), "written to a bigger
# card": a copy of the image extended by 1 GiB and attached to a loop
# device, its root partition mounted, then
#
#   r2s-first-boot --root MOUNTPOINT --system TOPLEVEL
#
# as the booted system runs it with --root /: r2s-first-boot is the
# module's own wrapper (boot.postBootCommands of sd-image.nix, built
# through module-stub.nix), run under the PATH it has on the device --
# stage 2's (coreutils, util-linux) -- with every package the module
# puts on its PATH standing for itself only: a folder of the binaries of
# the Debian package(s) that package corresponds to (PACKAGES below).  A
# tool the script calls that the module does not provide is "command not
# found" here as on the device (issue 9: sed was missing, so the backup
# GPT silently stayed in the middle of the card).  Checked afterwards: the
# backup GPT is at the card's end, partition 2 ends there with its start,
# type, unique GUID and name unchanged, partition 1 and the disk GUID
# untouched, both GPT checkers happy; the ext4 fills the partition and
# e2fsck finds it clean; the store was registered (Nix verifies every path
# against the loaded database, the system's closure is known), /etc/NIXOS
# and the system profile exist, /nix-path-registration is gone, and a
# second run does nothing.
#
# Environment limits, each reported, none a skip:
#  - no CAP_SYS_RESOURCE (containers, some VMs): the kernel refuses online
#    ext4 resizing, so resize2fs gets a stand-in that records its argument
#    and the test resizes offline after unmounting -- the same size change,
#    not the same code path;
#  - no usable loop devices / partition nodes / mount: only the
#    registration part runs (--no-grow) on the root tree extracted with
#    debugfs, and the GPT part on the image file.
# Exit 77 (skip) only when Nix is not installed.
set -euo pipefail

me=first_boot_test
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 MKR2SIMG" >&2; exit 2; }
exe=$(readlink -f "$1")
need_nix
for t in sfdisk sgdisk partx findmnt resize2fs e2fsck dumpe2fs debugfs losetup; do
	command -v "$t" >/dev/null || fail "needs $t (util-linux, fdisk, gdisk, e2fsprogs)"
done
start=$SECONDS
expr=$SRC/tests/nix/test.nix

stage_mkr2simg "$exe" "$W/mkr2simg"

# nixpkgs package (attribute) -> the Debian packages with its binaries
declare -A PACKAGES=(
	[coreutils]=coreutils
	[util-linux]="util-linux fdisk mount"
	[e2fsprogs]=e2fsprogs
	[gnused]=sed
	[nix]=nix-bin
)
pkgs=$W/pkgs
bin_dirs='{'
for p in "${!PACKAGES[@]}"; do
	mkdir -p "$pkgs/$p/bin"
	# shellcheck disable=SC2086 # a list of package names
	dpkg -L ${PACKAGES[$p]} | grep -E '/s?bin/[^/]+$' | while IFS= read -r f; do
		[ -x "$f" ] && [ ! -d "$f" ] && ln -sf "$f" "$pkgs/$p/bin/${f##*/}"
	done
	bin_dirs+=" \"$p\" = \"$pkgs/$p\";"
done
bin_dirs+=' }'
stage2_path=$pkgs/coreutils/bin:$pkgs/util-linux/bin
# The module's wrapper, built with those packages.
nb --argstr mkr2simgDir "$W/mkr2simg" --arg binDirs "$bin_dirs" \
	-o "$W/post-boot" "$SRC/tests/nix/module-stub.nix" -A postBootCommands >"$W/post-boot.out"
first_boot=$(grep -o '/nix/store/[a-z0-9]*-r2s-first-boot' "$(cat "$W/post-boot.out")" | head -n 1)
[ -x "$first_boot" ] || fail "no r2s-first-boot in the module's postBootCommands"
note "r2s-first-boot: $first_boot; stage 2 PATH: $stage2_path"
# first_boot ARGS...: the wrapper as stage 2 runs it
run_first_boot() { PATH=$stage2_path "$first_boot" "$@"; }

args=(--argstr mkr2simgDir "$W/mkr2simg" --arg zstd false)
nb "${args[@]}" -o "$W/result" "$expr" -A images.a -A toplevel >"$W/outs"
mapfile -t outs <"$W/outs"
[ "${#outs[@]}" -eq 2 ] || fail "expected 2 outputs from nix-build, got ${#outs[@]}"
img=${outs[0]}/sd-image/r2s-a.img toplevel=${outs[1]}
note "[$((SECONDS - start)) s] image $img"

card=$W/card.img
cp --sparse=always "$img" "$card"
chmod u+w "$card"
truncate -s +1G "$card"
card_sectors=$(($(stat -c %s "$card") / 512))
last_lba=$((card_sectors - 34))   # the backup GPT's 33 sectors follow

# part_field FILE N FIELD: a field of partition N from `sfdisk --json`
part_field() {
	jq -r --argjson n "$2" --arg f "$3" \
		'.partitiontable.partitions[$n - 1][$f] // ""' "$1"
}
sfdisk --json "$img" >"$W/before.json"
p2_start=$(part_field "$W/before.json" 2 start)
p2_size_before=$(part_field "$W/before.json" 2 size)

# check_table DISK: the GPT after growing (partition 2 up to the last
# usable sector, everything else as in the image)
check_table() {
	local disk=$1 f
	sfdisk --json "$disk" >"$W/after.json"
	sfdisk --verify "$disk" >"$W/verify.log" 2>&1 || { cat "$W/verify.log" >&2; fail "sfdisk --verify $disk"; }
	sgdisk -v "$disk" >"$W/sgdisk.log" 2>&1 || { cat "$W/sgdisk.log" >&2; fail "sgdisk -v $disk"; }
	grep -q '^No problems found' "$W/sgdisk.log" || { cat "$W/sgdisk.log" >&2; fail "sgdisk -v finds problems in $disk"; }
	[ "$(jq -r .partitiontable.id "$W/after.json")" = "$(jq -r .partitiontable.id "$W/before.json")" ] ||
		fail "the disk GUID changed"
	[ "$(jq -r .partitiontable.lastlba "$W/after.json")" -eq "$last_lba" ] ||
		fail "last usable LBA $(jq -r .partitiontable.lastlba "$W/after.json"), expected $last_lba: backup GPT not at the card's end"
	[ "$(jq -c '.partitiontable.partitions[0]' "$W/after.json" | sed 's/"node":"[^"]*"//')" = \
		"$(jq -c '.partitiontable.partitions[0]' "$W/before.json" | sed 's/"node":"[^"]*"//')" ] ||
		fail "partition 1 changed"
	for f in start type uuid name attrs; do
		[ "$(part_field "$W/after.json" 2 "$f")" = "$(part_field "$W/before.json" 2 "$f")" ] ||
			fail "partition 2: $f changed from '$(part_field "$W/before.json" 2 "$f")' to '$(part_field "$W/after.json" 2 "$f")'"
	done
	[ "$(part_field "$W/after.json" 2 size)" -eq $((last_lba + 1 - p2_start)) ] ||
		fail "partition 2 has $(part_field "$W/after.json" 2 size) sectors, expected $((last_lba + 1 - p2_start)) (to the card's end)"
	# the backup header really is in the card's last sector
	[ "$(dd if="$disk" bs=512 skip=$((card_sectors - 1)) count=1 status=none | head -c 8)" = "EFI PART" ] ||
		fail "no GPT header in the last sector of $disk"
}

# check_registered ROOT: what step 2 and 3 leave behind
check_registered() {
	local r=$1 store="local?root=$1"
	[ ! -e "$r/nix-path-registration" ] || fail "/nix-path-registration is still there"
	[ -f "$r/etc/NIXOS" ] || fail "no /etc/NIXOS"
	[ "$(readlink "$r/nix/var/nix/profiles/system")" = system-1-link ] ||
		fail "profile system -> $(readlink "$r/nix/var/nix/profiles/system"), expected system-1-link"
	[ "$(readlink "$r/nix/var/nix/profiles/system-1-link")" = "$toplevel" ] ||
		fail "profile system-1-link -> $(readlink "$r/nix/var/nix/profiles/system-1-link"), expected $toplevel"
	[ -f "$r/nix/var/nix/db/db.sqlite" ] || fail "no Nix database in the image's /nix/var/nix/db"
	nix-store --store "$store" -qR "$toplevel" | LC_ALL=C sort >"$W/registered.closure"
	nix-store -qR "$toplevel" | LC_ALL=C sort >"$W/host.closure"
	diff -u "$W/host.closure" "$W/registered.closure" >&2 || fail "the image's Nix knows a different closure of $toplevel"
	nix-store --store "$store" -q --hash "$toplevel" >"$W/h1"
	nix-store -q --hash "$toplevel" >"$W/h2"
	cmp -s "$W/h1" "$W/h2" || fail "NAR hash of $toplevel in the image's database differs from the host's"
	nix-store --store "$store" --verify --check-contents >"$W/verify.log" 2>&1 ||
		{ cat "$W/verify.log" >&2; fail "nix-store --verify --check-contents on the image's store"; }
	if sed 's/\x1b\[[0-9;]*m//g' "$W/verify.log" |
		grep -vxE 'reading the Nix store\.\.\.|checking path existence\.\.\.|checking link hashes\.\.\.|checking store hashes\.\.\.|checking hashes\.\.\.' >&2; then
		fail "nix-store --verify --check-contents reported problems on the image's store"
	fi
}

# ---- can we use a loop device? ---------------------------------------------------
loop=''
mnt=$W/mnt
mkdir -p "$mnt"
test_cleanup() {
	if mountpoint -q "$mnt"; then umount "$mnt"; fi
	if [ -n "$loop" ]; then
		partx -d "$loop" 2>/dev/null || true
		losetup -d "$loop"
	fi
}
if [ "$(id -u)" -eq 0 ] && loop=$(losetup -f --show -P "$card" 2>"$W/losetup.log"); then
	[ -b "${loop}p2" ] || partx -a "$loop" 2>/dev/null || true
	if [ ! -b "${loop}p2" ] || ! mount -t ext4 "${loop}p2" "$mnt" 2>"$W/mount.log"; then
		note "NOTE: cannot mount ${loop}p2 ($(cat "$W/mount.log" 2>/dev/null)); falling back to files"
		test_cleanup
		loop=''
	fi
else
	note "NOTE: no loop device ($(cat "$W/losetup.log" 2>/dev/null)); falling back to files"
	loop=''
fi

if [ -n "$loop" ]; then
	# ---- the real thing, on a block device -------------------------------------------
	mkdir -p "$W/bin"
	online=yes
	# CAP_SYS_RESOURCE is bit 24 of the effective capabilities.
	if (((16#$(awk '/^CapEff:/ { print $2 }' /proc/self/status) >> 24 & 1) == 0)); then
		online=no
		note "NOTE: no CAP_SYS_RESOURCE here, so the kernel refuses online ext4 resizing;" \
			"resize2fs is stubbed during first-boot.sh and run offline afterwards"
		# in the module's e2fsprogs, which comes first on the wrapper's PATH
		rm -f "$pkgs/e2fsprogs/bin/resize2fs"
		printf '#!/bin/sh\necho "$@" >> %q/resize2fs.calls\n' "$W" >"$pkgs/e2fsprogs/bin/resize2fs"
		chmod +x "$pkgs/e2fsprogs/bin/resize2fs"
	fi
	note "[$((SECONDS - start)) s] r2s-first-boot --root $mnt on $loop (card $((card_sectors / 2048)) MiB)"
	run_first_boot --root "$mnt" --system "$toplevel" 2>"$W/first-boot.log" ||
		{ cat "$W/first-boot.log" >&2; fail "first-boot.sh failed"; }
	cat "$W/first-boot.log" >&2
	grep -q 'could not grow' "$W/first-boot.log" && fail "first-boot.sh could not grow the root partition"
	grep -q 'command not found' "$W/first-boot.log" && fail "first-boot.sh calls a tool the module does not provide"
	check_table "$loop"
	part_bytes=$(((last_lba + 1 - p2_start) * 512))
	[ "$(blockdev --getsize64 "${loop}p2")" -eq "$part_bytes" ] ||
		fail "the kernel sees ${loop}p2 with $(blockdev --getsize64 "${loop}p2") bytes, expected $part_bytes (partx -u)"
	if [ "$online" = no ]; then
		[ "$(cat "$W/resize2fs.calls")" = "${loop}p2" ] ||
			fail "first-boot.sh ran resize2fs with '$(cat "$W/resize2fs.calls")', expected '${loop}p2'"
	fi
	check_registered "$mnt"

	# Later boots: nothing to do.
	before=$(sfdisk --dump "$loop" | sha256sum)
	run_first_boot --root "$mnt" --system "$toplevel" 2>"$W/second.log" || fail "second run failed"
	[ ! -s "$W/second.log" ] || { cat "$W/second.log" >&2; fail "the second run did something"; }
	[ "$(sfdisk --dump "$loop" | sha256sum)" = "$before" ] || fail "the second run changed the partition table"

	umount "$mnt"
	if [ "$online" = no ]; then
		# resize2fs wants a fresh check; -y repairs nothing on a clean
		# file system, and anything it does repair fails the test.
		e2fsck -fy "${loop}p2" >"$W/fsck.log" 2>&1 || { cat "$W/fsck.log" >&2; fail "e2fsck ${loop}p2 before resizing"; }
		resize2fs "${loop}p2" >"$W/resize.log" 2>&1 || { cat "$W/resize.log" >&2; fail "offline resize2fs ${loop}p2"; }
	fi
	e2fsck -fn "${loop}p2" >"$W/fsck.log" 2>&1 || { cat "$W/fsck.log" >&2; fail "e2fsck -fn ${loop}p2 after growing"; }
	bc=$(dumpe2fs -h "${loop}p2" 2>/dev/null | awk -F: '/^Block count:/ { print $2 + 0 }')
	bs=$(dumpe2fs -h "${loop}p2" 2>/dev/null | awk -F: '/^Block size:/ { print $2 + 0 }')
	[ $((bc * bs)) -gt $((part_bytes - bs)) ] ||
		fail "the file system has $((bc * bs)) bytes, the partition $part_bytes"
	note "NIXOS_SD: $((p2_size_before / 2048)) MiB -> $((bc * bs / 1048576)) MiB"
else
	# ---- fallback: the GPT part on the file, the rest on an extracted tree -------------------
	note "NOTE: growing on a block device, partx -u and resize2fs untested here"
	sfdisk --relocate gpt-bak-std "$card" >/dev/null 2>&1
	echo ', +' | sfdisk --no-reread --no-tell-kernel -N 2 "$card" >/dev/null 2>&1
	check_table "$card"
	dd if="$img" of="$W/p2.img" bs=512 skip="$p2_start" count="$p2_size_before" conv=sparse status=none
	mkdir -p "$W/tree"
	debugfs -R "rdump / $W/tree" "$W/p2.img" >/dev/null 2>&1
	rm -rf "$W/tree/lost+found"
	[ -f "$W/tree/nix-path-registration" ] || fail "could not extract the root file system"
	run_first_boot --root "$W/tree" --system "$toplevel" --no-grow 2>"$W/first-boot.log" ||
		{ cat "$W/first-boot.log" >&2; fail "first-boot.sh --no-grow failed"; }
	check_registered "$W/tree"
fi

note "OK [$((SECONDS - start)) s]"
