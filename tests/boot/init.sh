#!/bin/busybox sh
# /init of the boot test's check initramfs (busybox ash, arm64).
#
# Loads the modules for a virtio disk and ext4, finds the root partition by
# LABEL=NIXOS_SD, mounts it read-only, then compares every entry of the
# store paths named in /etc/boot-check/paths (type, mode, owner, mtime,
# sha256 of each file's data, each symlink's target) with
# /etc/boot-check/manifest, written on the host from the store, and checks
# that the init= path on the kernel command line exists there and (with
# Nix) that /nix-path-registration lists those paths and the toplevel.  Prints
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

nf=$(grep -c '^f ' $C/manifest)
nl=$(grep -c '^l ' $C/manifest)
nd=$(grep -c '^d ' $C/manifest)
echo "$TAG: PASSED: root $dev (LABEL=NIXOS_SD) matches the manifest of $# store paths ($nf files, $nl symlinks, $nd directories); init=$init exists"
finish
