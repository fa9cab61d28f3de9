{
  description = "mkr2simg: bit-reproducible NanoPi R2S SD-card images of NixOS systems";

  # Only packages.*, checks.* and the example configuration use this
  # nixpkgs; the NixOS module uses the pkgs of the configuration it is
  # imported into, and lib.makeSdImage uses no nixpkgs at all.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      # What an R2S user adds to their configuration (see README).
      example = nixpkgs.lib.nixosSystem {
        modules = [
          self.nixosModules.sd-image
          {
            nixpkgs.hostPlatform = "aarch64-linux";
            boot.kernelParams = [ "console=ttyS2,1500000" ];
            system.stateVersion = "25.05";
          }
        ];
      };
    in
    {
      packages = forAllSystems (pkgs: rec {
        mkr2simg = import ./nix/call-package.nix pkgs;
        default = mkr2simg;
      });

      overlays.default = final: prev: {
        mkr2simg = import ./nix/call-package.nix final;
      };

      # An attribute set with `imports` rather than the bare path, so that
      # `nix flake check` accepts it and errors still name the file.
      nixosModules.sd-image = { imports = [ ./nix/sd-image.nix ]; };
      nixosModules.default = self.nixosModules.sd-image;

      # The nixpkgs-free core: { mkr2simg, toplevel, shell, path, ... } -> image
      # derivation (see nix/make-sd-image.nix for the arguments).
      lib.makeSdImage = import ./nix/make-sd-image.nix;

      # nix build .#nixosConfigurations.r2s-example.config.system.build.sdImage
      nixosConfigurations.r2s-example = example;

      checks = forAllSystems (pkgs: {
        # Builds mkr2simg and runs its unit tests.
        mkr2simg = self.packages.${pkgs.stdenv.hostPlatform.system}.mkr2simg;
        # Evaluates the module (the image derivation) without building it.
        sd-image-eval = pkgs.writeText "r2s-sd-image-drv-path"
          (builtins.unsafeDiscardStringContext example.config.system.build.sdImage.drvPath);
      });
    };
}
