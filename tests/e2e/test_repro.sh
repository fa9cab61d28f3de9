#!/usr/bin/env bash
# test_repro.sh MKR2SIMG
#
# Bit-reproducibility: the same inputs give the same bytes whatever the
# folder, the order and repetition of CLOSURE lines, the sources' mtimes,
# modes (beyond the exec bit) and hardlinks, the umask, TZ and locale.
# A different --seed changes the identifiers (and what follows from
# them) but not the trees; SOURCE_DATE_EPOCH sets the filesystem times.
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
reg=()
[ -s "$fx/registration" ] && reg=(--registration "$fx/registration")

# Build A: the prepared store, as is.
mkdir "$work/a"
(cd "$work/a" && umask 022 && TZ=UTC LC_ALL=C "$mk" -q --store-root "$fx/store" \
	"${reg[@]}" --idbloader "$fx/bootloader/idbloader.img" \
	--uboot-itb "$fx/bootloader/u-boot.itb" "$fx/closure.txt" out.img)

# Build B: another copy of the store with other mtimes, other non-exec
# mode bits, no source hardlinks but different ones, a shuffled and
# repeated closure on stdin, other folder, umask, TZ and locale, and the
# same bootloader bytes under other names.
mkdir -p "$work/b/deep/er" "$work/b/src"
cp -r "$fx/store" "$work/b/src/store" # -r: drops the source's hardlinks
s2=$work/b/src/store
chmod -R u+rwX "$s2"
i=0
while IFS= read -r -d '' f; do
	i=$((i + 1))
	touch -h -d "@$((1000000000 + i * 7919))" "$f"
	[ -L "$f" ] && continue
	if [ -d "$f" ]; then chmod 0750 "$f"
	elif [ -x "$f" ]; then chmod "$( ((i % 2)) && echo 0100 || echo 0711)" "$f"
	else chmod "$( ((i % 2)) && echo 0600 || echo 0640)" "$f"
	fi
done < <(find "$s2/nix/store" -mindepth 1 -print0)
# A source hardlink between two files with equal bytes and exec bit.
pair=$(find "$s2/nix/store" -type f -size +0 -printf '%s %m %p\n' | sort -n |
	awk '!done && p == $1" "$2 {print prev; print $3; done = 1} {p = $1" "$2; prev = $3}')
if [ -n "$pair" ] && cmp -s $pair; then
	first=$(echo "$pair" | head -1); second=$(echo "$pair" | tail -1)
	ln -f "$first" "$second"
fi
cp "$fx/bootloader/idbloader.img" "$work/b/one.bin"
cp "$fx/bootloader/u-boot.itb" "$work/b/two.bin"
[ ${#reg[@]} -eq 0 ] || cp "$fx/registration" "$work/b/reg"
breg=(); [ ${#reg[@]} -eq 0 ] || breg=(--registration ../../reg)
{ echo; sort -r "$fx/closure.txt"; echo; sed -n 2,4p "$fx/closure.txt"; } >"$work/b/shuffled"
(cd "$work/b/deep/er" && umask 077 && TZ=Pacific/Chatham LC_ALL=C.UTF-8 \
	"$mk" -q --store-root ../../src/store "${breg[@]}" --idbloader ../../one.bin \
	--uboot-itb ../../two.bin - ../out.img <"$work/b/shuffled")

a=$(sha256sum <"$work/a/out.img" | cut -c1-64)
b=$(sha256sum <"$work/b/deep/out.img" | cut -c1-64)
if [ "$a" = "$b" ]; then ok "identical images from different conditions ($a)"
else fail "images differ: $a vs $b"
fi

# Another --seed: other identifiers, same trees and geometry, still valid.
(cd "$work/a" && "$mk" -q --store-root "$fx/store" "${reg[@]}" --seed other \
	--idbloader "$fx/bootloader/idbloader.img" \
	--uboot-itb "$fx/bootloader/u-boot.itb" "$fx/closure.txt" seed.img)
ids() { # IMAGE: disk and partition GUIDs, filesystem UUIDs and hash seeds
	local img=$1 start
	sfdisk --json "$img" | jq -r '.partitiontable.id, .partitiontable.partitions[].uuid'
	for start in $(sfdisk --json "$img" | jq '.partitiontable.partitions[].start'); do
		dumpe2fs -h "$img?offset=$((start * 512))" 2>/dev/null |
			awk -F: '/^Filesystem UUID|^Directory Hash Seed/ {gsub(/ /, "", $2); print $2}'
	done
}
geometry() { sfdisk --json "$1" | jq -c '[.partitiontable.partitions[] | [.start, .size, .type, .name]]'; }
ids "$work/a/out.img" >"$work/ids-a"
ids "$work/a/seed.img" >"$work/ids-s"
if [ "$(wc -l <"$work/ids-a")" -eq 7 ] && [ -z "$(comm -12 <(sort "$work/ids-a") <(sort "$work/ids-s"))" ]; then
	ok "--seed other changes all 7 identifiers"
else
	fail "--seed: identifiers not all changed: $(paste -d' ' "$work/ids-a" "$work/ids-s" | tr '\n' ';')"
fi
if [ "$(geometry "$work/a/out.img")" = "$(geometry "$work/a/seed.img")" ]; then
	ok "--seed other keeps the partition geometry"
else
	fail "--seed changed the partition geometry"
fi
if grep -q '^[0-9a-f]\{8\}-[0-9a-f]\{4\}-8' "$work/ids-a"; then
	ok "identifiers are version-8 UUIDs"
else
	fail "identifiers are not version-8 UUIDs: $(tr '\n' ' ' <"$work/ids-a")"
fi
if bash "$here/check_image.sh" -q --store-root "$fx/store" --closure "$fx/closure.txt" \
	"${reg[@]}" --idbloader "$fx/bootloader/idbloader.img" \
	--uboot-itb "$fx/bootloader/u-boot.itb" "$work/a/seed.img"; then
	ok "the --seed image passes every check"
else
	fail "the --seed image fails the checks"
fi

# SOURCE_DATE_EPOCH: filesystem times follow it, store times stay 1.
epoch=1700000000
for n in 1 2; do
	(cd "$work/a" && SOURCE_DATE_EPOCH=$epoch "$mk" -q --store-root "$fx/store" \
		"$fx/closure.txt" "epoch$n.img" 2>/dev/null)
done
if cmp -s "$work/a/epoch1.img" "$work/a/epoch2.img"; then
	ok "SOURCE_DATE_EPOCH builds are reproducible"
else
	fail "two SOURCE_DATE_EPOCH builds differ"
fi
img=$work/a/epoch1.img
p1=$(sfdisk --json "$img" | jq '.partitiontable.partitions[0].start')
p2=$(sfdisk --json "$img" | jq '.partitiontable.partitions[1].start')
mtime() { debugfs -R "stat $2" "$img?offset=$(($1 * 512))" 2>/dev/null | awk '/^ *mtime:/ && !done {print $2; done = 1}' | cut -d: -f1; }
hex=$(printf '0x%08x' "$epoch")
conf=$(mtime "$p1" /extlinux/extlinux.conf)
wtime=$(TZ=UTC dumpe2fs -h "$img?offset=$((p2 * 512))" 2>/dev/null | sed -n 's/^Last write time: *//p')
store_file=$(sed -n 1p "$fx/closure.txt")
sfile=$(mtime "$p2" "$store_file")
if [ "$conf" = "$hex" ] && [ "$sfile" = "0x00000001" ] && [ "$wtime" = "$(TZ=UTC date -d @$epoch '+%a %b %e %H:%M:%S %Y')" ]; then
	ok "SOURCE_DATE_EPOCH: /boot files $conf, superblock '$wtime', store files $sfile"
else
	fail "SOURCE_DATE_EPOCH: extlinux.conf mtime $conf (want $hex), store $sfile (want 0x00000001), superblock '$wtime'"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
