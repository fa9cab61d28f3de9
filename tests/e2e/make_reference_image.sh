#!/usr/bin/env bash
# make_reference_image.sh [OPTIONS] CLOSURE OUTPUT
#
# Builds an R2S SD-card image the classic way, with stock tools (sgdisk,
# mke2fs -d, debugfs -w, dd) from a canonicalised staging copy of the
# closure.  It exists to prove tests/e2e/check_image.sh and as a baseline
# for benchmarks; it is not mkr2simg.  Needs root (chown in the staging
# copy).  Options follow mkr2simg's:
#
#   --store-root DIR      directory holding nix/store/... (default /)
#   --toplevel PATH       default: the one *-nixos-system-* closure path
#   --registration FILE   copied to /nix-path-registration
#   --idbloader FILE      written at sector 64
#   --uboot-itb FILE      written at sector 16384
#   --uboot-rockchip FILE combined image written at sector 64
#   --dtb NAME|none       default rockchip/rk3328-nanopi-r2s.dtb
#   --timeout SECONDS     default 1
#   --boot-size SIZE      partition 1 size (default 32M; K/M/G suffixes)
#   --root-headroom SIZE  free space added to the root filesystem (default 16M)
#   --no-dedup            no hardlinks between identical files
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

die() { echo "make_reference_image: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }

store_root=/ toplevel='' registration='' idbloader='' uboot_itb='' uboot_rockchip=''
dtb=rockchip/rk3328-nanopi-r2s.dtb timeout=1 boot_size=32M headroom=16M dedup=yes
while [ $# -gt 0 ]; do
	case $1 in
	--store-root) store_root=$2; shift 2 ;;
	--toplevel) toplevel=$2; shift 2 ;;
	--registration) registration=$2; shift 2 ;;
	--idbloader) idbloader=$2; shift 2 ;;
	--uboot-itb) uboot_itb=$2; shift 2 ;;
	--uboot-rockchip) uboot_rockchip=$2; shift 2 ;;
	--dtb) dtb=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--boot-size) boot_size=$2; shift 2 ;;
	--root-headroom) headroom=$2; shift 2 ;;
	--no-dedup) dedup=no; shift ;;
	-h | --help) usage ;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -eq 2 ] || usage
closure=$1 output=$2
[ "$(id -u)" -eq 0 ] || die "must run as root (chown in the staging copy)"
root=${store_root%/}
[ -d "$root/nix/store" ] || die "no nix/store under --store-root $store_root"
boot_bytes=$(numfmt --from=iec "$boot_size") || die "bad --boot-size $boot_size"
headroom_bytes=$(numfmt --from=iec "$headroom") || die "bad --root-headroom $headroom"
[ $((boot_bytes % 4096)) -eq 0 ] || die "--boot-size must be a multiple of 4 KiB"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
read_closure "$closure" >"$tmp/paths"
[ -s "$tmp/paths" ] || die "empty closure $closure"
while IFS= read -r p; do
	[[ $p =~ $STORE_PATH_RE ]] || die "not a store path: $p"
	[ -e "$root$p" ] || [ -L "$root$p" ] || die "missing: $root$p"
done <"$tmp/paths"
if [ -z "$toplevel" ]; then
	toplevel=$(grep -- '-nixos-system-' "$tmp/paths" || true)
	[ "$(printf '%s' "$toplevel" | grep -c .)" -eq 1 ] || die "need --toplevel: not exactly one *-nixos-system-* path"
fi

# ---- /boot ----------------------------------------------------------------
kernel=$(store_resolve "$root" "$toplevel/kernel") || die "cannot resolve $toplevel/kernel"
initrd=$(store_resolve "$root" "$toplevel/initrd") || die "cannot resolve $toplevel/initrd"
dtbs=$(store_resolve "$root" "$toplevel/dtbs") || dtbs=''
params=$(cat "$root$(store_resolve "$root" "$toplevel/kernel-params")")
B=$tmp/boot
mkdir -p "$B/extlinux" "$B/nixos"
cp "$root$kernel" "$B/nixos/$(clean_name "$kernel")"
cp "$root$initrd" "$B/nixos/$(clean_name "$initrd")"
dtbs_name=''
if [ -n "$dtbs" ]; then
	dtbs_name=$(clean_name "$dtbs")
	cp -r "$root$dtbs" "$B/nixos/$dtbs_name"
fi
extlinux_conf "$toplevel" "$(clean_name "$kernel")" "$(clean_name "$initrd")" "$dtbs_name" \
	"$timeout" "$dtb" "$params" >"$B/extlinux/extlinux.conf"
chown -R 0:0 "$B"
find "$B" -type d -exec chmod 0755 {} + -o -type f -exec chmod 0644 {} +

# ---- / (root filesystem) ---------------------------------------------------
R=$tmp/root
mkdir -p "$R/nix/store" "$R/boot"
while IFS= read -r p; do
	cp -a --no-preserve=links "$root$p" "$R$p"
done <"$tmp/paths"
chown -hR 0:0 "$R"
find "$R/nix/store" -mindepth 1 -type f -perm /111 -exec chmod 0555 {} +
find "$R/nix/store" -mindepth 1 -type f ! -perm /111 -exec chmod 0444 {} +
if [ "$dedup" = yes ]; then
	# identical bytes and the same exec bit: one inode
	find "$R/nix/store" -type f -size +0 -perm /111 >"$tmp/exec"
	find "$R/nix/store" -type f -size +0 -print0 | xargs -0 -r sha256sum -z | tr '\0' '\n' |
		awk -v ex="$tmp/exec" 'BEGIN { while ((getline l <ex) > 0) x[l] = 1 }
			{ f = substr($0, 67); print substr($0, 1, 64) (f in x ? "x" : "-") " " f }' |
		LC_ALL=C sort >"$tmp/sums"
	awk '{ k = substr($0, 1, 65); f = substr($0, 67)
	       if (k == last) printf "%s\n%s\n", first, f; else { last = k; first = f } }' \
		"$tmp/sums" | while IFS= read -r first && IFS= read -r f; do
		ln -f -- "$first" "$f"
	done
fi
find "$R/nix/store" -mindepth 1 -type d -exec chmod 0555 {} +
chown 0:30000 "$R/nix/store"
chmod 1775 "$R/nix/store"
chmod 0755 "$R" "$R/nix" "$R/boot"
if [ -n "$registration" ]; then
	cp "$registration" "$R/nix-path-registration"
	chmod 0444 "$R/nix-path-registration"
fi

# ---- layout ------------------------------------------------------------------
entries=$(find "$R" | wc -l)
used_kib=$(du -sk "$R" | cut -f1)
# data + 30% + one block per entry (directories, slow symlinks) + journal and
# metadata + headroom, in 4 MiB steps
root_bytes=$(( (used_kib * 1024 * 13 / 10 + entries * 4096 + 24 * 1048576 + headroom_bytes + 4194303) / 4194304 * 4194304 ))
inodes=$(( (entries + 256 + 1023) / 1024 * 1024 ))
p1_start=32768
p1_sectors=$((boot_bytes / 512))
p2_start=$(( (p1_start + p1_sectors + 8191) / 8192 * 8192 ))
total=$(( (p2_start + root_bytes / 512 + 33 + 8191) / 8192 * 8192 ))
p2_end=$((total - 34))
root_fs_bytes=$(( (p2_end - p2_start + 1) * 512 / 4096 * 4096 ))

rm -f "$output"
truncate -s $((total * 512)) "$output"
sgdisk -o \
	-n 1:$p1_start:$((p1_start + p1_sectors - 1)) -t 1:0FC63DAF-8483-4772-8E79-3D69D8477DE4 -c 1:NIXOS_BOOT -A 1:set:2 \
	-n 2:$p2_start:$p2_end -t 2:B921B045-1DF0-41C3-AF44-4C6F280D3FAE -c 2:NIXOS_SD \
	"$output" >"$tmp/sgdisk.out" 2>&1 || { cat "$tmp/sgdisk.out" >&2; die "sgdisk failed"; }

mkfs() { # mkfs OFFSET_BYTES SIZE_BYTES LABEL SRC [extra mke2fs args]
	local off=$1 size=$2 label=$3 src=$4
	shift 4
	mke2fs -q -F -T default -t ext4 -b 4096 -I 256 -L "$label" \
		-O has_journal,extent,64bit,flex_bg,dir_index,metadata_csum,^inline_data \
		-E "root_owner=0:0,offset=$off,nodiscard,lazy_itable_init=0,lazy_journal_init=0" \
		"$@" -d "$src" "$output" "$((size / 1024))k" >"$tmp/mke2fs.out" 2>&1 ||
		{ cat "$tmp/mke2fs.out" >&2; die "mke2fs of $label failed"; }
	# every inode's times to 1: mke2fs -d keeps ctime and sets crtime to now.
	# Inode numbers from `ls -p` of every directory (cheap), then sif <ino>.
	{
		printf '/\n/lost+found\n'
		(cd "$src" && find . -mindepth 1 -type d | cut -c2-)
	} | sed 's/"/""/g; s/^/ls -p "/; s/$/"/' >"$tmp/ls.cmds"
	DEBUGFS_PAGER=__none__ debugfs -f "$tmp/ls.cmds" "$output?offset=$off" 2>/dev/null |
		awk -F/ '/^\/[0-9]+\// { print $2 }' | LC_ALL=C sort -un |
		awk '{ n = split("ctime atime mtime crtime", t, " "); for (i = 1; i <= n; i++) print "sif <" $1 "> " t[i] " 1" }' \
		>"$tmp/sif.cmds"
	debugfs -w -f "$tmp/sif.cmds" "$output?offset=$off" >"$tmp/sif.out" 2>&1
	if [ -n "$(grep -v -e '^debugfs' "$tmp/sif.out" || true)" ]; then
		cat "$tmp/sif.out" >&2
		die "debugfs could not set the times on $label"
	fi
}
mkfs $((p1_start * 512)) "$boot_bytes" NIXOS_BOOT "$B" -N $(( ($(find "$B" | wc -l) + 64 + 63) / 64 * 64 ))
mkfs $((p2_start * 512)) "$root_fs_bytes" NIXOS_SD "$R" -N "$inodes"

# ---- bootloaders ---------------------------------------------------------------
put() { dd if="$1" of="$output" bs=512 seek="$2" conv=notrunc status=none; }
[ -z "$idbloader" ] || put "$idbloader" 64
[ -z "$uboot_itb" ] || put "$uboot_itb" 16384
[ -z "$uboot_rockchip" ] || put "$uboot_rockchip" 64

echo "make_reference_image: $output: $((total * 512 / 1048576)) MiB, boot $((boot_bytes / 1048576)) MiB at sector $p1_start, root $((root_fs_bytes / 1048576)) MiB at sector $p2_start, $entries entries" >&2
