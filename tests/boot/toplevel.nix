# Store paths of the boot test (tests/boot/boot_test.sh), built with plain
# `derivation`s: builder /bin/sh running payload.sh with host tools, so
# this needs `sandbox = false` (tests/e2e/nix_env.sh).
#
#   nix-build toplevel.nix --argstr kernelImage /abs/Image -A linux
#   nix-build toplevel.nix --argstr kernelImage /abs/Image \
#     --argstr initrdFile /abs/initrd.cpio.gz -A toplevel
#
# linux, dataA, dataB, note and bigDir do not depend on the initramfs, so
# the initramfs can carry a manifest of them; the toplevel wraps the kernel,
# that initramfs and those paths into a NixOS-like system.
{ kernelImage
, kernelVersion ? "arm64"
, initrdFile ? null
, kernelParams ? "console=ttyAMA0 loglevel=4"
}:
let
  system = builtins.currentSystem;

  mk = role: name: env: derivation ({
    inherit name system;
    builder = "/bin/sh";
    args = [ "-eu" ./payload.sh role ];
    PATH = "/usr/bin:/bin";
    LC_ALL = "C";
  } // env);

  # Host files, copied into the store by content: a new kernel or a new
  # initramfs gives new store paths.
  hostFile = name: path: builtins.path { inherit name; path = /. + path; };

  linux = mk "linux" "linux-${kernelVersion}" {
    kernelImage = hostFile "vmlinuz-${kernelVersion}" kernelImage;
  };

  dataB = mk "data-b" "mkr2simg-boot-data-b-1.0" { };

  dataA = mk "data-a" "mkr2simg-boot-data-a-1.0" { inherit dataB; };

  # A store path that is a single (executable) file.
  note = mk "note" "mkr2simg-boot-note.sh" { };

  # One directory of 9,000 entries: an htree of two levels.
  bigDir = mk "big-dir" "mkr2simg-boot-big-dir-1.0" { };

  initrd = mk "initrd" "initrd-mkr2simg-boot-check" {
    initrdFile = hostFile "initrd-mkr2simg-boot-check.cpio.gz" initrdFile;
  };

  toplevel = mk "toplevel" "nixos-system-mkr2simg-boot-test-24.05" {
    inherit linux initrd dataA dataB note bigDir kernelParams;
  };
in
{
  inherit linux dataA dataB note bigDir toplevel;
}
