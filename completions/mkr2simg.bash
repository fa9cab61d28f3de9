# bash completion for mkr2simg                                 -*- sh -*-
# Installed as $datadir/bash-completion/completions/mkr2simg.  The option
# lists are each verb's `--help`; tests/e2e/test_install.sh checks that
# they agree.

_mkr2simg_verbs="build inspect verify"
_mkr2simg_build="--toplevel --registration --store-root --idbloader
	--uboot-itb --uboot-rockchip --dtb --timeout --boot-size --root-size
	--root-headroom --seed --no-dedup --no-memory-map-check --bmap
	--threads --env-offset --env-size --env-redundant-offset --quiet
	--verbose --help --version"
_mkr2simg_inspect="--json --env-offset --env-size --env-redundant-offset
	--help"
_mkr2simg_verify="--toplevel --registration --store-root --idbloader
	--uboot-itb --uboot-rockchip --dtb --timeout --env-offset --env-size
	--env-redundant-offset --quiet --help"

_mkr2simg()
{
	local cur prev verb=build i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		build | inspect | verify) verb=${COMP_WORDS[i]}; break ;;
		-*) ;;
		*) break ;;
		esac
	done

	case $prev in
	--store-root)
		COMPREPLY=($(compgen -d -- "$cur")); return ;;
	--registration | --idbloader | --uboot-itb | --uboot-rockchip | --bmap | --toplevel)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--dtb)
		COMPREPLY=($(compgen -W "none rockchip/rk3328-nanopi-r2s.dtb" -- "$cur")); return ;;
	--timeout)
		COMPREPLY=($(compgen -W "none 0 1 5 10" -- "$cur")); return ;;
	--root-size)
		COMPREPLY=($(compgen -W "auto" -- "$cur")); return ;;
	--boot-size | --root-headroom | --seed | --threads | --env-offset | --env-size | --env-redundant-offset)
		return ;;
	esac

	if [[ $cur == -* ]]; then
		local opts=_mkr2simg_$verb
		COMPREPLY=($(compgen -W "${!opts}" -- "$cur"))
	elif [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "$_mkr2simg_verbs" -- "$cur") $(compgen -f -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
} && complete -o filenames -F _mkr2simg mkr2simg
