# The NixOS options that nix/sd-image.nix, the flake template and the
# stub's nixpkgs-shaped image modules touch, declared with nixpkgs' names,
# types and defaults (nixos/modules/...), and what NixOS derives from them
# that those modules read: pkgs from nixpkgs.{host,build}Platform and
# nixpkgs.overlays, system.nixos.label from its tags, a toplevel
# derivation (never built here: tests that build images set their own).
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  platform = s: if builtins.isString s then { system = s; } else s;
  fileSystem = types.submodule {
    options = {
      device = mkOption { type = types.nullOr types.str; default = null; };
      fsType = mkOption { type = types.str; default = "auto"; };
      options = mkOption { type = types.listOf types.str; default = [ "defaults" ]; };
    };
  };
  user = types.submodule {
    options = {
      isNormalUser = mkOption { type = types.bool; default = false; };
      extraGroups = mkOption { type = types.listOf types.str; default = [ ]; };
      openssh.authorizedKeys.keys = mkOption { type = types.listOf types.str; default = [ ]; };
    };
  };
  pkgs = (import ../.. {
    system = config.nixpkgs.hostPlatform.system;
    buildSystem = config.nixpkgs.buildPlatform.system;
    inherit (config.nixpkgs) overlays;
  }).pkgs;
in
{
  options = {
    nixpkgs.hostPlatform = mkOption { type = types.either types.str types.unspecified; apply = platform; };
    nixpkgs.buildPlatform = mkOption {
      type = types.either types.str types.unspecified;
      default = config.nixpkgs.hostPlatform;
      apply = platform;
    };
    nixpkgs.overlays = mkOption { type = types.listOf types.unspecified; default = [ ]; };

    fileSystems = mkOption { type = types.attrsOf fileSystem; default = { }; };
    boot.loader.grub.enable = mkOption { type = types.bool; default = true; };
    boot.loader.generic-extlinux-compatible.enable = mkOption { type = types.bool; default = false; };
    boot.loader.generic-extlinux-compatible.populateCmd = mkOption { type = types.str; default = "/stub/extlinux-conf-builder.sh"; };
    boot.loader.timeout = mkOption { type = types.nullOr types.int; default = 5; };
    boot.kernelParams = mkOption { type = types.listOf types.str; default = [ ]; };
    boot.consoleLogLevel = mkOption { type = types.int; default = 4; };
    boot.postBootCommands = mkOption { type = types.lines; default = ""; };
    hardware.deviceTree.name = mkOption { type = types.nullOr types.str; default = null; };
    hardware.enableAllHardware = mkOption { type = types.bool; default = false; };

    networking.hostName = mkOption { type = types.str; default = "nixos"; };
    networking.useDHCP = mkOption { type = types.bool; default = true; };
    users.users = mkOption { type = types.attrsOf user; default = { }; };
    security.sudo.wheelNeedsPassword = mkOption { type = types.bool; default = true; };
    services.openssh.enable = mkOption { type = types.bool; default = false; };
    services.openssh.settings = mkOption { type = types.attrsOf types.unspecified; default = { }; };
    nix.package = mkOption { type = types.package; default = pkgs.nix; };

    system.stateVersion = mkOption { type = types.str; };
    system.nixos.version = mkOption { type = types.str; default = "25.05.stub"; };
    system.nixos.tags = mkOption { type = types.listOf types.str; default = [ ]; };
    system.nixos.label = mkOption {
      type = types.str;
      default = builtins.concatStringsSep "-" (builtins.sort (a: b: a < b) config.system.nixos.tags ++ [ config.system.nixos.version ]);
    };
    # nixos/modules/system/activation/top-level.nix: a freeform submodule
    system.build = mkOption {
      type = types.submoduleWith { modules = [ { freeformType = types.lazyAttrsOf (types.uniq types.unspecified); } ]; };
      default = { };
    };
  };

  config = {
    _module.args.pkgs = pkgs;
    system.build.toplevel = derivation {
      name = "nixos-system-${config.networking.hostName}-${config.system.nixos.label}";
      system = config.nixpkgs.hostPlatform.system;
      builder = "/bin/sh";
      args = [ "-c" "echo 'stub-nixpkgs: a NixOS toplevel cannot be built here' >&2; exit 1" ];
      kernelParams = config.boot.kernelParams;
    };
  };
}
