# A stand-in for the parts of nixpkgs that nix/package.nix, nix/sd-image.nix,
# flake.nix and the flake template touch, made of builtins, `derivation` and
# host tools (sandbox off), so that their code runs here, where no nixpkgs
# exists.  What it proves is limited to that code; the real nixpkgs
# semantics it imitates are NOT tested by it:
#  - lib (lib/): a small module system with nixpkgs' declaration,
#    definition, priority and type rules (lib/modules.nix says which), and
#    lib.nixosSystem over nixpkgs-shaped NixOS modules (nixos/): the base
#    options a configuration uses and, as of 25.05, image/images.nix,
#    image/file-options.nix and installer/sd-card/sd-image.nix;
#  - stdenv.mkDerivation runs the phases package.nix relies on the way
#    nixpkgs' generic builder + meson setup hook do (copy the source,
#    `meson setup build --prefix=$out --libdir=lib $mesonFlags`, cd build,
#    ninja, checkPhase when doCheck, ninja install, `-rpath $out/lib` as
#    stdenv's setup.sh adds it) with Debian's meson, ninja and libraries;
#  - packages are host prefixes ("/usr"), so "${pkgs.jq}/bin" = /usr/bin;
#    buildUBoot and the NixOS toplevel are derivations that cannot be built.
# `flake.nix` beside this file makes it a flake input (`path:`).
{ mkr2simg ? null   # what pkgs.mkr2simg is (null: no such attribute)
, uboot ? null      # what pkgs.buildUBoot returns (null: a stand-in)
, system ? builtins.currentSystem      # hostPlatform
, buildSystem ? system                # buildPlatform (buildPackages)
, overlays ? [ ]                      # as nixpkgs' overlays: final: prev: { ... }
  # Prefixes to use instead of "/usr" for some packages, by attribute name
  # (e.g. { gnused = "/tmp/x/gnused"; } with the sed of Debian's package in
  # its bin/), so that a PATH built from them holds only those binaries.
, binDirs ? { }
  # "renamed": nixpkgs since Feb 2026, `xxhash`, and `xxHash` an alias
  #   that must not be touched (it warns, or fails with allowAliases =
  #   false: here it throws);
  # "old": only `xxHash`.
, xxhash ? "renamed"
, release ? "25.05"   # the NixOS shape of lib.nixosSystem (see lib/)
}@args:
let
  host = "/usr";
  lib = import ./lib { inherit release; };

  platform = s: {
    system = s;
    qemuArch = builtins.head (builtins.split "-" s);
  };

  mkDerivation = attrs: derivation {
    name = "${attrs.pname}-${attrs.version}";
    inherit system;
    builder = "/bin/sh";
    args = [ "-euc" ''
      runHook() { :; }
      cp -r "$src" source
      chmod -R u+w source
      cd source
      export LDFLAGS="-Wl,-rpath,$out/lib"
      meson setup build --prefix="$out" --libdir=lib $mesonFlags
      cd build
      ninja
      if [ -n "$doCheck" ]; then eval "$checkPhase"; fi
      ninja install
    '' ];
    PATH = "/usr/bin:/bin";
    inherit (attrs) src checkPhase;
    mesonFlags = attrs.mesonFlags or [ ];
    doCheck = attrs.doCheck or false;
    # as stdenv passes them (host prefixes here, unused by the builder)
    nativeBuildInputs = attrs.nativeBuildInputs or [ ];
    buildInputs = attrs.buildInputs or [ ];
  } // { inherit (attrs) meta pname version; stubAttrs = attrs; };

  # A derivation that is evaluated (its .drv written) but cannot be built.
  unbuildable = name: derivation {
    inherit name system;
    builder = "/bin/sh";
    args = [ "-c" "echo 'stub-nixpkgs: ${name} cannot be built here' >&2; exit 1" ];
  };

  base = final: {
    inherit lib system;
    stdenv = {
      inherit mkDerivation;
      hostPlatform = platform system;
      buildPlatform = platform buildSystem;
    };
    targetPlatform = platform system;
    callPackage = fn: overrides:
      let f = if builtins.isFunction fn then fn else import fn;
      in f (builtins.intersectAttrs (builtins.functionArgs f) final // overrides);
    buildPackages =
      if buildSystem == system then final
      else (import ./. (args // { system = buildSystem; })).pkgs;

    # host prefixes
    meson = host; ninja = host; pkg-config = host;
    e2fsprogs = binDirs.e2fsprogs or host; libuuid = host; zlib = host; cmocka = host;
    jq = host; zstd = host;
    coreutils = binDirs.coreutils or host;
    util-linux = binDirs.util-linux or host;
    gnused = binDirs.gnused or host;
    bash = "/";
    armTrustedFirmwareRK3328 = "/nonexistent-atf";
    nix = let p = binDirs.nix or host; in { type = "derivation"; name = "nix"; outPath = p; out.outPath = p; };

    writeShellScript = name: text: derivation {
      inherit name system;
      builder = "/bin/sh";
      args = [ "-euc" ''
        printf '#!/bin/bash\n%s' "$text" > "$out"
        chmod 0555 "$out"
      '' ];
      PATH = "/usr/bin:/bin";
      inherit text;
    };
    writeText = name: text: derivation {
      inherit name system text;
      builder = "/bin/sh";
      args = [ "-c" "printf '%s' \"$text\" > \"$out\"" ];
    };
    buildUBoot = stubArgs: (if uboot != null then uboot else unbuildable "u-boot-stub") // { inherit stubArgs; };
  }
  // (if xxhash == "old" then { xxHash = host; }
  else {
    xxhash = host;
    xxHash = throw "stub-nixpkgs: 'xxHash' has been renamed to 'xxhash' (an alias: never to be used)";
  })
  // (if mkr2simg != null then { inherit mkr2simg; } else { });

  pkgs = lib.fix (final: builtins.foldl' (prev: overlay: prev // overlay final prev) (base final) overlays);

  # flake.nix's view of nixpkgs (see flake.nix beside this file)
  nixpkgs = {
    inherit lib;
    legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ]
      (s: if s == system then pkgs else (import ./. (args // { system = s; buildSystem = s; })).pkgs);
  };
in
{
  inherit lib pkgs nixpkgs;
}
