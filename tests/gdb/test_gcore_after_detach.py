"""5. A core dump taken with gcore right after uptrace detaches (on -n, with
threads still running through the probed functions) holds the original code:
the bytes of every probed function in the core's segments, and as gdb reads
them from the core, are the ELF file's; the core has no executable segment
outside the program's own mappings (no scratch); no thread in it stands in
uptrace's scratch, and every frame has a function. The process then finishes
its calls with the right result."""

import glob
import os

from gdbtest import (Elf, Gdb, Target, Test, Tracer, anonymous_exec_mappings, check, check_eq, instruction_offsets,
                     maps, read_text)

PROBED = ("chain", "scale", "mix", "tick")


def body(t):
    target = Target(t, [t.gdbprobe, "2"])
    pid = str(target.pid)
    elf, bias = Elf(t.gdbprobe), target.bias()
    expected = target.ask("calls 20000 2")
    exec_before = [(s, e) for s, e, perms, _, _ in maps(target.pid) if "x" in perms]

    probes = list(PROBED)
    for name in ("scale", "chain"):
        probes += [f"{name}+{off:#x}" for off in instruction_offsets(t, t.gdbprobe, name)[0][1:]]
    tracer = Tracer(t, ["-p", pid, "-n", "3000", "-o", t.path("hits")] + probes)
    tracer.wait_armed()
    scratch = [m[:2] for m in anonymous_exec_mappings(target.pid)]
    check(scratch, "uptrace's scratch mapping while it traces", maps(target.pid))
    target.send("calls 20000 2")  # runs on while uptrace leaves and gcore dumps
    status, _, err = tracer.finish(sig=None)
    check_eq(status, 0, "uptrace's exit status after -n")
    check_eq(err, f"uptrace: {len(probes)} probes armed in pid {pid}\n", "uptrace's stderr")

    prefix = t.path("core")
    status, out, err = t.run(["gcore", "-o", prefix, pid])
    core_path = f"{prefix}.{pid}"
    check(status == 0 and os.path.exists(core_path), f"gcore {pid} failed (status {status})", out, err)
    check_eq(target.read_line(), expected, "the program's result across uptrace's exit and gcore")

    core = Elf(core_path)
    check_eq(core.e_type, 4, "the core file's ELF type (ET_CORE)")
    for name in PROBED + ("_start",):
        value, size = elf.function(name)
        in_core = core.read(bias + value, size)
        check(in_core is not None, f"the core holds {name}'s code at {bias + value:#x}",
              [(hex(v), hex(fs)) for v, _, fs, _, _ in core.loads])
        check_eq(in_core, elf.code(name), f"{name}'s bytes in the core")
    for vaddr, _, _, memsz, flags in core.loads:
        if flags & 1:  # PF_X
            check(any(s <= vaddr and vaddr + memsz <= e for s, e in exec_before),
                  f"executable segment {vaddr:#x}+{memsz:#x} of the core is one of the program's own mappings")
        check(not any(vaddr < e and s < vaddr + memsz for s, e in scratch),
              f"the core has uptrace's scratch at {vaddr:#x}")

    # gdb reads the core as a user would.
    functions = []
    for name in PROBED:
        value, size = elf.function(name)
        functions.append((name, bias + value, size, len(instruction_offsets(t, t.gdbprobe, name)[0])))
    result = Gdb(t, [t.gdbprobe, core_path], "inspect", {"functions": functions}).run().require_ok("reading the core")
    for name, _, _, _ in functions:
        check_eq(bytes(result["functions"][name]["bytes"]), elf.code(name), f"{name}'s bytes as gdb reads the core")
    check(len(result["threads"]) >= 3, "the core has the program's threads", result["threads"].keys())
    for tid, frames in result["threads"].items():
        for frame in frames:
            check(not any(s <= frame["pc"] < e for s, e in scratch),
                  f"thread {tid} of the core is in uptrace's scratch", frames)
        check(frames and None not in [f["name"] for f in frames[:3]], f"thread {tid}'s innermost frames have names",
              frames)
    for leftover in glob.glob(f"{prefix}*"):
        os.unlink(leftover)
    check(read_text(f"/proc/{pid}/status"), "the target is alive")


if __name__ == "__main__":
    Test(__doc__).main(body)
