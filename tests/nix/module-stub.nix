# nix/sd-image.nix and flake.nix evaluated against stub-nixpkgs/ (see
# there for what that does and does not prove): a NixOS configuration of
# the module, by the stub's lib.nixosSystem, on this machine's system so
# that its derivations build here:
#
#   nix-build module-stub.nix --argstr mkr2simgDir DIR -A image      # the module's system.build.sdImage
#   nix-build module-stub.nix --argstr mkr2simgDir DIR -A postBootCommands  # + first-boot script
#   nix-build module-stub.nix --argstr mkr2simgDir DIR -A package    # flake packages.<system>.mkr2simg
#
# The configuration's toplevel, label, pkgs.mkr2simg and U-Boot are the
# test fixtures of test.nix (as a user's overlay would add them).
{ mkr2simgDir
, compressImage ? true
, loaderTimeout ? 5   # boot.loader.timeout (null: wait for a choice)
, binDirs ? { }       # package name -> prefix with bin/ (see stub-nixpkgs/default.nix)
}:
let
  t = import ./test.nix { inherit mkr2simgDir; };
  system = builtins.currentSystem;
  stub = import ./stub-nixpkgs { };
  inherit (stub) lib;

  # the meson-built mkr2simg, test U-Boot files, packages of Debian's binaries
  fixtures = _: prev: {
    mkr2simg = t.mkr2simg;
    buildUBoot = stubArgs: t.ubootPair // { inherit stubArgs; };
  } // removeAttrs binDirs [ "nix" ]
  // (if binDirs ? nix then { nix = prev.nix // { outPath = binDirs.nix; out.outPath = binDirs.nix; }; } else { });

  configuration = extra: lib.nixosSystem {
    modules = [
      ../../nix/sd-image.nix
      {
        nixpkgs.hostPlatform = system;
        nixpkgs.overlays = [ fixtures ];
        system.build.toplevel = lib.mkForce t.toplevel;
        system.nixos.label = "24.05.test";
        system.stateVersion = "24.05";
        boot.loader.timeout = loaderTimeout;
        mkr2simg.sdImage.compressImage = compressImage;
        mkr2simg.sdImage.storePaths = [ t.extra ];
      }
      extra
    ];
  };
  nixos = configuration { };
  inherit (nixos) config;

  flake = (import ../../flake.nix).outputs { self = flake; inherit (stub) nixpkgs; };

  # boot.postBootCommands as stage 2 gets it: a file in the store, built
  # together with everything it refers to (the first-boot script).
  postBootCommands = derivation {
    name = "post-boot-commands";
    inherit system;
    builder = "/bin/sh";
    args = [ "-euc" "printf '%s' \"$text\" > \"$out\"" ];
    text = config.boot.postBootCommands;
  };
in
{
  inherit (nixos) options;
  inherit config t;
  image = config.system.build.sdImage;
  inherit postBootCommands;
  package = flake.packages.${system}.mkr2simg;
  packageDefault = flake.packages.${system}.default;
  overlayPackage = (flake.overlays.default stub.pkgs stub.pkgs).mkr2simg;
  # the module without pkgs.mkr2simg: falls back to package.nix
  modulePackageFallback = (lib.nixosSystem {
    modules = [ ../../nix/sd-image.nix { nixpkgs.hostPlatform = system; } ];
  }).config.mkr2simg.sdImage.package;
  nixosModule = flake.nixosModules.sd-image;
  nixosModuleDefault = flake.nixosModules.default;
}
