#!/usr/bin/env bash
# package_test.sh MKR2SIMG
#
# Builds flake.nix's packages.<system>.mkr2simg -- nix/package.nix through
# the flake's callPackage -- with Nix, with stub-nixpkgs/'s
# stdenv.mkDerivation (Debian's meson, ninja, compiler and libraries in
# place of nixpkgs'; see there for what that does and does not prove), and
# checks:
#  - with nixpkgs' `xxhash` (its `xxHash` alias never touched: the stub's
#    throws) and with an older nixpkgs' `xxHash` the package is the same;
#  - package.nix's source filter keeps what meson needs to configure,
#    build, test and install, and leaves out build trees, nix/, flake.nix;
#  - its checkPhase runs the unit tests inside a Nix build (where Nix's
#    seccomp filter forbids setuid files) and they pass;
#  - the install: bin/mkr2simg (runs, right version), the library, the
#    header, a pkg-config file a C program compiles and links against;
#  - the packaged command writes the same image as MKR2SIMG.
# Exit 77 (skip) only when Nix is not installed.
set -euo pipefail

me=package_test
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 MKR2SIMG" >&2; exit 2; }
exe=$(readlink -f "$1")
need_nix
for t in meson ninja cc pkg-config; do
	command -v "$t" >/dev/null || fail "needs $t (meson ninja-build build-essential pkg-config)"
done
start=$SECONDS

pkg="let
  flake = (import $SRC/flake.nix).outputs { self = flake; inherit (import $SRC/tests/nix/stub-nixpkgs { }) nixpkgs; };
in flake.packages.\${builtins.currentSystem}.mkr2simg"

# ---- xxhash: nixpkgs' new name, the old one where that is all there is ----------------------
# The default stub is today's nixpkgs: `xxhash`, and `xxHash` an alias that
# throws when touched (allowAliases = false fails, else it warns).
pkg_with() { # XXHASH: the flake's package with stub-nixpkgs { xxhash = XXHASH; }
	echo "let
  flake = (import $SRC/flake.nix).outputs { self = flake; inherit (import $SRC/tests/nix/stub-nixpkgs { xxhash = \"$1\"; }) nixpkgs; };
in flake.packages.\${builtins.currentSystem}.mkr2simg"
}
drv_new=$(nix-instantiate --eval -E "($(pkg_with renamed)).drvPath" 2>"$W/err") ||
	{ cat "$W/err" >&2; fail "the package does not evaluate with nixpkgs' xxhash (is the xxHash alias touched?)"; }
drv_old=$(nix-instantiate --eval -E "($(pkg_with old)).drvPath" 2>"$W/err") ||
	{ cat "$W/err" >&2; fail "the package does not evaluate with an older nixpkgs' xxHash"; }
[ "$drv_new" = "$drv_old" ] || fail "xxhash and xxHash give different packages: $drv_new, $drv_old"
# package.nix itself takes `xxhash` only: the fallback is call-package.nix's
if nix-instantiate --eval -E "((import $SRC/tests/nix/stub-nixpkgs { xxhash = \"old\"; }).pkgs.callPackage $SRC/nix/package.nix { }).drvPath" \
	>/dev/null 2>"$W/err"; then
	fail "package.nix evaluated without xxhash: the old-nixpkgs stub is not old"
fi
grep -q "xxhash" "$W/err" || { cat "$W/err" >&2; fail "package.nix without xxhash failed for another reason"; }

# ---- the source ---------------------------------------------------------------------------
src=$(nix-instantiate --eval --read-write-mode -E "toString ($pkg).src" | tr -d '"')
[ -d "$src" ] || fail "package.nix's src $src is not a directory"
for f in meson.build meson_options.txt lib/mkr2simg.h cmd/main.c tests/meson.build tests/test_gpt.c; do
	[ -e "$src/$f" ] || fail "the package source lacks $f"
done
for f in build nix flake.nix .git; do
	[ ! -e "$src/$f" ] || fail "the package source has $f"
done
[ -z "$(find "$src" -maxdepth 1 -name 'build*' -o -maxdepth 1 -name 'result*' -o -maxdepth 1 -name '*.img')" ] ||
	fail "the package source has build trees, results or images"

# ---- build (meson, unit tests, install) ----------------------------------------------------
note "[$((SECONDS - start)) s] building the package (meson, unit tests in checkPhase)"
nix-build -o "$W/result" -E "$pkg" >"$W/out" 2>"$W/build.log" ||
	{ cat "$W/build.log" >&2; fail "building the package failed"; }
out=$(cat "$W/out")
# The build's log, also when Nix had built it before.
nix-store --read-log "$out" >"$W/build.log" 2>/dev/null ||
	fail "no build log for $out (is keep-log off?)"
grep -qE '^Ok: +[0-9]+' "$W/build.log" || { cat "$W/build.log" >&2; fail "checkPhase ran no tests"; }
ok=$(awk '/^Ok:/ { print $2 }' "$W/build.log")
failed=$(awk '/^Fail:/ { print $2 }' "$W/build.log")
# The unit suite as meson itself lists it for the build being tested
# (the same meson.build the package builds from).
units=$(meson introspect "$(dirname "$exe")" --tests | python3 -c '
import json, sys
print(sum(1 for t in json.load(sys.stdin) if "mkr2simg:unit" in t["suite"]))')
skipped=0
grep -q 'not running unit test: fstree' "$W/build.log" && skipped=1
if [ "$failed" != 0 ] || [ "$ok" -ne $((units - skipped)) ]; then
	fail "checkPhase: $ok unit tests passed, $failed failed, $skipped left out; tests/meson.build has $units"
fi
note "checkPhase: $ok of $units unit tests passed$([ "$skipped" = 1 ] && echo "; fstree left out: Nix forbids setuid files in builds")"

# ---- the install -----------------------------------------------------------------------------
version=$(sed -n "s/^  version : '\\([^']*\\)',\$/\\1/p" "$SRC/meson.build")
[ "$("$out/bin/mkr2simg" --version)" = "mkr2simg $version" ] ||
	fail "$out/bin/mkr2simg --version: $("$out/bin/mkr2simg" --version)"
for f in include/mkr2simg.h lib/libmkr2simg.so lib/pkgconfig/mkr2simg.pc; do
	[ -e "$out/$f" ] || fail "the package lacks $f"
done
grep -qx "prefix=$out" "$out/lib/pkgconfig/mkr2simg.pc" || fail "mkr2simg.pc: prefix is not $out"
cat >"$W/use.c" <<'EOF'
#include <mkr2simg.h>
#include <stdio.h>
int main(void)
{
	struct mkr2simg_options o;
	uint64_t n = 0;
	mkr2simg_options_init(&o);
	if (mkr2simg_parse_size("512M", &n) != 0 || n != 512u << 20)
		return 1;
	printf("%s\n", MKR2SIMG_VERSION);
	return 0;
}
EOF
# shellcheck disable=SC2046  # pkg-config's words are separate arguments
cc -o "$W/use" "$W/use.c" $(PKG_CONFIG_PATH=$out/lib/pkgconfig pkg-config --cflags --libs mkr2simg) \
	-Wl,-rpath,"$out/lib" || fail "a program cannot be built with pkg-config mkr2simg"
[ "$("$W/use")" = "$version" ] || fail "a program linked against the packaged library does not work"

# ---- the packaged command writes the same image ------------------------------------------------
"$out/bin/mkr2simg" -q --store-root "$SRC/fixtures/store" "$SRC/fixtures/closure.txt" "$W/packaged.img" 2>/dev/null
"$exe" -q --store-root "$SRC/fixtures/store" "$SRC/fixtures/closure.txt" "$W/built.img" 2>/dev/null
cmp "$W/packaged.img" "$W/built.img" >&2 || fail "the packaged mkr2simg writes a different image than $exe"

note "OK [$((SECONDS - start)) s]: $out"
