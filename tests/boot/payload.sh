#!/bin/sh
# Builder of the boot test's store paths, one ROLE per call:
#   sh payload.sh ROLE      (writes $out; inputs come from the environment)
# Used both as the builder of the derivations in toplevel.nix (builder
# /bin/sh, host tools, sandbox off) and, where Nix is absent, by
# boot_test.sh to lay out the same paths in a fixture-like store tree.
#
#   linux     $kernelImage -> $out/Image, a dummy $out/dtbs/rockchip/
#             rk3328-nanopi-r2s.dtb (QEMU boots with its own device tree)
#   initrd    $initrdFile -> $out/initrd
#   data-b    files of several sizes, a unique 1 MiB file
#   data-a    more files, one identical to data-b's (hardlinked in the
#             image), symlinks of every kind ($dataB: data-b's path)
#   note      a store path that is a single executable file
#   big-dir   $out/entries: 9,000 empty files with 200-byte names (a
#             tenth with bytes from 0x80), 566 blocks: an htree of two
#             levels, more leaves than the root's 507 entries
#   toplevel  a NixOS-like system: kernel, initrd, dtbs, init,
#             kernel-params ... ($linux $initrd $dataA $dataB $note
#             $bigDir $kernelParams)
# shellcheck disable=SC2154 # the inputs come from the environment
set -eu
[ $# -eq 1 ] || { echo "usage: payload.sh ROLE" >&2; exit 2; }

# rnd SEED BYTES: deterministic pseudo-random bytes (perl's own drand48)
rnd() {
	perl -e 'srand($ARGV[0]); my $s = "";
	         $s .= pack("N", int(rand(4294967296))) for 1 .. int(($ARGV[1] + 3) / 4);
	         print substr($s, 0, $ARGV[1])' "$1" "$2"
}

case $1 in
linux)
	mkdir -p "$out/dtbs/rockchip"
	cp "$kernelImage" "$out/Image"
	chmod 0444 "$out/Image"
	{ printf '\320\015\376\355'; rnd 101 2900; } >"$out/dtbs/rockchip/rk3328-nanopi-r2s.dtb"
	;;
initrd)
	mkdir -p "$out"
	cp "$initrdFile" "$out/initrd"
	chmod 0444 "$out/initrd"
	;;
data-b)
	mkdir -p "$out/bin" "$out/share/doc"
	printf '#!/bin/sh\necho tool from data-b\n' >"$out/bin/tool"
	chmod 0755 "$out/bin/tool"
	printf 'common data shared by two store paths\n' >"$out/share/common.txt"
	rnd 1 1048576 >"$out/share/big.bin"
	rnd 2 4096 >"$out/share/block-4096.bin"
	rnd 3 4097 >"$out/share/block-4097.bin"
	: >"$out/share/empty"
	printf 'a file name with spaces\n' >"$out/share/doc/read me.txt"
	;;
data-a)
	mkdir -p "$out/bin" "$out/lib" "$out/links" "$out/share/nested/a/b/c/d" "$out/share/empty-dir"
	printf '#!/bin/sh\necho hello from data-a\nexec %s/bin/tool "$@"\n' "$dataB" >"$out/bin/hello"
	chmod 0755 "$out/bin/hello"
	printf 'common data shared by two store paths\n' >"$out/share/common.txt"
	printf 'deep\n' >"$out/share/nested/a/b/c/d/deep.txt"
	rnd 4 70000 >"$out/lib/libdata.so"
	rnd 5 4095 >"$out/lib/block-4095.bin"
	ln -s "$dataB/bin/tool" "$out/bin/tool"
	ln -s "$out/bin/hello" "$out/links/abs-self"
	ln -s ../share/common.txt "$out/links/relative"
	ln -s ../share/nested/a "$out/links/dir-link"
	ln -s ../does/not/exist "$out/links/dangling"
	ln -s "$dataB" "$out/links/data-b"
	# longer than 60 bytes: kept in a data block, not in the inode
	ln -s "../share/nested/a/b/c/d/../../../../../share/nested/./a/b/c/d/deep.txt" "$out/links/long"
	;;
note)
	printf '#!/bin/sh\necho a store path that is one file\n' >"$out"
	chmod 0755 "$out"
	;;
big-dir)
	mkdir -p "$out/entries"
	perl -e 'my $d = $ARGV[0];
	         for my $i (0 .. 8999) {
	             my $n = sprintf("%05d-", $i) . ($i % 10 ? "" : "\xc3\xa9" x 5);
	             $n .= chr(97 + ($i * 7 + length($n)) % 26) while length($n) < 200;
	             open(my $f, ">", "$d/$n") or die "$d/$n: $!";
	             close($f);
	         }' "$out/entries"
	;;
toplevel)
	mkdir -p "$out/deps"
	ln -s "$linux/Image" "$out/kernel"
	ln -s "$initrd/initrd" "$out/initrd"
	ln -s "$linux/dtbs" "$out/dtbs"
	printf '%s' "$kernelParams" >"$out/kernel-params"
	printf '#!/bin/sh\n# stage 2 init of the boot test (never run: the check\n# initramfs powers off)\nexec %s/bin/hello "$@"\n' "$dataA" >"$out/init"
	chmod 0755 "$out/init"
	printf '24.05.boottest' >"$out/nixos-version"
	printf 'aarch64-linux' >"$out/system"
	ln -s "$dataA" "$out/sw"
	ln -s "$dataB" "$out/deps/data-b"
	ln -s "$note" "$out/deps/note"
	ln -s "$bigDir" "$out/deps/big-dir"
	;;
*)
	echo "payload.sh: unknown role '$1'" >&2
	exit 2
	;;
esac
