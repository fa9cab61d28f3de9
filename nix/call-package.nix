# mkr2simg from a nixpkgs package set:  import ./call-package.nix pkgs
#
# The one place that calls package.nix (flake packages and overlay, the
# NixOS module's fallback).  nixpkgs renamed `xxHash` to `xxhash` (Feb
# 2026: the old name is an alias that warns, and fails with allowAliases =
# false); older nixpkgs have only `xxHash`.  `or` takes the new name
# whenever it exists, so the alias is never touched.
pkgs: pkgs.callPackage ./package.nix { xxhash = pkgs.xxhash or pkgs.xxHash; }
