# Test closure for mkr2simg end-to-end tests.
#
# Built with plain `derivation` calls only: no nixpkgs is available, so every
# builder is the host's /bin/sh and the build scripts use host tools from
# /usr/bin (coreutils, perl-base's /usr/bin/perl, ...).  This only works with
# `sandbox = false` (see ../nix_env.sh).
#
# The top level mimics a NixOS system toplevel (kernel, initrd, dtbs, init,
# kernel-params, boot.json, ...) and its closure deliberately contains the
# file-system edge cases the image writer has to handle; see the comments on
# each derivation.
let
  system = builtins.currentSystem;

  inherit (import ./lib.nix { inherit system; }) mk rnd;

  # A plain file that is the store path itself (no directory).
  single-file = builtins.toFile "mkr2simg-single-file.txt" "I am a store path that is a regular file.\n";

  # Shared data: files identical to files in pkg-a (see there).
  pkg-b = mk "mkr2simg-test-data-b-1.0" ''
    mkdir -p $out/bin $out/share/doc
    printf 'common data shared by two store paths\n' > $out/share/common.txt
    printf '#!/bin/sh\necho same script in two store paths\n' > $out/bin/same-script
    chmod 0755 $out/bin/same-script
    printf 'tool from pkg-b\n' > $out/bin/tool-data
    printf '#!/bin/sh\necho tool\n' > $out/bin/tool
    chmod 0755 $out/bin/tool
    : > $out/share/doc/empty-file
    printf 'b only\n' > $out/share/doc/README
  '';

  pkg-a = mk "mkr2simg-test-pkg-a-1.0" ''
    ${rnd}
    mkdir -p $out/bin $out/share/nested/a/b/c/d/e/f/g $out/share/empty-dir $out/lib $out/links

    # executables (one referencing another store path by absolute path)
    printf '#!/bin/sh\necho hello from pkg-a\nexec %s/bin/tool "$@"\n' "${pkg-b}" > $out/bin/hello
    chmod 0755 $out/bin/hello

    # identical to pkg-b/bin/same-script: same bytes, same exec bit
    printf '#!/bin/sh\necho same script in two store paths\n' > $out/bin/same-script
    chmod 0755 $out/bin/same-script
    # identical to pkg-b/share/common.txt: same bytes, same (non-)exec bit
    printf 'common data shared by two store paths\n' > $out/share/common.txt
    # same bytes as pkg-b/share/common.txt but executable -> never hardlinked with it
    printf 'common data shared by two store paths\n' > $out/bin/common-exec
    chmod 0755 $out/bin/common-exec
    # two identical files inside the same store path
    rnd 7 12345 > $out/share/dup1.bin
    rnd 7 12345 > $out/share/dup2.bin

    # empty file, empty directory, deep nesting
    : > $out/share/empty-file
    printf 'deep\n' > $out/share/nested/a/b/c/d/e/f/g/deep.txt
    printf 'level a\n' > $out/share/nested/a/file-a

    # odd names
    printf 'spaces\n' > "$out/share/file with spaces"
    printf 'utf8\n' > "$out/share/$(printf '\303\274n\303\257c\303\266d\303\251.txt')"
    printf 'dot\n' > $out/share/.hidden

    # a few KiB of binary data spanning several blocks
    rnd 11 70000 > $out/lib/libdata.so
    # sizes around the 4 KiB block size
    rnd 12 4095 > $out/lib/block-4095.bin
    rnd 13 4096 > $out/lib/block-4096.bin
    rnd 14 4097 > $out/lib/block-4097.bin

    # symlinks: absolute into another store path, absolute into this one,
    # relative, to a directory, dangling, and long targets
    ln -s ${pkg-b}/bin/tool $out/bin/tool
    ln -s $out/bin/hello $out/links/abs-self
    ln -s ../share/common.txt $out/links/relative
    ln -s ../share/nested/a $out/links/dir-link
    ln -s ../does/not/exist $out/links/dangling
    ln -s ${pkg-b} $out/links/pkg-b
    # Relative targets of exactly LEN bytes that all resolve to deep.txt:
    # "../share" + N slashes + "nested/a/b/c/d/e/f/g/deep.txt" (8 + N + 29).
    # ext4 stores targets shorter than 60 bytes inline in the inode ("fast
    # symlinks"); longer ones need a data block.
    lnlen() {
      ln -s "../share$(printf '/%.0s' $(seq 1 $(($1 - 37))))nested/a/b/c/d/e/f/g/deep.txt" "$2"
    }
    lnlen 38  $out/links/target-38
    lnlen 59  $out/links/target-59
    lnlen 60  $out/links/target-60
    lnlen 61  $out/links/target-61
    lnlen 100 $out/links/target-100
    lnlen 200 $out/links/target-200
    ln -s "${pkg-b}/share/doc/../doc/../../share/doc/./././././././README" $out/links/abs-long
  '';

  # A store path that is a single executable file.
  single-exec = mk "mkr2simg-single-exec" ''
    printf '#!/bin/sh\necho single executable store path\n' > $out
    chmod 0755 $out
  '';

  # A store path that is itself a symlink (absolute, into pkg-a).
  symlink-path = mk "mkr2simg-symlink-path" ''
    ln -s ${pkg-a}/bin/hello $out
  '';

  # > 100 MiB regular file: zeros with non-zero data at start, middle and end.
  big = mk "mkr2simg-big-file" ''
    ${rnd}
    mkdir -p $out
    f=$out/big.bin
    dd if=/dev/zero of=$f bs=1M count=105 status=none
    rnd 1 4096  | dd of=$f conv=notrunc status=none
    rnd 2 70000 | dd of=$f conv=notrunc bs=1 seek=$((52 * 1024 * 1024 + 123)) status=none
    rnd 3 4096  | dd of=$f conv=notrunc bs=1 seek=$((105 * 1024 * 1024 - 4096)) status=none
    # size not a multiple of the block size
    printf 'END' >> $f
    rnd 4 1000 > $out/small.bin
  '';

  # Directory with 2000 entries (plus a 255-byte file name).
  many = mk "mkr2simg-many-entries" ''
    mkdir -p $out/dir
    cd $out/dir
    # 1999 files with names of varying length (forks are slow, so use perl)
    perl -e 'for my $i (0 .. 1998) {
               open(my $f, ">", "entry-$i-" . ("x" x ($i % 40))) or die "$!";
               print $f "$i\n"; close($f) or die "$!";
             }'
    printf 'max name\n' > "$(printf 'n%.0s' $(seq 1 255))"
  '';

  linux = mk "linux-6.6.30-mkr2simg-test" ''
    ${rnd}
    mkdir -p $out/dtbs/rockchip $out/dtbs/overlays/nested
    rnd 100 $((2 * 1024 * 1024 + 517)) > $out/Image
    fdt() { printf '\320\015\376\355'; rnd "$1" "$2"; }
    fdt 101 2900 > $out/dtbs/rockchip/rk3328-nanopi-r2s.dtb
    fdt 102 3100 > $out/dtbs/rockchip/rk3328-rock64.dtb
    fdt 103 400 > $out/dtbs/overlays/rk3328-uart1.dtbo
    fdt 104 300 > $out/dtbs/overlays/nested/rk3328-test.dtbo
  '';

  initrd = mk "initrd-linux-6.6.30-mkr2simg-test" ''
    ${rnd}
    mkdir -p $out
    { printf '\037\213\010\000'; rnd 200 300000; } > $out/initrd
  '';

  kernelParams = "console=ttyS2,1500000 loglevel=4";

  toplevel = mk "nixos-system-r2s-test-24.05" ''
    mkdir -p $out/specialisation $out/deps
    ln -s ${linux}/Image $out/kernel
    ln -s ${initrd}/initrd $out/initrd
    ln -s ${linux}/dtbs $out/dtbs
    printf '%s' "${kernelParams}" > $out/kernel-params
    printf '#!/bin/sh\n# stage 2 init (test fixture)\nexec %s/bin/hello "$@"\n' "${pkg-a}" > $out/init
    chmod 0755 $out/init
    printf '24.05.test' > $out/nixos-version
    printf 'aarch64-linux' > $out/system
    printf 'systemd' > $out/init-interface-version
    ln -s ${pkg-a} $out/sw
    cat > $out/boot.json <<BOOTJSON
    {
      "org.nixos.bootspec.v1": {
        "init": "$out/init",
        "initrd": "${initrd}/initrd",
        "kernel": "${linux}/Image",
        "kernelParams": [ "console=ttyS2,1500000", "loglevel=4" ],
        "label": "NixOS 24.05.test (Linux 6.6.30)",
        "system": "aarch64-linux",
        "toplevel": "$out"
      },
      "org.nixos.specialisation.v1": {}
    }
    BOOTJSON
    ln -s ${pkg-b} $out/deps/pkg-b
    ln -s ${big} $out/deps/big
    ln -s ${many} $out/deps/many
    ln -s ${single-file} $out/deps/single-file
    ln -s ${single-exec} $out/deps/single-exec
    ln -s ${symlink-path} $out/deps/symlink-path
  '';
in
toplevel
