# shellcheck shell=bash
# Helpers shared by check_image.sh and make_reference_image.sh.  Sourced,
# not run.  Nothing here knows about mkr2simg's C code: it restates the
# spec (what NixOS's extlinux-conf-builder.sh would write for a toplevel).

# Characters of Nix's base-32 alphabet, and a store path's shape.
# shellcheck disable=SC2034 # used by the scripts that source this
NIX_BASE32='0123456789abcdfghijklmnpqrsvwxyz'
STORE_PATH_RE="^/nix/store/[${NIX_BASE32}]{32}-[A-Za-z0-9+._?=-]+\$"

# store_resolve ROOT PATH: PATH (absolute, as seen inside the store, e.g.
# /nix/store/…-nixos-system-…/kernel) with every symlink followed inside
# ROOT, the directory holding nix/store: an absolute target /x means
# ROOT/x, never the host's /x.  Prints the resolved path as seen inside the
# store; returns 1 on a symlink loop (more than 40 links) or when the
# result does not exist.
store_resolve() {
	local root=$1 todo=${2#/} done='' comp link n=0
	while [ -n "$todo" ]; do
		comp=${todo%%/*}
		if [[ $todo == */* ]]; then todo=${todo#*/}; else todo=''; fi
		case $comp in
		'' | .) continue ;;
		..) done=${done%/*}; continue ;;
		esac
		if [ -L "$root$done/$comp" ]; then
			n=$((n + 1))
			[ "$n" -le 40 ] || return 1
			link=$(readlink -- "$root$done/$comp")
			[[ $link == /* ]] && done=''
			link=${link#/}
			todo=$link${todo:+/$todo}
		else
			done=$done/$comp
		fi
	done
	[ -e "$root$done" ] || return 1
	printf '%s\n' "${done:-/}"
}

# clean_name PATH: /nix/store/abc-linux/Image -> abc-linux-Image
clean_name() {
	local s=${1#/nix/store/}
	printf '%s\n' "${s//\//-}"
}

# extlinux_timeout SECONDS: the TIMEOUT value (U-Boot counts tenths of a
# second, 0 means wait forever): N>0 -> N*10, 0 -> -10, N<0 -> 0.
extlinux_timeout() {
	if [ "$1" -lt 0 ]; then echo 0
	elif [ "$1" -eq 0 ]; then echo -10
	else echo $(($1 * 10)); fi
}

# extlinux_conf TOPLEVEL KERNEL_NAME INITRD_NAME DTBS_NAME TIMEOUT DTB PARAMS
# Writes extlinux.conf to stdout.  DTBS_NAME empty: no device tree line (the
# toplevel has no dtbs).  DTB "none": FDTDIR.  PARAMS is kernel-params with
# trailing newlines removed, as $(cat …) does in the NixOS builder.
extlinux_conf() {
	local toplevel=$1 kernel=$2 initrd=$3 dtbs=$4 timeout=$5 dtb=$6 params=$7
	cat <<EOF
# Generated file, all changes will be lost on nixos-rebuild!

# Change this to e.g. nixos-42 to temporarily boot to an older configuration.
DEFAULT nixos-default

MENU TITLE ------------------------------------------------------------
TIMEOUT $(extlinux_timeout "$timeout")

LABEL nixos-default
  MENU LABEL NixOS - Default
  LINUX ../nixos/$kernel
  INITRD ../nixos/$initrd
  APPEND init=$toplevel/init $params
EOF
	if [ -n "$dtbs" ]; then
		if [ "$dtb" = none ]; then
			printf '  FDTDIR ../nixos/%s\n' "$dtbs"
		else
			printf '  FDT ../nixos/%s/%s\n' "$dtbs" "$dtb"
		fi
	fi
}

# read_closure FILE: the closure's paths, cleaned (no blank lines, no
# trailing blanks, no duplicates), sorted bytewise.
read_closure() {
	{ grep -v '^[[:space:]]*$' "$1" || true; } | sed 's/[[:space:]]*$//' | LC_ALL=C sort -u
}
