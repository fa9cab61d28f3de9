# The stub's `lib`: the module system of modules.nix and the few other
# functions that nix/, flake.nix, the template and the stub's NixOS modules
# use, with nixpkgs' names and meanings.
#   release: which shape of NixOS lib.nixosSystem evaluates ("25.05": with
#   image/images.nix and image/file-options.nix; "24.11": without).
{ release ? "25.05" }:
let
  inherit (builtins) concatStringsSep filter foldl' head length listToAttrs stringLength substring;
  lib = import ./modules.nix { inherit lib; } // rec {
    fix = f: let x = f x; in x;
    last = list: builtins.elemAt list (length list - 1);
    makeBinPath = ps: concatStringsSep ":" (map (p: "${p}/bin") ps);
    optional = cond: x: if cond then [ x ] else [ ];
    optionals = cond: xs: if cond then xs else [ ];
    optionalString = cond: s: if cond then s else "";
    optionalAttrs = cond: set: if cond then set else { };
    genAttrs = names: f: listToAttrs (map (n: { name = n; value = f n; }) names);
    mapAttrs = builtins.mapAttrs;
    hasSuffix = suffix: s:
      stringLength s >= stringLength suffix
      && substring (stringLength s - stringLength suffix) (-1) s == suffix;
    removeSuffix = suffix: s:
      if hasSuffix suffix s then substring 0 (stringLength s - stringLength suffix) s else s;
    recursiveUpdate = a: b: a // builtins.mapAttrs
      (n: v: if builtins.isAttrs v && builtins.isAttrs (a.${n} or null) && !(lib.isDerivation v) then recursiveUpdate a.${n} v else v)
      b;
    licenses.mit = "mit";
    platforms.linux = [ "x86_64-linux" "aarch64-linux" ];
    nixosSystem = import ../nixos/lib/eval-config.nix {
      inherit lib;
      modulesPath = toString (if release == "24.11" then ../nixos/modules-24.11 else ../nixos/modules);
    };
  };
in
lib
