"""9. A process that is stopped (SIGSTOP, as a shell's Ctrl-Z does) stays
stopped when gdb attaches and detaches again. uptrace -p on that stopped
process must behave as on any other: arm, end on -d, exit 0 with every count
0 (nothing ran), and leave the process as it found it - stopped, untraced,
with its own code and mappings. After SIGCONT the program computes what it
computed before, and gdb sees the ELF file's code."""

import signal

from gdbtest import (Elf, Gdb, Target, Test, check, check_eq, check_running_untraced, instruction_offsets, os,
                     snapshot, snapshot_diff, thread_states, tracer_pid, wait_until)

PROBED = ("chain", "scale", "mix", "tick")


def all_stopped(pid):
    return all(s == "T" for s in thread_states(pid).values())


def body(t):
    target = Target(t, [t.gdbprobe, "2"])
    pid = str(target.pid)
    elf, bias = Elf(t.gdbprobe), target.bias()
    baseline = target.ask("calls 100 2")
    before = snapshot(target.pid)
    os.kill(target.pid, signal.SIGSTOP)
    wait_until(lambda: all_stopped(target.pid), "every thread is stopped")

    gdb = Gdb(t, ["-p", pid], extra=["-ex", "info threads"]).run()
    check_eq(gdb.status, 0, "gdb attaching to the stopped process", gdb.err)
    wait_until(lambda: tracer_pid(target.pid) == 0, "gdb has detached")
    if not all_stopped(target.pid):  # not this test's subject: gdb's choice
        os.kill(target.pid, signal.SIGSTOP)
        wait_until(lambda: all_stopped(target.pid), "every thread is stopped again")

    status, out, err = t.run_uptrace(["-p", pid, "-c", "-d", "1"] + list(PROBED), timeout=20)
    check_eq(status, 0, "uptrace -d 1 on a stopped process: exit status", out, err)
    check_eq(out, "".join(f"{p} 0\n" for p in PROBED), "uptrace's counts (nothing ran)")
    check_eq(err, f"uptrace: {len(PROBED)} probes armed in pid {pid}\n", "uptrace's stderr")
    check_eq(tracer_pid(target.pid), 0, "the target's tracer after uptrace")
    # A thread uptrace ran (to make system calls) re-enters the group stop
    # once detached; give the kernel a moment for that.
    wait_until(lambda: all_stopped(target.pid), "the target is stopped again, as uptrace found it", timeout=10)
    check_eq(snapshot_diff(before, snapshot(target.pid)), "", "code and maps after uptrace")

    os.kill(target.pid, signal.SIGCONT)
    check_eq(target.ask("calls 100 2"), baseline, "the result after SIGCONT")
    check_running_untraced(target.pid, "after SIGCONT")
    functions = []
    for name in PROBED:
        value, size = elf.function(name)
        functions.append((name, bias + value, size, len(instruction_offsets(t, t.gdbprobe, name)[0])))
    result = Gdb(t, ["-p", pid], "inspect", {"functions": functions}).run().require_ok("attaching at the end")
    for name in PROBED:
        check_eq(bytes(result["functions"][name]["bytes"]), elf.code(name), f"{name}'s bytes as gdb sees them")


if __name__ == "__main__":
    Test(__doc__).main(body)
