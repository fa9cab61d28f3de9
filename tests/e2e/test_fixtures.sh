#!/usr/bin/env bash
# test_fixtures.sh MKR2SIMG
#
# End to end on the fixture store: mkr2simg writes images with several
# option sets and check_image.sh (which knows nothing of mkr2simg's code)
# proves each one against the source tree, including Nix itself verifying
# the registered store when nix-store is installed; then again on a used
# card that received only the image's data ranges (check_used_card.sh).
set -euo pipefail

mk=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bash "$here/prepare_fixtures.sh" "$work/fx" >/dev/null
fx=$work/fx
bl=$fx/bootloader
nix_verify=()
reg=()
if [ -s "$fx/registration" ]; then
	nix_verify=(--nix-verify)
	reg=(--registration "$fx/registration")
else
	echo "note: nix-store not installed, so no registration and no Nix verification"
fi

passed=0 failed=0

# run NAME "MKR2SIMG OPTIONS" "CHECK OPTIONS"
run() {
	local name=$1 img=$work/$1.img
	local -a mk_opts check_opts
	read -r -a mk_opts <<<"$2"
	read -r -a check_opts <<<"$3"
	echo "== $name: mkr2simg ${mk_opts[*]}"
	if ! "$mk" --store-root "$fx/store" "${reg[@]}" "${mk_opts[@]}" \
		"$fx/closure.txt" "$img"; then
		echo "FAIL: $name: mkr2simg failed"
		failed=$((failed + 1))
		return
	fi
	local checker
	# The image itself, then the image flashed onto a used card.
	for checker in check_image.sh check_used_card.sh; do
		if bash "$here/$checker" -q --store-root "$fx/store" \
			--closure "$fx/closure.txt" "${reg[@]}" "${nix_verify[@]}" \
			"${check_opts[@]}" "$img"; then
			passed=$((passed + 1))
		else
			echo "FAIL: $name: $checker"
			failed=$((failed + 1))
		fi
	done
	rm -f "$img"
}

run default-with-bootloaders \
	"--idbloader $bl/idbloader.img --uboot-itb $bl/u-boot.itb" \
	"--idbloader $bl/idbloader.img --uboot-itb $bl/u-boot.itb --timeout 1 --dedup yes"
run no-dedup-rockchip-fdtdir-timeout0 \
	"--no-dedup --uboot-rockchip $bl/u-boot-rockchip.bin --dtb none --timeout 0" \
	"--uboot-rockchip $bl/u-boot-rockchip.bin --dtb none --timeout 0 --dedup no"
run no-bootloader-small-boot-fixed-root \
	"--boot-size 64M --root-size 200M --timeout 5 --seed fixture-seed" \
	"--boot-size 64M --timeout 5 --dedup yes"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
