#!/usr/bin/env bash
# test_errors.sh MKR2SIMG [FIXTURES_DIR]
#
# Every bad input named by the spec: a non-zero exit, one line on stderr
# that names the file or path at fault, and nothing left behind in
# OUTPUT's folder (neither OUTPUT nor a temporary file).
set -euo pipefail

mk=$(realpath "$1")
fixtures=$(cd "${2:-$(dirname "$0")/../../fixtures}" && pwd)
store=$fixtures/store
closure=$fixtures/closure.txt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$work/out
mkdir "$out"

passed=0 failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

# expect_error NAME EXPECTED_SUBSTRING -- ARGS...: runs mkr2simg with ARGS
# (OUTPUT is $out/img), checks the exit code, the message and the folder.
expect_error() {
	local name=$1 want=$2 rc=0 msg
	shift 3
	"$mk" -q "$@" 2>"$work/stderr" >/dev/null || rc=$?
	msg=$(grep -v '^mkr2simg: warning: ' "$work/stderr" || true)
	if [ "$rc" -eq 0 ]; then
		fail "$name: exit 0"
	elif [ "$(printf '%s\n' "$msg" | grep -c .)" -ne 1 ]; then
		fail "$name: expected one error line, got: $msg"
	elif [[ $msg != *"$want"* ]]; then
		fail "$name: message '$msg' does not contain '$want'"
	elif [ -n "$(ls -A "$out")" ]; then
		fail "$name: left behind: $(ls -A "$out")"
	else
		echo "ok: $name: $msg"
		passed=$((passed + 1))
	fi
	rm -rf "${out:?}"/* "$out"/.[!.]* 2>/dev/null || true
}

base=(--store-root "$store")
top=$(grep -- '-nixos-system-' "$closure")
good=$(grep -m1 -- '-linux-' "$closure")
hash=${good#/nix/store/}; hash=${hash%%-*}

printf '%s\n' "relative/path" >"$work/c-relative"
printf '%s\n' "/nix/store/../etc/passwd" >"$work/c-dotdot"
printf '%s\n' "/nix/store/${hash:0:31}-short" >"$work/c-short"
printf '%s\n' "/nix/store/${hash}x-long" >"$work/c-long"
printf '%s\n' "/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-bad" >"$work/c-alphabet"
printf '%s\n' "$good trailing" >"$work/c-garbage"
printf '%s\n' "$good/Image" >"$work/c-inside"
printf '%s\n' "/nix/store/${hash:0:31}0-not-there" "$top" >"$work/c-missing"
: >"$work/c-empty"
cat "$closure" >"$work/c-unreadable"; chmod 000 "$work/c-unreadable"

expect_error "missing CLOSURE" "nope.txt" -- "${base[@]}" "$work/nope.txt" "$out/img"
if [ "$(id -u)" -ne 0 ]; then
	expect_error "unreadable CLOSURE" "c-unreadable" -- "${base[@]}" "$work/c-unreadable" "$out/img"
fi
expect_error "relative line" "c-relative:1" -- "${base[@]}" "$work/c-relative" "$out/img"
expect_error "dot-dot line" "c-dotdot:1" -- "${base[@]}" "$work/c-dotdot" "$out/img"
expect_error "31-char hash" "c-short:1" -- "${base[@]}" "$work/c-short" "$out/img"
expect_error "33-char hash" "c-long:1" -- "${base[@]}" "$work/c-long" "$out/img"
expect_error "not nix-base32" "c-alphabet:1" -- "${base[@]}" "$work/c-alphabet" "$out/img"
expect_error "trailing garbage" "c-garbage:1" -- "${base[@]}" "$work/c-garbage" "$out/img"
expect_error "file inside a store path" "c-inside:1" -- "${base[@]}" "$work/c-inside" "$out/img"
expect_error "empty CLOSURE" "c-empty" -- "${base[@]}" "$work/c-empty" "$out/img"
expect_error "listed path missing" "${hash:0:31}0-not-there" -- "${base[@]}" "$work/c-missing" "$out/img"

# A toplevel missing each of its parts: a copy of the store without it.
for part in kernel initrd init; do
	cp -a "$store" "$work/store-$part"
	rm "$work/store-$part$top/$part"
	expect_error "toplevel without $part" "'$part'" -- --store-root "$work/store-$part" "$closure" "$out/img"
	chmod -R u+w "$work/store-$part"; rm -rf "$work/store-$part"
done
# kernel and initrd the same file: said in those words.
cp -a "$store" "$work/store-same"
chmod u+w "$work/store-same$top"
ln -sfn "$(readlink "$work/store-same$top/kernel")" "$work/store-same$top/initrd"
expect_error "kernel is the initrd" "its kernel and initrd are the same file" -- --store-root "$work/store-same" "$closure" "$out/img"
chmod -R u+w "$work/store-same"; rm -rf "$work/store-same"
expect_error "missing dtb" "no-such.dtb" -- "${base[@]}" --dtb no-such.dtb "$closure" "$out/img"
# Issue 9: links of the toplevel that leave the closure's store paths
# must not bring files onto /boot (a kernel -> /etc/shadow used to copy
# the store root's /etc/shadow to /boot/nixos/-etc-shadow, dtbs -> / the
# whole store root), nor may --dtb climb out of dtbs.
# A copy of the store with /etc/shadow and /etc/hostname at its root.
out_store() {
	cp -a "$store" "$work/store-out"
	mkdir -p "$work/store-out/etc"
	printf 'root:secret\n' >"$work/store-out/etc/shadow"
	printf 'host\n' >"$work/store-out/etc/hostname"
	chmod u+w "$work/store-out$top"
}
confined() { # ENTRY TARGET [MKR2SIMG OPTIONS...]
	local entry=$1 target=$2
	shift 2
	out_store
	rm "$work/store-out$top/$entry"
	ln -s "$target" "$work/store-out$top/$entry"
	expect_error "toplevel $entry -> $target" "$top/$entry -> $target" -- --store-root "$work/store-out" "$@" "$closure" "$out/img"
	chmod -R u+w "$work/store-out"; rm -rf "$work/store-out"
}
confined kernel /etc/shadow
confined initrd /etc/shadow
confined init /etc/shadow
confined kernel-params /etc/hostname
confined dtbs / --dtb none
out_store
expect_error "--dtb climbing out" "'..'" -- --store-root "$work/store-out" --dtb ../../../../etc/hostname "$closure" "$out/img"
expect_error "--dtb absolute" "not a relative path" -- --store-root "$work/store-out" --dtb /etc/hostname "$closure" "$out/img"
chmod -R u+w "$work/store-out"; rm -rf "$work/store-out"

# Issue 9: a kernel whose image_size reaches U-Boot's ramdisk_addr_r
# stops in U-Boot ("RD image overlaps OS image"): with the environment of
# Debian's rock64-rk3328 u-boot.itb (tests/data) the limit is 62 MiB.
# expect_ok NAME -- ARGS...: exit 0 and an image
expect_ok() {
	local name=$1
	shift 2
	if "$mk" -q "$@" "$closure" "$out/img" 2>"$work/stderr" >/dev/null && [ -s "$out/img" ]; then
		echo "ok: $name"; passed=$((passed + 1))
	else
		fail "$name: $(cat "$work/stderr")"
	fi
	rm -rf "${out:?}"/* "$out"/.[!.]* 2>/dev/null || true
}
data=$(cd "$(dirname "$0")/../data" && pwd)
{ printf 'FIT\0\0\0'; cat "$data/rock64-rk3328.env"; printf '\1\2\3'; } >"$work/rock64.itb"
perl -0777 -pe 's/ramdisk_addr_r=0x06000000/ramdisk_addr_r=0x0c000000/' "$work/rock64.itb" >"$work/moved.itb"
# image_kernel BYTES: an arm64 Image header (text_offset 0, flags 0xa)
image_kernel() {
	perl -e 'print pack("VVQ<Q<Q<Q<Q<Q<VV", 0x5a4d, 0, 0, $ARGV[0], 0xa, 0, 0, 0, 0x644d5241, 0), "\0" x 4032' "$1"
}
kstore=$work/store-kernel
cp -a "$store" "$kstore"
kfile=$(readlink "$kstore$top/kernel")
chmod u+w "$kstore${kfile%/*}" "$kstore$kfile"
image_kernel $((72 << 20)) >"$kstore$kfile"
expect_error "72 MiB kernel, rock64 U-Boot" "RD image overlaps OS image" -- --store-root "$kstore" --uboot-itb "$work/rock64.itb" "$closure" "$out/img"
expect_error "72 MiB kernel, rock64 U-Boot (combined)" "ramdisk_addr_r=0x06000000" -- --store-root "$kstore" --uboot-rockchip "$work/rock64.itb" "$closure" "$out/img"
expect_ok "72 MiB kernel, moved ramdisk_addr_r" -- --store-root "$kstore" --uboot-itb "$work/moved.itb"
expect_ok "72 MiB kernel, --no-memory-map-check" -- --store-root "$kstore" --uboot-itb "$work/rock64.itb" --no-memory-map-check
image_kernel $((62 << 20)) >"$kstore$kfile"
expect_ok "62 MiB kernel, rock64 U-Boot" -- --store-root "$kstore" --uboot-itb "$work/rock64.itb"
image_kernel $((62 << 20 | 4096)) >"$kstore$kfile"
expect_error "62 MiB + 4 KiB kernel, rock64 U-Boot" "at most 62 MiB" -- --store-root "$kstore" --uboot-itb "$work/rock64.itb" "$closure" "$out/img"
printf 'not a kernel' >"$kstore$kfile"
expect_error "not an Image, rock64 U-Boot" "not an arm64 Image" -- --store-root "$kstore" --uboot-itb "$work/rock64.itb" "$closure" "$out/img"
printf 'U-Boot without environment' >"$work/noenv.itb"
expect_ok "not an Image, U-Boot without an environment" -- --store-root "$kstore" --uboot-itb "$work/noenv.itb"
chmod -R u+w "$kstore"; rm -rf "$kstore"

expect_error "toplevel not in closure" "not in the closure" -- "${base[@]}" --toplevel /nix/store/${hash:0:31}0-nixos-system-x "$closure" "$out/img"

head -c $((8 << 20)) /dev/zero | tr '\0' 'x' >"$work/idb-big"
head -c $((9 << 20)) /dev/zero | tr '\0' 'x' >"$work/itb-big"
head -c $((17 << 20)) /dev/zero | tr '\0' 'x' >"$work/rk-big"
: >"$work/empty.bin"
expect_error "idbloader too large" "idb-big: 8388608 bytes do not fit" -- "${base[@]}" --idbloader "$work/idb-big" "$closure" "$out/img"
expect_error "u-boot.itb too large" "itb-big: 9437184 bytes do not fit" -- "${base[@]}" --uboot-itb "$work/itb-big" "$closure" "$out/img"
expect_error "u-boot-rockchip too large" "rk-big: 17825792 bytes do not fit" -- "${base[@]}" --uboot-rockchip "$work/rk-big" "$closure" "$out/img"
expect_error "empty bootloader" "empty.bin: file is empty" -- "${base[@]}" --idbloader "$work/empty.bin" "$closure" "$out/img"
expect_error "bootloader is a directory" "not a regular file" -- "${base[@]}" --uboot-itb "$work" "$closure" "$out/img"
expect_error "rockchip with idbloader" "--uboot-rockchip replaces" -- "${base[@]}" --uboot-rockchip "$work/idb-big" --idbloader "$work/idb-big" "$closure" "$out/img"
expect_error "root size too small" "needs at least" -- "${base[@]}" --root-size 8M "$closure" "$out/img"
expect_error "boot size too small" "needs at least" -- "${base[@]}" --boot-size 4M "$closure" "$out/img"
expect_error "bad size" "not a size" -- "${base[@]}" --boot-size 12X "$closure" "$out/img"
expect_error "output folder missing" "$work/nope/img" -- "${base[@]}" "$closure" "$work/nope/img"

# U-Boot's saved environment (0x3F8000, 32 KiB): a bootloader with data
# there is refused (saveenv would overwrite it); the range must be
# whole sectors inside the raw area, the copies apart.
head -c $((4 << 20)) /dev/zero | tr '\0' 'x' >"$work/idb-env"
expect_error "idbloader under the saved environment" "idb-env has data at 0x3F8000-0x3FFFFF" -- "${base[@]}" --idbloader "$work/idb-env" "$closure" "$out/img"
expect_ok "idbloader under the environment, --env-offset none" -- "${base[@]}" --idbloader "$work/idb-env" --env-offset none
expect_ok "idbloader under the environment, environment moved" -- "${base[@]}" --idbloader "$work/idb-env" --env-offset 0x600000
expect_error "environment outside the raw area" "--env-offset 0x1000000, --env-size 0x8000: not inside the raw area" -- "${base[@]}" --env-offset 0x1000000 "$closure" "$out/img"
expect_error "environment in part of a sector" "whole 512-byte sectors" -- "${base[@]}" --env-size 1000 "$closure" "$out/img"
expect_error "environment copies overlap" "overlaps the first copy" -- "${base[@]}" --env-redundant-offset 0x3FC000 "$closure" "$out/img"
expect_error "environment offset not a number" "--env-offset 0x3G: not an offset" -- "${base[@]}" --env-offset 0x3G "$closure" "$out/img"

# A fifo in a store path is never stored.
cp -a "$store" "$work/store-fifo"
victim=$(grep -m1 -- '-hello-2' "$closure")
mkfifo "$work/store-fifo$victim/a-fifo"
expect_error "fifo in a store path" "$victim/a-fifo: is a fifo" -- --store-root "$work/store-fifo" "$closure" "$out/img"
chmod -R u+w "$work/store-fifo"; rm -rf "$work/store-fifo"

# Output folder not writable (root ignores permission bits, so only as
# an ordinary user).
if [ "$(id -u)" -ne 0 ]; then
	mkdir "$work/ro"; chmod 555 "$work/ro"
	expect_error "output folder read-only" "$work/ro/img" -- "${base[@]}" "$closure" "$work/ro/img"
fi

# Disk full while writing: a tmpfs smaller than the data as OUTPUT's
# folder (needs root to mount).
big=$work/store-big
cp -a "$store" "$big"
victim=$(grep -m1 -- '-hello-2' "$closure")
chmod u+w "$big$victim"
head -c $((8 << 20)) /dev/urandom >"$big$victim/random.bin"
if [ "$(id -u)" -eq 0 ] && mkdir "$work/full" && mount -t tmpfs -o size=4m tmpfs "$work/full" 2>/dev/null; then
	rc=0
	"$mk" --store-root "$big" "$closure" "$work/full/img" 2>"$work/stderr" >/dev/null || rc=$?
	msg=$(grep -v 'warning\|reading\|writing' "$work/stderr" || true)
	left=$(ls -A "$work/full")
	umount "$work/full"
	if [ "$rc" -ne 0 ] && [[ $msg == *"$work/full/img"*"No space left"* ]] && [ -z "$left" ]; then
		echo "ok: disk full: $msg"; passed=$((passed + 1))
	else
		fail "disk full: rc=$rc msg='$msg' left='$left'"
	fi
else
	if [ "${CI:-}" = true ]; then
		fail "disk full: cannot mount a tmpfs, and CI may not skip"
	else
		echo "skip: disk full (needs root to mount a tmpfs)"
	fi
fi
chmod -R u+w "$big"; rm -rf "$big"

# A run that is stopped leaves nothing, whatever the signal, kill -9 too:
# the image is an unnamed file (O_TMPFILE) until it is complete.  A
# CLOSURE on a pipe that never ends holds mkr2simg with that file open.
for sig in TERM INT HUP KILL; do
	mkfifo "$work/never"
	"$mk" "${base[@]}" - "$out/img" <"$work/never" >/dev/null 2>&1 &
	pid=$!
	exec 3>"$work/never" # opens the pipe, so mkr2simg runs and blocks
	had=''
	for _ in $(seq 500); do
		had=$(ls -l "/proc/$pid/fd" 2>/dev/null | grep -o "$out/#[0-9]* (deleted)" || true)
		[ -n "$had" ] && break
		sleep 0.01
	done
	kill -"$sig" "$pid"
	rc=0; wait "$pid" || rc=$?
	exec 3>&-
	rm "$work/never"
	if [ -n "$had" ] && [ "$rc" -ne 0 ] && [ -z "$(ls -A "$out")" ]; then
		echo "ok: SIG$sig while writing '$had': nothing left (exit $rc)"; passed=$((passed + 1))
	else
		fail "SIG$sig: open file '$had', exit $rc, left: $(ls -A "$out")"
	fi
done

# OUTPUT that is not ours to replace: refused before any work.
cp "$closure" "$work/closure-copy"
mknod "$out/chr" c 1 3
mkfifo "$out/fifo"
ln -s img "$out/link"
mkdir "$out/dir"
for t in chr fifo link dir; do
	rc=0
	"$mk" -q "${base[@]}" "$closure" "$out/$t" 2>"$work/stderr" >/dev/null || rc=$?
	msg=$(grep -v '^mkr2simg: warning: ' "$work/stderr" || true)
	kind=$(stat -c %F "$out/$t" 2>/dev/null)
	if [ "$rc" -ne 0 ] && [[ $msg == *"$out/$t: is a "*"OUTPUT must be"* ]] &&
		[ "$(printf '%s\n' "$msg" | grep -c .)" -eq 1 ] && [ -n "$kind" ] &&
		[ "$(ls -A "$out" | wc -l)" -eq 4 ]; then
		echo "ok: OUTPUT a $kind: $msg"; passed=$((passed + 1))
	else
		fail "OUTPUT $t: rc=$rc msg='$msg' now: $(stat -c %F "$out/$t" 2>&1)"
	fi
done
rm -rf "${out:?}"/* "$out"/.[!.]* 2>/dev/null || true
expect_error "OUTPUT is CLOSURE" "is the input" -- "${base[@]}" "$work/closure-copy" "$work/closure-copy"
cmp -s "$closure" "$work/closure-copy" || fail "OUTPUT is CLOSURE: the closure was changed"
expect_error "OUTPUT is the registration" "is the input" -- "${base[@]}" --registration "$out/../closure-copy" "$closure" "$work/closure-copy"

# Inputs that never end are refused, never waited on nor read forever.
mkfifo "$work/reg-fifo"
expect_error "registration a fifo" "reg-fifo: is a fifo" -- "${base[@]}" --registration "$work/reg-fifo" "$closure" "$out/img"
expect_error "registration /dev/zero" "/dev/zero: is a character device" -- "${base[@]}" --registration /dev/zero "$closure" "$out/img"
expect_error "CLOSURE /dev/zero" "/dev/zero: is a character device" -- "${base[@]}" /dev/zero "$out/img"
rc=0
timeout 60 bash -c 'head -c 100000000 /dev/zero | "$0" -q --store-root "$1" - "$2"' "$mk" "$store" "$out/img" 2>"$work/stderr" || rc=$?
if [ "$rc" -eq 1 ] && grep -q 'more than the 67108864 bytes' "$work/stderr" && [ -z "$(ls -A "$out")" ]; then
	echo "ok: an endless CLOSURE pipe stops at the limit"; passed=$((passed + 1))
else
	fail "endless CLOSURE pipe: rc=$rc $(cat "$work/stderr")"
fi

# Names are shown escaped: a fifo named with a newline and a fake success
# line gives one line, and nothing on it looks like success.
evil=$(printf 'x\nmkr2simg: wrote fake.img\033[2J')
cp -a "$store" "$work/store-evil"
mkfifo "$work/store-evil$victim/$evil"
rc=0
"$mk" -q --store-root "$work/store-evil" "$closure" "$out/img" 2>"$work/stderr" >/dev/null || rc=$?
msg=$(grep -v '^mkr2simg: warning: ' "$work/stderr" || true)
if [ "$rc" -eq 1 ] && [ "$(printf '%s\n' "$msg" | grep -c .)" -eq 1 ] &&
	[[ $msg == *'x\nmkr2simg: wrote fake.img\x1b[2J: is a fifo'* ]]; then
	echo "ok: control characters in a name are escaped: $msg"; passed=$((passed + 1))
else
	fail "escaped name: rc=$rc msg=$(printf '%q' "$msg")"
fi
chmod -R u+w "$work/store-evil"; rm -rf "$work/store-evil"

# Sizes and numbers: parsed and shown without overflow, nothing vague.
expect_error "huge --boot-size" "--boot-size 18446744073709551615 is more than 16T" -- "${base[@]}" --boot-size 18446744073709551615 "$closure" "$out/img"
expect_error "one-byte --boot-size" "--boot-size 1 is too small" -- "${base[@]}" --boot-size 1 "$closure" "$out/img"
expect_error "huge --root-headroom" "--root-headroom 16777215T is more than 16T" -- "${base[@]}" --root-headroom 16777215T "$closure" "$out/img"
expect_error "--root-size 0" "--root-size 0: a size of nothing" -- "${base[@]}" --root-size 0 "$closure" "$out/img"
expect_error "--timeout with a space" "--timeout  5: not a whole number" -- "${base[@]}" --timeout ' 5' "$closure" "$out/img"
expect_error "--timeout with a plus" "--timeout +5: not a whole number" -- "${base[@]}" --timeout +5 "$closure" "$out/img"
SOURCE_DATE_EPOCH=' 5' expect_error "SOURCE_DATE_EPOCH with a space" "SOURCE_DATE_EPOCH= 5: not a number" -- "${base[@]}" "$closure" "$out/img"

# --store-root with trailing slashes names store paths whole, and a tree
# deeper than the open-file limit says so (the reason is never cut off).
cp -a "$store" "$work/store-deep"
chmod u+w "$work/store-deep$victim"
python3 -c 'import os, sys
p = sys.argv[1]
for i in range(1100):
    p = os.path.join(p, "d"); os.mkdir(p)' "$work/store-deep$victim"
mkfifo "$work/store-deep$victim/a-fifo"
expect_error "--store-root DIR//" " $victim/a-fifo: is a fifo" -- --store-root "$work/store-deep//" "$closure" "$out/img"
rm "$work/store-deep$victim/a-fifo"
(ulimit -n 1024; expect_error "deeper than the open-file limit" "(raise it with ulimit -n)" -- --store-root "$work/store-deep" "$closure" "$out/img"; echo "$passed $failed" >"$work/counts")
read -r passed failed <"$work/counts"
chmod -R u+w "$work/store-deep"; rm -rf "$work/store-deep"

# OUTPUT names up to 255 bytes: no temporary name is derived from them.
long=$(printf 'i%.0s' $(seq 255))
rc=0
"$mk" -q "${base[@]}" "$closure" "$out/$long" 2>"$work/stderr" >/dev/null || rc=$?
if [ "$rc" -eq 0 ] && [ -f "$out/$long" ] && [ "$(ls -A "$out" | wc -l)" -eq 1 ]; then
	echo "ok: a 255-byte OUTPUT name"; passed=$((passed + 1))
else
	fail "255-byte OUTPUT name: rc=$rc $(cat "$work/stderr")"
fi
rm -rf "${out:?}"/* "$out"/.[!.]* 2>/dev/null || true

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
