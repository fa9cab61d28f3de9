# lib.nixosSystem of the stub: the stub's module list plus the caller's
# modules, evaluated by the stub's module system with `modulesPath` as a
# special argument, as nixpkgs' nixos/lib/eval-config.nix does.
{ lib, modulesPath }:
{ modules, specialArgs ? { }, ... }:
let
  eval = lib.evalModules {
    modules = [ (modulesPath + "/module-list.nix") ] ++ modules;
    specialArgs = { inherit modulesPath; } // specialArgs;
  };
in
eval // { pkgs = eval.config._module.args.pkgs; }
