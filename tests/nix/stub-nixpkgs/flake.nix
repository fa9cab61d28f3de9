# The stub nixpkgs as a flake input: tests pass
# `--override-input nixpkgs path:<a copy of this directory>`.  Like
# nixpkgs' flake: lib (with lib.nixosSystem) and legacyPackages.<system>.
{
  description = "stub nixpkgs for mkr2simg's tests (tests/nix/stub-nixpkgs)";
  outputs = _: {
    inherit ((import ./. { system = "x86_64-linux"; }).nixpkgs) lib legacyPackages;
  };
}
