# bash completion for orbitctl(8)
_orbitctl()
{
	local cur prev words cword
	_init_completion || return
	local opts="-j --json -p --pretty -V --version -h --help"
	local cmds="check list show kill stats"
	case $prev in
	show|kill)
		[ "$prev" = kill ] && opts="$opts --main --name"
		COMPREPLY=($(compgen -W "$(orbitctl list 2>/dev/null | awk 'NR > 1 { print $1 }') $opts" -- "$cur"))
		return ;;
	--name)
		COMPREPLY=($(compgen -W "$(orbitctl list 2>/dev/null | awk 'NR > 1 { print $4 }')" -- "$cur"))
		return ;;
	--main)
		COMPREPLY=($(compgen -W "$(orbitctl list 2>/dev/null | awk 'NR > 1 { print $2 }')" -- "$cur"))
		return ;;
	esac
	COMPREPLY=($(compgen -W "$cmds $opts" -- "$cur"))
}
complete -F _orbitctl orbitctl
