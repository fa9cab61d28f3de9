#!/usr/bin/env bash
# test_cli.sh MKR2SIMG
#
# What the front end shows: one progress line redrawn in place on a
# terminal (a pty made by util-linux's `script`), nothing of it when
# stderr is a file or with -q, and the summary's wall time.
set -euo pipefail

mk=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash "$here/prepare_fixtures.sh" "$work/fx" >/dev/null
fx=$work/fx
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
build=("$mk" --store-root "$fx/store" "$fx/closure.txt")

# on_tty OUT ARGS...: runs mkr2simg ARGS with a terminal as stdin, stdout
# and stderr; everything it wrote goes to OUT.
on_tty() {
	local out=$1 cmd
	shift
	printf -v cmd '%q ' "$@"
	script -qec "$cmd" /dev/null > "$out" < /dev/null
}

on_tty "$work/tty.txt" "${build[@]}" "$work/a.img"
tr '\r' '\n' < "$work/tty.txt" > "$work/tty-lines.txt"
if grep -qE '^writing /nix/store: [0-9]+/[0-9]+ files, ' "$work/tty-lines.txt" &&
	grep -qE '^writing /boot: [0-9]+/[0-9]+ files' "$work/tty-lines.txt" &&
	grep -q $'\r' "$work/tty.txt"; then
	ok "a terminal gets the progress line, redrawn with carriage returns"
else
	fail "no progress line on a terminal:"; cat -A "$work/tty.txt"
fi
if awk '{ sub(/\r$/, "") } length > 79 && !/^mkr2simg: /' "$work/tty-lines.txt" | grep -q .; then
	fail "a progress line is wider than 79 columns"
else
	ok "progress lines fit 79 columns"
fi
if grep -qE '^mkr2simg: wrote .*\) in [0-9]+\.[0-9] s: ' "$work/tty-lines.txt"; then
	ok "the summary gives the wall time"
else
	fail "no wall time in the summary"
fi

"${build[@]}" "$work/b.img" > "$work/out.txt" 2> "$work/err.txt"
if grep -q $'\r' "$work/err.txt" || grep -q 'files, ' "$work/err.txt"; then
	fail "progress written to a stderr that is not a terminal"; cat -A "$work/err.txt"
else
	ok "no progress when stderr is a file"
fi
cmp -s "$work/a.img" "$work/b.img" && ok "same image with and without progress" ||
	fail "the progress line changed the image"

on_tty "$work/quiet.txt" "${build[@]}" -q "$work/c.img"
if grep -q 'files, \|^mkr2simg: wrote' "$work/quiet.txt"; then
	fail "-q still shows progress or the summary"; cat -A "$work/quiet.txt"
else
	ok "-q shows neither progress nor summary"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
