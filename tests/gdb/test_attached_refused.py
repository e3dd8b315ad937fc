"""1. While gdb is attached (holding a breakpoint in memory), `uptrace -p` fails
with status 1 and one line that names gdb's pid and name, and leaves the
target untouched: same code, same mappings, gdb still its tracer, same thread
states, no signal queued; `--explain -p` (which needs no ptrace) refuses the
site of gdb's breakpoint as already a breakpoint. gdb then detaches normally,
removing its breakpoint, and the program computes what it computed before."""

from gdbtest import (Elf, Gdb, Target, Test, Tracer, check, check_eq, os, read_mem, read_text, settle_after_gdb,
                     snapshot, snapshot_diff, thread_states, tracer_pid, wait_until)


def pending_signals(pid):
    """SigPnd and ShdPnd of every thread."""
    out = {}
    for tid in sorted(os.listdir(f"/proc/{pid}/task")):
        for line in read_text(f"/proc/{pid}/task/{tid}/status").splitlines():
            if line.startswith(("SigPnd:", "ShdPnd:")):
                out[(tid, line.split(":")[0])] = line.split()[1]
    return out


def body(t):
    target = Target(t, [t.gdbprobe, "2"])
    pid = str(target.pid)
    baseline = target.ask("calls 50 2")
    before = snapshot(target.pid)

    # gdb holds the process with a breakpoint in scale kept in memory.
    scale = target.bias() + Elf(t.gdbprobe).function("scale")[0]
    attached, release = t.path("attached"), t.path("release")
    commands = ["set breakpoint always-inserted on", f"break *{scale:#x}"]
    gdb = Gdb(t, ["-p", pid], "hold", {"attached": attached, "release": release, "commands": commands}).start()
    wait_until(lambda: os.path.exists(attached) or gdb.proc.poll() is not None, "gdb has attached")
    check(os.path.exists(attached), "gdb could not attach", read_text(gdb.err_path))
    check_eq(tracer_pid(target.pid), gdb.pid, "the target's tracer while gdb holds it")
    check_eq(read_mem(target.pid, scale, 1), b"\xcc", "gdb's breakpoint in memory")
    held = snapshot(target.pid)
    states, signals = thread_states(target.pid), pending_signals(target.pid)

    # --explain needs no ptrace: it sees gdb's breakpoint.
    status, out, err = t.run_uptrace(["--explain", "scale", "mix", "-p", pid])
    check_eq(status, 1, "--explain -p while gdb holds a breakpoint in scale: exit status", out, err)
    refused = [line.strip() for line in out.splitlines() if line.startswith("  refused:")]
    check_eq(refused, ["refused:     int3 in memory is already a breakpoint instruction (another debugger's?)"],
             "--explain's refusals (scale only)", out)

    for args in (["scale"], ["-c", "chain", "mix"], ["-n", "1", "tick x=$arg1"], ["-d", "1", "scale+0x7"]):
        status, out, err = t.run_uptrace(["-p", pid] + args)
        check_eq(status, 1, f"uptrace -p {' '.join(args)}: exit status while gdb is attached")
        check_eq(err, f"uptrace: pid {pid} is already traced by pid {gdb.pid} (gdb)\n", "uptrace's stderr")
        check_eq(out, "", "uptrace's stdout")

    # Untouched, gdb still holding it as before.
    check_eq(snapshot_diff(held, snapshot(target.pid)), "", "the target's code and maps after the refusals")
    check_eq(tracer_pid(target.pid), gdb.pid, "the target's tracer after the refusals")
    check_eq(thread_states(target.pid), states, "thread states after the refusals")
    check_eq(pending_signals(target.pid), signals, "pending signals after the refusals")

    with open(release, "w"):
        pass
    result = gdb.wait().require_ok("holding the target")
    check_eq(result["threads_after"], result["threads"], "threads gdb saw before and after uptrace tried")
    settle_after_gdb(target.pid)
    check_eq(snapshot_diff(before, snapshot(target.pid)), "", "the target's code and maps after gdb left")
    check_eq(target.ask("calls 50 2"), baseline, "the program's result after gdb left")

    # Nothing was left half-done: uptrace can attach now, and counts exactly.
    tracer = Tracer(t, ["-p", pid, "-c", "scale"])
    tracer.wait_armed()
    check_eq(target.ask("calls 50 2"), baseline, "the program's result under uptrace")
    status, out, err = tracer.finish()
    check_eq(status, 0, "uptrace's exit status once gdb is gone")
    check_eq(out, "scale 100\n", "uptrace's counts once gdb is gone")
    check_eq(err, f"uptrace: 1 probes armed in pid {pid}\n", "uptrace's stderr once gdb is gone")


if __name__ == "__main__":
    Test(__doc__).main(body)
