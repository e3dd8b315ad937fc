"""4. A program with its own compiled-in traps (int3, int 3, int1) and a
SIGTRAP handler. uptrace refuses to probe any of them, by name, offset or
address (status 1, "... is already a breakpoint instruction") and leaves the
process untouched; while uptrace traces other sites (among them the
instruction right after each trap, where the trap's reported pc points),
every one of the program's traps reaches its handler exactly as
without uptrace (same count, same pc, same si_code) and every probe hit is
counted; gdb attached afterwards sees the program's own traps unchanged."""

import re

from gdbtest import (Elf, Gdb, Target, Test, Tracer, anonymous_exec_mappings, check, check_eq,
                     check_running_untraced, instruction_offsets, settle_after_gdb, snapshot, snapshot_diff,
                     static_disassembly, unbias)

TRAPS = {"trap_cc": "int3", "trap_cd03": "int 3", "trap_f1": "int1 (icebp)", "trap_then_add": "int3"}
GDB_MNEMONIC = {"trap_cc": "int3", "trap_cd03": "int    $0x3", "trap_f1": "int1", "trap_then_add": "int3"}


def body(t):
    target = Target(t, [t.selftrap])
    pid = str(target.pid)
    elf, bias = Elf(t.selftrap), target.bias()
    baseline = target.ask("round 50")
    check(re.fullmatch(r"round cc=50 cd03=50 f1=50 then=50 bad=0 codes=\d+,\d+,\d+,\d+ sum=-?\d+", baseline),
          "the program's own traps reach its handler (without uptrace)", baseline)
    seven = Target(t, [t.selftrap]).ask("round 7")  # from a process uptrace never sees
    before = snapshot(target.pid)

    cc_address = elf.function("trap_cc")[0]
    refusals = [(name, name, insn) for name, insn in TRAPS.items()]
    refusals += [("trap_cc+0", "trap_cc+0x0", "int3"), (f"{cc_address:#x}", f"{cc_address:#x}", "int3"),
                 ("selftrap:trap_f1", "selftrap:trap_f1", "int1 (icebp)")]
    for probe, shown, insn in refusals:
        status, out, err = t.run_uptrace(["-p", pid, "work", probe])
        check_eq(status, 1, f"uptrace -p {pid} work {probe}: exit status")
        check_eq(err, f"uptrace: cannot probe {shown}: {insn} is already a breakpoint instruction\n",
                 f"uptrace -p {pid} work {probe}: stderr")
        check_eq(out, "", "uptrace's stdout")
        check_running_untraced(target.pid, f"after refusing {probe}")
        check_eq(snapshot_diff(before, snapshot(target.pid)), "", f"code and maps after refusing {probe}")

    # Traced elsewhere, including right after the program's own int3.
    # Right after each trap: the pc the trap reports is the probe's address.
    adjacent = ["trap_then_add+0x1 x=$arg1", "trap_cc+0x1", "trap_cd03+0x2", "trap_f1+0x1"]
    tracer = Tracer(t, ["-p", pid, "-c", "work"] + adjacent)
    tracer.wait_armed()
    check_eq(target.ask("round 50"), baseline, "what the handler saw while uptrace traced")
    check_eq(target.ask("round 7"), seven, "what the handler saw in a second round while uptrace traced")
    status, out, err = tracer.finish()
    check_eq(status, 0, "uptrace's exit status")
    check_eq(out, "".join(f"{p.split()[0]} 57\n" for p in ["work"] + adjacent), "uptrace's counts")
    check_eq(err, f"uptrace: {1 + len(adjacent)} probes armed in pid {pid}\n", "uptrace's stderr")
    check_running_untraced(target.pid, "after uptrace left")
    check_eq(snapshot_diff(before, snapshot(target.pid)), "", "code and maps after uptrace left")

    # gdb, afterwards, sees the program's traps as compiled.
    functions = []
    for name in list(TRAPS) + ["work"]:
        value, size = elf.function(name)
        functions.append((name, bias + value, size, len(instruction_offsets(t, t.selftrap, name)[0])))
    result = Gdb(t, ["-p", pid], "inspect", {"functions": functions}).run().require_ok("inspecting the traps")
    for name, _, _, count in functions:
        seen = result["functions"][name]
        check_eq(bytes(seen["bytes"]), elf.code(name), f"{name}'s bytes as gdb's x/xb shows them")
        live = [line.lstrip("=> \t") for line in unbias(seen["x_i"], bias).splitlines()]
        check_eq(live, [line.lstrip("=> \t") for line in static_disassembly(t, t.selftrap, name, count).splitlines()],
                 f"x/{count}i {name} in the process and in the file")
        if name in GDB_MNEMONIC:
            check(live[0].endswith("\t" + GDB_MNEMONIC[name]), f"gdb's x/i shows {name}'s own trap", live[0])
    check_eq(anonymous_exec_mappings(target.pid), [], "anonymous executable mappings after gdb")
    settle_after_gdb(target.pid)
    check_eq(target.ask("round 50"), baseline, "what the handler sees after uptrace and gdb")


if __name__ == "__main__":
    Test(__doc__).main(body)
