#!/usr/bin/env bash
# check_image.sh [OPTIONS] IMAGE
#
# Independent end-to-end check of a NanoPi R2S SD-card image made from a
# Nix closure, with stock tools only (sgdisk, sfdisk, jq, od, cmp, diff,
# e2fsck, dumpe2fs, debugfs).  Prints one "FAIL: ..." line per failed
# check and exits 1, or prints "image OK: ..." and exits 0.  Exit 2: bad
# usage or unusable inputs (the test itself is wrong).  Runs as root.
#
#   --store-root DIR       directory holding nix/store/... of the source
#                          (env STORE_ROOT; default /)
#   --closure FILE         store paths, one a line (env CLOSURE; required)
#   --toplevel PATH        (env TOPLEVEL) default: the one *-nixos-system-*
#                          path in the closure
#   --idbloader FILE       expected at sector 64
#   --uboot-itb FILE       expected at sector 16384
#   --uboot-rockchip FILE  combined image expected at sector 64
#                          (none of these: sectors 34-32767 must be zero)
#   --registration FILE    expected bytes of /nix-path-registration
#                          (default: the file must not exist)
#   --dedup yes|no         hardlinks for identical files (default yes)
#   --timeout SECONDS      extlinux menu timeout (default 1: TIMEOUT 10)
#   --dtb NAME|none        FDT under the dtbs (default
#                          rockchip/rk3328-nanopi-r2s.dtb); none: FDTDIR
#   --boot-size BYTES      also require partition 1 to be this big
#                          (K/M/G suffixes: powers of 1024)
#   --image-size BYTES     also require the image to be this big
#   --nix-verify           also load the registration into a scratch Nix
#                          store on the extracted root and run
#                          nix-store --verify --check-contents
#   --keep DIR             keep the work files (extracted trees, listings,
#                          tool output) in DIR, a new directory
#   --max-lines N          FAIL lines printed per check (default 40)
#   -q, --quiet            no progress messages on stderr
#
# Work files go to $TMPDIR, else /dev/shm when it has room for twice the
# image, else /tmp.  The partitions are read in place, not copied.
# Interpretations of the spec, where it is silent: every inode of both
# filesystems (not only /nix/store) has atime, mtime and ctime 1 (crtime is
# not checked) and owner 0:0; /boot file modes are not checked; /boot may
# have an empty /lost+found; symlinks have mode 0777; TIMEOUT for a
# negative --timeout is 0 (as NixOS's extlinux-conf-builder.sh writes).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }
bad_input() { echo "check_image: $*" >&2; exit 2; }

store_root=${STORE_ROOT:-/} closure=${CLOSURE:-} toplevel=${TOPLEVEL:-}
idbloader='' uboot_itb='' uboot_rockchip='' registration='' dedup=yes timeout=1
dtb=rockchip/rk3328-nanopi-r2s.dtb boot_size='' image_size='' nix_verify=no keep=''
max_lines=40 quiet=no
while [ $# -gt 0 ]; do
	case $1 in
	--store-root) store_root=$2; shift 2 ;;
	--closure) closure=$2; shift 2 ;;
	--toplevel) toplevel=$2; shift 2 ;;
	--idbloader) idbloader=$2; shift 2 ;;
	--uboot-itb) uboot_itb=$2; shift 2 ;;
	--uboot-rockchip) uboot_rockchip=$2; shift 2 ;;
	--registration) registration=$2; shift 2 ;;
	--dedup) dedup=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--dtb) dtb=$2; shift 2 ;;
	--boot-size) boot_size=$2; shift 2 ;;
	--image-size) image_size=$2; shift 2 ;;
	--nix-verify) nix_verify=yes; shift ;;
	--keep) keep=$2; shift 2 ;;
	--max-lines) max_lines=$2; shift 2 ;;
	-q | --quiet) quiet=yes; shift ;;
	-h | --help) usage ;;
	--) shift; break ;;
	-*) bad_input "unknown option $1 (see --help)" ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || usage
image=$1

# ---- inputs ----------------------------------------------------------------
for t in sgdisk sfdisk jq od cmp diff e2fsck dumpe2fs debugfs sha256sum numfmt; do
	command -v "$t" >/dev/null || bad_input "needs $t (e2fsprogs gdisk fdisk jq diffutils coreutils)"
done
[ "$(id -u)" -eq 0 ] || bad_input "must run as root (debugfs rdump sets owners; source modes may be unreadable)"
[ -f "$image" ] || bad_input "no image file $image"
root=${store_root%/}
[ -d "$root/nix/store" ] || bad_input "no nix/store under the store root '$store_root'"
[ -n "$closure" ] || bad_input "--closure is required"
[ -r "$closure" ] || bad_input "cannot read closure $closure"
case $dedup in yes | no) ;; *) bad_input "--dedup yes|no" ;; esac
[[ $timeout =~ ^-?[0-9]+$ ]] || bad_input "--timeout must be an integer"
[[ $max_lines =~ ^[0-9]+$ ]] || bad_input "--max-lines must be a number"
if [ -n "$uboot_rockchip" ] && { [ -n "$idbloader" ] || [ -n "$uboot_itb" ]; }; then
	bad_input "--uboot-rockchip excludes --idbloader and --uboot-itb"
fi
for f in "$idbloader" "$uboot_itb" "$uboot_rockchip" "$registration"; do
	[ -z "$f" ] || [ -r "$f" ] || bad_input "cannot read $f"
done
[ -z "$boot_size" ] || boot_size=$(numfmt --from=iec "$boot_size") || bad_input "bad --boot-size"
[ -z "$image_size" ] || image_size=$(numfmt --from=iec "$image_size") || bad_input "bad --image-size"
[ "$nix_verify" = no ] || [ -n "$registration" ] || bad_input "--nix-verify needs --registration"

if [ -n "$keep" ]; then
	[ ! -e "$keep" ] || bad_input "--keep $keep already exists"
	mkdir -p "$keep"
	W=$(cd "$keep" && pwd)
else
	base=${TMPDIR:-}
	if [ -z "$base" ]; then
		base=/tmp
		if [ -d /dev/shm ] && [ -w /dev/shm ] &&
			[ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -gt $(($(stat -c %s "$image") / 512)) ]; then
			base=/dev/shm
		fi
	fi
	W=$(mktemp -d "$base/check_image.XXXXXX")
	trap 'chmod -R u+rwX "$W" 2>/dev/null; rm -rf "$W"' EXIT
fi

failures=0
start=$SECONDS
note() { [ "$quiet" = yes ] || echo "check_image: [$((SECONDS - start)) s] $*" >&2; }
fail() { printf 'FAIL: %s\n' "$*"; failures=$((failures + 1)); }
# fail_file FILE PREFIX: one FAIL line per line of FILE, at most max_lines
fail_file() {
	local n
	n=$(grep -c '' "$1" || true)
	[ "$n" -gt 0 ] || return 0
	head -n "$max_lines" "$1" | awk -v p="$2" '{ print "FAIL: " p $0 }'
	[ "$n" -le "$max_lines" ] || echo "FAIL: $2... and $((n - max_lines)) more"
	failures=$((failures + n))
}
finish() {
	if [ "$failures" -eq 0 ]; then
		echo "image OK: $image ($summary; $((SECONDS - start)) s)"
		exit 0
	fi
	echo "image NOT OK: $image: $failures failed check(s)"
	exit 1
}
# fatal: a failure after which nothing else can be checked
fatal() { fail "$*"; finish; }
summary=''

read_closure "$closure" >"$W/closure"
[ -s "$W/closure" ] || bad_input "closure $closure is empty"
while IFS= read -r p; do
	[[ $p =~ $STORE_PATH_RE ]] || bad_input "closure: not a store path: $p"
	[ -e "$root$p" ] || [ -L "$root$p" ] || bad_input "closure path missing from the store root: $root$p"
done <"$W/closure"
if [ -z "$toplevel" ]; then
	toplevel=$(grep -- '-nixos-system-' "$W/closure" || true)
	[ "$(printf '%s' "$toplevel" | grep -c '')" -eq 1 ] ||
		bad_input "need --toplevel: the closure has not exactly one *-nixos-system-* path"
fi
grep -qxF -- "$toplevel" "$W/closure" || bad_input "toplevel $toplevel is not in the closure"
# file names or symlink targets with a newline would break the listings
while IFS= read -r p; do
	if [ -n "$(find "$root$p" \( -name $'*\n*' -o -lname $'*\n*' \) -print -quit)" ]; then
		bad_input "unsupported: a file name or symlink target with a newline under $p"
	fi
done <"$W/closure"

# ---- expected /boot, from the source -------------------------------------------
kernel=$(store_resolve "$root" "$toplevel/kernel") || bad_input "cannot resolve $toplevel/kernel in $store_root"
initrd=$(store_resolve "$root" "$toplevel/initrd") || bad_input "cannot resolve $toplevel/initrd in $store_root"
[ -f "$root$kernel" ] || bad_input "$toplevel/kernel is not a regular file"
[ -f "$root$initrd" ] || bad_input "$toplevel/initrd is not a regular file"
dtbs=''
if [ -e "$root$toplevel/dtbs" ] || [ -L "$root$toplevel/dtbs" ]; then
	dtbs=$(store_resolve "$root" "$toplevel/dtbs") || bad_input "cannot resolve $toplevel/dtbs"
	[ -d "$root$dtbs" ] || bad_input "$toplevel/dtbs is not a directory"
fi
kp=$(store_resolve "$root" "$toplevel/kernel-params") || bad_input "no $toplevel/kernel-params"
params=$(cat "$root$kp")
kernel_name=$(clean_name "$kernel")
initrd_name=$(clean_name "$initrd")
dtbs_name=''
[ -z "$dtbs" ] || dtbs_name=$(clean_name "$dtbs")
extlinux_conf "$toplevel" "$kernel_name" "$initrd_name" "$dtbs_name" "$timeout" "$dtb" "$params" >"$W/extlinux.conf.expected"
if [ -n "$dtbs" ] && [ "$dtb" != none ] && [ ! -f "$root$dtbs/$dtb" ]; then
	fail "extlinux: the FDT $dtb named in extlinux.conf is not a file in $dtbs"
fi

# ---- the whole image -------------------------------------------------------------
note "partition table"
bytes=$(stat -c %s "$image")
[ $((bytes % 512)) -eq 0 ] || fatal "image size $bytes is not a whole number of 512-byte sectors"
total=$((bytes / 512))
[ "$total" -ge 65536 ] || fatal "image is only $bytes bytes, too small to hold the layout"
[ $((bytes % 4194304)) -eq 0 ] || fail "image size $bytes is not a multiple of 4 MiB"
[ -z "$image_size" ] || [ "$bytes" -eq "$image_size" ] || fail "image size $bytes, expected $image_size"

# protective MBR
read -r -a mbr <<<"$(od -An -v -tx1 -j446 -N66 "$image" | tr -s ' \n' '  ')"
le32() { echo $((16#$4$3$2$1)); }
[ "${mbr[64]}${mbr[65]}" = 55aa ] || fail "MBR: no 55 AA boot signature at bytes 510-511"
[ "${mbr[4]}" = ee ] || fail "MBR: partition 1 type is 0x${mbr[4]}, expected 0xee (protective)"
mbr_start=$(le32 "${mbr[@]:8:4}")
mbr_size=$(le32 "${mbr[@]:12:4}")
want=$((total - 1)); [ "$want" -le 4294967295 ] || want=4294967295
[ "$mbr_start" -eq 1 ] || fail "MBR: protective partition starts at LBA $mbr_start, expected 1"
[ "$mbr_size" -eq "$want" ] || fail "MBR: protective partition has $mbr_size sectors, expected $want"
[ "$(printf '%s' "${mbr[@]:16:48}" | tr -d 0)" = '' ] || fail "MBR: partition entries 2-4 are not empty"

# GPT headers: primary in LBA 1 (entries in 2-33), backup in the last sector
# (entries in the 32 sectors before it)
u64() { od -An -v -tu8 --endian=little -j "$1" -N8 "$image" | tr -d ' '; }
u32() { od -An -v -tu4 --endian=little -j "$1" -N4 "$image" | tr -d ' '; }
check_gpt_header() { # NAME LBA MY ALT ENTRIES
	local o=$(($2 * 512)) v
	[ "$(dd if="$image" bs=8 count=1 iflag=skip_bytes skip="$o" status=none | tr -d '\000')" = 'EFI PART' ] ||
		{ fail "GPT: no $1 header (signature 'EFI PART') in LBA $2"; return 0; }
	v=$(u32 $((o + 12))); [ "$v" -eq 92 ] || fail "GPT: $1 header size $v, expected 92"
	v=$(u64 $((o + 24))); [ "$v" -eq "$3" ] || fail "GPT: $1 header's own LBA $v, expected $3"
	v=$(u64 $((o + 32))); [ "$v" -eq "$4" ] || fail "GPT: $1 header's alternate LBA $v, expected $4"
	v=$(u64 $((o + 40))); [ "$v" -eq 34 ] || fail "GPT: $1 header's first usable LBA $v, expected 34"
	v=$(u64 $((o + 48))); [ "$v" -eq $((total - 34)) ] || fail "GPT: $1 header's last usable LBA $v, expected $((total - 34))"
	v=$(u64 $((o + 72))); [ "$v" -eq "$5" ] || fail "GPT: $1 header's entries LBA $v, expected $5"
	v=$(u32 $((o + 80))); [ "$v" -eq 128 ] || fail "GPT: $1 header has $v entries, expected 128"
	v=$(u32 $((o + 84))); [ "$v" -eq 128 ] || fail "GPT: $1 header's entry size $v, expected 128"
}
check_gpt_header primary 1 1 $((total - 1)) 2
check_gpt_header backup $((total - 1)) $((total - 1)) 1 $((total - 33))

sgdisk -v "$image" >"$W/sgdisk.out" 2>&1 || true
if ! grep -q 'No problems found' "$W/sgdisk.out"; then
	grep -v '^[[:space:]]*$' "$W/sgdisk.out" >"$W/sgdisk.problems" || true
	fail "sgdisk -v did not say 'No problems found'"
	fail_file "$W/sgdisk.problems" "sgdisk -v: "
fi

sfdisk --json "$image" >"$W/sfdisk.json" 2>"$W/sfdisk.err" || fatal "sfdisk --json cannot read the table: $(head -n1 "$W/sfdisk.err")"
jqr() { jq -r "$1" "$W/sfdisk.json"; }
[ "$(jqr .partitiontable.label)" = gpt ] || fatal "partition table label is '$(jqr .partitiontable.label)', expected gpt"
nparts=$(jqr '.partitiontable.partitions | length')
[ "$nparts" -eq 2 ] || fail "$nparts partitions, expected 2"
[ "$nparts" -ge 2 ] || fatal "cannot go on without two partitions"
[ "$(jqr .partitiontable.firstlba)" -eq 34 ] || fail "sfdisk: first usable LBA $(jqr .partitiontable.firstlba), expected 34"
[ "$(jqr .partitiontable.lastlba)" -eq $((total - 34)) ] || fail "sfdisk: last usable LBA $(jqr .partitiontable.lastlba), expected $((total - 34))"
part() { jqr ".partitiontable.partitions[$1].$2 // \"\""; }
p1_start=$(part 0 start) p1_size=$(part 0 size) p2_start=$(part 1 start) p2_size=$(part 1 size)
[ "$p1_start" -eq 32768 ] || fail "partition 1 starts at sector $p1_start, expected 32768"
[ "$(part 0 type | tr a-f A-F)" = 0FC63DAF-8483-4772-8E79-3D69D8477DE4 ] ||
	fail "partition 1 type $(part 0 type), expected 0FC63DAF-8483-4772-8E79-3D69D8477DE4 (Linux filesystem)"
[ "$(part 0 name)" = NIXOS_BOOT ] || fail "partition 1 name '$(part 0 name)', expected NIXOS_BOOT"
[[ " $(part 0 attrs) " == *' LegacyBIOSBootable '* ]] ||
	fail "partition 1 attributes '$(part 0 attrs)': bit 2 (LegacyBIOSBootable) not set"
[ -z "$boot_size" ] || [ $((p1_size * 512)) -eq "$boot_size" ] ||
	fail "partition 1 is $((p1_size * 512)) bytes, expected $boot_size"
want=$(( (p1_start + p1_size + 8191) / 8192 * 8192 ))
[ "$p2_start" -eq "$want" ] ||
	fail "partition 2 starts at sector $p2_start, expected $want (the first 4 MiB boundary after partition 1)"
[ $((p2_start + p2_size - 1)) -eq $((total - 34)) ] ||
	fail "partition 2 ends at sector $((p2_start + p2_size - 1)), expected the last usable LBA $((total - 34))"
[ "$(part 1 type | tr a-f A-F)" = B921B045-1DF0-41C3-AF44-4C6F280D3FAE ] ||
	fail "partition 2 type $(part 1 type), expected B921B045-1DF0-41C3-AF44-4C6F280D3FAE"
[ "$(part 1 name)" = NIXOS_SD ] || fail "partition 2 name '$(part 1 name)', expected NIXOS_SD"
if [ "$p1_start" -lt 34 ] || [ $((p1_start + p1_size)) -gt "$p2_start" ] || [ $((p2_start + p2_size)) -gt $((total - 33)) ]; then
	fatal "partitions overlap each other or the GPT; cannot check their contents"
fi

# ---- bootloader area: sectors 34-32767 -------------------------------------------
note "bootloader area"
area_start=34 area_end=32768
truncate -s $(((area_end - area_start) * 512)) "$W/loader.expected"
place() { # FILE SECTOR LIMIT_SECTOR NAME
	local size
	size=$(stat -c %s "$1")
	if [ $(($2 * 512 + size)) -gt $(($3 * 512)) ]; then
		bad_input "$4 ($size bytes) does not fit between sector $2 and $3"
	fi
	dd if="$1" of="$W/loader.expected" bs=512 seek=$(($2 - area_start)) conv=notrunc status=none
}
[ -z "$idbloader" ] || place "$idbloader" 64 16384 idbloader
[ -z "$uboot_itb" ] || place "$uboot_itb" 16384 32768 u-boot.itb
[ -z "$uboot_rockchip" ] || place "$uboot_rockchip" 64 32768 u-boot-rockchip.bin
dd if="$image" of="$W/loader.actual" bs=512 skip=$area_start count=$((area_end - area_start)) status=none
if ! cmp -s "$W/loader.expected" "$W/loader.actual"; then
	first=$(cmp "$W/loader.expected" "$W/loader.actual" 2>/dev/null | sed -n 's/.* byte \([0-9]*\),.*/\1/p' || true)
	ndiff=$(cmp -l "$W/loader.expected" "$W/loader.actual" 2>/dev/null | wc -l || true)
	at=$((area_start * 512 + first - 1))
	where="outside the bootloader files, where it must be zero"
	inside() { # FILE SECTOR NAME
		[ -n "$1" ] || return 1
		local s=$(($2 * 512)) n
		n=$(stat -c %s "$1")
		[ "$at" -ge "$s" ] && [ "$at" -lt $((s + n)) ] && where="in $3 at offset $((at - s))"
	}
	inside "$idbloader" 64 idbloader.img || inside "$uboot_itb" 16384 u-boot.itb ||
		inside "$uboot_rockchip" 64 u-boot-rockchip.bin || true
	fail "bootloader area (sectors 34-32767): $ndiff byte(s) differ, first at image byte $at (sector $((at / 512))) $where"
fi

# ---- the two filesystems ------------------------------------------------------------
# The filesystems are read in place: e2fsprogs open "FILE?offset=BYTES".
# A symlink with a plain name keeps a "?" in the image's own path harmless.
ln -s "$(cd "$(dirname "$image")" && pwd)/$(basename "$image")" "$W/image"
dev() { echo "$W/image?offset=$(($1 * 512))"; }
# check_fs NAME LABEL START_SECTOR SECTORS: e2fsck, superblock, features;
# returns 1 if the filesystem cannot be read at all
check_fs() {
	local name=$1 label=$2 d part_bytes=$(($4 * 512)) rc=0 v feats f
	d=$(dev "$3")
	e2fsck -fn "$d" >"$W/$name.e2fsck" 2>&1 || rc=$?
	grep -v -e '^e2fsck [0-9]' -e '^Pass [1-5]: ' -e '^[^ ]*: [0-9]*/[0-9]* files ([0-9.]*% non-contiguous), [0-9]*/[0-9]* blocks$' \
		-e '^[[:space:]]*$' "$W/$name.e2fsck" >"$W/$name.e2fsck.bad" || true
	if [ "$rc" -ne 0 ] || [ -s "$W/$name.e2fsck.bad" ]; then
		fail "$label: e2fsck -fn exit $rc"
		fail_file "$W/$name.e2fsck.bad" "$label: e2fsck: "
	fi
	if ! dumpe2fs -h "$d" >"$W/$name.dumpe2fs" 2>/dev/null; then
		fail "$label: dumpe2fs -h cannot read the superblock"
		return 1
	fi
	sb() { sed -n "s/^$1:[[:space:]]*//p" "$W/$name.dumpe2fs" | head -n1; }
	v=$(sb 'Filesystem volume name'); [ "$v" = "$label" ] || fail "$label: volume label '$v', expected $label"
	v=$(sb 'Block size'); [ "$v" = 4096 ] || fail "$label: block size $v, expected 4096"
	v=$(sb 'Inode size'); [ "$v" = 256 ] || fail "$label: inode size $v, expected 256"
	v=$(sb 'Filesystem state'); [ "$v" = clean ] || fail "$label: filesystem state '$v', expected clean"
	v=$(sb 'Block count')
	# e2fsck cannot see where the partition ends: the superblock must not overrun it
	if [ $((v * 4096)) -gt "$part_bytes" ]; then
		fail "$label: filesystem of $((v * 4096)) bytes overruns its $part_bytes-byte partition"
		return 1
	fi
	feats=" $(sb 'Filesystem features') "
	for f in has_journal extent 64bit flex_bg dir_index metadata_csum; do
		[[ $feats == *" $f "* ]] || fail "$label: feature $f missing (features:$feats)"
	done
	for f in inline_data needs_recovery; do
		[[ $feats != *" $f "* ]] || fail "$label: feature $f must not be set"
	done
	return 0
}
# stat_tree NAME START_SECTOR: rdump the filesystem to $W/NAME.tree, list
# its entries in $W/NAME.paths ("/" for the root, then "/nix/..."), and
# write $W/NAME.stat: per path 11 tab-separated fields
#   ino type mode uid gid links size ctime atime mtime crtime
# then the path.  Inode numbers come from one `ls -p` per directory and the
# inodes from one `stat <ino>` per distinct inode (debugfs looks names up
# by scanning directories, so stat PATH is quadratic in directory size).
stat_tree() {
	local name=$1 d
	d=$(dev "$2")
	mkdir "$W/$name.tree"
	debugfs -R "rdump / $W/$name.tree" "$d" >"$W/$name.rdump" 2>&1 || true
	if [ -n "$(grep -v '^debugfs [0-9]' "$W/$name.rdump" || true)" ]; then
		fail "$name: debugfs rdump: $(grep -v '^debugfs [0-9]' "$W/$name.rdump" | head -n1)"
	fi
	if [ -n "$(find "$W/$name.tree" \( -name $'*\n*' -o -lname $'*\n*' \) -print -quit)" ]; then
		fatal "$name: a file name or symlink target with a newline in the image"
	fi
	{ echo /; (cd "$W/$name.tree" && find . -mindepth 1 | cut -c2-); } >"$W/$name.paths"
	{ echo /; (cd "$W/$name.tree" && find . -mindepth 1 -type d | cut -c2-); } >"$W/$name.dirs"
	sed 's/"/""/g; s/^/ls -p "/; s/$/"/' "$W/$name.dirs" >"$W/$name.ls.cmds"
	DEBUGFS_PAGER=__none__ PAGER=__none__ debugfs -f "$W/$name.ls.cmds" "$d" 2>/dev/null |
		awk -v dirs="$W/$name.dirs" '
		BEGIN { while ((getline l <dirs) > 0) dir[++nd] = (l == "/") ? "" : l; print "2\t/" }
		/^debugfs: / { i++; next }
		/^\/[0-9]+\/[0-7]+\/[0-9]+\/[0-9]+\/.*\/[0-9]*\/$/ {
			e = substr($0, 2); ino = e; sub(/\/.*/, "", ino)
			for (k = 0; k < 4; k++) sub(/^[^\/]*\//, "", e)
			sub(/\/[0-9]*\/$/, "", e)
			if (e != "." && e != "..") print ino "\t" dir[i] "/" e }' >"$W/$name.inos"
	cut -f1 "$W/$name.inos" | LC_ALL=C sort -un | awk '{ print "stat <" $1 ">" }' >"$W/$name.stat.cmds"
	DEBUGFS_PAGER=__none__ PAGER=__none__ debugfs -f "$W/$name.stat.cmds" "$d" 2>/dev/null |
		awk -v OFS='\t' '
		function val(k,   i, s) { i = index($0, k ":"); if (!i) return "?"
			s = substr($0, i + length(k) + 1); sub(/^ +/, "", s); sub(/ .*/, "", s); return s }
		function emit() { if (ino != "") print ino, type, mode, uid, gid, links, size, ct, at, mt, cr }
		/^debugfs: / { emit(); ino = ""; type = mode = uid = gid = links = size = ct = at = mt = cr = "?"; next }
		/^Inode: / { ino = val("Inode"); mode = val("Mode"); t = $0
			sub(/.*Type: +/, "", t); sub(/ +Mode:.*/, "", t); gsub(/ /, "_", t); type = t; next }
		/^User: / { uid = val("User"); gid = val("Group"); size = val("Size"); next }
		/^Links: / { links = val("Links"); next }
		/^ ctime: / { ct = $2; next }
		/^ atime: / { at = $2; next }
		/^ mtime: / { mt = $2; next }
		/^crtime: / { cr = $2; next }
		END { emit() }' >"$W/$name.records"
	# path -> record, in the order of $W/NAME.paths
	awk -v recs="$W/$name.records" -v inos="$W/$name.inos" '
		BEGIN { while ((getline l <recs) > 0) { k = l; sub(/\t.*/, "", k); rec[k] = l }
			while ((getline l <inos) > 0) { k = l; sub(/\t.*/, "", k); p = substr(l, length(k) + 2); ino[p] = k } }
		{ if (($0 in ino) && (ino[$0] in rec)) print rec[ino[$0]] "\t" $0
		  else print "MISSING\t?\t?\t?\t?\t?\t?\t?\t?\t?\t?\t" $0 }' "$W/$name.paths" >"$W/$name.stat"
}
# compare_meta NAME EXPECTED LABEL: EXPECTED has lines "type mode uid gid path"
# (tab-separated; mode "-" = any).  Checks the entry sets are equal and
# type, mode, owner and the three timestamps (= 1) of every common entry.
compare_meta() {
	local name=$1 exp=$2 label=$3
	cut -f5- "$exp" | LC_ALL=C sort >"$W/$name.exp.paths"
	LC_ALL=C sort "$W/$name.paths" >"$W/$name.img.paths"
	LC_ALL=C comm -23 "$W/$name.exp.paths" "$W/$name.img.paths" >"$W/$name.missing"
	LC_ALL=C comm -13 "$W/$name.exp.paths" "$W/$name.img.paths" >"$W/$name.extra"
	fail_file "$W/$name.missing" "$label: missing from the image: "
	fail_file "$W/$name.extra" "$label: not expected in the image: "
	awk -F '\t' '
		function rest(k,   s, i) { s = $0; for (i = 0; i < k; i++) sub(/^[^\t]*\t/, "", s); return s }
		function nm(m) { m = m ""; sub(/^0+/, "", m); return "o" m }   # octal text, compared as text
		FNR == NR { p = rest(4); et[p] = $1; em[p] = $2; eu[p] = $3; eg[p] = $4; next }
		{ p = rest(11)
		  if (!(p in et)) next
		  if ($1 == "MISSING") { print p ": debugfs cannot stat it"; next }
		  if ($2 != et[p]) print p ": type " $2 ", expected " et[p]
		  if (em[p] != "-" && nm($3) != nm(em[p])) print p ": mode " $3 ", expected " em[p]
		  if ($4 "" != eu[p] "" || $5 "" != eg[p] "") print p ": owner " $4 ":" $5 ", expected " eu[p] ":" eg[p]
		  if ($8 != "0x00000001:00000000") print p ": ctime " $8 ", expected 0x00000001:00000000"
		  if ($9 != "0x00000001:00000000") print p ": atime " $9 ", expected 0x00000001:00000000"
		  if ($10 != "0x00000001:00000000") print p ": mtime " $10 ", expected 0x00000001:00000000"
		}' "$exp" "$W/$name.stat" >"$W/$name.metabad"
	fail_file "$W/$name.metabad" "$label: "
}
# source_listing STORE_PATH_IN_SOURCE PREFIX: "type mode path" lines for a
# source tree, with canonical modes; PREFIX replaces its root in the paths
source_listing() {
	find "$1" -printf '%y\t%m\t%P\n' | awk -F '\t' -v OFS='\t' -v pre="$2" '
		function oct(s,   n, i) { n = 0; for (i = 1; i <= length(s); i++) n = n * 8 + substr(s, i, 1); return n }
		{ p = $0; sub(/^[^\t]*\t[^\t]*\t/, "", p); p = (p == "") ? pre : pre "/" p
		  m = oct($2)
		  if ($1 == "f") print "regular", (int(m / 64) % 2 || int(m / 8) % 2 || m % 2) ? "0555" : "0444", p
		  else if ($1 == "d") print "directory", "0555", p
		  else if ($1 == "l") print "symlink", "0777", p
		  else print "unsupported-" $1, "-", p }'
}

# diff_messages SRC_PREFIX IMG_PREFIX [SHOWN_PREFIX] < `diff -rq` output:
# one message per line, naming the path inside the image
diff_messages() {
	awk -v s="$1" -v d="$2" -v show="${3-}" '
		function name(x) { return show (substr(x, 1, length(d)) == d ? substr(x, length(d) + 1) : x) }
		/^Files / && / differ$/ { i = index($0, " and " d); if (i) { print name(substr($0, i + 5, length($0) - i - 11)) ": bytes differ"; next } }
		/^Symbolic links / && / differ$/ { i = index($0, " and " d); if (i) { print name(substr($0, i + 5, length($0) - i - 11)) ": symlink target differs"; next } }
		/^File / && / while file / { i = index($0, " while file " d); j = index($0, " is a ")
			if (i && j) { t = substr($0, j + 6, i - j - 6); r = substr($0, i + 12); k = index(r, " is a ")
				print name(substr(r, 1, k - 1)) ": " substr(r, k + 6) " in the image, " t " in the source"; next } }
		{ print "diff: " $0 }'
}

# ---- partition 1: /boot ---------------------------------------------------------------
note "partition 1 (NIXOS_BOOT)"
if check_fs boot NIXOS_BOOT "$p1_start" "$p1_size"; then
	stat_tree boot "$p1_start"
	{
		printf 'directory\t-\t/\n'
		# the spec does not name /lost+found on /boot: allowed, not required
		if [ -e "$W/boot.tree/lost+found" ]; then printf 'directory\t-\t/lost+found\n'; fi
		printf 'directory\t-\t/extlinux\n'
		printf 'regular\t-\t/extlinux/extlinux.conf\n'
		printf 'directory\t-\t/nixos\n'
		printf 'regular\t-\t/nixos/%s\n' "$kernel_name" "$initrd_name"
		[ -z "$dtbs" ] || source_listing "$root$dtbs" "/nixos/$dtbs_name" | awk -F '\t' -v OFS='\t' '{ $2 = "-"; print }'
	} | awk -F '\t' -v OFS='\t' '{ p = $0; sub(/^[^\t]*\t[^\t]*\t/, "", p); print $1, $2, 0, 0, p }' >"$W/boot.expected"
	compare_meta boot "$W/boot.expected" NIXOS_BOOT
	B=$W/boot.tree
	if [ -d "$B/lost+found" ] && [ -n "$(ls -A "$B/lost+found")" ]; then fail "NIXOS_BOOT: /lost+found is not empty"; fi
	if [ -f "$B/extlinux/extlinux.conf" ] && ! cmp -s "$W/extlinux.conf.expected" "$B/extlinux/extlinux.conf"; then
		diff "$W/extlinux.conf.expected" "$B/extlinux/extlinux.conf" | grep '^[<>]' |
			sed 's/^</expected:/; s/^>/image:   /' >"$W/extlinux.diff" || true
		[ -s "$W/extlinux.diff" ] || echo "differs only in line endings or the final newline" >"$W/extlinux.diff"
		fail_file "$W/extlinux.diff" "NIXOS_BOOT: extlinux/extlinux.conf: "
	fi
	for pair in "$kernel:$kernel_name" "$initrd:$initrd_name"; do
		src=${pair%%:*} dst=${pair#*:}
		if [ -f "$B/nixos/$dst" ] && ! cmp -s "$root$src" "$B/nixos/$dst"; then
			fail "NIXOS_BOOT: /nixos/$dst: bytes differ from $src"
		fi
	done
	if [ -n "$dtbs" ] && [ -d "$B/nixos/$dtbs_name" ]; then
		diff -rq --no-dereference "$root$dtbs" "$B/nixos/$dtbs_name" 2>&1 | grep -v '^Only in ' >"$W/boot.diff" || true
		diff_messages "$root$dtbs" "$B/nixos/$dtbs_name" "/nixos/$dtbs_name" <"$W/boot.diff" >"$W/boot.diff2"
		fail_file "$W/boot.diff2" "NIXOS_BOOT: "
	fi
fi

# ---- partition 2: / ---------------------------------------------------------------------
note "partition 2 (NIXOS_SD)"
if check_fs root NIXOS_SD "$p2_start" "$p2_size"; then
	note "NIXOS_SD: extracting and stat-ing every entry"
	stat_tree root "$p2_start"
	note "NIXOS_SD: comparing with the closure"
	{
		printf 'directory\t0755\t/\n'
		printf 'directory\t-\t/lost+found\n'
		printf 'directory\t0755\t/boot\n'
		printf 'directory\t0755\t/nix\n'
		printf 'directory\t1775\t/nix/store\n'
		[ -z "$registration" ] || printf 'regular\t-\t/nix-path-registration\n'
		while IFS= read -r p; do source_listing "$root$p" "$p"; done <"$W/closure"
	} | awk -F '\t' -v OFS='\t' '{ p = $0; sub(/^[^\t]*\t[^\t]*\t/, "", p)
		print $1, $2, 0, (p == "/nix/store") ? 30000 : 0, p }' >"$W/root.expected"
	grep '^unsupported-' "$W/root.expected" | cut -f1,5 >"$W/root.unsupported" || true
	[ ! -s "$W/root.unsupported" ] || bad_input "source has file types Nix does not allow: $(head -n1 "$W/root.unsupported")"
	compare_meta root "$W/root.expected" NIXOS_SD
	R=$W/root.tree
	if [ -d "$R/lost+found" ] && [ -n "$(ls -A "$R/lost+found")" ]; then fail "NIXOS_SD: /lost+found is not empty"; fi
	if [ -d "$R/boot" ] && [ -n "$(ls -A "$R/boot")" ]; then fail "NIXOS_SD: /boot is not empty"; fi

	# bytes of files, symlink targets, types: diff per store path
	: >"$W/root.diff"
	while IFS= read -r p; do
		if [ -e "$R$p" ] || [ -L "$R$p" ]; then
			diff -rq --no-dereference "$root$p" "$R$p" 2>&1 | grep -v '^Only in ' >>"$W/root.diff" || true
		fi
	done <"$W/closure"
	diff_messages "$root" "$R" <"$W/root.diff" >"$W/root.diff2"
	fail_file "$W/root.diff2" "NIXOS_SD: "
	if [ -n "$registration" ] && [ -f "$R/nix-path-registration" ] &&
		! cmp -s "$registration" "$R/nix-path-registration"; then
		fail "NIXOS_SD: /nix-path-registration: bytes differ from $registration"
	fi

	# hardlinks: groups of non-empty regular files with equal bytes and exec bit
	note "NIXOS_SD: hardlink groups"
	awk -F '\t' -v r="$root" '$1 == "regular" && $5 ~ /^\/nix\/store\// { printf "%s%s%c", r, $5, 0 }' \
		"$W/root.expected" | xargs -0 -r sha256sum -z | tr '\0' '\n' >"$W/root.sums"
	awk -v dedup="$dedup" -v rl="${#root}" -v f1="$W/root.sums" -v f2="$W/root.expected" -v gf="$W/root.groups" '
		function rest(s, k,   i) { for (i = 0; i < k; i++) sub(/^[^\t]*\t/, "", s); return s }
		FILENAME == f1 { h[substr($0, 67 + rl)] = substr($0, 1, 64); next }
		FILENAME == f2 { split($0, f, "\t"); if (f[1] != "regular") next
			p = rest($0, 4)
			# key: bytes and exec bit; empty files and --dedup no: the file alone
			if (!(p in h) || dedup == "no" || h[p] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") k = "single:" p
			else k = h[p] (f[2] == "0555" ? "x" : "-")
			key[p] = k; n[k]++
			if (n[k] <= 3) members[k] = members[k] " " p; else if (n[k] == 4) members[k] = members[k] " ..."
			next }
		{ split($0, f, "\t"); p = rest($0, 11)
		  if (!(p in key) || f[1] == "MISSING" || f[2] != "regular") next
		  k = key[p]; i = f[1]
		  if (!(k in kino)) kino[k] = i
		  else if (kino[k] != i && !(k in r1)) { r1[k] = 1
			print "files with the same bytes and exec bit are not one inode:" members[k] }
		  if (!(i in owner)) { owner[i] = k; firstp[i] = p }
		  else if (owner[i] != k && !(i in r2)) { r2[i] = 1
			print "inode " i " is shared by files that must be separate: " firstp[i] " and " p }
		  if (f[6] != n[k] && !(k in r3)) { r3[k] = 1
			print p ": link count " f[6] ", expected " n[k] (n[k] > 1 ? " (its group:" members[k] ")" : "") } }
		END { for (k in n) if (n[k] > 1) g++; print g + 0 >gf }' \
		"$W/root.sums" "$W/root.expected" "$W/root.stat" | LC_ALL=C sort >"$W/root.links"
	if [ -n "$registration" ]; then
		awk -F '\t' '$0 ~ /\t\/nix-path-registration$/ && $6 != 1 { print "/nix-path-registration: link count " $6 ", expected 1" }' \
			"$W/root.stat" >>"$W/root.links"
	fi
	fail_file "$W/root.links" "NIXOS_SD: hardlinks: "
	groups=$(cat "$W/root.groups")
	entries=$(wc -l <"$W/root.paths")
	summary="$((bytes / 1048576)) MiB, $(wc -l <"$W/closure") store paths, $entries root entries, $groups dedup groups"

	if [ "$nix_verify" = yes ]; then
		note "NIXOS_SD: nix-store --verify --check-contents"
		if ! "$here/nix_verify.sh" "$R" "$registration" >"$W/nix_verify.out" 2>&1; then
			fail_file "$W/nix_verify.out" "NIXOS_SD: nix verify: "
		fi
	fi
fi
[ -n "$summary" ] || summary="$((bytes / 1048576)) MiB"
finish
