#!/usr/bin/env bash
# prepare_fixtures.sh DEST
#
# Lays out everything an end-to-end test needs in DEST (created; must not
# exist or be empty):
#
#   DEST/store/nix/store/...   the fixture store, plus what git cannot hold:
#                              empty directories, odd source modes (0100,
#                              0600, 0700, 04755, 0000) and source hardlinks
#   DEST/closure.txt           the closure (copy of fixtures/closure.txt)
#   DEST/toplevel              the toplevel store path, one line
#   DEST/registration          nix-store --load-db registration of the closure
#                              (only when nix-store is installed)
#   DEST/bootloader/idbloader.img, u-boot.itb, u-boot-rockchip.bin
#                              fake, deterministic bootloader blobs; the
#                              combined one is idbloader + padding + itb with
#                              the itb at sector 16384 - 64 of the file
#
# Run as root (or with fakeroot) only if you need the modes exactly as
# described; as another user the odd modes still apply to your own files.
set -euo pipefail

die() { echo "prepare_fixtures: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: prepare_fixtures.sh DEST"
dest=$1
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$(cd "$here/../../fixtures" && pwd)
[ -d "$fixtures/store/nix/store" ] || die "no fixture store in $fixtures/store"

if [ -e "$dest" ] && [ -n "$(ls -A "$dest")" ]; then
	die "$dest exists and is not empty"
fi
mkdir -p "$dest/bootloader"
cp -a "$fixtures/store" "$dest/store"
cp "$fixtures/closure.txt" "$dest/closure.txt"
grep -- '-nixos-system-' "$fixtures/closure.txt" >"$dest/toplevel"

S=$dest/store/nix/store
p() { # p NAME -> the one store directory entry ending in -NAME
	local m
	m=$(cd "$S" && find . -mindepth 1 -maxdepth 1 -name "????????????????????????????????-$1" | cut -c3-)
	if [ -z "$m" ] || [ "$(printf '%s\n' "$m" | wc -l)" -ne 1 ]; then
		die "fixture path *-$1 not found exactly once"
	fi
	printf '%s/%s' "$S" "$m"
}
LINUX=$(p linux-6.6.1)
COREUTILS=$(p coreutils-9.4)
HELLO=$(p hello-2.12.1)
ETC=$(p etc)

# Empty directories (git drops them), nested ones too, one inside dtbs so
# that the /boot copy of the dtbs tree has one.
mkdir -p "$COREUTILS/share/locale" "$HELLO/lib/empty/nested/deeper" "$LINUX/dtbs/vendor-empty"

# Source hardlinks: they must not matter (with --no-dedup they must be
# broken up, with dedup they coincide with the content groups anyway).
ln -f "$COREUTILS/share/doc/coreutils/COPYING" "$HELLO/share/doc/hello/COPYING"
ln -f "$COREUTILS/share/many/entry-with-a-longish-name-000" "$COREUTILS/share/many/entry-with-a-longish-name-002"

# Modes the canonicalisation has to fix.
chmod 0100 "$COREUTILS/libexec/coreutils/helper"   # owner-exec only -> 0555
chmod 04755 "$COREUTILS/bin/cp"                    # setuid -> 0555
chmod 0600 "$HELLO/share/doc/hello/secret.txt"     # -> 0444
chmod 0000 "$HELLO/share/hello/empty"              # -> 0444
chmod 0700 "$ETC/etc/ssh"                          # directory -> 0555
chmod 0750 "$HELLO/share/man"                      # directory -> 0555
chmod 0444 "$LINUX/Image"

# Fake bootloaders: numbered text lines, so every offset has distinct bytes.
seq 1 100000 >"$dest/bootloader/idbloader.img"
truncate -s 150000 "$dest/bootloader/idbloader.img"
seq 500000 800000 >"$dest/bootloader/u-boot.itb"
truncate -s 900001 "$dest/bootloader/u-boot.itb"
{
	cat "$dest/bootloader/idbloader.img"
	head -c $(((16384 - 64) * 512 - 150000)) /dev/zero
	cat "$dest/bootloader/u-boot.itb"
} >"$dest/bootloader/u-boot-rockchip.bin"

if command -v nix-store >/dev/null; then
	"$here/make_registration.sh" "$dest/store" "$dest/closure.txt" >"$dest/registration"
else
	echo "prepare_fixtures: nix-store not found, no $dest/registration" >&2
fi
