# Your NanoPi R2S as a flake (from `nix flake init -t <mkr2simg>`):
#
#   nix build .#sdImage      # on an x86_64-linux or an aarch64-linux machine
#   bmaptool copy --bmap result/sd-image/*.bmap result/sd-image/*.img.zst /dev/sdX
#
# configuration.nix is the system; this file only says how it is built.
{
  description = "NixOS on a NanoPi R2S, its SD card written by mkr2simg";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
  inputs.mkr2simg.url = "git+https://mkr2simg.invalid/mkr2simg.git";
  inputs.mkr2simg.inputs.nixpkgs.follows = "nixpkgs";

  outputs = { self, nixpkgs, mkr2simg }:
    let
      # The R2S system (aarch64-linux) built on `buildSystem`: natively on
      # aarch64-linux; cross-compiled anywhere else, mkr2simg running
      # natively on the build machine.
      r2s = buildSystem: nixpkgs.lib.nixosSystem {
        modules = [
          mkr2simg.nixosModules.sd-image
          ./configuration.nix
          {
            nixpkgs.hostPlatform = "aarch64-linux";
            nixpkgs.buildPlatform = buildSystem;
          }
        ];
      };
    in
    {
      # After the first boot: nixos-rebuild switch --flake .#r2s on the
      # board or an aarch64 machine, or .#r2s-cross on an x86_64 one
      # (both with --target-host from elsewhere).
      nixosConfigurations.r2s = r2s "aarch64-linux";
      nixosConfigurations.r2s-cross = r2s "x86_64-linux";

      # The card's image, for the machine that runs `nix build .#sdImage`.
      packages.aarch64-linux.sdImage = self.nixosConfigurations.r2s.config.system.build.sdImage;
      packages.x86_64-linux.sdImage = self.nixosConfigurations.r2s-cross.config.system.build.sdImage;
    };
}
