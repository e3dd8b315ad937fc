"""3. uptrace traces (entries, every instruction of scale, the call inside park,
hits from several threads) and detaches; then gdb attaches and sees what the
ELF file says: x/i of every probed function (and of _start, where uptrace
borrowed an instruction to make system calls) disassembles as in the file,
x/xb gives the file's bytes, `info proc mappings` has no scratch mapping, and
backtraces are sane: the thread that entered park through uptrace's probe and
is blocked in read() unwinds through park (returning right after its call)
to start_thread, and a thread stopped at a breakpoint in scale unwinds
through chain. Then both threads run on and return the right values."""

from gdbtest import (Elf, Gdb, Target, Test, Tracer, anonymous_exec_mappings, check, check_eq,
                     check_running_untraced, gdb_mappings, instruction_offsets, maps, read_mem, read_text,
                     settle_after_gdb, static_disassembly, unbias, wait_until)

PROBED = ("chain", "scale", "mix", "park", "tick")


def normalise(x_i):
    """x/i output without the current-pc marker and the leading blanks."""
    return [line.lstrip("=> \t") for line in x_i.splitlines()]


def body(t):
    target = Target(t, [t.gdbprobe, "2"])
    pid = str(target.pid)
    elf, bias = Elf(t.gdbprobe), target.bias()
    one, many = target.ask("calls 1 1"), target.ask("calls 100 2")
    exec_before = {(s, e, path) for s, e, perms, _, path in maps(target.pid) if "x" in perms}
    check_eq(anonymous_exec_mappings(target.pid), [], "anonymous executable mappings before uptrace")

    scale_offsets, _ = instruction_offsets(t, t.gdbprobe, "scale")
    park_offsets, park_texts = instruction_offsets(t, t.gdbprobe, "park")
    call = next(i for i, text in enumerate(park_texts) if text.startswith("call"))
    park_call, park_return = park_offsets[call], park_offsets[call + 1]
    probes = list(PROBED) + [f"scale+{off:#x}" for off in scale_offsets[1:]] + [f"park+{park_call:#x}"]

    out_path = t.path("hits")
    tracer = Tracer(t, ["-p", pid, "-o", out_path] + probes)
    tracer.wait_armed()
    scratch = anonymous_exec_mappings(target.pid)
    check(scratch, "uptrace's scratch mapping while it traces", maps(target.pid))
    for name in PROBED:
        check_eq(read_mem(target.pid, bias + elf.function(name)[0], 1), b"\xcc", f"{name}'s first byte while armed")
    check_eq(target.ask("calls 100 2"), many, "the program's result under uptrace")
    parking = target.ask("park")
    check(parking.startswith("parking "), "the parking thread's line", parking)
    tid = int(parking.split()[1])
    # Wait for the hit at the call in park, then for read() to block.
    wait_until(lambda: f" {pid}/{tid} park+{park_call:#x}" in read_text(out_path), "the hit at park's call")
    wait_until(lambda: read_text(f"/proc/{pid}/task/{tid}/syscall").split()[0] == "0", "park's thread blocks in read")
    status, _, err = tracer.finish()
    check_eq(status, 0, "uptrace's exit status")
    check_eq(err, f"uptrace: {len(probes)} probes armed in pid {pid}\n", "uptrace's stderr")
    hits = {}
    for line in read_text(out_path).splitlines():
        hits[line.split()[2]] = hits.get(line.split()[2], 0) + 1
    expected = {p: 200 for p in probes}
    expected.update({"park": 1, f"park+{park_call:#x}": 1, "tick": hits.get("tick", 0)})
    check_eq(hits, expected, "hits per probe")
    check(hits["tick"] > 0, "tick was hit")
    check_running_untraced(target.pid, "after uptrace left")

    # gdb attaches.
    inspected = PROBED + ("_start",)
    functions = []
    for name in inspected:
        value, size = elf.function(name)
        functions.append((name, bias + value, size, len(instruction_offsets(t, t.gdbprobe, name)[0])))
    imul = scale_offsets[4]
    params = {"functions": functions, "break": [bias + elf.function("scale")[0] + imul], "command": "calls 1 1"}
    result = Gdb(t, ["-p", pid], "inspect", params).run().require_ok("inspecting after uptrace")

    for name, _, _, count in functions:
        seen = result["functions"][name]
        check_eq(bytes(seen["bytes"]), elf.code(name), f"{name}'s bytes as gdb's x/xb shows them")
        check_eq(normalise(unbias(seen["x_i"], bias)), normalise(static_disassembly(t, t.gdbprobe, name, count)),
                 f"x/{count}i {name} in the process (addresses made file-relative) and in the file")

    rows = gdb_mappings(result["mappings"])
    check(rows, "gdb's info proc mappings has rows", result["mappings"])
    check_eq({(s, e, path) for s, e, perms, path in rows if "x" in perms}, exec_before,
             "executable mappings in gdb's info proc mappings (as before uptrace)")
    check(not any(s < m[1] and m[0] < e for s, e, _, _ in rows for m in scratch), "uptrace's scratch mapping is gone",
          result["mappings"])

    parked = result["threads"].get(str(tid))
    check(parked, f"gdb sees the parked thread {tid}", result["threads"].keys())
    names = [f["name"] for f in parked]
    check(None not in names, "every frame of the parked thread has a function", parked)
    check("park" in names, "park is on the parked thread's stack", names)
    park_at = names.index("park")
    check(park_at > 0 and all("read" in n for n in names[:park_at]), "park's thread is blocked in read()", names)
    check_eq(parked[park_at]["pc"] - bias, elf.function("park")[0] + park_return, "where park's frame returns to")
    check_eq(parked[park_at]["file"], "gdbprobe.c", "park's source file")
    check_eq(names[park_at + 1:park_at + 3], ["park_loop", "start_thread"], "the parked thread's outer frames", names)
    check(names[-1] in ("clone3", "clone"), "the parked thread's outermost frame is clone", names)

    stopped = result["stopped"]
    check_eq(stopped["pc"] - bias, elf.function("scale")[0] + imul, "where the breakpoint in scale stopped")
    frames = [f["name"] for f in result["stopped_frames"]]
    check_eq(frames[:4], ["scale", "chain", "calls_loop", "start_thread"], "backtrace from scale", result["stopped_bt"])
    check(frames[-1] in ("clone3", "clone") and None not in frames, "backtrace from scale ends at clone", frames)
    static = normalise(static_disassembly(t, t.gdbprobe, f"{elf.function('scale')[0] + imul:#x}", 1))
    check_eq(normalise(unbias(result["stopped_x_i"], bias)), static, "x/i $pc at the breakpoint in scale")

    settle_after_gdb(target.pid)
    check_eq(target.read_line(), one, "the result of the calls gdb stopped")
    check_eq(target.ask("unpark"), "unparked 121", "what park returned")
    for name in inspected:
        value, size = elf.function(name)
        check_eq(read_mem(target.pid, bias + value, size), elf.code(name), f"{name}'s bytes in /proc/PID/mem")
    check_eq(anonymous_exec_mappings(target.pid), [], "anonymous executable mappings at the end")


if __name__ == "__main__":
    Test(__doc__).main(body)
