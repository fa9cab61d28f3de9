# shellcheck shell=bash
# Source this file (". tests/e2e/nix_env.sh") to get the Nix settings shared
# by the e2e tests.  Nix is configured through the environment only; nothing
# under /etc is touched.
#
#  - sandbox = false: the test derivations use the host's /bin/sh, /usr/bin
#    tools and perl as builders (there is no nixpkgs / stdenv).
#  - build-users-group = (empty): build as the invoking user (root) instead
#    of the nixbld* users; needs no daemon.
#  - substituters = (empty): no binary cache is reachable; never try one.
#  - fsync-metadata = false: faster SQLite writes; the store is scratch.
#  - auto-optimise-store = false: the build script runs `nix-store --optimise`
#    explicitly so the hardlinking is observable and deterministic.
# NIX_CONFIG replaces (not extends) settings from nix.conf for the keys it
# names; anything set here wins over /etc/nix/nix.conf.
NIX_CONFIG='sandbox = false
build-users-group =
substituters =
trusted-substituters =
experimental-features =
fsync-metadata = false
auto-optimise-store = false
max-jobs = auto
cores = 0
connect-timeout = 1
show-trace = true
warn-dirty = false'
export NIX_CONFIG
# No <nixpkgs> or channels exist; make sure nothing looks for them.
export NIX_PATH=
# Talk to /nix directly (we run as root) rather than to a daemon whose
# configuration we do not control.
export NIX_REMOTE="${MKR2SIMG_NIX_REMOTE:-local}"
