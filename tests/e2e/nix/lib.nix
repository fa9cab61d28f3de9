# Helpers shared by the test closures (tests/e2e/nix/closure.nix and
# tests/nix/test.nix): plain derivations built with the host's /bin/sh
# (the tests run Nix with the sandbox off; there is no nixpkgs here).
{ system ? builtins.currentSystem }:
{
  mk = name: script: derivation {
    inherit name system;
    builder = "/bin/sh";
    args = [ "-euc" script ];
    PATH = "/usr/bin:/bin";
    LC_ALL = "C";
  };

  # Deterministic pseudo-random bytes: rnd SEED BYTES > file
  # (perl >= 5.20 ships its own drand48, so the output does not depend on libc)
  rnd = ''
    rnd() {
      perl -e 'srand($ARGV[0]); my $n = $ARGV[1]; my $s = "";
               $s .= pack("N", int(rand(4294967296))) for 1 .. int(($n + 3) / 4);
               print substr($s, 0, $n)' "$1" "$2"
    }
  '';
}
