# shellcheck shell=bash
# Helpers shared by the boot test's scripts.  Sourced, not run.

BOOT_PROG=${0##*/}

say() { printf '%s: %s\n' "$BOOT_PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$BOOT_PROG" "$*" >&2; exit 1; }

# skip MESSAGE: exit 77 (meson: SKIP) -- except under CI (CI=true), or with
# MKR2SIMG_BOOT_REQUIRED=1, where the boot test must run: there a missing
# prerequisite is an error.
skip() {
	if [ "${MKR2SIMG_BOOT_REQUIRED:-}" = 1 ] ||
		{ [ "${CI:-}" = true ] && [ "${MKR2SIMG_BOOT_REQUIRED:-}" != 0 ]; }; then
		printf '%s: error: %s (CI must run the boot test)\n' "$BOOT_PROG" "$*" >&2
		exit 1
	fi
	printf '%s: SKIP: %s\n' "$BOOT_PROG" "$*" >&2
	exit 77
}

# The folder, outside the source tree, that keeps the arm64 packages and
# what the test takes from them, so that only the first run downloads.
boot_cache_dir() {
	if [ -n "${MKR2SIMG_BOOT_CACHE:-}" ]; then
		printf '%s\n' "$MKR2SIMG_BOOT_CACHE"
	elif [ -n "${XDG_CACHE_HOME:-}" ]; then
		printf '%s\n' "$XDG_CACHE_HOME/mkr2simg/boot-arm64"
	elif [ -n "${HOME:-}" ] && [ "$HOME" != / ]; then
		printf '%s\n' "$HOME/.cache/mkr2simg/boot-arm64"
	else
		printf '%s\n' /var/tmp/mkr2simg-boot-arm64
	fi
}

# need_tools TOOL...: skip when a host tool is missing.
need_tools() {
	local t missing=()
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	[ ${#missing[@]} -eq 0 ] ||
		skip "host tools not found: ${missing[*]} (.ci/deps installs them: qemu-system-arm cpio kmod ...)"
}
