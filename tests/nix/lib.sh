# shellcheck shell=bash
# Shared by the tests/nix/*_test.sh scripts; source it after setting `me`.
#
#   SRC        the source tree (two levels up)
#   W          a private work directory, removed on exit (with every GC
#              root the test made in it), after test_cleanup if defined
#   need_nix   exit 77 (meson: skip) unless nix-build & co. are installed;
#              then load tests/e2e/nix_env.sh (sandbox off, no substituters,
#              local store) -- the only reason these tests skip
#   stage_mkr2simg EXE DIR
#              copy a meson-built mkr2simg and the libmkr2simg.so.0 next to
#              it (found through its $ORIGIN runpath) into DIR/bin, for
#              test.nix to add to the store by content
#   nb ARGS    nix-build with the test's settings, quiet unless it fails
# shellcheck disable=SC2154  # `me` is set by the sourcing script

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$here/../.." && pwd)

fail() { echo "$me: FAIL: $*" >&2; exit 1; }
note() { echo "$me: $*" >&2; }

need_nix() {
	local t
	for t in nix-build nix-instantiate nix-store nix-hash nix-env nix; do
		if ! command -v "$t" >/dev/null 2>&1; then
			echo "$me: SKIP: '$t' not found (install Debian's nix-bin; .ci/deps does)" >&2
			[ "${CI:-}" = true ] && exit 1 # CI never passes by skipping
			exit 77
		fi
	done
	# shellcheck source-path=SCRIPTDIR source=../e2e/nix_env.sh
	. "$SRC/tests/e2e/nix_env.sh"
	if [ "$NIX_REMOTE" = local ] && [ ! -w /nix/var/nix ] && [ -e /nix/var/nix ]; then
		fail "the Nix store /nix is not writable by $(id -un); run the Nix tests as root"
	fi
}

W=$(mktemp -d "${TMPDIR:-/tmp}/mkr2simg-nix-test.XXXXXX")
# A test that holds more than files (mounts, loop devices) defines
# test_cleanup; it runs first.
cleanup() {
	if declare -F test_cleanup >/dev/null; then test_cleanup || true; fi
	rm -rf "$W"
}
trap cleanup EXIT
# meson's timeout sends SIGTERM: exit through the EXIT trap (unmount,
# detach loop devices) instead of dying on the spot.
trap 'exit 143' TERM INT HUP

stage_mkr2simg() {
	local exe=$1 dir=$2 lib
	[ -x "$exe" ] || fail "no mkr2simg executable at '$exe'"
	lib=$(dirname "$exe")/libmkr2simg.so.0
	[ -e "$lib" ] || fail "no $lib next to $exe (expected the meson build tree)"
	mkdir -p "$dir/bin"
	cp "$exe" "$dir/bin/mkr2simg"
	cp -L "$lib" "$dir/bin/libmkr2simg.so.0"
	chmod 0555 "$dir/bin/mkr2simg"
	chmod 0444 "$dir/bin/libmkr2simg.so.0"
	"$dir/bin/mkr2simg" --version >/dev/null || fail "the staged $dir/bin/mkr2simg does not run"
}

# nb [nix-build args]: prints the out paths; the build log goes to
# $W/nix-build.log and is shown only when the build fails.
nb() {
	if ! nix-build "$@" 2>"$W/nix-build.log"; then
		cat "$W/nix-build.log" >&2
		fail "nix-build $* failed"
	fi
}
