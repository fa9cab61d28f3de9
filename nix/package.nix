# mkr2simg as a nixpkgs package:  pkgs.callPackage ./package.nix { }
# (call-package.nix does that, with `xxhash` for nixpkgs older than its
# rename from `xxHash`)
#
# Builds the library (libmkr2simg.so), the header (include/mkr2simg.h), the
# pkg-config file (lib/pkgconfig/mkr2simg.pc) and the command
# (bin/mkr2simg) with meson, and runs the unit tests (`--suite unit`) in
# checkPhase.  Everything goes to the one output `out`.
{ lib
, stdenv
, meson
, ninja
, pkg-config
, e2fsprogs
, libuuid
, zlib
, xxhash
, zstd
, cmocka
}:

let
  root = ../.;
  rootString = toString root;

  # The version from meson.build's project() call, so the two never drift.
  version = builtins.head (builtins.match
    ".*project\\([^)]*[[:space:]]version : '([^']+)'.*"
    (builtins.readFile (root + "/meson.build")));

  # Top-level entries that are not part of the C project: build trees,
  # `nix build` results, written images, VCS data, and the Nix wrapper
  # itself (so that editing nix/ or flake.nix does not rebuild the package).
  excluded = name:
    builtins.match "(build.*|result.*|.*\\.img|.*\\.img\\.zst|\\.git|\\.ci|nix|flake\\.nix|flake\\.lock|.*\\.md)" name != null;

  # builtins.path rather than lib.fileset: works with any nixpkgs and can be
  # evaluated (and tested) without one.
  src = builtins.path {
    name = "mkr2simg-${version}-source";
    path = root;
    filter = path: _type:
      let
        rel = builtins.substring (builtins.stringLength rootString + 1) (-1) (toString path);
        top = builtins.head (builtins.split "/" rel);
      in
      !(excluded top);
  };
in
stdenv.mkDerivation {
  pname = "mkr2simg";
  inherit version src;

  strictDeps = true;

  nativeBuildInputs = [ meson ninja pkg-config ];
  # cmocka is a build input, not a check input: tests/meson.build asks for it
  # at configure time.
  buildInputs = [ e2fsprogs libuuid zlib xxhash zstd cmocka ];

  # The project defaults to werror=true for its own CI; a newer compiler in
  # nixpkgs must not turn a new warning into a failed build for users.
  mesonFlags = [ "-Dwerror=false" ];

  doCheck = true;
  # The nixpkgs meson hook has cd'ed into the build directory.  Only the
  # unit tests: the other suites need Nix, QEMU or loop devices.
  checkPhase = ''
    runHook preCheck
    meson test --print-errorlogs --suite unit
    runHook postCheck
  '';

  meta = {
    description = "Write bit-reproducible NanoPi R2S SD-card images from Nix closures";
    license = lib.licenses.mit;
    platforms = lib.platforms.linux;
    mainProgram = "mkr2simg";
  };
}
