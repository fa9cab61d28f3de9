# A stand-in for the few parts of nixpkgs that nix/package.nix,
# nix/sd-image.nix and flake.nix touch, made of builtins, `derivation` and
# host tools (sandbox off), so that their code can run here, where no
# nixpkgs exists.  What it proves is limited to that code; the real
# nixpkgs semantics it imitates are NOT tested by it:
#  - stdenv.mkDerivation runs the phases package.nix relies on the way
#    nixpkgs' generic builder + meson setup hook do (copy the source,
#    `meson setup build --prefix=$out --libdir=lib $mesonFlags`, cd build,
#    ninja, checkPhase when doCheck, ninja install, `-rpath $out/lib` as
#    stdenv's setup.sh adds it) with Debian's meson, ninja and libraries;
#  - lib has only what the module uses; mkOption returns its arguments,
#    mkDefault its value: no types are checked, nothing is merged (see
#    module-stub.nix for the fixed point that stands in for the module
#    system);
#  - packages are host prefixes ("/usr"), so "${pkgs.jq}/bin" = /usr/bin.
{ mkr2simg ? null   # what pkgs.mkr2simg is (null: no such attribute)
, uboot ? null      # what pkgs.buildUBoot returns
, system ? builtins.currentSystem
  # Prefixes to use instead of "/usr" for some packages, by attribute name
  # (e.g. { gnused = "/tmp/x/gnused"; } with the sed of Debian's package in
  # its bin/), so that a PATH built from them holds only those binaries.
, binDirs ? { }
}:
let
  host = "/usr";

  lib = {
    mkOption = args: args;
    mkDefault = v: v;
    literalExpression = text: { _type = "literalExpression"; inherit text; };
    types = {
      str = "str";
      bool = "bool";
      package = "package";
      ints.unsigned = "ints.unsigned";
      either = a: b: { either = [ a b ]; };
      nullOr = t: { nullOr = t; };
      listOf = t: { listOf = t; };
    };
    makeBinPath = ps: builtins.concatStringsSep ":" (map (p: "${p}/bin") ps);
    optional = cond: x: if cond then [ x ] else [ ];
    optionalString = cond: s: if cond then s else "";
    genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
    licenses.mit = "mit";
    platforms.linux = [ "x86_64-linux" "aarch64-linux" ];
    nixosSystem = _: throw "stub-nixpkgs: no NixOS here (nixosConfigurations cannot be evaluated without nixpkgs)";
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
  } // { inherit (attrs) meta pname version; stubAttrs = attrs; };

  pkgs = {
    inherit lib system;
    stdenv = {
      inherit mkDerivation;
      hostPlatform.system = system;
      buildPlatform.system = system;
    };
    callPackage = fn: overrides:
      let f = if builtins.isFunction fn then fn else import fn;
      in f (builtins.intersectAttrs (builtins.functionArgs f) pkgs // overrides);
    buildPackages = pkgs;

    # host prefixes
    meson = host; ninja = host; pkg-config = host;
    e2fsprogs = binDirs.e2fsprogs or host; libuuid = host; zlib = host; xxHash = host; cmocka = host;
    jq = host; zstd = host;
    coreutils = binDirs.coreutils or host;
    util-linux = binDirs.util-linux or host;
    gnused = binDirs.gnused or host;
    bash = "/";
    armTrustedFirmwareRK3328 = "/nonexistent-atf";

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
    buildUBoot = args:
      if uboot != null then uboot // { stubArgs = args; }
      else throw "stub-nixpkgs: no U-Boot";
  } // (if mkr2simg != null then { inherit mkr2simg; } else { });

  # flake.nix's view of nixpkgs
  nixpkgs = {
    inherit lib;
    legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ]
      (s: if s == system then pkgs else (import ./stub-nixpkgs.nix { inherit mkr2simg uboot; system = s; }).pkgs);
  };
in
{
  inherit lib pkgs nixpkgs;
}
