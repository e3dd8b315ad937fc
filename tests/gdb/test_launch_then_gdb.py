"""10. uptrace launches the program (`uptrace -n N PROBE -- prog`): while it
traces, gdb -p fails naming uptrace's tracing process; once -n is reached
uptrace detaches but, as the program's parent, waits for it - and gdb can now
attach to the still-running program and sees the ELF file's code and no
scratch mapping. Later calls are not reported, the program computes what an
untraced one does, and uptrace's exit status is the program's."""

import subprocess

from gdbtest import (Elf, Failure, Gdb, Target, Test, anonymous_exec_mappings, check, check_eq,
                     check_running_untraced, gdb_mappings, instruction_offsets, process_and_children, read_text,
                     settle_after_gdb, tracer_pid, wait_until)

PROBED = ("chain", "scale", "mix")


def body(t):
    fresh = Target(t, [t.gdbprobe])
    expected = fresh.ask("calls 5 1")
    elf = Elf(t.gdbprobe)

    hits = t.path("hits")
    launched = Target(t, [t.uptrace, "-q", "-o", hits, "-n", "30"] + list(PROBED) + ["--", t.gdbprobe], exe=t.gdbprobe)
    pid = str(launched.pid)
    bias = launched.bias()
    engine = tracer_pid(launched.pid)
    check(engine in process_and_children(launched.proc.pid), f"the program's tracer {engine} is uptrace or its child")
    check_eq(launched.ask("calls 5 1"), expected, "the result under uptrace (15 of 30 hits)")
    gdb = Gdb(t, ["-p", pid]).run()
    check_eq((gdb.status, gdb.err), (1, f"warning: process {pid} is already traced by process {engine}\n"
                                        "ptrace: Operation not permitted.\n"), "gdb -p while uptrace traces")

    check_eq(launched.ask("calls 5 1"), expected, "the result under uptrace (hits 16 to 30)")
    wait_until(lambda: tracer_pid(launched.pid) == 0, "uptrace has detached after -n 30")
    check(launched.proc.poll() is None, "uptrace waits for the program it launched")
    lines = read_text(hits).splitlines()
    check_eq(len(lines), 30, "hits reported", lines)
    check_eq([line.split()[2] for line in lines], list(PROBED) * 10, "the probes hit, in order")
    check_running_untraced(launched.pid, "after uptrace detached")

    functions = []
    for name in PROBED + ("_start",):
        value, size = elf.function(name)
        functions.append((name, bias + value, size, len(instruction_offsets(t, t.gdbprobe, name)[0])))
    result = Gdb(t, ["-p", pid], "inspect", {"functions": functions}).run().require_ok("attaching after -n")
    for name, _, _, _ in functions:
        check_eq(bytes(result["functions"][name]["bytes"]), elf.code(name), f"{name}'s bytes as gdb sees them")
    rows = gdb_mappings(result["mappings"])
    check(rows, "gdb's info proc mappings has rows", result["mappings"])
    check_eq([r for r in rows if "x" in r[2] and r[3] == ""], [], "anonymous executable mappings gdb shows")
    check_eq(anonymous_exec_mappings(launched.pid), [], "anonymous executable mappings")
    settle_after_gdb(launched.pid)

    check_eq(launched.ask("calls 5 1"), expected, "the result after uptrace and gdb left")
    launched.send("quit 7")
    try:
        status = launched.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        raise Failure("uptrace did not exit after the program it launched did")
    check_eq(status, 7, "uptrace's exit status (the program's)")
    check_eq(len(read_text(hits).splitlines()), 30, "hits reported in all")


if __name__ == "__main__":
    Test(__doc__).main(body)
