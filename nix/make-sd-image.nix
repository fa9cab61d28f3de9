# The nixpkgs-free core of the NixOS integration: a function from a NixOS
# toplevel (plus extra store paths, bootloader and layout options) to a
# derivation whose output holds one NanoPi R2S SD-card image written by a
# single run of mkr2simg.  Uses only builtins and `derivation`, so it works
# (and is tested) without nixpkgs; the NixOS module (sd-image.nix) fills the
# tool arguments from pkgs, the test suite from the host.
#
#   import ./make-sd-image.nix {
#     mkr2simg = pkgs.buildPackages.mkr2simg;   # runs on the build machine
#     shell = "${pkgs.buildPackages.bash}/bin/bash";
#     path = with pkgs.buildPackages; [ coreutils jq ];
#     toplevel = config.system.build.toplevel;
#     uboot = myUboot;   # idbloader.img + u-boot.itb, or u-boot-rockchip.bin
#   }
#
# Two derivations are made:
#  - closure info (unless `closureInfo` is given): __structuredAttrs +
#    exportReferencesGraph over toplevel ++ storePaths; jq turns Nix's JSON
#    into store-paths and registration exactly like nixpkgs' closureInfo;
#  - the image: mkr2simg --toplevel T --registration R ... --bmap BMAP
#    store-paths IMG[.zst], compressed (when asked) and mapped in one pass.
# The returned image derivation has `closureInfo` as an attribute.
{
  # mkr2simg package (bin/mkr2simg) for the machine that builds the image.
  mkr2simg
, # The NixOS system to boot (config.system.build.toplevel).
  toplevel
, # More store paths (derivations, paths) for the image; their closures too.
  storePaths ? [ ]
, # A nixpkgs `closureInfo { rootPaths = [ toplevel ] ++ storePaths; }` (or
  # anything with store-paths and registration) to use instead of the
  # built-in one; it must cover toplevel and storePaths.
  closureInfo ? null
, # Interpreter of the builders: a POSIX shell, e.g. "${bash}/bin/bash".
  shell
, # Packages (or prefixes) whose bin/ holds what the builders run:
  # coreutils (mkdir) and jq.
  path
, # U-Boot package with idbloader.img and u-boot.itb, or with
  # u-boot-rockchip.bin (chosen at build time, the pair first) ...
  uboot ? null
, # ... or explicit files, which take precedence over `uboot`.
  idbloader ? null
, ubootItb ? null
, ubootRockchip ? null
, # mkr2simg options; null: mkr2simg's default.  Sizes as mkr2simg takes
  # them ("512M", "2G") or numbers of bytes.
  dtb ? null            # device tree under dtbs/, or "none" (FDTDIR)
, timeout ? null        # boot menu timeout in seconds
, bootSize ? null       # /boot partition (default 512M)
, rootSize ? null       # root partition, or "auto" (default)
, rootHeadroom ? null   # free space on the root with "auto" (default 64M)
, seed ? null           # source of the disk/partition/filesystem UUIDs
, dedup ? true          # hardlink identical files
, # zstd-compress the image (the file gets a .zst suffix).
  compress ? false
, # File name of the image inside $out/sd-image (without .zst); the bmap
  # beside it is named without .img: "x.img" -> x.img[.zst] and x.bmap.
  imageName ? "nixos-r2s-sd-image.img"
, # Timestamps inside the file systems (1: like the files in /nix/store;
  # null: mkr2simg's default).
  sourceDateEpoch ? 1
, # The system that runs the builders (mkr2simg's).
  system ? mkr2simg.system or builtins.currentSystem
}:

let
  inherit (builtins) concatStringsSep map toString;

  binPath = concatStringsSep ":" (map (p: "${p}/bin") path);
  opt = v: if v == null then "" else toString v;

  rootPaths = [ toplevel ] ++ storePaths;

  builtClosureInfo = derivation {
    name = "mkr2simg-closure-info";
    inherit system;
    builder = shell;
    # Structured attrs pass no attributes as environment variables, so PATH
    # is set in the command line.
    args = [ "-euc" "PATH='${binPath}'; export PATH; . '${./closure-info.sh}'" ];
    __structuredAttrs = true;
    exportReferencesGraph.closure = rootPaths;
    preferLocalBuild = true;
    allowSubstitutes = false;
  };

  info = if closureInfo == null then builtClosureInfo else closureInfo;

  image = derivation {
    name = imageName + (if compress then ".zst" else "");
    inherit system imageName;
    builder = shell;
    args = [ "-eu" ./make-sd-image.sh ];
    PATH = binPath;
    LC_ALL = "C";
    SOURCE_DATE_EPOCH = opt sourceDateEpoch;
    buildSystem = system;

    mkr2simg = "${mkr2simg}";
    toplevel = "${toplevel}";
    closureInfo = "${info}";
    # Inputs, so that a sandbox holds every path mkr2simg reads.
    rootPaths = map (p: "${p}") rootPaths;

    uboot = opt uboot;
    idbloader = opt idbloader;
    ubootItb = opt ubootItb;
    ubootRockchip = opt ubootRockchip;
    dtb = opt dtb;
    timeout = opt timeout;
    bootSize = opt bootSize;
    rootSize = opt rootSize;
    rootHeadroom = opt rootHeadroom;
    seed = opt seed;
    dedup = if dedup then "1" else "";
    compress = if compress then "1" else "";
  };
in
image // { closureInfo = info; }
