# Builder of make-sd-image.nix's closure info (POSIX sh; run as
# `SHELL -eu closure-info.sh` with PATH set in the derivation's args, since
# a __structuredAttrs derivation gets no attributes as environment
# variables).  Writes what nixpkgs' closureInfo writes, byte for byte:
#   $out/store-paths     the closure of the root paths, one a line, sorted
#   $out/registration    `nix-store --load-db` input: path, NAR hash
#                        ("sha256:<base32>" as Nix gives it), NAR size, an
#                        empty deriver line, reference count, references
#   $out/total-nar-size  the sum of the NAR sizes
# from the exportReferencesGraph JSON that Nix puts in .attrs.json.
# Nix >= 2.12 names that file in NIX_ATTRS_JSON_FILE; older ones (Debian's
# 2.8) only write it to the top of the build directory.
# shellcheck shell=sh
attrs=${NIX_ATTRS_JSON_FILE:-${NIX_BUILD_TOP:-.}/.attrs.json}
[ -f "$attrs" ] || { echo "closure-info: no $attrs (not a __structuredAttrs build?)" >&2; exit 1; }

out=$(jq -r '.outputs.out' "$attrs")
mkdir "$out"
jq -e '.closure | length > 0' "$attrs" > /dev/null ||
    { echo "closure-info: exportReferencesGraph gave an empty closure" >&2; exit 1; }
jq -r '.closure | map(.narSize) | add' "$attrs" > "$out/total-nar-size"
# -j: no newline after the string, which already ends in one (closureInfo
# gets the same bytes with `jq -r ... | head -n -1`).
jq -j '.closure | map([.path, .narHash, .narSize, "", (.references | length)] + .references)
       | add | map("\(.)\n") | add' "$attrs" > "$out/registration"
jq -r '.closure[].path' "$attrs" > "$out/store-paths"
