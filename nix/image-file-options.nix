# image.baseName, image.extension, image.fileName, image.filePath for
# NixOS releases before nixpkgs' nixos/modules/image/file-options.nix
# (25.05): the same names, types, defaults and meanings, so that a
# configuration names its image the same way on either.  sd-image.nix
# imports this file only where nixpkgs' is missing, so the two are never
# declared together.
{ config, lib, pkgs, ... }:
let
  inherit (lib) literalExpression mkOption types;
in
{
  options.image = {
    baseName = mkOption {
      type = types.str;
      default = "nixos-image-${config.system.nixos.label}-${pkgs.stdenv.hostPlatform.system}";
      defaultText = literalExpression ''"nixos-image-''${config.system.nixos.label}-''${pkgs.stdenv.hostPlatform.system}"'';
      description = "File name of the image without any extension.";
    };
    extension = mkOption {
      type = types.str;
      description = "Extension of the image file name (e.g. `img.zst`).";
    };
    fileName = mkOption {
      type = types.str;
      default = "${config.image.baseName}.${config.image.extension}";
      defaultText = literalExpression ''"''${config.image.baseName}.''${config.image.extension}"'';
      description = "File name of the image with all extensions.";
    };
    filePath = mkOption {
      type = types.str;
      default = config.image.fileName;
      defaultText = literalExpression "config.image.fileName";
      description = "Path of the image relative to the image derivation's output.";
    };
  };
}
