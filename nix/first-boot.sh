#!/usr/bin/env bash
# r2s-first-boot [--root DIR] [--system PATH] [--no-grow]
#
# The one-time duties of a NixOS system booted from an SD-card image
# written by mkr2simg (what nixpkgs' sd-image.nix does in
# boot.postBootCommands, for mkr2simg's GPT layout).  Does nothing unless
# DIR/nix-path-registration exists; otherwise, in this order:
#
#  1. grows the partition mounted at DIR to the end of its disk and the
#     ext4 in it, online: moves the backup GPT to the disk's real end
#     (an image written to a bigger card has it in the middle), extends the
#     partition's end (start, type, unique GUID, name and attributes stay),
#     tells the kernel (partx -u), resize2fs.  A failure here is reported
#     and the rest still runs: the system works, only smaller.
#  2. registers the image's store: nix-store --load-db < DIR/nix-path-registration
#  3. touch DIR/etc/NIXOS; makes the system profile point at SYSTEM
#     (default: /run/current-system), as nixos-rebuild needs;
#  4. removes DIR/nix-path-registration, so none of this runs again.
# If 2 or 3 fail, the registration stays and the next boot tries again
# (every step is safe to repeat).
#
#   --root DIR     the mounted root file system (default /; anything else
#                  uses the Nix store at DIR through --store local?root=DIR)
#   --system PATH  the NixOS system for the profile
#   --no-grow      skip step 1
#
# Needs: util-linux (findmnt, sfdisk, partx), e2fsprogs (resize2fs),
# coreutils, Nix (nix-store, nix-env), all from PATH.
set -euo pipefail

me=r2s-first-boot
log() { echo "$me: $*" >&2; }

root=/ system=/run/current-system grow=yes
while [ $# -gt 0 ]; do
    case $1 in
        --root) root=$2; shift 2 ;;
        --system) system=$2; shift 2 ;;
        --no-grow) grow=no; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) log "usage: $me [--root DIR] [--system PATH] [--no-grow]"; exit 2 ;;
    esac
done
[ "$root" = / ] || root=${root%/}
reg=${root%/}/nix-path-registration

[ -f "$reg" ] || exit 0

# grow_root: step 1.  Returns non-zero (after saying why) on failure.
grow_root() {
    local source dev name partn disk label
    source=$(findmnt -n -o SOURCE --mountpoint "$root") || { log "$root is not a mount point"; return 1; }
    dev=$(readlink -f "$source")
    name=${dev##*/}
    if [ ! -b "$dev" ] || [ ! -r "/sys/class/block/$name/partition" ]; then
        log "$root is on $source, not on a disk partition; not growing it"
        return 1
    fi
    partn=$(cat "/sys/class/block/$name/partition")
    disk=/dev/$(basename "$(readlink -f "/sys/class/block/$name/..")")
    [ -b "$disk" ] || { log "no disk device $disk for $dev"; return 1; }
    log "growing partition $partn of $disk ($dev) and its file system to the end of the disk"

    # --no-reread --no-tell-kernel: the disk is in use (it holds /), so
    # sfdisk must not ask the kernel to re-read the whole table; partx
    # updates just this partition below.  sfdisk's chatter goes to stderr.
    label=$(sfdisk --dump "$disk" | sed -n 's/^label: //p')
    if [ "$label" = gpt ]; then
        # The image's backup GPT sits at the end of the image, not of the
        # card: move it (and the PMBR's size) to the card's last sectors.
        sfdisk --no-reread --no-tell-kernel --relocate gpt-bak-std "$disk" >&2 || return 1
    fi
    # ", +": keep the start, type, UUID, name and attributes; the largest
    # size that fits.
    echo ', +' | sfdisk --no-reread --no-tell-kernel -N "$partn" "$disk" >&2 || return 1
    partx -u --nr "$partn" "$disk" || return 1
    resize2fs "$dev" >&2 || return 1
}

if [ "$grow" = yes ]; then
    grow_root || log "warning: could not grow the root partition; the system keeps its image size"
fi

store=()
[ "$root" = / ] || store=(--store "local?root=$root")

log "registering the store paths in $reg"
nix-store "${store[@]}" --load-db < "$reg"

# nixos-rebuild also requires a "system" profile and an /etc/NIXOS tag.
mkdir -p "${root%/}/etc" "${root%/}/nix/var/nix/profiles"
touch "${root%/}/etc/NIXOS"
nix-env "${store[@]}" -p "${root%/}/nix/var/nix/profiles/system" --set "$system"

rm -f "$reg"
sync
log "done"
