#!/usr/bin/env bash
# The bash completion (completion/uptrace.bash) as bash-completion runs it:
# each line below is split into words the way readline splits them (':' is
# a word of its own), _uptrace is called, and what it offers is compared.
#   test_completion.sh UPTRACE COMPLETION_SCRIPT TARGET_DIR
set -uo pipefail
uptrace=$1 script=$2 targets=$3
[ -r /usr/share/bash-completion/bash_completion ] ||
  { echo "FAIL: /usr/share/bash-completion/bash_completion is missing (install bash-completion)"; exit 1; }
# bash-completion sets itself up only in an interactive shell unless told.
BASH_COMPLETION_VERSINFO=${BASH_COMPLETION_VERSINFO:-}
source /usr/share/bash-completion/bash_completion
source "$script"

failed=0
# complete LINE: what _uptrace offers at the end of LINE, sorted, one line.
complete_line() {
  local line=$1
  COMP_LINE=$line
  COMP_POINT=${#line}
  COMP_WORDS=()
  local word
  for word in $line; do
    # readline: a ':' ends a word and is a word itself.
    while [[ $word == *:* ]]; do
      [[ -n ${word%%:*} ]] && COMP_WORDS+=("${word%%:*}")
      COMP_WORDS+=(":")
      word=${word#*:}
    done
    [[ -n $word ]] && COMP_WORDS+=("$word")
  done
  [[ $line == *" " || $line == *: ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _uptrace 2>/dev/null
  printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
expect() {  # LINE EXPECTED
  local got
  got=$(complete_line "$1")
  if [[ $got == "$2" ]]; then
    echo "ok: '$1' -> $got"
  else
    echo "FAIL: '$1' -> '$got', expected '$2'"
    failed=1
  fi
}
expect_has() {  # LINE WORD: WORD is among what is offered
  local got
  got=$(complete_line "$1")
  if [[ " $got " == *" $2 "* ]]; then
    echo "ok: '$1' offers $2"
  else
    echo "FAIL: '$1' -> '$got', which lacks '$2'"
    failed=1
  fi
}

expect "$uptrace --format " "chrome folded json text"
expect "$uptrace --mode b" "boost"
expect "$uptrace --st" "--stack"
expect "$uptrace --ex" "--exe --explain"
# Probe names need -p or -x.
expect "$uptrace ti" ""
sdt=$targets/target-sdt
expect "$uptrace -x $sdt ti" "tick"
expect "$uptrace -x $sdt %upt" "%uptest:answer %uptest:guarded %uptest:tick"
# After the ':', readline replaces only what follows it.
expect "$uptrace -x $sdt %uptest:g" "guarded"
expect "$uptrace --exe=$sdt %uptest:an" "answer"
# Options in between do not matter.
expect "$uptrace -x $sdt -c --stack gu" "guarded_round guarded_semaphore_value"

# A running process: the main executable's names without MODULE:, the
# library's with it.
# Only once it says "ready" has it exec'd and mapped its libraries: a fixed
# sleep is too short on a loaded machine.
ready=$(mktemp)
"$sdt" wait > "$ready" &
pid=$!
for _ in $(seq 300); do
  grep -q '^ready' "$ready" && break
  sleep 0.1
done
rm -f "$ready"
expect "$uptrace -p $pid ti" "tick"
expect_has "$uptrace -p $pid libc:getpi" "getpid"
expect "$uptrace -q -p $pid,1 %uptest:t" "tick"
kill $pid
wait $pid 2>/dev/null

# After --, the command.
expect_has "$uptrace work -- ech" "echo"
exit $failed
