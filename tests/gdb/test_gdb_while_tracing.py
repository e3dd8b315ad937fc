"""7. While uptrace traces, gdb cannot attach (-p PID, -p TID of another thread,
or the `attach` command) and fails cleanly: status 1 and gdb's two lines
naming uptrace's tracing process; gcore fails the same way and writes no core.
uptrace is not disturbed by the attempts: it stays the tracer, its probes stay
armed, it counts every hit before and after them exactly, exits 0 on SIGINT
with no warning, and leaves the code and maps as they were; gdb can then
attach and sees the ELF file's code."""

import os

from gdbtest import (Elf, Gdb, Target, Test, Tracer, check, check_eq, check_running_untraced, instruction_offsets,
                     read_mem, settle_after_gdb, snapshot, snapshot_diff, thread_states, tracer_pid)

PROBED = ("chain", "scale", "mix", "tick")


def body(t):
    target = Target(t, [t.gdbprobe, "2"])
    pid = str(target.pid)
    elf, bias = Elf(t.gdbprobe), target.bias()
    baseline = target.ask("calls 100 2")
    before = snapshot(target.pid)

    tracer = Tracer(t, ["-p", pid, "-c"] + list(PROBED))
    tracer.wait_armed()
    engine = tracer_pid(target.pid)
    check(engine in tracer.engine_pids(), f"the target's tracer {engine} is uptrace or its child",
          tracer.engine_pids())
    check_eq(target.ask("calls 100 2"), baseline, "the result under uptrace, before gdb tries")

    other_thread = next(tid for tid in sorted(thread_states(target.pid)) if tid != target.pid)
    attempts = [(["-p", pid], pid), (["-p", str(other_thread)], str(other_thread)),
                ([t.gdbprobe, "-ex", f"attach {pid}"], pid)]
    for args, who in attempts:
        gdb = Gdb(t, args).run()
        check_eq(gdb.status, 1, f"gdb -batch {' '.join(args)}: exit status while uptrace traces", gdb.out, gdb.err)
        check_eq(gdb.err, f"warning: process {who} is already traced by process {engine}\n"
                          "ptrace: Operation not permitted.\n", f"gdb {' '.join(args)}: stderr")
        check(tracer.proc.poll() is None, "uptrace runs on after gdb's attempt")
        check_eq(tracer_pid(target.pid), engine, "the target's tracer after gdb's attempt")
        for name in PROBED:
            check_eq(read_mem(target.pid, bias + elf.function(name)[0], 1), b"\xcc",
                     f"{name}'s probe after gdb's attempt")

    prefix = t.path("core")
    status, out, err = t.run(["gcore", "-o", prefix, pid])
    check_eq((status, out), (1, f"gcore: failed to create {prefix}.{pid}\n"), "gcore while uptrace traces", err)
    check_eq(err.splitlines()[:2], [f"warning: process {pid} is already traced by process {engine}",
                                    "ptrace: Operation not permitted."], "gcore's gdb's first lines")
    check(not os.path.exists(f"{prefix}.{pid}"), "gcore wrote no core")
    check(tracer.proc.poll() is None and tracer_pid(target.pid) == engine, "uptrace runs on after gcore's attempt")

    check_eq(target.ask("calls 100 2"), baseline, "the result under uptrace, after gdb tried")
    status, out, err = tracer.finish()
    check_eq(status, 0, "uptrace's exit status")
    lines = out.splitlines()
    check_eq(lines[:3], ["chain 400", "scale 400", "mix 400"], "uptrace's counts")
    check(len(lines) == 4 and lines[3].startswith("tick ") and int(lines[3].split()[1]) > 0, "tick's count", out)
    check_eq(err, f"uptrace: {len(PROBED)} probes armed in pid {pid}\n", "uptrace's stderr")
    check_running_untraced(target.pid, "after uptrace left")
    check_eq(snapshot_diff(before, snapshot(target.pid)), "", "code and maps after uptrace left")

    functions = []
    for name in PROBED:
        value, size = elf.function(name)
        functions.append((name, bias + value, size, len(instruction_offsets(t, t.gdbprobe, name)[0])))
    result = Gdb(t, ["-p", pid], "inspect", {"functions": functions}).run().require_ok("attaching after uptrace")
    for name in PROBED:
        check_eq(bytes(result["functions"][name]["bytes"]), elf.code(name), f"{name}'s bytes as gdb sees them")
    settle_after_gdb(target.pid)
    check_eq(target.ask("calls 100 2"), baseline, "the result after gdb detached")


if __name__ == "__main__":
    Test(__doc__).main(body)
