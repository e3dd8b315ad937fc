"""2. gdb attaches, sets breakpoints, makes the program hit them, and detaches
while stopped at one of them; then uptrace attaches and probes exactly the
addresses gdb's breakpoints were at (and the functions they are in): it arms
them, counts every hit exactly, the program computes what it computed without
either of them, and after uptrace leaves the code is the ELF file's."""

from gdbtest import (Elf, Gdb, Target, Test, Tracer, check, check_eq, check_running_untraced, instruction_offsets,
                     read_mem, settle_after_gdb, snapshot, snapshot_diff)


def body(t):
    target = Target(t, [t.gdbprobe, "2"])
    pid = str(target.pid)
    elf, bias = Elf(t.gdbprobe), target.bias()
    small, large = target.ask("calls 2 1"), target.ask("calls 500 2")
    before = snapshot(target.pid)

    # A breakpoint inside scale, on its rip-relative lea (not at an entry).
    offsets, texts = instruction_offsets(t, t.gdbprobe, "scale")
    lea = next(off for off, text in zip(offsets, texts) if text.startswith("lea") and "(%rip)" in text)
    scale = elf.function("scale")[0]
    params = {"breakpoints": ["chain", f"*{bias + scale + lea:#x}", "mix"], "command": "calls 2 1", "stops": 6}
    gdb = Gdb(t, ["-p", pid], "breakpoints_then_detach", params).run()
    result = gdb.require_ok("breakpoints, then detach")
    places = [(s["name"], s["pc"] - bias) for s in result["stops"]]
    expected_places = [("chain", elf.function("chain")[0]), ("scale", scale + lea), ("mix", elf.function("mix")[0])] * 2
    check_eq([p[0] for p in places], [p[0] for p in expected_places], "the functions gdb stopped in")
    check_eq(places[1:3] + places[4:6], expected_places[1:3] + expected_places[4:6], "where gdb stopped")
    check_eq([s["rdi"] for s in result["stops"][0::3]], [0, 1], "chain's argument at gdb's stops")
    check_eq(len({s["thread"] for s in result["stops"]}), 1, "gdb's stops are all in the thread of the calls")
    check_eq(result["hits"], [2, 2, 2], "gdb's breakpoint hit counts")
    sites = [locations[0] - bias for locations in result["addresses"]]
    check_eq(sites[1:], [scale + lea, elf.function("mix")[0]], "gdb's breakpoint addresses")

    # gdb left from inside mix; the calls finish by themselves.
    settle_after_gdb(target.pid)
    check_eq(target.read_line(), small, "the program's result after gdb's breakpoints")
    check_eq(snapshot_diff(before, snapshot(target.pid)), "", "code and maps after gdb detached")

    # uptrace at the very addresses gdb used.
    probes = [f"{site:#x}" for site in sites] + ["chain", "scale", "mix"]
    tracer = Tracer(t, ["-p", pid, "-c"] + probes)
    tracer.wait_armed()
    for site in sites:
        check_eq(read_mem(target.pid, bias + site, 1), b"\xcc", f"the byte at {site:#x} while uptrace is armed")
    check_eq(target.ask("calls 500 2"), large, "the program's result under uptrace")
    status, out, err = tracer.finish()
    check_eq(status, 0, "uptrace's exit status")
    check_eq(out, "".join(f"{p} 1000\n" for p in probes), "uptrace's counts at gdb's sites")
    check_eq(err, f"uptrace: {len(probes)} probes armed in pid {pid}\n", "uptrace's stderr")

    check_running_untraced(target.pid, "after uptrace left")
    check_eq(snapshot_diff(before, snapshot(target.pid)), "", "code and maps after uptrace left")
    for name in ("chain", "scale", "mix"):
        value, size = elf.function(name)
        check_eq(read_mem(target.pid, bias + value, size), elf.code(name), f"{name}'s bytes in memory")
    check(target.alive(), "the target is alive")


if __name__ == "__main__":
    Test(__doc__).main(body)
