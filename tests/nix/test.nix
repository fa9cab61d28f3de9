# Fixtures of the Nix wrapper tests (tests/nix/*.sh), with plain
# `derivation`s only: no nixpkgs here, so the builders are the host's
# /bin/sh and /usr/bin tools, which needs `sandbox = false`
# (tests/e2e/nix_env.sh).
#
#   nix-build test.nix --argstr mkr2simgDir DIR --arg zstd true -A images.a
#
# mkr2simgDir: a directory with bin/mkr2simg and the libmkr2simg.so.0 it
# loads through its $ORIGIN runpath (the meson build tree's, copied by the
# test).  It is added to the store by content, so a rebuilt mkr2simg makes
# new image derivations instead of reusing images of the old one.
#
# The images are made through flake.nix's `lib.makeSdImage` (flake.nix's
# outputs function called with a stand-in for nixpkgs, which lib.* does not
# use), i.e. through nix/make-sd-image.nix exactly as a flake user calls it.
{ mkr2simgDir
, zstd ? false   # whether the host has zstd (for the compressed image)
}:
let
  system = builtins.currentSystem;

  inherit (import ../e2e/nix/lib.nix { inherit system; }) mk rnd;

  flake = import ../../flake.nix;
  # nixpkgs is only used by packages/overlays/nixosModules; lib.makeSdImage
  # must not touch it.
  outputs = flake.outputs {
    self = outputs;
    nixpkgs = throw "lib.makeSdImage must not need nixpkgs";
  };
  inherit (outputs.lib) makeSdImage;

  mkr2simg = builtins.path { name = "mkr2simg-meson-build"; path = /. + mkr2simgDir; };

  # ---- the system ------------------------------------------------------------
  data = mk "r2s-nix-test-data-1.0" ''
    ${rnd}
    mkdir -p $out/share/doc $out/bin
    printf 'shared bytes\n' > $out/share/a.txt
    printf 'shared bytes\n' > $out/share/doc/b.txt
    rnd 1 20000 > $out/share/blob.bin
    : > $out/share/empty
    printf '#!/bin/sh\necho data\n' > $out/bin/data-tool
    chmod 0755 $out/bin/data-tool
    ln -s ../share/a.txt $out/share/doc/link-to-a
  '';

  app = mk "r2s-nix-test-app-2.0" ''
    mkdir -p $out/bin $out/share
    printf '#!/bin/sh\nexec %s/bin/data-tool "$@"\n' ${data} > $out/bin/app
    chmod 0755 $out/bin/app
    printf 'shared bytes\n' > $out/share/same-as-data.txt
    ln -s ${data}/share/blob.bin $out/share/blob
  '';

  linux = mk "linux-6.6.30-r2s-nix-test" ''
    ${rnd}
    mkdir -p $out/dtbs/rockchip
    rnd 10 300000 > $out/Image
    { printf '\320\015\376\355'; rnd 11 2000; } > $out/dtbs/rockchip/rk3328-nanopi-r2s.dtb
    { printf '\320\015\376\355'; rnd 12 2100; } > $out/dtbs/rockchip/rk3328-rock64.dtb
  '';

  initrd = mk "initrd-linux-6.6.30-r2s-nix-test" ''
    ${rnd}
    mkdir -p $out
    { printf '\037\213\010\000'; rnd 20 50000; } > $out/initrd
  '';

  toplevel = mk "nixos-system-r2s-nix-test-24.05" ''
    mkdir -p $out
    ln -s ${linux}/Image $out/kernel
    ln -s ${initrd}/initrd $out/initrd
    ln -s ${linux}/dtbs $out/dtbs
    printf 'console=ttyS2,1500000 loglevel=4' > $out/kernel-params
    printf '#!/bin/sh\n# stage 2 init (test fixture)\nexec %s/bin/app "$@"\n' ${app} > $out/init
    chmod 0755 $out/init
    printf '24.05.test' > $out/nixos-version
    printf 'aarch64-linux' > $out/system
    ln -s ${app} $out/sw
  '';

  # ---- extra store paths (sdImage.storePaths), not in the system's closure ---
  extraDep = mk "r2s-nix-test-extra-dep" ''
    mkdir -p $out
    printf 'needed by the extra path only\n' > $out/dep.txt
  '';
  extra = mk "r2s-nix-test-extra" ''
    mkdir -p $out
    ln -s ${extraDep}/dep.txt $out/dep
    printf 'shared bytes\n' > $out/dup-of-data.txt
  '';
  extraFile = builtins.toFile "r2s-nix-test-extra-file.txt" "a store path that is a file\n";

  # ---- U-Boot packages ----------------------------------------------------------
  # idbloader.img goes to sector 64, u-boot.itb to sector 16384; the
  # combined u-boot-rockchip.bin is idbloader.img padded to (16384 - 64)
  # sectors followed by u-boot.itb, i.e. the same bytes at the same places.
  ubootFiles = ''
    ${rnd}
    mkdir -p $out
    { printf 'RK33'; rnd 30 150000; } > idbloader.img
    { printf '\320\015\376\355'; rnd 31 700000; } > u-boot.itb
  '';
  ubootPair = mk "uboot-nanopi-r2s-test-pair" ''
    ${ubootFiles}
    mv idbloader.img u-boot.itb $out/
  '';
  ubootCombined = mk "uboot-nanopi-r2s-test-combined" ''
    ${ubootFiles}
    cp idbloader.img $out/u-boot-rockchip.bin
    truncate -s $(((16384 - 64) * 512)) $out/u-boot-rockchip.bin
    cat u-boot.itb >> $out/u-boot-rockchip.bin
  '';
  ubootBoth = mk "uboot-nanopi-r2s-test-both" ''
    ${ubootFiles}
    mv idbloader.img u-boot.itb $out/
    printf 'must not be used when the pair is there\n' > $out/u-boot-rockchip.bin
  '';
  ubootEmpty = mk "uboot-nanopi-r2s-test-empty" ''
    mkdir -p $out
    printf 'no bootloader files here\n' > $out/README
  '';

  # ---- images -------------------------------------------------------------------
  common = {
    inherit mkr2simg toplevel;
    shell = "/bin/sh";
    path = [ "/usr" "/" ];   # host coreutils, jq (and zstd): sandbox off
    storePaths = [ extra extraFile ];
  };

  images = rec {
    # The image an R2S user gets by default (uncompressed here).
    a = makeSdImage (common // {
      uboot = ubootPair;
      imageName = "r2s-a.img";
    });
    # Same inputs, but a separate derivation (other name) that gets the
    # closure info handed in: a second, independent run of mkr2simg.
    b = makeSdImage (common // {
      uboot = ubootBoth;
      closureInfo = a.closureInfo;
      imageName = "r2s-b.img";
    });
    # Every layout option, the combined bootloader, compressed.
    c = makeSdImage (common // optionsC // {
      uboot = ubootCombined;
      compress = zstd;
      imageName = "r2s-c.img";
    });
    # As c with the pair of files given explicitly: same bytes on the card,
    # same seed, so the very same image.
    d = makeSdImage (common // optionsC // {
      idbloader = "${ubootPair}/idbloader.img";
      ubootItb = "${ubootPair}/u-boot.itb";
      uboot = ubootEmpty;   # explicit files win over the package
      imageName = "r2s-d.img";
    });
    # As d with file-system times from SOURCE_DATE_EPOCH.
    e = makeSdImage (common // optionsC // {
      idbloader = "${ubootPair}/idbloader.img";
      ubootItb = "${ubootPair}/u-boot.itb";
      sourceDateEpoch = 1700000000;
      imageName = "r2s-e.img";
    });
    # Must fail: a U-Boot package without bootloader files.
    bad-uboot = makeSdImage (common // {
      uboot = ubootEmpty;
      imageName = "r2s-bad.img";
    });
  };
  optionsC = {
    seed = "r2s-nix-test";
    dedup = false;
    dtb = "none";
    timeout = 3;
    bootSize = "64M";
    rootHeadroom = "16M";
  };
in
{
  inherit images toplevel extra extraFile ubootPair ubootCombined mkr2simg;
}
