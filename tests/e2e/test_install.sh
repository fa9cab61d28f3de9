#!/usr/bin/env bash
# test_install.sh BUILD_DIR
#
# `meson install` gives a user everything: the command, the shared
# library, the header, the pkg-config file (a program builds and runs
# against them), the man page mkr2simg(1) and bash completion.  The man
# page and the completion describe every verb and option each verb's
# --help lists, and the version everywhere is meson's.
set -euo pipefail

build=$(realpath "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

dest=$work/dest
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >/dev/null
prefix=$(meson introspect "$build" --buildoptions |
	python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
libdir=$(meson introspect "$build" --buildoptions |
	python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "libdir"))')
version=$(meson introspect "$build" --projectinfo |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
root=$dest$prefix
case $libdir in /*) lib=$dest$libdir ;; *) lib=$root/$libdir ;; esac
bin=$root/bin/mkr2simg
man=$root/share/man/man1/mkr2simg.1
completion=$root/share/bash-completion/completions/mkr2simg

for f in "$bin" "$lib/libmkr2simg.so" "$root/include/mkr2simg.h" \
	"$lib/pkgconfig/mkr2simg.pc" "$man" "$completion"; do
	[ -e "$f" ] && ok "installed ${f#"$root"/}" || fail "not installed: ${f#"$root"/}"
done

# ---- the installed command and library -------------------------------
export LD_LIBRARY_PATH=$lib
[ "$("$bin" --version)" = "mkr2simg $version" ] &&
	ok "--version says $version (meson's)" || fail "--version: $("$bin" --version)"
cat > "$work/use.c" <<'C'
#include <stdio.h>
#include <mkr2simg.h>
int main(void)
{
	struct mkr2simg_options o;
	uint64_t b;

	mkr2simg_options_init(&o);
	if (mkr2simg_parse_size("512M", &b) != 0 || b != 512ull << 20)
		return 1;
	printf("%s %llu\n", MKR2SIMG_VERSION, (unsigned long long)o.boot_size);
	return 0;
}
C
flags=$(PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_PATH=$lib/pkgconfig \
	pkg-config --cflags --libs mkr2simg)
# shellcheck disable=SC2086 # flags are words
if cc -o "$work/use" "$work/use.c" $flags && out=$("$work/use") &&
	[ "$out" = "$version $((512 << 20))" ]; then
	ok "a program builds with pkg-config and runs against the installed library"
else
	fail "pkg-config build or run: ${out:-no output}"
fi

# ---- every verb and option in the man page and the completion --------
verbs=$("$bin" --help | awk '/^Verbs:/ { on = 1; next } on && /^$/ { exit } on { print $1 }')
[ "$(echo "$verbs" | wc -w)" -ge 3 ] && ok "--help lists the verbs: $(echo $verbs)" ||
	fail "--help lists no verbs"
options_of() { # VERB: the long options its --help lists
	if [ "$1" = build ]; then "$bin" --help; else "$bin" "$1" --help; fi |
		grep -oE -- '(^|[ ,])--[a-z][a-z-]+' | sed 's/^[ ,]*//' | sort -u
}
LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$man" 2> "$work/groff.err" || true
[ -s "$work/groff.err" ] && { fail "groff warns on the man page:"; cat "$work/groff.err"; } ||
	ok "the man page renders without a warning"
grep -q "mkr2simg $version" "$man" && ok "the man page carries $version" ||
	fail "the man page does not say $version"
# shellcheck disable=SC1090
source "$completion"
complete_words() { # WORDS...: what TAB offers after them (last is partial)
	COMP_WORDS=(mkr2simg "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_mkr2simg
	printf '%s\n' "${COMPREPLY[@]}" | sort -u
}
for v in $verbs; do
	grep -q "^\.B $v\$" "$man" && ok "man page describes verb $v" || fail "man page lacks verb $v"
	[ "$(complete_words "${v:0:3}")" != "" ] && complete_words "${v:0:3}" | grep -qx "$v" &&
		ok "completion offers verb $v" || fail "completion does not offer verb $v"
	want=$(options_of "$v")
	missing=$(for o in $want; do grep -qF -- "${o//-/\\-}" "$man" || echo "$o"; done)
	[ -z "$missing" ] && ok "man page has every option of $v" ||
		fail "man page lacks $v's $(echo $missing)"
	if [ "$v" = build ]; then got=$(complete_words --); else got=$(complete_words "$v" --); fi
	extra=$(comm -13 <(echo "$want") <(echo "$got") | tr '\n' ' ')
	lacking=$(comm -23 <(echo "$want") <(echo "$got") | tr '\n' ' ')
	[ -z "$extra$lacking" ] && ok "completion offers exactly $v's options" ||
		fail "completion of $v: lacks '$lacking', offers unknown '$extra'"
done
dirs=$(cd "$work" && complete_words --store-root "")
[ "$dirs" = dest/ ] || [ "$dirs" = dest ] && ok "--store-root completes folders" ||
	fail "--store-root completes '$dirs'"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
