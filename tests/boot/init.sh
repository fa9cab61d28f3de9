#!/bin/busybox sh
# /init of the boot test's check initramfs (busybox ash, arm64).
#
# Loads the modules for a virtio disk and ext4, finds the root partition by
# LABEL=NIXOS_SD, mounts it read-only, then compares every entry of the
# store paths named in /etc/boot-check/paths (type, mode, owner, mtime,
# sha256 of each file's data, each symlink's target) with
# /etc/boot-check/manifest, written on the host from the store, and checks
# that the init= path on the kernel command line exists there and (with
# Nix) that /nix-path-registration lists those paths and the toplevel, and
# looks up every name (and as many absent ones) of the large indexed
# directory named in /etc/boot-check/big-dir, one by one.  Prints
# exactly one line starting with "MKR2SIMG-BOOT-CHECK: PASSED" or
# "MKR2SIMG-BOOT-CHECK: FAILED", then powers off.  It never returns: PID 1
# exiting would panic the kernel.
# shellcheck shell=dash
/bin/busybox mkdir -p /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
TAG=MKR2SIMG-BOOT-CHECK
C=/etc/boot-check

info() {
	read -r up _ </proc/uptime 2>/dev/null || up='?'
	echo "boot-check: [$up] $*"
}

finish() {
	umount /mnt 2>/dev/null
	sync
	poweroff -f
	sleep 10
	echo "boot-check: poweroff failed"
	while :; do sleep 3600; done
}

fail() {
	echo "$TAG: FAILED: $*"
	finish
}

mount -t proc proc /proc || fail "cannot mount /proc"
mount -t sysfs sysfs /sys || fail "cannot mount /sys"
mount -t devtmpfs devtmpfs /dev || fail "cannot mount /dev"
# Only emergencies (panics) from the kernel from here on, so that its
# messages cannot interleave with the result lines.
echo 1 >/proc/sys/kernel/printk

info "kernel $(uname -r) $(uname -m), command line: $(cat /proc/cmdline)"

# crc32c first: ext4 asks the crypto API for it and does not load it.
for m in crc32c_generic virtio_pci virtio_blk ext4; do
	modprobe "$m" || fail "modprobe $m failed"
done
info "loaded $(cut -d' ' -f1 /proc/modules | sort | tr '\n' ' ')"

# virtio_blk probes and scans the partitions while modprobe runs; wait a
# little all the same, in case the disk shows up late.
dev=
i=0
while [ $i -lt 20 ]; do
	dev=$(findfs LABEL=NIXOS_SD 2>/dev/null) && break
	dev=
	i=$((i + 1))
	usleep 250000
done
[ -n "$dev" ] || fail "no file system labelled NIXOS_SD (block devices: $(cd /sys/class/block && echo *))"
info "LABEL=NIXOS_SD is $dev"
mount -t ext4 -o ro "$dev" /mnt || fail "cannot mount $dev (LABEL=NIXOS_SD) read-only as ext4"

# The init= path of the kernel command line, on the root file system.
init=
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case $arg in init=*) init=${arg#init=} ;; esac
done
[ -n "$init" ] || fail "no init= on the kernel command line"
case $init in /nix/store/*) ;; *) fail "init=$init is not in /nix/store" ;; esac
{ [ -f "/mnt$init" ] && [ -x "/mnt$init" ]; } ||
	fail "init=$init does not exist (or is not executable) on the root file system"
info "init=$init exists on $dev"

# entries PATH...: one line per file, directory and symlink under each
# PATH (relative to /mnt), in the manifest's format: PATHs in the order
# given, what is under each sorted by name.
entries() {
	cd /mnt || return 1
	for p in "$@"; do find "$p" | sort; done | while IFS= read -r e; do
		meta=$(stat -c '%a %u:%g %Y' "$e") || { echo "? /$e"; continue; }
		if [ -L "$e" ]; then
			echo "l $meta /$e -> $(readlink "$e")"
		elif [ -d "$e" ]; then
			echo "d $meta /$e"
		elif [ -f "$e" ]; then
			sum=$(sha256sum <"$e") || sum=unreadable
			echo "f $meta ${sum%% *} /$e"
		else
			echo "? $meta /$e"
		fi
	done
}

set --
while IFS= read -r p; do set -- "$@" "$p"; done <$C/paths
entries "$@" >/tmp/actual 2>/tmp/errors
cd /
if ! cmp -s $C/manifest /tmp/actual; then
	info "the root file system differs from the manifest (- expected, + found):"
	diff $C/manifest /tmp/actual | grep '^[-+][^-+]' | head -n 40
	sed 's/^/boot-check: /' /tmp/errors | head -n 10
	n=$(diff $C/manifest /tmp/actual | grep -c '^[-+][^-+]')
	fail "$n manifest lines differ ($(wc -l <$C/manifest) expected entries in $# store paths)"
fi
# The registration (nix-store --load-db's input) lists the store paths.
if [ "$(cat $C/registration-expected)" = yes ]; then
	r=/mnt/nix-path-registration
	[ -f $r ] || fail "no /nix-path-registration on $dev"
	[ "$(stat -c '%a %u:%g' $r)" = "444 0:0" ] ||
		fail "/nix-path-registration has mode/owner $(stat -c '%a %u:%g' $r), expected 444 0:0"
	for p in "$@" "${init%/init}"; do
		p=/${p#/}
		grep -qxF "$p" $r || fail "/nix-path-registration does not list $p"
	done
	info "/nix-path-registration lists the $# store paths and the toplevel"
fi

# The indexed directory: each name looked up by the kernel (an htree
# lookup: hash, index blocks, one leaf), each absent one not found,
# readdir gives them all, and ext4 logged no error or warning about it.
# existing FILE: how many of the names in FILE (one a line, no blanks)
# exist in the current directory, each looked up by a shell builtin;
# the first three absent ones on stderr.  (ash's `read` costs a system
# call per byte: the file is read whole instead.)
existing() {
	local IFS='
' n=0 miss=0
	set -f
	# shellcheck disable=SC2046 # split on newlines only, no globbing
	set -- $(cat "$1")
	set +f
	for name; do
		if [ -e "$name" ]; then
			n=$((n + 1))
		else
			miss=$((miss + 1))
			[ $miss -gt 3 ] || echo "not found: $name" >&2
		fi
	done
	echo $n
}

big_check() {
	big=/mnt/$(cat $C/big-dir)
	want=$(wc -l <$C/big-hits)
	cd "$big" || fail "cannot enter ${big#/mnt}"
	found=$(existing $C/big-hits 2>/tmp/big-errors)
	if [ "$found" -ne "$want" ]; then
		sed 's/^/boot-check: /' /tmp/big-errors
		fail "$((want - found)) of $want names of ${big#/mnt} not found"
	fi
	found=$(existing $C/big-misses 2>/dev/null)
	[ "$found" -eq 0 ] || fail "$found of $(wc -l <$C/big-misses) absent names of ${big#/mnt} found"
	n=$(find . -mindepth 1 -maxdepth 1 | wc -l)
	cd /
	[ "$n" -eq "$want" ] || fail "readdir of ${big#/mnt} gives $n entries, expected $want"
	if dmesg | grep -E 'EXT4-fs (error|warning)' >/tmp/ext4-log; then
		fail "the kernel logged: $(head -n 1 /tmp/ext4-log)"
	fi
	info "${big#/mnt}: $want names found, $(wc -l <$C/big-misses) absent ones not, no EXT4-fs error"
}
big_check

nf=$(grep -c '^f ' $C/manifest)
nl=$(grep -c '^l ' $C/manifest)
nd=$(grep -c '^d ' $C/manifest)
echo "$TAG: PASSED: root $dev (LABEL=NIXOS_SD) matches the manifest of $# store paths ($nf files, $nl symlinks, $nd directories); init=$init exists; $(wc -l <$C/big-hits) names of an indexed directory found"
finish
