# shellcheck shell=bash
# damage.sh - damaging an image with real tools (debugfs -w, dd,
# sfdisk), for the tests that prove a checker fails.  Sourced, not run.

# p1_offset IMAGE, p2_offset IMAGE: byte offset of partition 1 or 2
p1_offset() { echo $(($(sfdisk --json "$1" | jq '.partitiontable.partitions[0].start') * 512)); }
p2_offset() { echo $(($(sfdisk --json "$1" | jq '.partitiontable.partitions[1].start') * 512)); }

# dbg IMAGE OFFSET COMMAND...: debugfs -w on the filesystem at OFFSET,
# one command per argument
dbg() {
	local img=$1 off=$2
	shift 2
	printf '%s\n' "$@" | debugfs -w -f - "$img?offset=$off" >/dev/null 2>&1
}

# flip IMAGE BYTE_OFFSET: invert one byte
flip() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf '%b' "\\$(printf '%03o' $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# data_offset IMAGE PART_OFFSET PATH: image byte offset of PATH's first
# data block
data_offset() {
	local blk
	blk=$(debugfs -R "bmap \"$3\" 0" "$1?offset=$2" 2>/dev/null)
	echo $(($2 + blk * 4096))
}
