"""8. Every x86 trap form - cc (int3), cd 03 (int 3), f1 (int1) - counts as
"already a breakpoint", in the file and in memory:

- compiled into the program, `--explain -x` (text and JSON) refuses each with
  "<insn> is already a breakpoint instruction" and exits 1;
- left in the memory of a running process by a debugger (gdb writes them, at a
  site whose first instruction is 1 byte long and at one where it is 3 bytes
  long, then detaches), `--explain -p` and `uptrace -p` refuse each with
  "<insn> in memory is already a breakpoint instruction (another debugger's?)"
  and status 1, while `--explain -x` finds the file's code placeable; every
  refusal leaves the process as it was, leftovers included, running;
- the same for the breakpoints a gdb killed with SIGKILL leaves inserted, and
  uptrace probing elsewhere in that process keeps them as they are."""

import json
import re

from gdbtest import (Elf, Failure, Gdb, Target, Test, Tracer, check, check_eq, check_running_untraced, read_mem,
                     read_text, settle_after_gdb, snapshot, snapshot_diff, tracer_pid, wait_until)

COMPILED = {"trap_cc": ("cc", "int3"), "trap_cd03": ("cd 03", "int 3"), "trap_f1": ("f1", "int1 (icebp)")}
# idle1..3 start with push %rbx (53), idle4..6 with mov %rdi,%rax (48 89 f8).
LEFTOVERS = {"idle1": ([0xCC], "int3"), "idle2": ([0xCD, 0x03], "int 3"), "idle3": ([0xF1], "int1"),
             "idle4": ([0xCC], "int3"), "idle5": ([0xCD, 0x03], "int 3"), "idle6": ([0xF1], "int1")}
FIRST_INSN = {"idle1": "53  push rbx", "idle4": "48 89 f8  mov rax, rdi"}


def explain_blocks(text):
    """--explain's text output: probe -> its indented lines."""
    blocks, current = {}, None
    for line in text.splitlines():
        if not line.startswith(" "):
            current = blocks.setdefault(line, [])
        else:
            current.append(line)
    return blocks


def field(block, name):
    lines = [line for line in block if line.startswith(f"  {name}:")]
    return lines[0][len(name) + 3:].strip() if len(lines) == 1 else None


def body(t):
    errors = []

    def soft(fn, *args):
        try:
            fn(*args)
        except Failure as e:
            errors.append(str(e))

    # In the file.
    status, out, err = t.run_uptrace(["--explain"] + list(COMPILED) + ["work", "-x", t.selftrap])
    check_eq(status, 1, "--explain -x of the compiled-in traps: exit status", out, err)
    blocks = explain_blocks(out)
    check_eq(list(blocks), list(COMPILED) + ["work"], "--explain's probes", out)
    for name, (hex_bytes, insn) in COMPILED.items():
        seen = (field(blocks[name], "instruction"), field(blocks[name], "refused"), field(blocks[name], "mode"))
        expected = (f"{hex_bytes}  {insn.split(' (')[0]}", f"{insn} is already a breakpoint instruction", None)
        soft(check_eq, seen, expected, f"--explain -x {name}: instruction, refusal, mode")
    check(field(blocks["work"], "mode") and not field(blocks["work"], "refused"), "work is placeable", out)
    status, out, _ = t.run_uptrace(["--explain", "--format", "json"] + list(COMPILED) + ["-x", t.selftrap])
    check_eq(status, 1, "--explain --format json -x: exit status")
    for line, (name, (hex_bytes, insn)) in zip(out.splitlines(), COMPILED.items()):
        j = json.loads(line)
        soft(check_eq, (j["probe"], j["bytes"], j["mode"], j["refused"]),
             (name, hex_bytes, None, f"{insn} is already a breakpoint instruction"), f"--explain JSON of {name}")

    # In memory, as a debugger left them.
    target = Target(t, [t.selftrap])
    pid = str(target.pid)
    elf, bias = Elf(t.selftrap), target.bias()
    writes = [[bias + elf.function(name)[0], values] for name, (values, _) in LEFTOVERS.items()]
    result = Gdb(t, ["-p", pid], "write_bytes", {"writes": writes}).run().require_ok("writing leftovers")
    check_eq(result["after"], [values for _, values in writes], "the leftovers as gdb reads them back")
    settle_after_gdb(target.pid)
    for name, (values, _) in LEFTOVERS.items():
        check_eq(read_mem(target.pid, bias + elf.function(name)[0], len(values)), bytes(values), f"{name}'s leftover")
    with_leftovers = snapshot(target.pid)

    status, out, err = t.run_uptrace(["--explain"] + list(LEFTOVERS) + ["-x", t.selftrap])
    check_eq(status, 0, "--explain -x of the idle functions (the file has no traps)", out, err)
    status, out, err = t.run_uptrace(["--explain"] + list(LEFTOVERS) + ["-p", pid])
    check_eq(status, 1, "--explain -p of the leftovers: exit status", out, err)
    blocks = explain_blocks(out)
    check_eq(list(blocks), list(LEFTOVERS), "--explain's probes", out)
    for name, (_, insn) in LEFTOVERS.items():
        first = FIRST_INSN["idle1" if name <= "idle3" else "idle4"]
        seen = (field(blocks[name], "instruction"), field(blocks[name], "refused"))
        expected = (first, f"{insn} in memory is already a breakpoint instruction (another debugger's?)")
        soft(check_eq, seen, expected, f"--explain -p {name} ({' '.join(f'{v:02x}' for v in LEFTOVERS[name][0])} "
                                       f"over {first.split('  ')[1]}): instruction, refusal")

    for name, (values, insn) in LEFTOVERS.items():
        for probes in ([name], ["work", name]):
            status, out, err = t.run_uptrace(["-p", pid] + probes)
            where = f"uptrace -p {pid} {' '.join(probes)} ({' '.join(f'{v:02x}' for v in values)} in memory)"
            soft(check_eq, (status, err),
                 (1, f"uptrace: cannot probe {name}: {insn} in memory is already a breakpoint instruction "
                     "(another debugger's?)\n"), f"{where}: exit status and stderr")
            check_eq(out, "", f"{where}: stdout")
            check_running_untraced(target.pid, f"after {where}")
            check_eq(snapshot_diff(with_leftovers, snapshot(target.pid)), "", f"code and maps after {where}")

    line = target.ask("round 5")
    check(re.fullmatch(r"round cc=5 cd03=5 f1=5 then=5 bad=0 codes=\S+ sum=\S+", line), "the program runs on", line)

    # The real thing: a gdb killed while its breakpoints are inserted.
    other = Target(t, [t.selftrap])
    pid = str(other.pid)
    bias = other.bias()
    sites = {name: bias + elf.function(name)[0] for name in ("idle1", "idle4")}
    gdb = Gdb(t, ["-p", pid], "break_and_continue", {"break": list(sites.values())}).start()
    wait_until(lambda: all(read_mem(other.pid, a, 1) == b"\xcc" for a in sites.values()) or gdb.proc.poll() is not None,
               "gdb has inserted its breakpoints")
    check(gdb.proc.poll() is None, "gdb runs the target with its breakpoints inserted", read_text(gdb.err_path))
    Test.kill_group(gdb.proc)
    gdb.proc.wait()
    wait_until(lambda: tracer_pid(other.pid) == 0, "the killed gdb is no longer the tracer")
    check_running_untraced(other.pid, "after gdb was killed")
    leftovers = snapshot(other.pid)
    for name, address in sites.items():
        check_eq(read_mem(other.pid, address, 1), b"\xcc", f"the killed gdb's breakpoint at {name}")
        status, out, err = t.run_uptrace(["-p", pid, name])
        check_eq((status, err), (1, f"uptrace: cannot probe {name}: int3 in memory is already a breakpoint instruction "
                                    "(another debugger's?)\n"), f"uptrace -p {pid} {name} over gdb's breakpoint")
        check_running_untraced(other.pid, f"after refusing {name}")
        check_eq(snapshot_diff(leftovers, snapshot(other.pid)), "", f"code and maps after refusing {name}")
    tracer = Tracer(t, ["-p", pid, "-c", "work"])
    tracer.wait_armed()
    check(re.fullmatch(r"round cc=5 .* bad=0 .*", other.ask("round 5")), "the program runs with gdb's leftovers")
    status, out, err = tracer.finish()
    check_eq((status, out), (0, "work 5\n"), "uptrace elsewhere in a process with gdb's leftovers")
    check_running_untraced(other.pid, "after uptrace")
    check_eq(snapshot_diff(leftovers, snapshot(other.pid)), "", "code and maps (gdb's leftovers kept) after uptrace")
    if errors:
        raise Failure(f"{len(errors)} checks failed:\n" + "\n".join(errors))


if __name__ == "__main__":
    Test(__doc__).main(body)
