# R2S configurations of nix/sd-image.nix beside nixpkgs' image machinery,
# evaluated (never built) by stub-nixpkgs/'s lib.nixosSystem for
# variants_test.sh:
#
#   new     NixOS 25.05's shape: image/images.nix (system.build.images,
#           image.modules) whose sd-card variant imports nixpkgs'
#           installer/sd-card/sd-image.nix (sdImage.* options), and
#           image/file-options.nix;
#   old     NixOS before 25.05: neither (the module's own image.* options);
#   both    nixpkgs' sd-image-aarch64.nix imported by hand beside it;
#   clash   `new` plus a module declaring sdImage.compressImage as this
#           module once did: must fail with "already declared" (the stub
#           can tell a collision);
#   oldName `new` setting sdImage.bootSize, the module's old option name.
#
#   nix-instantiate --eval --strict --json variants.nix -A new.images
{ }:
let
  stub = release: import ./stub-nixpkgs { inherit release; system = "aarch64-linux"; };
  r2s = { release ? "25.05", extra ? { } }: (stub release).lib.nixosSystem {
    modules = [
      ../../nix/sd-image.nix
      {
        nixpkgs.hostPlatform = "aarch64-linux";
        nixpkgs.buildPlatform = "x86_64-linux";
        system.stateVersion = "25.05";
      }
      extra
    ];
  };

  # what the tests read from a configuration
  summary = nixos:
    let inherit (nixos) config; in
    {
      inherit (config.image) fileName filePath;
      sdImage = {
        inherit (config.system.build.sdImage) name drvPath;
        imageName = config.system.build.sdImage.imageName or null;
        compress = config.system.build.sdImage.compress or null;
      };
      fileSystems = builtins.attrNames config.fileSystems;
      firstBoot = builtins.match ".*-r2s-first-boot.*" config.boot.postBootCommands != null;
      extlinux = config.boot.loader.generic-extlinux-compatible.enable;
      grub = config.boot.loader.grub.enable;
      dtb = config.hardware.deviceTree.name;
    };

  new = r2s { };
in
{
  new = summary new // {
    images = builtins.attrNames new.config.system.build.images;
    r2s = {
      inherit (new.config.system.build.images.r2s) drvPath;
      inherit (new.config.system.build.images.r2s.passthru) filePath;
    };
    sd-card = summary { inherit (new.config.system.build.images.sd-card.passthru) config; } // {
      inherit (new.config.system.build.images.sd-card) drvPath;
      inherit (new.config.system.build.images.sd-card.passthru) filePath;
    };
  };
  baseName = summary (r2s { extra.image.baseName = "my-r2s"; });
  fileName = summary (r2s { extra.image.fileName = "my-r2s.img"; });
  uncompressed = summary (r2s { extra.mkr2simg.sdImage.compressImage = false; });
  old = summary (r2s { release = "24.11"; }) // {
    hasImages = (r2s { release = "24.11"; }).config.system.build ? images;
  };
  oldBaseName = summary (r2s { release = "24.11"; extra.image.baseName = "my-r2s"; });
  both = summary (r2s {
    extra = { modulesPath, ... }: { imports = [ (modulesPath + "/installer/sd-card/sd-image-aarch64.nix") ]; };
  });
  clash = (r2s {
    extra = { lib, ... }: { options.sdImage.compressImage = lib.mkOption { type = lib.types.bool; default = true; }; };
  }).config.system.build.images.sd-card.drvPath;
  oldName = (r2s { extra.sdImage.bootSize = "256M"; }).config.system.build.sdImage.drvPath;
}
