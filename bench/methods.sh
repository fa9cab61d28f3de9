#!/usr/bin/env bash
# methods.sh METHOD CLOSURE_DIR OUT_DIR
#
# One way of making the R2S image (or, for the floors, of moving the same
# bytes) from the synthetic closure in CLOSURE_DIR (gen_closure.py's
# output), writing everything under OUT_DIR (empty, made by run.sh).
# run.sh times this whole script with /usr/bin/time; the steps of the
# multi-step methods are also timed here, into OUT_DIR/steps.tsv.
# The image lands in OUT_DIR/image (root filesystem alone for mke2fs).
#
# Environment: MKR2SIMG (binary), ROOT_FS_BYTES (fixed generous size of
# the root filesystem for mke2fs and genimage).
set -euo pipefail

method=$1
C=$(cd "$2" && pwd)
O=$(cd "$3" && pwd)
S=$C/store
BOOT_SIZE_MIB=512
GAP_SECTORS=32768          # the first partition starts at 16 MiB (RK3328)

step_t0=
step() {        # step NAME: ends the previous step, starts NAME
	local now=$EPOCHREALTIME
	if [ -n "$step_t0" ]; then
		printf '%s\t%s\n' "$step_name" "$(awk -v a="$now" -v b="$step_t0" 'BEGIN { printf "%.3f", a - b }')" >> "$O/steps.tsv"
	fi
	step_name=${1:-}
	step_t0=$now
	[ -n "$step_name" ] || step_t0=
}

toplevel() { grep -- '-nixos-system-' "$C/closure.txt" | head -n 1; }

# Resolves a link inside the store root: /nix/store/x -> $S/nix/store/x.
in_root() {
	local p=$1 t
	while [ -L "$S$p" ]; do
		t=$(readlink "$S$p")
		case $t in /*) p=$t ;; *) p=$(dirname "$p")/$t ;; esac
	done
	printf '%s\n' "$p"
}

# What NixOS' extlinux-conf-builder.sh puts on /boot: kernel, initrd and
# dtbs copied into nixos/ under store-path-derived names, extlinux.conf.
make_boot_dir() {
	local dst=$1 top kernel initrd dtbs kname iname dname
	top=$(toplevel)
	kernel=$(in_root "$top/kernel")
	initrd=$(in_root "$top/initrd")
	dtbs=$(in_root "$top/dtbs")
	kname=$(echo "${kernel#/nix/store/}" | tr / -)
	iname=$(echo "${initrd#/nix/store/}" | tr / -)
	dname=$(echo "${dtbs#/nix/store/}" | tr / -)
	mkdir -p "$dst/extlinux" "$dst/nixos"
	cp "$S$kernel" "$dst/nixos/$kname"
	cp "$S$initrd" "$dst/nixos/$iname"
	cp -r "$S$dtbs" "$dst/nixos/$dname"
	chmod -R u+w "$dst/nixos/$dname"
	cat > "$dst/extlinux/extlinux.conf" <<-EOF
	# Generated file, all changes will be lost on nixos-rebuild!

	# Change this to e.g. nixos-42 to temporarily boot to an older configuration.
	DEFAULT nixos-default

	MENU TITLE ------------------------------------------------------------
	TIMEOUT 10

	LABEL nixos-default
	  MENU LABEL NixOS - Default
	  LINUX ../nixos/$kname
	  INITRD ../nixos/$iname
	  APPEND init=$top/init $(cat "$S$top/kernel-params")
	  FDT ../nixos/$dname/rockchip/rk3328-nanopi-r2s.dtb
	EOF
}

case $method in
mkr2simg)
	"$MKR2SIMG" -q --store-root "$S" --registration "$C/registration" \
		"$C/closure.txt" "$O/image"
	;;
mkr2simg-nodedup)
	"$MKR2SIMG" -q --no-dedup --store-root "$S" --registration "$C/registration" \
		"$C/closure.txt" "$O/image"
	;;
mkr2simg-zst)
	# One pass: the image goes to a scratch file, compressed in 2 MiB
	# zstd frames (level 3, all cores) while it is written, and only
	# image.zst is written out.
	"$MKR2SIMG" -q --store-root "$S" --registration "$C/registration" \
		"$C/closure.txt" "$O/image.zst"
	;;
mkr2simg-then-zstd)
	# What a user would do without it (and what the derivation did):
	# the plain image, then a second full pass of zstd (level 3, -T0).
	step mkr2simg
	"$MKR2SIMG" -q --store-root "$S" --registration "$C/registration" \
		"$C/closure.txt" "$O/image"
	step zstd
	zstd -q -T0 "$O/image" -o "$O/image.zst"
	step
	;;
pipeline)
	# nixpkgs nixos/lib/make-ext4-fs.nix (the mkfs.ext4 -d version) and
	# sd-image.nix's assembly, minus faketime/fakeroot (we are root, the
	# store is root-owned) and minus zstd (every other method writes a raw
	# image).  One cp per store path, as make-ext4-fs.nix's xargs does.
	img=$O/root.img
	step staging
	mkdir -p "$O/rootImage/nix/store"
	sed "s|^|$S|" "$C/closure.txt" |
		xargs -I % cp -a --reflink=auto % -t "$O/rootImage/nix/store/"
	cp "$C/registration" "$O/rootImage/nix-path-registration"
	step estimate
	numInodes=$(find "$O/rootImage" | wc -l)
	numDataBlocks=$(du -s -c -B 4096 --apparent-size "$O/rootImage" | tail -1 |
		awk '{ print int($1 * 1.20) }')
	bytes=$((2 * 4096 * numInodes + 4096 * numDataBlocks))
	mebibyte=$((1024 * 1024))
	if ((bytes % mebibyte)); then
		bytes=$(((bytes / mebibyte + 1) * mebibyte))
	fi
	truncate -s $bytes "$img"
	step mkfs.ext4-d
	mkfs.ext4 -L NIXOS_SD -U 44444444-4444-4444-8888-888888888888 \
		-d "$O/rootImage" "$img"
	step fsck
	EXT2FS_NO_MTAB_OK=yes fsck.ext4 -n -f "$img"
	step resize2fs
	resize2fs -M "$img"
	new_size=$(dumpe2fs -h "$img" | awk -F: \
		'/Block count/{count=$2} /Block size/{size=$2} END{print (count*size+16*1048576)/size}')
	resize2fs "$img" "$new_size"
	step boot-fs
	make_boot_dir "$O/bootdir"
	truncate -s ${BOOT_SIZE_MIB}M "$O/boot.img"
	mkfs.ext4 -L NIXOS_BOOT -d "$O/bootdir" "$O/boot.img"
	step assemble
	# sd-image.nix: truncate, partition, dd each filesystem in.  nixpkgs'
	# dd uses the default 512-byte blocks; 4 MiB blocks here, which only
	# makes the pipeline faster.
	root_sectors=$(( $(stat -c %s "$img") / 512 ))
	boot_sectors=$((BOOT_SIZE_MIB * 2048))
	root_start=$((GAP_SECTORS + boot_sectors))
	truncate -s $(( (root_start + root_sectors + 2048) * 512 )) "$O/image"
	sgdisk -o \
		-n 1:$GAP_SECTORS:+$boot_sectors -t 1:8300 -c 1:NIXOS_BOOT \
		-n 2:$root_start:+$root_sectors -t 2:8305 -c 2:NIXOS_SD "$O/image" >/dev/null
	dd conv=notrunc bs=4M oflag=seek_bytes if="$O/boot.img" of="$O/image" seek=$((GAP_SECTORS * 512))
	dd conv=notrunc bs=4M oflag=seek_bytes if="$img" of="$O/image" seek=$((root_start * 512))
	step
	;;
mke2fs)
	# mke2fs -d alone on the store tree: just the root filesystem, at a
	# fixed generous size; no staging, no check, no shrink, no GPT.
	mke2fs -q -F -t ext4 -L NIXOS_SD -d "$S" "$O/image" "$((ROOT_FS_BYTES / 1024))k"
	;;
genimage)
	# genimage (Debian's) with the same layout: GPT, ext4 boot at 16 MiB
	# (512 MiB), ext4 root, both made by mke2fs.  Its rootpath is a
	# hardlink farm of the closure plus /boot and the registration;
	# genimage copies the rootpath to its tmppath itself (cp -a).
	step rootpath
	mkdir -p "$O/rootpath" "$O/input" "$O/output"
	cp -al "$S/nix" "$O/rootpath/nix"
	cp "$C/registration" "$O/rootpath/nix-path-registration"
	make_boot_dir "$O/rootpath/boot"
	cat > "$O/genimage.cfg" <<-EOF
	image boot.ext4 {
		temporary = true
		mountpoint = "/boot"
		size = ${BOOT_SIZE_MIB}M
		ext4 {
			use-mke2fs = true
			label = "NIXOS_BOOT"
		}
	}
	image root.ext4 {
		temporary = true
		size = $ROOT_FS_BYTES
		ext4 {
			use-mke2fs = true
			label = "NIXOS_SD"
		}
	}
	image r2s.img {
		hdimage {
			partition-table-type = "gpt"
		}
		partition boot {
			offset = 16M
			image = "boot.ext4"
			partition-type-uuid = "L"
		}
		partition root {
			image = "root.ext4"
			partition-type-uuid = "b921b045-1df0-41c3-af44-4c6f280d3fae"
		}
	}
	EOF
	step genimage
	genimage --loglevel 2 --config "$O/genimage.cfg" --rootpath "$O/rootpath" \
		--tmppath "$O/tmp" --inputpath "$O/input" --outputpath "$O/output"
	mv "$O/output/r2s.img" "$O/image"
	step
	;;
floor)
	# Read every file's bytes once, write them once into one file, fsync it
	# (mkr2simg fsyncs its output).
	(cd "$S/nix/store" && find . -type f -print0 | xargs -0 cat) > "$O/image"
	sync "$O/image"
	;;
floor-nosync)
	(cd "$S/nix/store" && find . -type f -print0 | xargs -0 cat) > "$O/image"
	;;
*)
	echo "methods.sh: unknown method $method" >&2
	exit 2
	;;
esac
