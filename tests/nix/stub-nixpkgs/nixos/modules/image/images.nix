# Shaped like nixpkgs' nixos/modules/image/images.nix (25.05): image
# variants as modules (image.modules), each evaluated with extendModules
# into system.build.images.<variant> -- what `nixos-rebuild build-image
# --image-variant NAME` builds.  Of nixpkgs' variants only sd-card is here.
{ config, lib, pkgs, extendModules, ... }:
let
  imageModules = {
    sd-card = {
      imports = [ (../installer/sd-card + "/sd-image-${pkgs.stdenv.hostPlatform.qemuArch}.nix") ];
    };
  };
  imageConfigs = lib.mapAttrs (_: module: extendModules { modules = [ module ]; }) config.image.modules;
in
{
  options = {
    system.build.images = lib.mkOption { type = lib.types.lazyAttrsOf lib.types.raw; };
    image.modules = lib.mkOption { type = lib.types.attrsOf lib.types.deferredModule; };
  };

  config.image.modules = lib.mkIf (!config.system.build ? image) imageModules;
  config.system.build.images = lib.mkIf (!config.system.build ? image) (lib.mapAttrs
    (name: variant:
      let inherit (variant) config; in
      lib.recursiveUpdate
        (config.system.build.image or (throw "Module for `system.build.images.${name}` misses required `system.build.image` option."))
        { passthru = { inherit config; inherit (config.image) filePath; }; })
    imageConfigs);
}
