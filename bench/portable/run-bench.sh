#!/bin/sh
# run-bench.sh: the per-hit benchmark of bench/vm, inside a VM (busybox sh:
# /t/run-tests of the bench initramfs, which /init runs) or natively
# (bench/vm x86_64). Measures, on bench/portable/target.c's probed() (a nop
# first), the untraced call, the in-process trampoline (the target probes
# itself: the reference for jump), the minimal 1-stop ptrace tracer
# (bench/portable/min_tracer.c: the reference for boost) and uptrace's
# modes, ROUNDS times interleaved so that a slow spell of the machine
# touches every row alike, and prints the medians as a Markdown table and
# issue 17's two ratios, each line prefixed "XA-BENCH " for the host to
# find in the serial log among kernel messages.
# Environment: BENCH_DIR (target, min_tracer; default /t/bench), UPTRACE
# (default /t/uptrace), BENCH_CALLS (hits per traced run), BENCH_JUMP_CALLS
# (hits per run of jump and the in-process rows; default BENCH_CALLS),
# BENCH_UNTRACED_CALLS, BENCH_ROUNDS, BENCH_LABEL (the table's title: where
# it ran), BENCH_MODES (uptrace's rows; default "jump boost trap emulate
# auto"). In the VM the host passes them as files in BENCH_DIR (calls,
# jump_calls, rounds, label, modes).
dir=${BENCH_DIR:-/t/bench}
up=${UPTRACE:-/t/uptrace}
target=$dir/target
[ -s "$dir/calls" ] && BENCH_CALLS=$(cat "$dir/calls")
[ -s "$dir/jump_calls" ] && BENCH_JUMP_CALLS=$(cat "$dir/jump_calls")
[ -s "$dir/rounds" ] && BENCH_ROUNDS=$(cat "$dir/rounds")
[ -s "$dir/label" ] && BENCH_LABEL=$(cat "$dir/label")
[ -s "$dir/modes" ] && BENCH_MODES=$(cat "$dir/modes")
# bench/vm's host reads qemu's CPU time at the target's marks (target.c).
[ -s "$dir/mark" ] && BENCH_MARK=$(cat "$dir/mark") && export BENCH_MARK
calls=${BENCH_CALLS:-10000}
# A jump hit and an in-process one cost little beside the first lap of
# their rings (2^18 records: 4,096 pages, each faulted in by the program's
# first write to it), so their runs are longer, for that lap to weigh less.
jump_calls=${BENCH_JUMP_CALLS:-$calls}
untraced_calls=${BENCH_UNTRACED_CALLS:-2000000}
rounds=${BENCH_ROUNDS:-3}
modes=${BENCH_MODES:-jump boost trap emulate auto}
work=$(mktemp -d "${TMPDIR:-/tmp}/uptrace-bench.XXXXXX") || exit 1
# The target's libraries: in the VM they are where its PT_INTERP and the
# image's /lib put them; nothing else is needed.
say() { echo "XA-BENCH $*"; }
ns_of() { sed -n 's/.*ns_per_call \([0-9.]*\).*/\1/p' "$1" | tail -1; }
# waits_of OUT ROW: the calling thread's waits in that run (target.c: a
# stop counts, being preempted does not), kept for ROW's note.
waits_of() { sed -n 's/.* waits \([0-9]*\).*/\1/p' "$1" | tail -1 >> "$work/waits-$2"; }

# record ROW NS: one measurement of ROW; note ROW TEXT: why ROW has none.
record() { echo "$2" >> "$work/ns-$1"; }
note() { grep -qxF -- "$2" "$work/note-$1" 2>/dev/null || echo "$2" >> "$work/note-$1"; }

say "run: $(uname -m), kernel $(uname -r), $calls hits per traced run ($jump_calls for jump and the in-process rows), $rounds rounds; uptrace $("$up" --version 2>&1 | head -1)"
# What auto picks here, and whether boost is offered at this site at all
# (--explain resolves from the file: no process, nothing armed).
"$up" --explain probed -x "$target" > "$work/explain-auto" 2>&1
auto_mode=$(sed -n 's/^ *mode: *\([a-z]*\).*/\1/p' "$work/explain-auto" | head -1)
say "auto picks: ${auto_mode:-?} ($(sed -n 's/^ *mode: *//p' "$work/explain-auto" | head -1))"

# Every uptrace row probes probed and records its first argument, as the
# in-process trampoline does: a jump hit then writes one value (at a stop
# it comes from the registers the hit reads anyway).
# shellcheck disable=SC2016 # $arg1 is uptrace's, not the shell's
probe='probed a=$arg1'

# uptrace_row MODE ROUND_REFERENCE: one run of uptrace --mode MODE; with
# ROUND_REFERENCE (this round's reference row's ns), MODE / it is noted
# for the same-round ratio (paired-MODE).
uptrace_row() {
  n=$calls
  [ "$1" = jump ] && n=$jump_calls
  rm -f "$work/count"
  say "row $1 $n"
  "$up" -q -c -o "$work/count" --mode "$1" "$probe" -- "$target" "$n" > "$work/out" 2> "$work/err"
  rc=$?
  ns=$(ns_of "$work/out")
  count=$(sed -n 's/^probed \([0-9]*\)$/\1/p' "$work/count" 2>/dev/null)
  if [ -n "$ns" ] && [ "$rc" -eq 0 ] && [ "$count" = "$n" ]; then
    record "$1" "$ns"
    waits_of "$work/out" "$1"
    [ -n "$2" ] && awk "BEGIN{printf \"%.2f\\n\", 100 * $ns / $2}" >> "$work/ns-paired-$1"
  elif [ -z "$ns" ] && [ "$rc" -eq 1 ]; then
    # Refused (status 1, the reason on stderr): this ISA or site does not
    # offer the mode. Said once, not counted as a measurement.
    note "$1" "not offered: $(grep -v '^$' "$work/err" | head -1)"
  else
    note "$1" "failed (status $rc, count ${count:-none} of $n): $(grep -v '^$' "$work/err" | tail -1)"
  fi
}

# inproc_row HOW: one run of the target probing itself (target.c's
# "inproc" or "inproc-gettid"), as many hits as a jump run, so that both
# fault in the same first lap of their rings; row_ns is its ns, if any.
inproc_row() {
  say "row $1 $jump_calls"
  "$target" "$jump_calls" "$1" > "$work/out" 2> "$work/err"
  rc=$?
  ns=$(ns_of "$work/out")
  row_ns=
  if [ -n "$ns" ] && [ "$rc" -eq 0 ]; then record "$1" "$ns"; row_ns=$ns; waits_of "$work/out" "$1"
  elif [ "$rc" -eq 3 ]; then note "$1" "not available: $(tail -1 "$work/err")"
  else note "$1" "failed (status $rc): $(tail -1 "$work/err")"; fi
}

round=1
while [ "$round" -le "$rounds" ]; do
  say "row untraced $untraced_calls"
  "$target" "$untraced_calls" > "$work/out" 2>&1
  ns=$(ns_of "$work/out")
  if [ -n "$ns" ]; then record untraced "$ns"; else note untraced "failed: $(tail -1 "$work/out")"; fi

  # Each reference right before the mode it is the goal's reference for:
  # their ratio within one round is the least touched by the machine's
  # load changing between rounds.
  inproc_row inproc-gettid
  inproc_row inproc
  case " $modes " in *" jump "*) uptrace_row jump "$row_ns";; esac

  say "row minimal $calls"
  "$dir/min_tracer" probed "$target" "$calls" > "$work/out" 2>&1
  ns=$(ns_of "$work/out")
  hits=$(sed -n 's/^min_tracer: \([0-9]*\) hits$/\1/p' "$work/out")
  round_minimal=
  if [ -n "$ns" ] && [ "$hits" = "$calls" ]; then record minimal "$ns"; round_minimal=$ns
  else note minimal "failed: $(grep -v ns_per_call "$work/out" | tail -1) (hits ${hits:-?} of $calls)"; fi

  for mode in $modes; do
    case $mode in
      jump) ;;
      boost) uptrace_row boost "$round_minimal";;
      *) uptrace_row "$mode" "";;
    esac
  done
  say "round $round of $rounds done"
  round=$((round + 1))
done

# median ROW: the median of ROW's measurements, "min-max" after it.
median() {
  [ -s "$work/ns-$1" ] || return 1
  sort -n "$work/ns-$1" | awk '{v[NR] = $1} END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.1f %.1f %.1f %d\n", m, v[1], v[NR], NR }'
}
minimal=$(median minimal | cut -d' ' -f1)
label=${BENCH_LABEL:-$(uname -m)}
say ""
say "| $label | ns per hit | × minimal | note |"
say "|---|---:|---:|---|"
row() {  # row KEY NAME
  m=$(median "$1")
  notes=$(cat "$work/note-$1" 2>/dev/null | tr '\n' ';' | sed 's/;$//; s/;/; /g')
  if [ -z "$m" ]; then
    say "| $2 | – | – | ${notes:-no measurement} |"
    return
  fi
  set -- "$1" "$2" $m
  ratio=–
  [ -n "$minimal" ] && [ "$1" != untraced ] && ratio=$(awk "BEGIN{printf \"%.2f\", $3 / $minimal}")
  spread="median of $6, $4–$5"
  [ "$6" -gt 1 ] || spread="1 run"
  # Where a thread that never stops on its own waited (a full ring, for
  # jump), how often: the waits of each run.
  case $1 in inproc*|jump|auto) [ -s "$work/waits-$1" ] && spread="$spread; waits $(tr '\n' ' ' < "$work/waits-$1" | sed 's/ $//')";; esac
  say "| $2 | $3 | $ratio | $spread${notes:+; $notes} |"
}
row untraced "untraced call"
row inproc "in-process trampoline (the target patches probed() itself)"
row inproc-gettid "in-process trampoline, thread named by gettid"
row minimal "minimal ptrace tracer, 1 stop/hit"
for mode in $modes; do
  name="uptrace --mode $mode"
  [ "$mode" = auto ] && name="uptrace --mode auto (picks ${auto_mode:-?})"
  row "$mode" "$name"
done
say ""
# goal MODE REFERENCE LIMIT: issue 17's goal for MODE against REFERENCE:
# the medians' ratio and the median of the same-round ratios (3 decimals:
# the verdict is the unrounded value's, and 1.152 is not 1.15).
goal() {
  m=$(median "$1" | cut -d' ' -f1)
  r=$(median "$2" | cut -d' ' -f1)
  if [ -n "$m" ] && [ -n "$r" ]; then
    say "$(awk -v m="$m" -v r="$r" -v l="$3" -v what="$1 / $2" 'BEGIN {
      printf "%s = %.3f (goal <= %s): %s", what, m / r, l, m / r <= l ? "met" : "MISSED" }')"
    paired=$(median "paired-$1")
    [ -z "$paired" ] || say "$(echo "$paired" | awk -v l="$3" -v what="$1 / $2" '{
      printf "%s of the same round: median %.3f (%.2f-%.2f, %d rounds; goal <= %s): %s", what, $1 / 100, $2 / 100,
        $3 / 100, $4, l, $1 / 100 <= l ? "met" : "MISSED" }')"
  elif [ -n "$r" ]; then
    say "$1 / $2: $1 not available here ($(head -1 "$work/note-$1" 2>/dev/null))"
  else
    say "$1 / $2: no $2 measurement ($(head -1 "$work/note-$2" 2>/dev/null))"
  fi
}
case " $modes " in *" jump "*) goal jump inproc 3;; esac
case " $modes " in *" boost "*) goal boost minimal 1.15;; esac
# Where uptrace's trampoline names the thread by gettid (its --explain says
# so), the in-process one that does too says what the rest of a jump hit
# costs beside that system call.
m=$(median jump | cut -d' ' -f1)
r=$(median inproc-gettid | cut -d' ' -f1)
if [ -n "$m" ] && [ -n "$r" ] && "$up" --explain --mode jump "$probe" -x "$target" 2>/dev/null | grep -q gettid; then
  say "$(awk -v m="$m" -v r="$r" 'BEGIN { printf "jump / inproc-gettid = %.2f (both name the thread by gettid; no goal)", m / r }')"
fi
rm -rf "$work"
