# The stub's NixOS as of 25.05: the base options and the image variants.
{ imports = [ ./base.nix ./image/images.nix ]; }
