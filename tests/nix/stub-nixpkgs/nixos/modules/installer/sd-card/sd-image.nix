# Shaped like nixpkgs' nixos/modules/installer/sd-card/sd-image.nix (25.05):
# its option declarations (sdImage.*, with bootSize removed and
# imageBaseName/imageName renamed to image.baseName/image.fileName), the
# image.* settings and the definitions a configuration gets from it.  Its
# image is a stand-in derivation: only evaluation is tested.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
in
{
  imports = [
    (lib.mkRemovedOptionModule [ "sdImage" "bootSize" ] "The boot files for SD image have been moved to the main ext4 partition.")
    (lib.mkRenamedOptionModuleWith { sinceRelease = 2505; from = [ "sdImage" "imageBaseName" ]; to = [ "image" "baseName" ]; })
    (lib.mkRenamedOptionModuleWith { sinceRelease = 2505; from = [ "sdImage" "imageName" ]; to = [ "image" "fileName" ]; })
    ../../image/file-options.nix
  ];

  options.sdImage = {
    storePaths = mkOption { type = types.listOf types.package; };
    firmwarePartitionOffset = mkOption { type = types.int; default = 8; };
    firmwarePartitionID = mkOption { type = types.str; default = "0x2178694e"; };
    firmwarePartitionName = mkOption { type = types.str; default = "FIRMWARE"; };
    rootPartitionUUID = mkOption { type = types.nullOr types.str; default = null; };
    rootVolumeLabel = mkOption { type = types.str; default = "NIXOS_SD"; };
    firmwareSize = mkOption { type = types.int; default = 30; };
    populateFirmwareCommands = mkOption { type = types.lines; };
    populateRootCommands = mkOption { type = types.lines; };
    postBuildCommands = mkOption { type = types.lines; default = ""; };
    compressImage = mkOption { type = types.bool; default = true; };
    expandOnBoot = mkOption { type = types.bool; default = true; };
    nixPathRegistrationFile = mkOption { type = types.str; default = "/nix-path-registration"; };
  };

  config = {
    hardware.enableAllHardware = true;
    fileSystems."/boot/firmware" = {
      device = "/dev/disk/by-label/${config.sdImage.firmwarePartitionName}";
      fsType = "vfat";
      options = [ "nofail" "noauto" ];
    };
    fileSystems."/" = {
      device = "/dev/disk/by-label/${config.sdImage.rootVolumeLabel}";
      fsType = "ext4";
    };
    sdImage.storePaths = [ config.system.build.toplevel ];
    image.extension = if config.sdImage.compressImage then "img.zst" else "img";
    image.filePath = "sd-image/${config.image.fileName}";
    system.nixos.tags = [ "sd-card" ];
    system.build.image = config.system.build.sdImage;
    system.build.sdImage = derivation {
      name = config.image.fileName;
      system = pkgs.stdenv.buildPlatform.system;
      builder = "/bin/sh";
      args = [ "-c" "echo 'stub-nixpkgs: nixpkgs sd-image cannot be built here' >&2; exit 1" ];
      populate = config.sdImage.populateRootCommands;
      storePaths = config.sdImage.storePaths;
    };
    boot.postBootCommands = ''
      # nixpkgs sd-image.nix: first boot
      if [ -f ${config.sdImage.nixPathRegistrationFile} ]; then :; fi
    '';
  };
}
