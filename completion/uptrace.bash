# bash completion for uptrace(1): its options, the values of --format and
# --mode, pids, files and commands, and probe names (functions and USDT
# markers, as `uptrace --list` prints them) once -p PID or -x FILE is on the
# line. Installed as /usr/share/bash-completion/completions/uptrace.

_uptrace_probes() {
    local self=$1 cur=$2 target_opt=$3 target=$4
    # Only the location: a probe's fetch arguments follow a space.
    [[ $cur == *" "* ]] && return
    local module="" glob=$cur*
    # MODULE:GLOB (a marker's %PROVIDER:NAME has a ':' of its own, and a
    # C++ name its '::').
    if [[ $cur != %* && $cur == *:* ]]; then
        local head=${cur%%:*}
        [[ ${cur:${#head}:2} != "::" ]] && module=$head:
    fi
    # Without MODULE:, a probe is in the main executable: list only that
    # one, not every library the process maps.
    if [[ -z $module && $target_opt == -p ]]; then
        local exe
        exe=$(readlink "/proc/$target/exe" 2>/dev/null) || return
        glob=$exe:$glob
    fi
    local name
    while read -r name _; do
        [[ -n $name ]] && COMPREPLY+=("$module$name")
    done < <("$self" --list -q "$target_opt" "$target" "$glob" 2>/dev/null)
}

_uptrace() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        # ':' in a word (libc:malloc, %provider:name) is part of it.
        _init_completion -n : || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    # After --: the command and its arguments.
    local i
    for ((i = 1; i < cword; i++)); do
        if [[ ${words[i]} == -- ]]; then
            if declare -F _command_offset >/dev/null; then
                _command_offset $((i + 1))
            else
                COMPREPLY=($(compgen -c -- "$cur"))
            fi
            return
        fi
    done

    case $prev in
        --format)
            COMPREPLY=($(compgen -W "text json chrome folded" -- "$cur"))
            return ;;
        --mode)
            COMPREPLY=($(compgen -W "auto trap boost emulate jump" -- "$cur"))
            return ;;
        -p | --pid)
            if declare -F _pids >/dev/null; then _pids; else COMPREPLY=($(compgen -W "$(ls /proc | grep '^[0-9]')" -- "$cur")); fi
            return ;;
        -x | --exe | -o | --output | --ready-file)
            if declare -F _filedir >/dev/null; then _filedir; else COMPREPLY=($(compgen -f -- "$cur")); fi
            return ;;
        -n | --max-hits | -d | --duration)
            return ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "-p --pid -x --exe -o --output --format -c --count -n --max-hits -d --duration
                                 -f --follow --stack --mode --ready-file --list --explain -q --quiet -h --help
                                 --version --" -- "$cur"))
        return
    fi

    # A probe: named from what --list says of the process or file given.
    local target_opt="" target=""
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            -p | --pid) target_opt=-p target=${words[i + 1]} ;;
            --pid=*) target_opt=-p target=${words[i]#*=} ;;
            -x | --exe) target_opt=-x target=${words[i + 1]} ;;
            --exe=*) target_opt=-x target=${words[i]#*=} ;;
        esac
    done
    # -p 10,11: the first one's. ~ as the shell would expand it.
    target=${target%%,*}
    [[ $target == "~/"* ]] && target=$HOME/${target#"~/"}
    [[ -n $target ]] || return
    # The uptrace being completed, if it can be run (./build/uptrace).
    local self=${words[0]}
    command -v "$self" >/dev/null 2>&1 || self=uptrace
    COMPREPLY=()
    _uptrace_probes "$self" "$cur" "$target_opt" "$target"
    if declare -F __ltrim_colon_completions >/dev/null; then
        __ltrim_colon_completions "$cur"
    fi
} &&
    complete -F _uptrace uptrace
