"""6. After uptrace has probed every instruction of chain and scale (and mix's
entry) in one process and detached, gdb --pid with `set displaced-stepping on`
stops at chain and steps instruction by instruction through chain, scale and
mix (breakpoints on every instruction of scale and mix, so gdb steps over them
out of line in its own displaced-stepping buffer) back to the caller. Every
step - function, offset, instruction, registers, flags - is the same as in a
process uptrace never touched, gdb did the same number of displaced steps in
both, and both programs compute the same results."""

import re

from gdbtest import (Elf, Gdb, Target, Test, Tracer, check, check_eq, instruction_offsets, maps, settle_after_gdb)

STRAIGHT = ("chain", "scale")  # no branches: every instruction runs once per call


def normalise(steps, pid, bias):
    """Steps with addresses made comparable between two processes."""
    ranges = [(s, e) for s, e, _, _, _ in maps(pid)]

    def value(v):
        if bias <= v < bias + 0x100000:
            return f"exe+{v - bias:#x}"
        if any(s <= v < e for s, e in ranges):
            return "pointer"
        return v

    out = []
    for step in steps:
        insn = re.sub(r"0x[0-9a-f]+", lambda m: value(int(m.group(0), 16)) if int(m.group(0), 16) >= bias else
                      m.group(0), step["insn"])
        out.append((step["function"], step["offset"], insn, {r: value(v) for r, v in step["regs"].items()}))
    return out


def step_through(t, target, elf):
    bias = target.bias()
    breakpoints = [bias + elf.function(name)[0] + off for name in ("scale", "mix")
                   for off in instruction_offsets(t, t.gdbprobe, name)[0]]
    params = {"entry": bias + elf.function("chain")[0], "rdi": 2, "breakpoints": breakpoints,
              "start": bias + elf.function("_start")[0], "command": "calls 3 1", "caller": "calls_loop",
              "max_steps": 300}
    gdb = Gdb(t, ["-p", str(target.pid)], "step_through", params).run()
    result = gdb.require_ok(f"stepping through chain in pid {target.pid}")
    settle_after_gdb(target.pid)
    return result, normalise(result["steps"], target.pid, bias), result["displaced"]


def body(t):
    elf = Elf(t.gdbprobe)
    probed, fresh = Target(t, [t.gdbprobe, "1"]), Target(t, [t.gdbprobe, "1"])
    few = fresh.ask("calls 3 1")
    check_eq(probed.ask("calls 3 1"), few, "two processes of one program compute the same")

    probes = ["mix"]
    for name in STRAIGHT:
        offsets, texts = instruction_offsets(t, t.gdbprobe, name)
        check(not any(text.startswith("j") for text in texts), f"{name} has no branches", texts)
        probes += [f"{name}+{off:#x}" if off else name for off in offsets]
    # Probes on every instruction, in uptrace's own choice of modes: a jump
    # over one instruction would cover the next one's probe, so none may be.
    tracer = Tracer(t, ["-p", str(probed.pid), "-c"] + probes, mode=None)
    tracer.wait_armed()
    check_eq(probed.ask("calls 300 2"), fresh.ask("calls 300 2"), "the result under uptrace")
    status, out, err = tracer.finish()
    check_eq(status, 0, "uptrace's exit status")
    check_eq(out, "".join(f"{p} 600\n" for p in probes), "uptrace's counts")
    check_eq(err, f"uptrace: {len(probes)} probes armed in pid {probed.pid}\n", "uptrace's stderr")

    seen = {}
    for label, target in (("probed", probed), ("fresh", fresh)):
        result, steps, displaced = step_through(t, target, elf)
        check_eq(target.read_line(), few, f"the result of the calls gdb stepped through ({label})")
        seen[label] = (result, steps, displaced)

    result, steps, displaced = seen["fresh"]
    functions = [s[0] for s in steps]
    check(len(steps) >= 25 and {"chain", "scale", "mix"} <= set(functions) and functions[-1] == "calls_loop",
          "gdb stepped from chain through scale and mix back to calls_loop", functions)
    check(displaced >= len(instruction_offsets(t, t.gdbprobe, "scale")[0]), "gdb stepped over breakpoints out of line",
          f"{displaced} displaced steps")
    check_eq(bytes(result["start_bytes_before"]), elf.code("_start")[:16], "_start (gdb's displaced buffer) before")
    check_eq(result["start_bytes_after"], result["start_bytes_before"], "_start after gdb's displaced steps")

    probed_result, probed_steps, probed_displaced = seen["probed"]
    for i, (a, b) in enumerate(zip(probed_steps, steps)):
        check_eq(a, b, f"step {i} in the process uptrace probed (seen) and in the fresh one (expected)")
    check_eq(len(probed_steps), len(steps), "the number of steps")
    check_eq(probed_displaced, displaced, "gdb's displaced steps")
    check_eq(probed_result["start_bytes_before"], result["start_bytes_before"], "_start in the probed process")
    check_eq(probed_result["start_bytes_after"], result["start_bytes_after"], "_start in the probed process after")


if __name__ == "__main__":
    Test(__doc__).main(body)
