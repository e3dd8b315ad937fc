"""What the gdb-coexistence tests share: the programs under test, processes
that are always killed, uptrace in the foreground and the background, real gdb
in batch mode, and independent ways to read code (the ELF file, /proc/PID/mem,
core files) so that what gdb and uptrace say can be checked against the bytes.

Each test is one script, `python3 -B -S test_NAME.py --uptrace PATH --targets DIR`
(run by ctest, label `gdb`). A test exits 0 when it passes, 1 when an
assertion fails (with what differed), 77 when gdb is not installed (ctest:
skipped). Every process a test starts is killed when it ends, also on failure.
"""

import argparse
import json
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
GDBSIDE = os.path.join(HERE, "gdbside.py")
SKIP = 77
WATCHDOG = 100  # seconds; ctest's TIMEOUT is 120


class Failure(Exception):
    pass


def check(cond, what, *details):
    """An assertion that says what was expected and what was seen."""
    if not cond:
        raise Failure(what + "".join("\n    " + str(d) for d in details))


def check_eq(seen, expected, what, *details):
    if seen != expected:
        raise Failure(f"{what}\n    expected: {expected!r}\n    seen:     {seen!r}"
                      + "".join("\n    " + str(d) for d in details))


def log(*args):
    print(*args, flush=True)


# ---------------------------------------------------------------------------
# ELF files and core files, read without any tool under test


class Elf:
    """Symbols, PT_LOAD segments and bytes by virtual address of an ELF64 file."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        check(d[:4] == b"\x7fELF" and d[4] == 2 and d[5] == 1, f"{path} is not a little-endian ELF64 file")
        (self.e_type,) = struct.unpack_from("<H", d, 16)
        e_phoff, e_shoff = struct.unpack_from("<QQ", d, 32)
        e_phentsize, e_phnum, e_shentsize, e_shnum, _ = struct.unpack_from("<HHHHH", d, 54)
        self.loads = []  # (vaddr, offset, filesz, memsz, flags)
        self.notes = []  # (offset, filesz)
        for i in range(e_phnum):
            p_type, p_flags, p_offset, p_vaddr, _, p_filesz, p_memsz, _ = struct.unpack_from(
                "<IIQQQQQQ", d, e_phoff + i * e_phentsize)
            if p_type == 1:
                self.loads.append((p_vaddr, p_offset, p_filesz, p_memsz, p_flags))
            elif p_type == 4:
                self.notes.append((p_offset, p_filesz))
        self.symbols = {}  # name -> (value, size, type)
        sections = []
        for i in range(e_shnum):
            sections.append(struct.unpack_from("<IIQQQQIIQQ", d, e_shoff + i * e_shentsize))
        for sh in sections:
            if sh[1] != 2:  # SHT_SYMTAB
                continue
            strtab = sections[sh[6]]
            for off in range(sh[4], sh[4] + sh[5], 24):
                st_name, st_info, _, st_shndx, st_value, st_size = struct.unpack_from("<IBBHQQ", d, off)
                if st_shndx == 0 or st_name == 0:
                    continue
                end = d.index(b"\0", strtab[4] + st_name)
                name = d[strtab[4] + st_name:end].decode()
                self.symbols.setdefault(name, (st_value, st_size, st_info & 0xF))

    @property
    def pie(self):
        return self.e_type == 3  # ET_DYN

    def function(self, name):
        value, size, kind = self.symbols[name]
        check(kind == 2 and size > 0, f"{name} is not a sized function in {self.path}")
        return value, size

    def read(self, vaddr, size):
        """The file's bytes at a virtual address (None where the file has none)."""
        for p_vaddr, p_offset, p_filesz, _, _ in self.loads:
            if p_vaddr <= vaddr and vaddr + size <= p_vaddr + p_filesz:
                return self.data[p_offset + vaddr - p_vaddr:p_offset + vaddr - p_vaddr + size]
        return None

    def code(self, name):
        value, size = self.function(name)
        return self.read(value, size)


def load_bias(pid, exe_path):
    """Where the executable is loaded, minus its link-time address."""
    real = os.path.realpath(exe_path)
    elf = Elf(real)
    lowest = min(v for v, _, _, _, _ in elf.loads) & ~0xFFF
    for line in read_text(f"/proc/{pid}/maps").splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[5] == real and int(fields[2], 16) == 0:
            return int(fields[0].split("-")[0], 16) - lowest
    raise Failure(f"{real} is not mapped in pid {pid}")


def read_text(path):
    with open(path) as f:
        return f.read()


def read_mem(pid, addr, size):
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as m:
        m.seek(addr)
        return m.read(size)


def write_mem(pid, addr, data):
    with open(f"/proc/{pid}/mem", "r+b", buffering=0) as m:
        m.seek(addr)
        check(m.write(data) == len(data), f"cannot write {len(data)} bytes at {addr:#x} in pid {pid}")


def maps(pid):
    """(start, end, perms, offset, path) of every mapping of pid."""
    out = []
    for line in read_text(f"/proc/{pid}/maps").splitlines():
        fields = line.split(None, 5)
        start, end = (int(x, 16) for x in fields[0].split("-"))
        out.append((start, end, fields[1], int(fields[2], 16), fields[5] if len(fields) > 5 else ""))
    return out


def anonymous_exec_mappings(pid):
    """Mappings that look like uptrace's scratch: executable and backed by no file."""
    return [m for m in maps(pid) if "x" in m[2] and m[4] in ("", "[anon]")]


def snapshot(pid):
    """/proc/PID/maps and the bytes of every executable mapping."""
    text = read_text(f"/proc/{pid}/maps")
    code = {}
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as m:
        for start, end, perms, _, path in maps(pid):
            if "x" not in perms or path == "[vsyscall]":
                continue
            m.seek(start)
            code[(start, end, path)] = m.read(end - start)
    return text, code


def snapshot_diff(before, after):
    """'' when identical, else the first difference, readably."""
    if before[0] != after[0]:
        return "maps differ:\n--- before\n" + before[0] + "--- after\n" + after[0]
    for key, data in before[1].items():
        other = after[1].get(key)
        if other is None:
            return f"mapping {key} is gone"
        if other != data:
            i = next(i for i in range(min(len(data), len(other))) if data[i] != other[i])
            return (f"code differs in {key[2]} at {key[0] + i:#x}: "
                    f"{data[i:i + 8].hex(' ')} before, {other[i:i + 8].hex(' ')} after")
    return ""


def thread_states(pid):
    states = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            stat = read_text(f"/proc/{pid}/task/{tid}/stat")
        except OSError:
            continue
        states[int(tid)] = stat[stat.rindex(")") + 2]
    return states


def tracer_pid(pid):
    for line in read_text(f"/proc/{pid}/status").splitlines():
        if line.startswith("TracerPid:"):
            return int(line.split()[1])
    return -1


def parent_pid(pid):
    for line in read_text(f"/proc/{pid}/status").splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    return -1


def process_and_children(pid):
    pids = {pid}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if parent_pid(int(entry)) == pid:
                    pids.add(int(entry))
            except OSError:
                pass
    return pids


def wait_until(cond, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise Failure(f"timed out waiting until {what}")
        time.sleep(0.01)


def check_running_untraced(pid, what):
    """No tracer, no thread in a stop: the process runs on by itself."""
    wait_until(lambda: tracer_pid(pid) == 0, f"pid {pid} has no tracer ({what})")
    # A detach that just happened may leave threads for a moment in 't'.
    deadline = time.monotonic() + 2.0
    while any(s in "tT" for s in thread_states(pid).values()) and time.monotonic() < deadline:
        time.sleep(0.02)
    states = thread_states(pid)
    check(not any(s in "tT" for s in states.values()), f"{what}: a thread of pid {pid} is stopped", states)


def settle_after_gdb(pid):
    """gdb's detach may leave the process in a group stop (depending on how it
    attached and on its settings): that is gdb's business, not uptrace's, so a
    stopped process is continued. Returns whether SIGCONT was needed."""
    wait_until(lambda: tracer_pid(pid) == 0, f"gdb has detached from pid {pid}")
    time.sleep(0.05)
    if any(s == "T" for s in thread_states(pid).values()):
        os.kill(pid, signal.SIGCONT)
        wait_until(lambda: not any(s in "tT" for s in thread_states(pid).values()), f"pid {pid} runs again")
        log(f"note: gdb left pid {pid} stopped; continued it")
        return True
    check_running_untraced(pid, "after gdb detached")
    return False


# ---------------------------------------------------------------------------
# Processes


class Test:
    """One test's context: arguments, a temporary directory, and every process
    started, killed at the end whatever happened."""

    def __init__(self, description):
        parser = argparse.ArgumentParser(description=description)
        parser.add_argument("--uptrace", required=True)
        parser.add_argument("--targets", required=True, help="the directory of gdbprobe and selftrap")
        parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
        self.args = parser.parse_args()
        self.uptrace = self.args.uptrace
        self.gdbprobe = os.path.join(self.args.targets, "gdbprobe")
        self.selftrap = os.path.join(self.args.targets, "selftrap")
        self.tmp = tempfile.mkdtemp(prefix="uptrace-gdb-")
        self.processes = []
        self.counter = 0

    def path(self, stem):
        self.counter += 1
        return os.path.join(self.tmp, f"{self.counter}-{stem}")

    def popen(self, argv, **kw):
        """Starts argv in a process group of its own, so that it and whatever
        it forks (uptrace's tracing process) can be killed together."""
        p = subprocess.Popen(argv, start_new_session=True, **kw)
        self.processes.append(p)
        return p

    @staticmethod
    def kill_group(p):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass

    def run(self, argv, timeout=60, env=None):
        """Runs argv to completion; returns (status, stdout, stderr) as text."""
        p = self.popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill_group(p)
            out, err = p.communicate()
            raise Failure(f"{argv[0]} did not finish in {timeout} s\n--- stdout\n{out.decode()}\n"
                          f"--- stderr\n{err.decode()}")
        return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")

    def run_uptrace(self, args, timeout=60):
        return self.run([self.uptrace] + args, timeout)

    def cleanup(self):
        for p in reversed(self.processes):
            self.kill_group(p)  # also what p forked
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        if not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def main(self, body):
        """Runs body(self); the exit status says how it went."""
        if shutil.which("gdb") is None:
            print("gdb is not installed: skipped")
            sys.exit(SKIP)
        start = time.monotonic()
        status = 0

        def watchdog(signum, frame):
            raise Failure(f"the test ran for more than {WATCHDOG} s")

        # Before ctest's TIMEOUT, which would kill this script but not the
        # process groups it started.
        signal.signal(signal.SIGALRM, watchdog)
        signal.alarm(WATCHDOG)
        try:
            body(self)
            log(f"PASS ({time.monotonic() - start:.1f} s)")
        except Failure as e:
            log(f"FAIL: {e}")
            status = 1
        except Exception:
            traceback.print_exc()
            status = 1
        finally:
            signal.alarm(0)
            self.cleanup()
        sys.exit(status)


class Target:
    """A target program with its stdin and stdout on pipes; waits for "ready PID".

    With `exe`, argv starts the program indirectly (uptrace ... -- exe): the
    program's pid is the one its "ready" line says; `proc` is argv's process."""

    def __init__(self, test, argv, exe=None):
        self.test = test
        self.proc = test.popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.exe = exe or argv[0]
        self.buffer = b""
        line = self.read_line()
        check(re.fullmatch(r"ready \d+", line), f"{os.path.basename(self.exe)}'s first line", line)
        self.pid = int(line.split()[1])
        if exe is None:
            check_eq(self.pid, self.proc.pid, "the pid in the ready line")

    def send(self, command):
        self.proc.stdin.write(command.encode() + b"\n")
        self.proc.stdin.flush()

    def read_line(self, timeout=60):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        who = getattr(self, "pid", self.proc.pid)
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure(f"pid {who} printed no line in {timeout} s (so far: {self.buffer!r})")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise Failure(f"pid {who} closed its output (status {self.proc.poll()}); so far: {self.buffer!r}")
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

    def ask(self, command, timeout=60):
        self.send(command)
        return self.read_line(timeout)

    def bias(self):
        return load_bias(self.pid, self.exe)

    def alive(self):
        return self.proc.poll() is None


class Tracer:
    """uptrace in the background, with --ready-file, stdout and stderr in files."""

    def __init__(self, test, args, mode="trap"):
        """`mode`: these tests check the trap bytes gdb and uptrace see in each
        other's memory, so probes are traps unless a test says otherwise
        (None: uptrace's own choice)."""
        self.ready = test.path("ready")
        self.out_path, self.err_path = test.path("out"), test.path("err")
        mode_args = ["--mode", mode] if mode else []
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = test.popen([test.uptrace, "--ready-file", self.ready] + mode_args + args, stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=err)
        self.pid = self.proc.pid

    def wait_armed(self, timeout=60):
        wait_until(lambda: os.path.exists(self.ready) or self.proc.poll() is not None, "uptrace armed its probes",
                   timeout)
        check(os.path.exists(self.ready), f"uptrace exited with status {self.proc.returncode} before arming",
              "stderr: " + read_text(self.err_path))

    def output(self):
        return read_text(self.out_path)

    def finish(self, sig=signal.SIGINT, timeout=60):
        """Sends sig (unless None) and waits; returns (status, stdout, stderr)."""
        if sig is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            Test.kill_group(self.proc)
            raise Failure(f"uptrace did not exit within {timeout} s of signal {sig}; stderr:\n"
                          + read_text(self.err_path))
        return self.proc.returncode, read_text(self.out_path), read_text(self.err_path)

    def engine_pids(self):
        """uptrace and its children: whichever of them holds the target."""
        return process_and_children(self.pid)


# ---------------------------------------------------------------------------
# gdb


class Gdb:
    """gdb -batch -nx, with gdbside.py loaded and one of its functions run.

    `params` reach the function as ARGS (JSON); what it records comes back as
    `result`. gdb's own stdout and stderr are kept for the assertions."""

    def __init__(self, test, pre_args, function=None, params=None, extra=()):
        self.test = test
        self.result_path = test.path("gdb.json")
        params = dict(params or {})
        params["result"] = self.result_path
        self.env = dict(os.environ, GDBTEST_ARGS=json.dumps(params))
        self.argv = ["gdb", "-batch", "-nx"] + list(pre_args)
        if function:
            self.argv += ["-x", GDBSIDE, "-ex", f"python {function}()"]
        self.argv += list(extra)
        self.status = None
        self.out = self.err = ""
        self.result = None

    def run(self, timeout=60):
        self.status, self.out, self.err = self.test.run(self.argv, timeout, env=self.env)
        self._load_result()
        return self

    def start(self):
        self.out_path, self.err_path = self.test.path("gdb.out"), self.test.path("gdb.err")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = self.test.popen(self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=self.env)
        self.pid = self.proc.pid
        return self

    def wait(self, timeout=60):
        try:
            self.status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            Test.kill_group(self.proc)
            raise Failure(f"gdb did not finish in {timeout} s\n" + read_text(self.err_path))
        self.out, self.err = read_text(self.out_path), read_text(self.err_path)
        self._load_result()
        return self

    def _load_result(self):
        if os.path.exists(self.result_path):
            with open(self.result_path) as f:
                self.result = json.load(f)

    def require_ok(self, what):
        check(self.status == 0 and self.result is not None and self.result.get("ok"),
              f"gdb failed ({what}): status {self.status}", "--- stdout\n" + self.out, "--- stderr\n" + self.err)
        return self.result


def gdb_attach(test, pid, function, params=None, timeout=60):
    return Gdb(test, ["-p", str(pid)], function, params).run(timeout).require_ok(f"{function} in pid {pid}")


def gdb_mappings(text):
    """(start, end, perms, objfile) rows of gdb's `info proc mappings`."""
    rows = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[0].startswith("0x") and fields[1].startswith("0x"):
            rows.append((int(fields[0], 16), int(fields[1], 16), fields[4], fields[5] if len(fields) > 5 else ""))
    return rows


HEX = re.compile(r"0x[0-9a-f]+")


def unbias(text, bias, size=1 << 32):
    """Rewrites the runtime addresses of a module in gdb's output as file addresses."""
    def fix(m):
        v = int(m.group(0), 16)
        return hex(v - bias) if bias <= v < bias + size else m.group(0)
    return HEX.sub(fix, text) if bias else text


def static_disassembly(test, exe, name, count):
    """gdb's x/COUNTi of a function in the file alone (file addresses)."""
    status, out, err = test.run(["gdb", "-batch", "-nx", exe, "-ex", f"x/{count}i {name}"])
    check(status == 0 and out, f"gdb cannot disassemble {name} in {exe}", err)
    return out


def instruction_offsets(test, exe, name):
    """The offset of every instruction of a function, from objdump."""
    elf = Elf(exe)
    value, size = elf.function(name)
    status, out, err = test.run(["objdump", "-d", "--no-show-raw-insn", f"--start-address={value:#x}",
                                 f"--stop-address={value + size:#x}", exe])
    check(status == 0, "objdump failed", err)
    offsets, texts = [], []
    for line in out.splitlines():
        m = re.match(r"\s+([0-9a-f]+):\s+(\S.*)$", line)
        if m:
            offsets.append(int(m.group(1), 16) - value)
            texts.append(m.group(2).strip())
    return offsets, texts
