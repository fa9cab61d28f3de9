# NixOS module: a NanoPi R2S SD-card image of this configuration, written
# by mkr2simg (GPT; p1 ext4 NIXOS_BOOT = /boot with extlinux, p2 ext4
# NIXOS_SD = /), as config.system.build.sdImage:
#
#   nix build .#nixosConfigurations.<host>.config.system.build.sdImage
#
# and, where NixOS has image variants (25.05: nixos/modules/image/
# images.nix), as the variant `r2s` (system.build.images.r2s):
#
#   nixos-rebuild build-image --image-variant r2s --flake .#<host>
#
# Its options are mkr2simg.sdImage.*, a namespace of its own: nixpkgs'
# sd-image.nix declares sdImage.*, and 25.05's image variants import that
# module into every configuration's `sd-card` variant, where the same
# names would be declared twice.  The file is named with nixpkgs' image.*
# options (image/file-options.nix; on older NixOS this module declares
# them, image-file-options.nix).  When nixpkgs' sd-image.nix is part of the
# configuration -- in the sd-card variant -- that module owns the card:
# this one then only sets the R2S's boot loader and device tree.
#
# On the first boot the system grows the root partition and file system to
# the card, registers the image's store and creates the system profile (see
# first-boot.sh); from then on nixos-rebuild manages /boot through
# boot.loader.generic-extlinux-compatible.
{ config, lib, options, pkgs, modulesPath, ... }:

let
  inherit (lib) literalExpression mkDefault mkIf mkMerge mkOption types;

  cfg = config.mkr2simg.sdImage;

  # image.baseName, .extension, .fileName, .filePath: nixpkgs' declarations
  # where NixOS has them (imported by path, so the same module as the one
  # nixpkgs' image modules import), else the same options from here.
  nixpkgsFileOptions = modulesPath + "/image/file-options.nix";
  fileOptions =
    if builtins.pathExists nixpkgsFileOptions then nixpkgsFileOptions else ./image-file-options.nix;

  # nixpkgs' installer/sd-card/sd-image.nix is in this configuration (its
  # sd-card image variant, or imported by hand): it makes the card.
  nixpkgsSdImage = options ? sdImage.populateRootCommands;

  # Size options: what mkr2simg takes ("512M", "2G") or bytes.
  size = types.either types.str types.ints.unsigned;

  # Everything first-boot.sh calls: stage 2's PATH (where
  # boot.postBootCommands runs) has only coreutils and util-linux.
  firstBoot = pkgs.writeShellScript "r2s-first-boot" ''
    export PATH=${lib.makeBinPath [
      pkgs.coreutils
      pkgs.util-linux
      pkgs.e2fsprogs
      pkgs.gnused
      config.nix.package.out
    ]}:$PATH
    exec ${pkgs.bash}/bin/bash ${./first-boot.sh} "$@"
  '';

  # ramdisk_addr_r moved up (uboot-memory-map.sh): upstream's RK3328 map
  # leaves booti 62 MiB for the kernel, less than NixOS's aarch64 kernels
  # need; this one fits 158 MiB of kernel and 256 MiB of initrd.
  defaultUboot = pkgs.buildUBoot {
    defconfig = "nanopi-r2s-rk3328_defconfig";
    prePatch = "sh ${./uboot-memory-map.sh} .";
    extraMeta.platforms = [ "aarch64-linux" ];
    env.BL31 = "${pkgs.armTrustedFirmwareRK3328}/bl31.elf";
    filesToInstall = [ "u-boot.itb" "idbloader.img" "u-boot-rockchip.bin" ];
  };

  # mkr2simg and the builders' tools run on the build machine.
  buildPkgs = pkgs.buildPackages;

  # The file name decides whether the image is compressed.
  compress = lib.hasSuffix ".zst" config.image.fileName;
in
{
  imports = [ fileOptions ];

  options.mkr2simg.sdImage = {
    package = mkOption {
      type = types.package;
      default = buildPkgs.mkr2simg or (import ./call-package.nix buildPkgs);
      defaultText = literalExpression "pkgs.buildPackages.mkr2simg (this flake's package)";
      description = "The mkr2simg package that writes the image (runs on the build machine).";
    };

    uboot = mkOption {
      type = types.nullOr types.package;
      default = defaultUboot;
      defaultText = literalExpression ''
        pkgs.buildUBoot {
          defconfig = "nanopi-r2s-rk3328_defconfig";
          prePatch = "sh ''${./uboot-memory-map.sh} .";   # ramdisk_addr_r 0x0c000000
          env.BL31 = "''${pkgs.armTrustedFirmwareRK3328}/bl31.elf";
          filesToInstall = [ "u-boot.itb" "idbloader.img" "u-boot-rockchip.bin" ];
          ...
        }'';
      description = ''
        U-Boot package written into the image before the first partition:
        its idbloader.img (at sector 64) and u-boot.itb (at sector 16384),
        or else its u-boot-rockchip.bin (at sector 64).  null: no
        bootloader in the image (e.g. one in SPI flash).
      '';
    };

    storePaths = mkOption {
      type = types.listOf types.package;
      example = literalExpression "[ pkgs.stdenv ]";
      description = ''
        Derivations to be included in the Nix store in the generated SD
        image, with their closures.  The system itself is always included.
      '';
    };

    bootSize = mkOption {
      type = size;
      default = "512M";
      description = "Size of the /boot partition (NIXOS_BOOT), e.g. \"512M\" or bytes.";
    };

    rootSize = mkOption {
      type = size;
      default = "auto";
      description = ''
        Size of the root partition (NIXOS_SD) in the image: "auto" (the
        store plus {option}`mkr2simg.sdImage.rootHeadroom`) or a size.  The first
        boot grows it to the card either way.
      '';
    };

    rootHeadroom = mkOption {
      type = size;
      default = "64M";
      description = "Free space left on the root file system with rootSize \"auto\".";
    };

    seed = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "my-r2s";
      description = ''
        Source of the disk, partition and file-system identifiers.  null:
        derived from the image's inputs (the same inputs give the same
        identifiers; different systems get different ones).
      '';
    };

    dedup = mkOption {
      type = types.bool;
      default = true;
      description = "Whether identical files in the store become hardlinks in the image.";
    };

    dtb = mkOption {
      type = types.str;
      default = if config.hardware.deviceTree.name != null then config.hardware.deviceTree.name else "none";
      defaultText = literalExpression ''config.hardware.deviceTree.name or "none"'';
      description = ''
        Device tree (under the kernel's dtbs/) named in the image's first
        extlinux.conf, or "none" for FDTDIR.  Follows
        {option}`hardware.deviceTree.name` (set to the R2S's by default),
        as nixos-rebuild's extlinux.conf will.
      '';
    };

    compressImage = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Whether the image is compressed with {command}`zstd`: sets
        {option}`image.extension` to "img.zst" (else "img").  The image
        file's name, {option}`image.fileName`, decides: one ending in .zst
        is compressed.  Uncompressed images stay sparse in the local store,
        but copying them between stores writes every zero.
      '';
    };

    expandOnBoot = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Whether the first boot grows the root partition (and the backup
        GPT) to the end of the card and the root file system with it.
      '';
    };
  };

  config = mkMerge [
    # The R2S, whichever module makes the card.
    {
      mkr2simg.sdImage.storePaths = [ config.system.build.toplevel ];
      boot.loader.grub.enable = mkDefault false;
      boot.loader.generic-extlinux-compatible.enable = mkDefault true;
      hardware.deviceTree.name = mkDefault "rockchip/rk3328-nanopi-r2s.dtb";
    }

    # The card this module makes.
    (mkIf (!nixpkgsSdImage) {
      # The labels mkr2simg gives the two file systems.
      fileSystems."/" = {
        device = mkDefault "/dev/disk/by-label/NIXOS_SD";
        fsType = mkDefault "ext4";
      };
      fileSystems."/boot" = {
        device = mkDefault "/dev/disk/by-label/NIXOS_BOOT";
        fsType = mkDefault "ext4";
      };

      image.baseName = mkDefault "nixos-r2s-sd-image-${config.system.nixos.label}-${pkgs.stdenv.hostPlatform.system}";
      image.extension = if cfg.compressImage then "img.zst" else "img";
      image.filePath = "sd-image/${config.image.fileName}";

      system.build.sdImage = import ./make-sd-image.nix {
        mkr2simg = cfg.package;
        shell = "${buildPkgs.bash}/bin/bash";
        path = [ buildPkgs.coreutils buildPkgs.jq ];
        system = buildPkgs.stdenv.hostPlatform.system;
        toplevel = config.system.build.toplevel;
        inherit (cfg) storePaths uboot dtb bootSize rootSize rootHeadroom seed dedup;
        # null: wait for a choice, as NixOS's extlinux builder writes it
        timeout = if config.boot.loader.timeout == null then "none" else config.boot.loader.timeout;
        imageName = lib.removeSuffix ".zst" config.image.fileName;
        inherit compress;
      };

      boot.postBootCommands = ''
        # On the first boot: grow / to the card, register the image's store,
        # create the system profile (once: first-boot.sh removes the
        # registration when done).
        if [ -f /nix-path-registration ]; then
          ${firstBoot} ${lib.optionalString (!cfg.expandOnBoot) "--no-grow"} ||
            echo "r2s-first-boot failed; it runs again on the next boot" >&2
        fi
      '';
    })

    # The image variant `r2s` where NixOS has them (25.05), the same image:
    # `nixos-rebuild build-image --image-variant r2s`.
    (lib.optionalAttrs (options ? image.modules) {
      image.modules.r2s = { config, ... }: {
        system.build.image = config.system.build.sdImage;
      };
    })
  ];
}
