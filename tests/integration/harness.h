#pragma once
// What the integration tests need to run uptrace on real programs: spawning
// targets, running uptrace to completion or in the background, and taking
// snapshots of a process's code and maps to prove nothing was left behind.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace itest {

// The uptrace binary and the folder of the target programs: the build tree's
// (compile definitions), or $UPTRACE_BINARY and $UPTRACE_TARGET_DIR when set
// (the cross-built tests run in a VM that has no build tree; tests/cross).
std::string uptrace_path();
// The arguments with `--mode $UPTRACE_TEST_MODE` in front when that is set
// (ctest runs the suite once per execution mode), unless they choose a mode,
// list or explain (which shows what auto picks).
std::vector<std::string> with_test_mode(std::vector<std::string> args);
std::string target_dir();
// A program from tests/targets, e.g. target("busy") -> .../target-busy.
std::string target(const std::string& name);

// Every timeout and deadline of the harness is multiplied by
// $UPTRACE_TEST_TIME_SCALE (default 1; the VM of tests/cross runs under
// emulation, several times slower). scaled() does the same for a test's own.
double time_scale();
std::chrono::milliseconds scaled(std::chrono::milliseconds d);
// How many rounds a stress test runs: `rounds` divided by
// $UPTRACE_TEST_STRESS_DIVISOR (default 1; the VMs of tests/cross, where the
// point is the ISA's code paths and an emulated round costs 5-30x more,
// divide by 3), never fewer than 1.
int stress_rounds(int rounds);
std::string temp_path(const std::string& stem);  // unique path in a temp dir

struct Result {
  int status = -1;  // exit code, or 128+signal
  std::string out, err;
  std::vector<std::string> out_lines() const;
  std::vector<std::string> err_lines() const;
};

// Runs argv to completion (killed after `timeout`), capturing stdout/stderr.
Result run(const std::vector<std::string>& argv, std::chrono::seconds timeout = std::chrono::seconds(120));
// run() with uptrace prepended.
Result uptrace(const std::vector<std::string>& args, std::chrono::seconds timeout = std::chrono::seconds(120));
// uptrace() attaching with --mode jump to a program that runs through the
// probed bytes all the time: a refusal because a thread stands inside the
// bytes a jump (or its relay) would overwrite, which leaves the program as
// it was, is tried again, up to 20 times.
Result uptrace_jump_attach(const std::vector<std::string>& args);

// Whether pid has a handler for SIGTRAP (/proc/PID/status SigCgt): a
// program that catches its own traps loses it if the kernel ever forces a
// SIGTRAP on it while it is blocked.
bool catches_sigtrap(pid_t pid);

// A child process the test owns; killed and reaped on destruction.
class Child {
 public:
  // Starts argv with stdout on a pipe the test can read.
  explicit Child(const std::vector<std::string>& argv);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  // One line of the child's stdout (without '\n'); throws on timeout/EOF.
  std::string read_line(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  void signal(int sig);
  // Waits for exit; returns exit code or 128+signal; throws on timeout.
  int wait(std::chrono::seconds timeout = std::chrono::seconds(60));
  bool alive();

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
  bool reaped_ = false;
  int status_ = 0;
};

// uptrace running in the background (for -p tests) with stdout/stderr in
// files; waits for --ready-file so the test knows the probes are armed.
class Tracer {
 public:
  explicit Tracer(const std::vector<std::string>& args);
  ~Tracer();
  // Waits until every probe is armed (--ready-file exists) or uptrace exits.
  bool wait_armed(std::chrono::seconds timeout = std::chrono::seconds(60));
  void signal(int sig);
  Result finish(std::chrono::seconds timeout = std::chrono::seconds(60));
  pid_t pid() const { return child_->pid(); }

 private:
  std::string ready_, out_, err_;
  std::optional<Child> child_;
};

// The code of a process and its map, for before/after comparisons.
struct Snapshot {
  std::string maps;                          // /proc/PID/maps
  std::map<std::string, std::string> code;   // "start-end path" -> bytes of each executable mapping
};
Snapshot snapshot(pid_t pid);
// Readable differences ("maps differ: ...", "code differs in ... at +0x12"); empty when identical.
std::string compare(const Snapshot& before, const Snapshot& after);

// Thread states from /proc/PID/task/*/stat: any thread in 't' (traced) or 'T' (stopped).
bool any_thread_stopped(pid_t pid);
pid_t tracer_pid(pid_t pid);
// The children of pid (from /proc/PID/task/*/children).
std::vector<pid_t> children_of(pid_t pid);
// Reaps pid, a child of ours; false if it has not exited within timeout (scaled).
bool wait_for_exit(pid_t pid, int& status, std::chrono::milliseconds timeout);

// A file's whole content ("" when it cannot be read).
std::string slurp(const std::string& path);
// The lines of a text, without their '\n'.
std::vector<std::string> lines_of(const std::string& text);

// Counts lines containing `needle`.
size_t count_lines(const std::string& text, const std::string& needle);
// A defined symbol of an ELF file as `nm -S` (or `nm -D -S` when `dynamic`)
// prints it, read from its .symtab (.dynsym): no binutils needed.
struct ElfSymbol {
  uint64_t addr = 0, size = 0;
  // ppc64 ELFv2: how far past the symbol's address (the global entry, which
  // sets up the TOC) the local entry is, from st_other: where direct calls
  // enter, and where uptrace probes FUNC. 0 on every other ISA.
  uint64_t local_entry = 0;
  // The address FUNC probes.
  uint64_t entry() const { return addr + local_entry; }
  // "+0x8" (ppc64le), "+0x0": the FUNC+OFF that names that address.
  std::string entry_offset() const;
};
std::optional<ElfSymbol> elf_symbol(const std::string& file, const std::string& symbol, bool dynamic = false);
// The address of `symbol` in the ELF file (as nm prints it); throws when absent.
uint64_t symbol_address(const std::string& file, const std::string& symbol);

}  // namespace itest
