# The stub's NixOS before 25.05: no image/ (no image.* options, no
# system.build.images); a module must bring what it needs.
{ imports = [ ../modules/base.nix ]; }
