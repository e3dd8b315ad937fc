// Failures (SPEC.md "Exit status"): each prints exactly one line on stderr
// that names the thing and the reason, with status 1 for what the target
// makes impossible and 2 for usage errors. A -p target is left exactly as it
// was: same code, same maps, no tracer, no stopped thread. A command whose
// probes cannot be placed never gets to run its main.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "checks.h"
#include "harness.h"
#include "isa.h"

using namespace itest;
using namespace std::chrono_literals;

namespace {

const std::string kDriver = target("insn_driver");
const std::string kResolve = target("resolve");
const std::string kUselib = target("uselib");

std::string real(const std::string& path) {
  char buf[PATH_MAX];
  REQUIRE(realpath(path.c_str(), buf) != nullptr);
  return buf;
}

// The insn driver running its loop: every function of insn_classes.S is
// being executed while uptrace looks at it.
struct RunningDriver {
  Child child;
  RunningDriver() : child({kDriver, "loop"}) {
    REQUIRE(child.read_line().rfind("cpu ", 0) == 0);
    REQUIRE(child.read_line() == "ready " + std::to_string(child.pid()));
  }
  pid_t pid() const { return child.pid(); }
  std::string spid() const { return std::to_string(child.pid()); }
  // It still runs and every result it computed was right.
  void require_healthy() {
    child.signal(SIGUSR1);
    REQUIRE(child.read_line() == "ok mismatches 0");
  }
};



// uptrace ARGS on a -p target: `status` and exactly `err` (or a line
// matching `err_re` when `regex`), and the target untouched.
void require_refused_attached(pid_t pid, const std::vector<std::string>& args, int status, const std::string& err,
                              bool regex = false) {
  Snapshot before = snapshot(pid);
  Result r = uptrace(args);
  INFO("uptrace " << [&] {
    std::string s;
    for (const auto& a : args) s += a + " ";
    return s;
  }());
  INFO("stderr: " << r.err);
  REQUIRE(r.status == status);
  REQUIRE(r.out.empty());
  if (regex) {
    REQUIRE(r.err_lines().size() == 1);
    REQUIRE(std::regex_match(r.err_lines()[0], std::regex(err)));
  } else {
    REQUIRE(r.err == err + "\n");
  }
  require_untouched(before, pid);
}

// uptrace ARGS -- COMMAND...: `status`, exactly `err`, and the command's
// main never ran (it prints nothing before its first call).
void require_refused_launch(const std::vector<std::string>& args, const std::vector<std::string>& command, int status,
                            const std::string& err) {
  std::vector<std::string> all = args;
  all.push_back("--");
  all.insert(all.end(), command.begin(), command.end());
  Result r = uptrace(all);
  INFO("stderr: " << r.err);
  REQUIRE(r.status == status);
  REQUIRE(r.out.empty());
  REQUIRE(r.err == err + "\n");
}

// A usage error: status 2 and one line "uptrace: ..." (matching `re` when given).
void require_usage_error(const std::vector<std::string>& args, const std::string& exact = {}) {
  Result r = uptrace(args);
  std::string cmd;
  for (const auto& a : args) cmd += a + " ";
  INFO("uptrace " << cmd << "\nstderr: " << r.err);
  REQUIRE(r.status == 2);
  REQUIRE(r.out.empty());
  auto lines = r.err_lines();
  REQUIRE(lines.size() == 1);
  REQUIRE(lines[0].rfind("uptrace: ", 0) == 0);
  if (!exact.empty()) REQUIRE(lines[0] == exact);
}

}  // namespace

TEST_CASE("errors: an unknown function with did you mean", "[errors][mode-free]") {
  const std::string msg = "uptrace: no function 'othr_fn' in " + real(kResolve) + " (did you mean other_fn?)";
  require_refused_launch({"-c", "othr_fn"}, {kResolve}, 1, msg);
  Parked t(kResolve);
  require_refused_attached(t.pid(), {"-p", t.spid(), "othr_fn"}, 1, msg);
  // One bad probe among good ones: nothing is armed.
  require_refused_attached(t.pid(), {"-p", t.spid(), "work_a", "othr_fn", "work_b"}, 1, msg);
}

TEST_CASE("errors: an offset inside an instruction names the nearest boundaries", "[errors]" ONLY_X86_64) {
  // five_byte: nop, then "mov eax, 0x12345678" (5 bytes) at +0x1.
  const std::string msg =
      "uptrace: five_byte+0x3 is inside the instruction at +0x1 (mov eax, 0x12345678, 5 bytes); nearest "
      "boundaries +0x1, +0x6";
  require_refused_launch({"five_byte+3"}, {kDriver, "10"}, 1, msg);
  RunningDriver d;
  require_refused_attached(d.pid(), {"-p", d.spid(), "five_byte+0x3"}, 1, msg);
  require_refused_attached(d.pid(), {"-p", d.spid(), "rip_load", "five_byte+3"}, 1, msg);
  // The same for a rip-relative instruction the driver is executing.
  require_refused_attached(
      d.pid(), {"-p", d.spid(), "rip_load+2"}, 1,
      "uptrace: rip_load\\+0x2 is inside the instruction at \\+0x0 \\(mov rax, qword ptr \\[rip \\+ 0x[0-9a-f]+\\], 7 "
      "bytes\\); nearest boundaries \\+0x0, \\+0x7",
      true);
  d.require_healthy();
}

TEST_CASE("errors: an offset past the end of the function", "[errors]" ONLY_X86_64) {
  const std::string file = real(kDriver);
  require_refused_launch({"rip_load+0x1000"}, {kDriver, "10"}, 1,
                         "uptrace: rip_load+0x1000 is past the end of rip_load (0xb bytes) in " + file);
  RunningDriver d;
  // rip_load is 11 bytes: +11 is the first byte after it.
  require_refused_attached(d.pid(), {"-p", d.spid(), "rip_load+11"}, 1,
                           "uptrace: rip_load+0xb is past the end of rip_load (0xb bytes) in " + file);
  d.require_healthy();
}

namespace {
struct TrapCase {
  const char* probe;
  const char* shown;
  const char* insn;
};
const TrapCase kTrapCases[] = {{"trap_int3", "trap_int3", "int3"},
                               {"trap_int_3", "trap_int_3", "int 3"},
                               {"trap_int1", "trap_int1", "int1 (icebp)"},
                               {"trap_mid+1", "trap_mid+0x1", "int3"}};
std::string trap_message(const TrapCase& c) {
  return std::string("uptrace: cannot probe ") + c.shown + ": " + c.insn + " is already a breakpoint instruction";
}
}  // namespace

TEST_CASE("errors: an instruction that is already a breakpoint is never probed (launch)", "[errors]" ONLY_X86_64) {
  for (const TrapCase& c : kTrapCases) {
    require_refused_launch({"-c", c.probe}, {kDriver, "10"}, 1, trap_message(c));
    require_refused_launch({"--mode", "trap", "-c", "call_rel", c.probe}, {kDriver, "10"}, 1, trap_message(c));
  }
}

TEST_CASE("errors: an instruction that is already a breakpoint is never probed (attached)", "[errors][attach]" ONLY_X86_64) {
  RunningDriver d;
  for (const TrapCase& c : kTrapCases) {
    require_refused_attached(d.pid(), {"-p", d.spid(), c.probe}, 1, trap_message(c));
    // Next to probes that could be placed: none of them is left behind.
    require_refused_attached(d.pid(), {"-p", d.spid(), "nop_fn", "rip_load", c.probe}, 1, trap_message(c));
  }
  // Whatever the mode asked for.
  require_refused_attached(d.pid(), {"--mode", "trap", "-p", d.spid(), kTrapCases[1].probe}, 1,
                           trap_message(kTrapCases[1]));
  require_refused_attached(d.pid(), {"--mode", "emulate", "-p", d.spid(), kTrapCases[2].probe}, 1,
                           trap_message(kTrapCases[2]));
  d.require_healthy();
}

TEST_CASE("errors: an instruction that cannot run out of line is refused with the reason", "[errors]" ONLY_X86_64) {
  RunningDriver d;
  require_refused_attached(d.pid(), {"-p", d.spid(), "jmp_rel8", "refuse_syscall"}, 1,
                           "uptrace: cannot probe refuse_syscall: syscall cannot run out of line: it may block with "
                           "the thread inside the slot and its restart/clone/sigreturn see the slot address");
  d.require_healthy();
}

TEST_CASE("errors: a forced mode that cannot be used at a site is refused", "[errors][mode-specific]" ONLY_X86_64) {
  RunningDriver d;
  require_refused_attached(d.pid(), {"--mode", "emulate", "-p", d.spid(), "call_rel", "rip_load"}, 1,
                           "uptrace: cannot probe rip_load: mov cannot be emulated");
  require_refused_launch({"--mode", "emulate", "-c", "rip_load"}, {kDriver, "10"}, 1,
                         "uptrace: cannot probe rip_load: mov cannot be emulated");
  require_refused_attached(d.pid(), {"--mode", "boost", "-p", d.spid(), "nop_fn", "call_reg"}, 1,
                           "uptrace: cannot probe call_reg: cannot boost: a call from the slot would push a return "
                           "address inside the slot");
  require_refused_attached(d.pid(), {"--mode", "jump", "-p", d.spid(), "rip_load", "loop_fn+6"}, 1,
                           "uptrace: cannot probe loop_fn+0x6: cannot jump: the loop within the 5 bytes a jump "
                           "overwrites cannot run from a trampoline");
  require_refused_attached(d.pid(), {"--mode", "jump", "-p", d.spid(), "rip_load s=+0(%rdi)"}, 1,
                           "uptrace: cannot probe rip_load: cannot jump: a fetch argument reads the target's memory, "
                           "which a trampoline cannot do safely");
  d.require_healthy();
}

TEST_CASE("errors: an unknown module", "[errors][module]") {
  {
    Result r = uptrace({"-c", "nosuchlib:getpid", "--", kResolve});
    REQUIRE(r.status == 1);
    REQUIRE(r.out.empty());
    REQUIRE(r.err_lines().size() == 1);
    REQUIRE(std::regex_match(r.err_lines()[0], std::regex("uptrace: no module 'nosuchlib' is mapped in pid [0-9]+.*")));
  }
  Parked t(kResolve);
  require_refused_attached(t.pid(), {"-p", t.spid(), "work_a", "nosuchlib:getpid"}, 1,
                           "uptrace: no module 'nosuchlib' is mapped in pid " + t.spid() + ".*", true);
}

TEST_CASE("errors: an ambiguous module prefix lists the candidates", "[errors][module]") {
  Parked t(kUselib);
  // "lib" starts both libc.so.6 and libuptest.so.
  require_refused_attached(t.pid(), {"-p", t.spid(), "lib:getppid"}, 1,
                           "uptrace: module prefix 'lib' is ambiguous in pid " + t.spid() +
                               ": libc\\.so\\.6, libuptest\\.so.*",
                           true);
  Result r = uptrace({"-c", "lib:getppid", "--", kUselib});
  REQUIRE(r.status == 1);
  REQUIRE(r.out.empty());
  REQUIRE(r.err_lines().size() == 1);
  REQUIRE(std::regex_match(r.err_lines()[0],
                           std::regex("uptrace: module prefix 'lib' is ambiguous in pid [0-9]+: libc\\.so\\.6, "
                                      "libuptest\\.so.*")));
}

TEST_CASE("errors: bad probe syntax is a usage error", "[errors][usage]") {
  require_usage_error({"-c", "work+0xzz", "--", kResolve}, "uptrace: bad probe 'work+0xzz': offset '0xzz' is not a number");
  require_usage_error({"-c", "work_a+", "--", kResolve}, "uptrace: bad probe 'work_a+': missing offset after 'work_a+'");
  require_usage_error({"-c", "0xzz", "--", kResolve}, "uptrace: bad probe '0xzz': address '0xzz' is not a number");
  require_usage_error({"-c", ":work_a", "--", kResolve}, "uptrace: bad probe ':work_a': empty module name before ':'");
  require_usage_error({"-c", "work_a%foo", "--", kResolve});
  require_usage_error({"-c", "work_a+-4", "--", kResolve});
  require_usage_error({"-c", "[work", "--", kResolve});
  require_usage_error({"-c", "resolve.c:0", "--", kResolve});
  require_usage_error({"-c", "work_a +8($arg1", "--", kResolve});
  require_usage_error({"-c", "work_a +zz($arg1)", "--", kResolve});
  require_usage_error({"-c", "work_a 1x=$arg1", "--", kResolve});
  require_usage_error({"-c", "work_a $arg0", "--", kResolve});
  require_usage_error({"-c", "work_a a=$arg1 a=$arg2", "--", kResolve});
  // A fetch argument given as a word of its own.
  require_usage_error({"-c", "work_a", "$arg1", "--", kResolve});
}

TEST_CASE("errors: an unknown register or type or $retval without %return is a usage error", "[errors][usage]") {
  Result reg = uptrace({"-c", "work_a %foo", "--", kResolve});
  INFO(reg.err);
  REQUIRE(reg.status == 2);
  REQUIRE(reg.out.empty());
  REQUIRE(reg.err_lines().size() == 1);
  REQUIRE(reg.err.rfind("uptrace: bad fetch argument in probe 'work_a %foo': no register '%foo'", 0) == 0);
  require_usage_error({"-c", "work_a %RDI", "--", kResolve});
  require_usage_error({"-c", "work_a +8(%xmm99)", "--", kResolve});
  require_usage_error({"-c", "work_a $arg1:u128", "--", kResolve},
                      "uptrace: bad fetch argument '$arg1:u128' in probe 'work_a $arg1:u128': unknown type 'u128' "
                      "(types: u8 u16 u32 u64 s8 s16 s32 s64 x8 x16 x32 x64 string)");
  require_usage_error({"-c", "work_a $arg1:", "--", kResolve});
  require_usage_error({"-c", "work_a $retval", "--", kResolve},
                      "uptrace: bad fetch argument '$retval' in probe 'work_a $retval': $retval is only available at "
                      "a FUNC%return probe");
  require_usage_error({"-c", "work_a x=+0($retval):u8", "--", kResolve});
}

TEST_CASE("errors: usage errors on a -p target leave it untouched", "[errors][usage][attach]") {
  Parked t(kResolve);
  Snapshot before = snapshot(t.pid());
  require_usage_error({"-p", t.spid(), "work_a %foo"});
  require_usage_error({"-p", t.spid(), "work_a $arg1:u128"});
  require_usage_error({"-p", t.spid(), "work_a $retval"});
  require_usage_error({"-p", t.spid(), "--format", "xml", "work_a"});
  require_usage_error({"-p", t.spid(), "-n", "0", "work_a"});
  require_usage_error({"-p", t.spid(), "work_a", "--", kResolve});
  require_untouched(before, t.pid());
}

TEST_CASE("errors: bad option values are usage errors", "[errors][usage]") {
  require_usage_error({"--format", "xml", "work_a", "--", kResolve},
                      "uptrace: --format must be text, json, chrome or folded, not 'xml' (see uptrace --help)");
  require_usage_error({"--mode", "fast", "work_a", "--", kResolve});
  REQUIRE(uptrace({"--mode", "fast", "work_a", "--", kResolve}).err.find("'fast'") != std::string::npos);
  require_usage_error({"-n", "0", "work_a", "--", kResolve});
  require_usage_error({"-n", "abc", "work_a", "--", kResolve});
  require_usage_error({"-d", "-1", "work_a", "--", kResolve});
  require_usage_error({"-d", "0", "work_a", "--", kResolve});
  require_usage_error({"-d", "abc", "work_a", "--", kResolve});
  require_usage_error({"-p", "abc", "work_a"});
  require_usage_error({"-p", "0", "work_a"});
  require_usage_error({"-p", "-5", "work_a"});
  require_usage_error({"--bogus", "work_a", "--", kResolve});
}

TEST_CASE("errors: a missing or doubled target is a usage error", "[errors][usage]") {
  require_usage_error({"work_a"});
  require_usage_error({"-p", "1", "work_a", "--", kResolve});
  require_usage_error({"work_a", "--"});
  require_usage_error({"--", kResolve});
  require_usage_error({"-x", kResolve, "work_a"});
  require_usage_error({"-x", kResolve, "work_a", "--", kResolve});
  require_usage_error({"--list", "--explain", "-x", kResolve});
  require_usage_error({"--explain", "-x", kResolve});
  require_usage_error({"--explain", "work_a"});
  require_usage_error({"--list"});
  require_usage_error({"--list", "-x", kResolve, "-p", "1"});
  require_usage_error({"--list", "a*", "b*", "-x", kResolve});
  require_usage_error({"--list", "-x", kResolve, "--", kResolve});
}

TEST_CASE("errors: a negative -n is a usage error", "[errors][usage]") {
  // Like -n 0: a number of hits must be positive, not wrapped around.
  require_usage_error({"-n", "-3", "work_a", "--", kResolve});
}

TEST_CASE("errors: addresses and functions that do not exist in a module", "[errors][module]") {
  Parked t(kResolve);
  // An address no function covers.
  require_refused_attached(t.pid(), {"-p", t.spid(), "0x1"}, 1,
                           "uptrace: cannot probe 0x1: 0x1 is not inside any known function of " + real(kResolve) +
                               ".*",
                           true);
}

TEST_CASE("errors: an address inside an instruction names function-relative boundaries", "[errors][module]" ONLY_X86_64) {
  Parked t(kResolve);
  // Inside an instruction, by address: the boundaries are function-relative.
  char addr[32];
  snprintf(addr, sizeof addr, "%#lx", static_cast<unsigned long>(symbol_address(kResolve, "work_a") + 1));
  require_refused_attached(t.pid(), {"-p", t.spid(), addr}, 1,
                           std::string("uptrace: ") + addr +
                               " is inside the instruction at \\+0x0 \\(mov rax, qword ptr \\[rip \\+ 0x[0-9a-f]+\\], "
                               "7 bytes\\); nearest boundaries \\+0x0, \\+0x7",
                           true);
}

TEST_CASE("errors: code that differs in memory from the file is refused and everything is undone", "[errors][attach]" ONLY_X86_64) {
  // target-selfmod rewrote changed_fn's first instruction and put an int3
  // over trapped_fn's; plain_fn is as in the file. The refusal comes after
  // uptrace has attached and mapped its slots: all of that must be undone.
  Child t({target("selfmod")});
  REQUIRE(t.read_line() == "ready " + std::to_string(t.pid()));
  const std::string pid = std::to_string(t.pid());
  require_refused_attached(t.pid(), {"-p", pid, "plain_fn", "changed_fn"}, 1,
                           "uptrace: cannot probe changed_fn: the code in memory at 0x[0-9a-f]+ \\(48 8b c7\\) "
                           "differs from the file",
                           true);
  require_refused_attached(t.pid(), {"-p", pid, "plain_fn", "trapped_fn"}, 1,
                           "uptrace: cannot probe trapped_fn: int3 in memory is already a breakpoint instruction"
                           "( \\(another debugger's\\?\\))?",
                           true);
  // --explain says the same (the same check), without touching anything.
  Snapshot before = snapshot(t.pid());
  Result ex = uptrace({"--explain", "-p", pid, "changed_fn", "trapped_fn", "plain_fn"});
  REQUIRE(ex.status == 1);
  REQUIRE(count_lines(ex.out, "  refused:     the code in memory at 0x") == 1);
  REQUIRE(count_lines(ex.out, " (48 8b c7) differs from the file") == 1);
  REQUIRE(count_lines(ex.out, "  refused:     int3 in memory is already a breakpoint instruction") == 1);
  REQUIRE(count_lines(ex.out, "  mode:        ") == 1);
  require_untouched(before, t.pid());
  // And the probe that can be placed works.
  Result ok = uptrace({"-p", pid, "-n", "3", "plain_fn x=$arg1"});
  REQUIRE(ok.status == 0);
  REQUIRE(count_lines(ok.out, " plain_fn x=") == 3);
  require_untouched(before, t.pid());
  REQUIRE(t.alive());
}

TEST_CASE("errors: -x with a file that is missing or not ELF", "[errors]") {
  Result missing = uptrace({"--list", "-x", "/nonexistent/prog"});
  REQUIRE(missing.status == 1);
  REQUIRE(missing.out.empty());
  REQUIRE(missing.err == "uptrace: cannot open /nonexistent/prog: No such file or directory\n");
  Result text = uptrace({"--list", "-x", "/etc/passwd"});
  REQUIRE(text.status == 1);
  REQUIRE(text.out.empty());
  REQUIRE(text.err == "uptrace: /etc/passwd is not an ELF file\n");
  Result explain = uptrace({"--explain", "work", "-x", "/etc/passwd"});
  REQUIRE(explain.status == 1);
  REQUIRE(count_lines(explain.out, "refused:     /etc/passwd is not an ELF file") == 1);
}

TEST_CASE("errors: a foreign trap inside the bytes a jump would overwrite is named, by arming and --explain alike",
          "[errors][attach][jump][mode-specific]" ONLY_X86_64) {
  // selfmod put an int3 at window_fn+3, as a kernel uprobe there would be.
  Child t({target("selfmod")});
  REQUIRE(t.read_line() == "ready " + std::to_string(t.pid()));
  const std::string pid = std::to_string(t.pid());
  Snapshot before = snapshot(t.pid());
  const std::string why = "int3 at +0x3, a breakpoint someone else placed, is inside the bytes a jump would overwrite";
  Result armed = uptrace({"-q", "-c", "-d", "0.2", "--mode", "jump", "-p", pid, "window_fn"});
  REQUIRE(armed.status == 1);
  REQUIRE(armed.err == "uptrace: cannot probe window_fn: cannot jump: " + why + "\n");
  Result ex = uptrace({"--explain", "--mode", "jump", "-p", pid, "window_fn"});
  REQUIRE(ex.status == 1);
  REQUIRE(count_lines(ex.out, "  refused:     cannot jump: " + why) == 1);
  // In auto mode both pick the next mode, saying why not jump.
  Result ex_auto = uptrace({"--explain", "-p", pid, "window_fn"});
  REQUIRE(ex_auto.status == 0);
  REQUIRE(count_lines(ex_auto.out, "  not jump:    " + why) == 1);
  Result auto_armed = uptrace({"-q", "-c", "-d", "0.2", "-p", pid, "window_fn"});
  REQUIRE(auto_armed.status == 0);
  REQUIRE(auto_armed.out == "window_fn 0\n");
  require_untouched(before, t.pid());
}
