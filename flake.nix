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

      # The template's flake (nix/template: what `nix flake init -t` gives
      # a user) with this flake as its mkr2simg: the example R2S system and
      # its image for each build machine.
      example = (import ./nix/template/flake.nix).outputs {
        self = example;
        inherit nixpkgs;
        mkr2simg = self;
      };
    in
    {
      packages = forAllSystems (pkgs: rec {
        mkr2simg = import ./nix/call-package.nix pkgs;
        default = mkr2simg;
        # nix build .#sdImage: the example's card, natively on aarch64-linux,
        # cross-compiled (mkr2simg running natively) on x86_64-linux.
        sdImage = example.packages.${pkgs.stdenv.hostPlatform.system}.sdImage;
      });

      overlays.default = final: prev: {
        mkr2simg = import ./nix/call-package.nix final;
      };

      templates.default = {
        path = ./nix/template;
        description = "NixOS on a NanoPi R2S: configuration.nix and nix build .#sdImage (x86_64-linux or aarch64-linux)";
      };

      # An attribute set with `imports` rather than the bare path, so that
      # `nix flake check` accepts it and errors still name the file.
      nixosModules.sd-image = { imports = [ ./nix/sd-image.nix ]; };
      nixosModules.default = self.nixosModules.sd-image;

      # The nixpkgs-free core: { mkr2simg, toplevel, shell, path, ... } -> image
      # derivation (see nix/make-sd-image.nix for the arguments).
      lib.makeSdImage = import ./nix/make-sd-image.nix;

      nixosConfigurations.r2s-example = example.nixosConfigurations.r2s;
      nixosConfigurations.r2s-example-cross = example.nixosConfigurations.r2s-cross;

      checks = forAllSystems (pkgs: {
        # Builds mkr2simg and runs its unit tests.
        mkr2simg = self.packages.${pkgs.stdenv.hostPlatform.system}.mkr2simg;
        # Evaluates the module (the image derivation) without building it.
        sd-image-eval = pkgs.writeText "r2s-sd-image-drv-path"
          (builtins.unsafeDiscardStringContext self.packages.${pkgs.stdenv.hostPlatform.system}.sdImage.drvPath);
      });
    };
}
