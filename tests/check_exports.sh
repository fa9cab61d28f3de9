#!/bin/sh
# check_exports.sh - the shared library exports its API and nothing else.
#
# Owns: the list of symbols libmkr2simg.so may export (the MKR2SIMG_API
# functions of lib/mkr2simg.h, plus what the linker itself defines) and
# the check of `nm -D --defined-only` against it.  Fails naming every
# extra or missing symbol.
#
# Usage: check_exports.sh NM LIBRARY
set -eu

[ $# -eq 2 ] || { echo "usage: $0 NM LIBRARY" >&2; exit 2; }
nm=$1
lib=$2

api="mkr2simg_build mkr2simg_options_init mkr2simg_parse_size \
mkr2simg_parse_offset mkr2simg_inspect mkr2simg_inspect_options_init \
mkr2simg_verify mkr2simg_verify_options_init"
# Defined by the linker or the C runtime in every shared object, not by us.
linker="_init _fini _edata _end __bss_start"

symbols=$("$nm" -D --defined-only -P "$lib" | cut -d' ' -f1 | sort -u)
[ -n "$symbols" ] || { echo "FAIL: $lib exports nothing" >&2; exit 1; }

status=0
for s in $symbols; do
	case " $api $linker " in
	*" $s "*) ;;
	*) echo "FAIL: $lib exports '$s', which is not in lib/mkr2simg.h's API" >&2
	   status=1 ;;
	esac
done
for s in $api; do
	printf '%s\n' "$symbols" | grep -qx "$s" ||
		{ echo "FAIL: $lib does not export '$s'" >&2; status=1; }
done
[ $status -ne 0 ] || echo "ok: $lib exports only: $(echo $symbols)"
exit $status
