"""The gdb half of the gdb-coexistence tests, run inside real gdb:

    gdb -batch -nx -p PID -x gdbside.py -ex 'python FUNCTION()'

ARGS (JSON in $GDBTEST_ARGS) are the function's parameters; what it sees is
written as JSON to ARGS["result"], with "ok": true once it got to the end.
Only user-level gdb commands and gdb's Python API are used, as a developer
debugging the process would. The target's commands are written to its stdin
through /proc/PID/fd/0 (the write end of the same pipe), so gdb itself can
make the target run code while it is attached.
"""

import json
import os
import re
import time

import gdb

ARGS = json.loads(os.environ.get("GDBTEST_ARGS", "{}"))
RESULT = {"ok": False}


def ex(command):
    return gdb.execute(command, to_string=True)


def save():
    with open(ARGS["result"], "w") as f:
        json.dump(RESULT, f)


def pid():
    return gdb.selected_inferior().pid


def send(command):
    """A command line to the target, through its stdin."""
    with open(f"/proc/{pid()}/fd/0", "w") as f:
        f.write(command + "\n")


def runs(function):
    """Records an exception as the result instead of losing it in gdb's output."""

    def wrapper():
        try:
            function()
            RESULT["ok"] = True
        except Exception as e:  # noqa: BLE001 -- reported to the driver
            RESULT["error"] = f"{type(e).__name__}: {e}"
        finally:
            save()

    wrapper.__name__ = function.__name__
    return wrapper


def memory_bytes(address, size):
    """The bytes at address as gdb's x/Nxb prints them."""
    text = ex(f"x/{size}xb {address:#x}")
    values = []
    for line in text.splitlines():
        _, _, rest = line.partition(":")
        values += [int(v, 16) for v in rest.split()]
    return values


def frames():
    """The selected thread's backtrace, as data."""
    out = []
    frame = gdb.newest_frame()
    while frame is not None:
        sal = frame.find_sal()
        out.append({
            "name": frame.name(),
            "pc": frame.pc(),
            "file": os.path.basename(sal.symtab.filename) if sal.symtab else None,
            "line": sal.line,
        })
        last = frame
        frame = frame.older()
    RESULT.setdefault("stop_reasons", []).append(gdb.frame_stop_reason_string(last.unwind_stop_reason()))
    return out


def stop_place():
    frame = gdb.selected_frame()
    return {"name": frame.name(), "pc": frame.pc(), "rdi": int(gdb.parse_and_eval("$rdi")),
            "thread": gdb.selected_thread().ptid[1]}


@runs
def hold():
    """Runs ARGS["commands"], then stays attached until ARGS["release"]
    exists, having said so in ARGS["attached"]."""
    for command in ARGS.get("commands", []):
        ex(command)
    RESULT["pid"] = pid()
    RESULT["threads"] = len(gdb.selected_inferior().threads())
    with open(ARGS["attached"], "w") as f:
        f.write(str(pid()))
    deadline = time.monotonic() + ARGS.get("timeout", 60)
    while not os.path.exists(ARGS["release"]):
        if time.monotonic() > deadline:
            raise RuntimeError("never released")
        time.sleep(0.02)
    RESULT["threads_after"] = len(gdb.selected_inferior().threads())


@runs
def breakpoints_then_detach():
    """Sets breakpoints, makes the target hit them ARGS["stops"] times, then
    ends (gdb detaches from where it stopped, breakpoints still set)."""
    for spec in ARGS["breakpoints"]:
        ex(f"break {spec}")
    RESULT["addresses"] = [[loc.address for loc in b.locations] for b in gdb.breakpoints()]
    send(ARGS["command"])
    RESULT["stops"] = []
    for _ in range(ARGS["stops"]):
        ex("continue")
        RESULT["stops"].append(stop_place())
    RESULT["hits"] = [b.hit_count for b in gdb.breakpoints()]
    RESULT["info_breakpoints"] = ex("info breakpoints")


@runs
def inspect():
    """What a developer looks at after uptrace has left: the code of the probed
    functions (x/i and x/xb), the mappings, every thread's backtrace; then a
    thread stopped at ARGS["break"] and its backtrace."""
    RESULT["functions"] = {}
    for name, address, size, count in ARGS["functions"]:
        RESULT["functions"][name] = {
            "x_i": ex(f"x/{count}i {address:#x}"),
            "bytes": memory_bytes(address, size),
        }
    RESULT["mappings"] = ex("info proc mappings")
    RESULT["threads"] = {}
    for thread in gdb.selected_inferior().threads():
        thread.switch()
        RESULT["threads"][str(thread.ptid[1])] = frames()
    if ARGS.get("break"):
        for address in ARGS["break"]:
            ex(f"break *{address:#x}")
        send(ARGS["command"])
        ex("continue")
        RESULT["stopped"] = stop_place()
        RESULT["stopped_frames"] = frames()
        RESULT["stopped_bt"] = ex("bt")
        RESULT["stopped_x_i"] = ex("x/i $pc")
        ex("delete")


@runs
def write_bytes():
    """Leaves bytes in the target's memory, as a debugger that died would."""
    for address, values in ARGS["writes"]:
        for i, v in enumerate(values):
            ex(f"set {{unsigned char}}{address + i:#x} = {v:#x}")
    RESULT["after"] = [memory_bytes(address, len(values)) for address, values in ARGS["writes"]]


@runs
def break_and_continue():
    """Sets breakpoints at ARGS["break"] and lets the target run: gdb inserts
    them and waits (until it is killed, leaving them in memory)."""
    for address in ARGS["break"]:
        ex(f"break *{address:#x}")
    save()
    ex("continue")


@runs
def step_through():
    """With displaced stepping on, stops at ARGS["entry"] (with $rdi ==
    ARGS["rdi"]), sets breakpoints at ARGS["breakpoints"] and steps
    instruction by instruction through the call, over those breakpoints,
    until the caller is back."""
    ex("set displaced-stepping on")
    ex("set debug displaced on")
    RESULT["start_bytes_before"] = memory_bytes(ARGS["start"], 16)
    ex(f"break *{ARGS['entry']:#x} if $rdi == {ARGS['rdi']}")
    send(ARGS["command"])
    # gdb's debug output of commands run to_string is in the string.
    log = ex("continue")
    for address in ARGS["breakpoints"]:
        ex(f"break *{address:#x}")
    caller = ARGS["caller"]
    steps = []
    for _ in range(ARGS["max_steps"]):
        frame = gdb.selected_frame()
        regs = {r: int(gdb.parse_and_eval(f"${r}")) & (2**64 - 1) for r in ("rax", "rbx", "rcx", "rdx", "rsi", "rdi")}
        regs["eflags"] = int(gdb.parse_and_eval("$eflags"))
        block_start = frame.function().value().address if frame.function() else None
        steps.append({
            "function": frame.name(),
            "offset": frame.pc() - int(block_start) if block_start is not None else None,
            "insn": re.sub(r"^=>\s*", "", ex("x/i $pc").strip()),
            "regs": regs,
        })
        if frame.name() == caller:
            break
        log += ex("stepi")
    RESULT["steps"] = steps
    RESULT["displaced"] = len(re.findall(r"displaced_step_prepare_throw: displaced-stepping", log))
    ex("delete")
    RESULT["start_bytes_after"] = memory_bytes(ARGS["start"], 16)
