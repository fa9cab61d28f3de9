# nix/sd-image.nix and flake.nix evaluated against stub-nixpkgs.nix (see
# there for what that does and does not prove):
#
#   nix-build module-stub.nix --argstr mkr2simgDir DIR -A image      # the module's system.build.sdImage
#   nix-build module-stub.nix --argstr mkr2simgDir DIR -A postBootCommands  # + first-boot script
#   nix-build module-stub.nix --argstr mkr2simgDir DIR -A package    # flake packages.<system>.mkr2simg
#
# The module function is applied to a hand-made fixed point in place of the
# NixOS module system: config.sdImage is the options' defaults plus the
# module's own definitions (storePaths) plus `sdImageOverrides`; the NixOS
# options it reads (system.build.toplevel, system.nixos.label, nix.package,
# boot.loader.timeout, hardware.deviceTree.name) get fixed values, the last
# one the module's own mkDefault.
{ mkr2simgDir
, compressImage ? true
, loaderTimeout ? 5   # boot.loader.timeout (null: wait for a choice)
, binDirs ? { }       # package name -> prefix with bin/ (see stub-nixpkgs.nix)
}:
let
  t = import ./test.nix { inherit mkr2simgDir; };
  stub = import ./stub-nixpkgs.nix { inherit (t) mkr2simg; uboot = t.ubootPair; inherit binDirs; };

  module = import ../../nix/sd-image.nix;
  m = module { inherit config; inherit (stub) lib pkgs; };

  defaults = builtins.mapAttrs (_: o: o.default or null) m.options.sdImage;
  sdImageOverrides = {
    inherit compressImage;
    storePaths = m.config.sdImage.storePaths ++ [ t.extra ];
  };
  config = {
    sdImage = defaults // sdImageOverrides;
    system.build.toplevel = t.toplevel;
    system.nixos.label = "24.05.test";
    nix.package.out = binDirs.nix or "/usr";
    boot.loader.timeout = loaderTimeout;
    hardware.deviceTree.name = m.config.hardware.deviceTree.name;
  };

  flake = (import ../../flake.nix).outputs { self = flake; inherit (stub) nixpkgs; };
  system = builtins.currentSystem;

  # boot.postBootCommands as stage 2 gets it: a file in the store, built
  # together with everything it refers to (the first-boot script).
  postBootCommands = derivation {
    name = "post-boot-commands";
    inherit system;
    builder = "/bin/sh";
    args = [ "-euc" "printf '%s' \"$text\" > \"$out\"" ];
    text = m.config.boot.postBootCommands;
  };
in
{
  inherit (m) options;
  inherit config t;
  moduleConfig = m.config;
  image = m.config.system.build.sdImage;
  inherit postBootCommands;
  package = flake.packages.${system}.mkr2simg;
  packageDefault = flake.packages.${system}.default;
  overlayPackage = (flake.overlays.default stub.pkgs stub.pkgs).mkr2simg;
  # the module without pkgs.mkr2simg: falls back to package.nix
  modulePackageFallback =
    ((import ../../nix/sd-image.nix) {
      inherit config;
      inherit (stub) lib;
      pkgs = (import ./stub-nixpkgs.nix { uboot = t.ubootPair; }).pkgs;
    }).options.sdImage.package.default;
  nixosModule = flake.nixosModules.sd-image;
  nixosModuleDefault = flake.nixosModules.default;
}
