#!/bin/sh
# vm-tests.sh: the test driver inside the VM (busybox sh; it is /t/run-tests
# in the initramfs, started by /init). Runs every test case of the static
# integration executable as a process of its own, so that one crash or hang
# cannot hide the others, and prints one line per test for the host to parse:
#   XA-TEST PASS <seconds> <name>
#   XA-TEST FAIL <seconds> <name>            (its output follows, as "  | ...")
#   XA-TEST SKIP 0 <name> -- <reason>
#     (also <seconds> for one that skipped itself, or that a mode forced by
#     /t/test-mode could not run: uptrace refused that mode at its site)
# "XA-TESTS <n>" before them is how many PASS/FAIL lines must follow.
# Environment (set by /init from the kernel command line): XA_TIME_SCALE.
tests=/t/uptrace-integration
export UPTRACE_BINARY=/t/uptrace UPTRACE_TARGET_DIR=/t/targets TMPDIR=/tmp
export UPTRACE_TEST_TIME_SCALE="${XA_TIME_SCALE:-3}"
# Stress tests run a third of their rounds here (harness.h stress_rounds):
# the native suite does all of them, the VMs prove the ISA's paths.
export UPTRACE_TEST_STRESS_DIVISOR=3
# libuptest.so: the targets' RUNPATH names the build tree, which is not here.
export LD_LIBRARY_PATH=/t/targets
# /t/test-mode (UPTRACE_CROSS_MODE on the host): --mode MODE in front of
# every uptrace run (harness.h), as the native integration-MODE labels.
if [ -s /t/test-mode ]; then export UPTRACE_TEST_MODE="$(cat /t/test-mode)"; fi
per_test_timeout=$(awk "BEGIN{print int(100 * $UPTRACE_TEST_TIME_SCALE)}")
uptime() { cut -d' ' -f1 /proc/uptime; }
# A test name as a Catch2 test spec: \ , [ ] * " are special there.
spec() { printf '%s\n' "$1" | sed 's/[][\\,*"]/\\&/g'; }

# (Catch2 v2 exits with the number of tests listed: the status says nothing.)
# /t/test-spec (UPTRACE_CROSS_TESTS on the host) narrows the run.
if [ -s /t/test-spec ]; then
  "$tests" --list-test-names-only "$(cat /t/test-spec)" > /tmp/names 2>/tmp/list.err
else
  "$tests" --list-test-names-only > /tmp/names 2>/tmp/list.err
fi
if ! grep -q . /tmp/names; then
  echo "XA-ERROR cannot list the tests:"; sed 's/^/  | /' /tmp/list.err; exit 1
fi
# Hidden tests ([.]) are skipped; the ISA tag says why (tests/integration/isa.h).
"$tests" --list-test-names-only "[.]" > /tmp/hidden 2>/dev/null
for isa in x86_64 aarch64 ppc64le riscv64; do
  "$tests" --list-test-names-only "[.][$isa]" > "/tmp/hidden-$isa" 2>/dev/null
done
"$tests" --list-test-names-only "[.][jump-filter]" > /tmp/hidden-jump-filter 2>/dev/null
grep -v '^$' /tmp/names > /tmp/run || true
if [ -s /t/test-spec ] && [ -s /tmp/hidden ]; then
  # A spec also selects hidden tests: another ISA's stay skipped.
  grep -vxF -f /tmp/hidden /tmp/run > /tmp/run-visible || true
  mv /tmp/run-visible /tmp/run
fi
if [ -s /t/test-repeat ]; then
  : > /tmp/run-repeated
  for _ in $(seq "$(cat /t/test-repeat)"); do cat /tmp/run >> /tmp/run-repeated; done
  mv /tmp/run-repeated /tmp/run
fi
echo "XA-TESTS $(wc -l < /tmp/run) uptrace=$("$UPTRACE_BINARY" --version 2>&1 | head -1) time_scale=$UPTRACE_TEST_TIME_SCALE mode=${UPTRACE_TEST_MODE:-auto}"
grep -v '^$' /tmp/hidden | while IFS= read -r name; do
  why="hidden test ([.])"
  for isa in x86_64 aarch64 ppc64le riscv64; do
    grep -qxF -- "$name" "/tmp/hidden-$isa" && why="$isa only: its instructions, registers or targets"
  done
  if grep -qxF -- "$name" /tmp/hidden-jump-filter; then
    why="a condition in a trampoline: riscv64's evaluate none yet"
  fi
  echo "XA-TEST SKIP - $name -- $why"
done
failed=0
while IFS= read -r name; do
  echo "XA-RUNNING $name"
  start=$(uptime)
  timeout -s KILL "$per_test_timeout" "$tests" --warn NoTests "$(spec "$name")" \
    > /tmp/out 2>&1 </dev/null
  rc=$?
  secs=$(awk "BEGIN{printf \"%.1f\", $(uptime) - $start}")
  if [ $rc -ne 0 ] && [ -n "${UPTRACE_TEST_MODE:-}" ] && [ $rc -ne 137 ] &&
     reason=$(grep -m1 '^forced-mode refusal: ' /tmp/out); then
    # The forced mode cannot run at the test's site on this ISA: uptrace
    # refused it with the reason (harness.cpp note_forced_mode_refusal).
    echo "XA-TEST SKIP $secs $name -- ${reason#forced-mode refusal: }"
  elif [ $rc -ne 0 ]; then
    [ $rc -eq 137 ] && echo "killed after ${per_test_timeout}s (timeout)" >> /tmp/out
    echo "XA-TEST FAIL $secs $name"
    tail -n 60 /tmp/out | sed 's/^/  | /'
    failed=$((failed + 1))
  elif reason=$(grep -m1 -o 'skipped: .*' /tmp/out); then
    # The test decided it cannot run here (a tool missing in the VM) and said so.
    echo "XA-TEST SKIP $secs $name -- ${reason#skipped: }"
  else
    echo "XA-TEST PASS $secs $name"
  fi
  # Whatever a failed test left behind must not disturb the next one.
  rm -rf /tmp/uptrace-test-* 2>/dev/null
done < /tmp/run
[ $failed -eq 0 ]
