# bash completion for sbx and sbx-oci                      -*- shell-script -*-
#
# The candidates come from `sbx __complete`, which reads the same option
# tables that drive sbx's own parsing and --help. A line __files__ or
# __dirs__ asks for path completion here, __commands__ for the host's
# programs (sbx unshare COMMAND).

# Paths starting with $1: directories only when $2 is __dirs__.
_sbx_paths()
{
	local cur=$1
	if declare -F _filedir >/dev/null; then
		if [[ $2 == __dirs__ ]]; then _filedir -d; else _filedir; fi
		return
	fi
	local IFS=$'\n'
	if [[ $2 == __dirs__ ]]; then
		COMPREPLY+=($(compgen -d -- "$cur"))
	else
		COMPREPLY+=($(compgen -f -- "$cur"))
	fi
	compopt -o filenames 2>/dev/null
}

_sbx()
{
	local cur prev words cword
	# Keep "--opt=value" and "SRC:DST" whole; readline still replaces only
	# the part after the last '=' or ':', see the trimming below.
	_get_comp_words_by_ref -n =: cur prev words cword 2>/dev/null || {
		cur=${COMP_WORDS[COMP_CWORD]} words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
	}

	# sbx-oci is `sbx oci`: sbx, beside it, completes it.
	local sbx=${words[0]} oci=()
	if [[ ${sbx##*/} == sbx-oci ]]; then
		oci=(oci)
		[[ $sbx == */* ]] && sbx=${sbx%/*}/sbx
	fi
	[[ $sbx == */* && -x $sbx ]] || sbx=sbx

	local -a cands
	mapfile -t cands < <("$sbx" __complete -- "${oci[@]}" "${words[@]:1:cword}" 2>/dev/null)

	# What readline replaces: the text after the last '=' or ':' it splits at.
	local head=
	if [[ $cur == *[=:]* ]]; then
		local breaks=${COMP_WORDBREAKS//[^=:]/}
		if [[ -n $breaks ]]; then
			head=${cur%"${cur##*[$breaks]}"}
		fi
	fi

	COMPREPLY=()
	local c
	for c in "${cands[@]}"; do
		case $c in
		__files__ | __dirs__)
			_sbx_paths "${cur#"$head"}" "$c"
			;;
		__commands__)
			local IFS=$'\n'
			COMPREPLY+=($(compgen -c -- "$cur" | sort -u))
			;;
		*)
			COMPREPLY+=("${c#"$head"}")
			;;
		esac
	done
} &&
	complete -F _sbx sbx sbx-oci

# ex: filetype=sh
