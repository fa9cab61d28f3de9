# Shaped like nixpkgs' nixos/modules/image/file-options.nix (25.05): the
# image.* naming options every image module imports.
{ config, lib, pkgs, ... }:
{
  options.image = {
    baseName = lib.mkOption {
      type = lib.types.str;
      default = "nixos-image-${config.system.nixos.label}-${pkgs.stdenv.hostPlatform.system}";
    };
    extension = lib.mkOption { type = lib.types.str; };
    fileName = lib.mkOption {
      type = lib.types.str;
      default = "${config.image.baseName}.${config.image.extension}";
    };
    filePath = lib.mkOption {
      type = lib.types.str;
      default = config.image.fileName;
    };
  };
}
