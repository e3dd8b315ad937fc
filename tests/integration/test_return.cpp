// FUNC%return: return values paired with the right entry through recursion,
// longjmp, ucontext stack switches, threads, C++ throws and fork; detaching
// while returns are hijacked; the nesting limit. Every target prints what it
// computed, so a return address left wrong would show as a crash or a
// different line. Each scenario runs on the -O0, -O1 and -O2 builds.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "checks.h"
#include "harness.h"
#include "isa.h"

using namespace itest;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> kReturns = {"returns-O0", "returns", "returns-O2"};
const std::vector<std::string> kThrows = {"throws-O0", "throws", "throws-O2"};

// The hit lines of a text output, each without its "TIME PID/TID " prefix
// and without the duration that ends a return's (test_latency.cpp checks
// those). With -c, the count lines without a return probe's durations
// (test_aggregate.cpp checks those).
std::vector<std::string> hits_of(const std::string& text) {
  static const std::regex kDuration(R"( duration=[0-9]+\.[0-9]{3}(ns|us|ms|s)$)");
  static const std::regex kDurations(R"( total=\S+ min=\S+ avg=\S+ max=\S+$)");
  std::vector<std::string> out;
  for (std::string line : lines_of(text)) {
    if (std::smatch m; std::regex_search(line, m, kDurations)) {
      out.push_back(line.substr(0, static_cast<size_t>(m.position(0))));
      continue;
    }
    size_t first = line.find(' ');
    size_t second = first == std::string::npos ? first : line.find(' ', first + 1);
    if (second != std::string::npos) line = line.substr(second + 1);
    std::smatch m;
    if (std::regex_search(line, m, kDuration)) line = line.substr(0, static_cast<size_t>(m.position(0)));
    out.push_back(line);
  }
  return out;
}

struct Traced {
  Result run;
  std::vector<std::string> hits;
};

// Launches `program args` under uptrace with `probes`; hits go to a file.
Traced trace(const std::vector<std::string>& probes, const std::string& program, const std::vector<std::string>& args,
             const std::vector<std::string>& options = {"-q"}) {
  std::string out = temp_path("hits");
  std::vector<std::string> argv = options;
  argv.insert(argv.end(), {"-o", out});
  argv.insert(argv.end(), probes.begin(), probes.end());
  argv.push_back("--");
  argv.push_back(target(program));
  argv.insert(argv.end(), args.begin(), args.end());
  Traced t{uptrace(argv), hits_of(slurp(out))};
  unlink(out.c_str());
  return t;
}

}  // namespace

TEST_CASE("return: each level of a recursion reports its own value once, innermost first", "[return]") {
  for (const std::string& program : kReturns) {
    INFO(program);
    Traced t = trace({"depth%return $retval"}, program, {"depth", "10"});
    REQUIRE(t.run.status == 0);
    REQUIRE(t.run.out == "depth 10\n");
    std::vector<std::string> expected;
    for (int v = 0; v <= 10; ++v) expected.push_back("depth%return retval=" + std::to_string(v));
    REQUIRE(t.hits == expected);
  }
}

TEST_CASE("return: a branching recursion has exactly as many returns as entries", "[return]") {
  for (const std::string& program : kReturns) {
    INFO(program);
    Traced t = trace({"fib", "fib%return"}, program, {"fib", "12"}, {"-q", "-c"});
    REQUIRE(t.run.status == 0);
    REQUIRE(t.run.out == "fib 144\n");
    REQUIRE(t.hits.size() == 2);
    std::string entries = t.hits[0].substr(t.hits[0].find(' ') + 1);
    REQUIRE(t.hits[0] == "fib " + entries);
    REQUIRE(t.hits[1] == "fib%return " + entries);
    // Without -O2's partial loop conversion, fib(12) makes 465 calls.
    if (program != "returns-O2") REQUIRE(entries == "465");
  }
}

TEST_CASE("return: nesting deeper than 64 is not hijacked, and the tracer says how many were missed", "[return]") {
  for (const std::string& program : kReturns) {
    INFO(program);
    std::string out = temp_path("counts");
    Result r = uptrace({"-c", "-o", out, "depth%return", "--", target(program), "depth", "100"});
    REQUIRE(r.status == 0);
    REQUIRE(r.out == "depth 100\n");
    REQUIRE(slurp(out).starts_with("depth%return 64 total="));  // the durations vary
    REQUIRE(count_lines(r.err, "uptrace: 37 returns not traced (nesting deeper than 64)") == 1);
    unlink(out.c_str());
  }
}

TEST_CASE("return: frames abandoned by longjmp are never paired with later returns", "[return]") {
  for (const std::string& program : kReturns) {
    INFO(program);
    Traced t = trace({"jumper%return $retval", "after%return $retval"}, program, {"longjmp", "200"});
    REQUIRE(t.run.status == 0);
    REQUIRE(t.run.out == "sum 208900\n");  // the even i (9900) + 10 * every i (199000)
    std::vector<std::string> expected;
    for (int i = 0; i < 200; ++i) {
      if (i % 2 == 0) expected.push_back("jumper%return retval=" + std::to_string(i));
      expected.push_back("after%return retval=" + std::to_string(i * 10));
    }
    REQUIRE(t.hits == expected);
  }
}

TEST_CASE("return: a function suspended on another stack (swapcontext) returns to the right place", "[return]") {
  for (const std::string& program : kReturns) {
    INFO(program);
    Traced t = trace({"co_work%return $retval", "main_work%return $retval"}, program, {"swap", "20"});
    REQUIRE(t.run.status == 0);
    std::string expected_out;
    std::vector<std::string> expected;
    for (int i = 0; i < 20; ++i) {
      expected_out += "main " + std::to_string(200 + i) + "\nco " + std::to_string(100 + i) + "\n";
      expected.push_back("main_work%return retval=" + std::to_string(200 + i));
      expected.push_back("co_work%return retval=" + std::to_string(100 + i));
    }
    REQUIRE(t.run.out == expected_out);
    REQUIRE(t.hits == expected);
  }
}

TEST_CASE("return: threads each keep their own pending returns", "[return]") {
  for (const std::string& program : kReturns) {
    INFO(program);
    Traced t = trace({"depth%return"}, program, {"threads", "4", "100"}, {"-q", "-c"});
    REQUIRE(t.run.status == 0);
    REQUIRE(t.run.out == "sum 2000\n");
    REQUIRE(t.hits == std::vector<std::string>{"depth%return 2400"});
  }
}

TEST_CASE("return: a C++ throw through probed frames unwinds normally and later returns pair correctly", "[return]") {
  for (const std::string& program : kThrows) {
    INFO(program);
    Result plain = run({target(program), "throws", "30"});
    REQUIRE(plain.out == "far 10 sum 135010\n");
    Traced t = trace({"middle%return $retval", "thrower%return $retval"}, program, {"throws", "30"});
    REQUIRE(t.run.status == 0);
    REQUIRE(t.run.out == plain.out);
    // i % 3 == 0: Far passes through both frames (no return); == 1: Near is
    // caught in middle, which returns -i; == 2: both return i.
    std::vector<std::string> expected;
    for (int i = 0; i < 30; ++i) {
      if (i % 3 == 1) expected.push_back("middle%return retval=" + std::to_string(-i));
      if (i % 3 == 2) {
        expected.push_back("thrower%return retval=" + std::to_string(i));
        expected.push_back("middle%return retval=" + std::to_string(i));
      }
    }
    REQUIRE(t.hits == expected);
  }
}

TEST_CASE("return: a forked child returns through its copy of hijacked frames, with or without -f", "[return]") {
  for (const std::string& program : kReturns) {
    INFO(program);
    Traced plain = trace({"forking%return $retval"}, program, {"fork", "3"});
    REQUIRE(plain.run.status == 0);
    // The child's line comes first: the parent waits for it.
    REQUIRE(plain.run.out == "child 1003\nparent 6\n");
    REQUIRE(plain.hits == std::vector<std::string>{"forking%return retval=3", "forking%return retval=4",
                                                   "forking%return retval=5", "forking%return retval=6"});
    Traced followed = trace({"forking%return $retval"}, program, {"fork", "3"}, {"-q", "-f"});
    REQUIRE(followed.run.status == 0);
    REQUIRE(followed.run.out == "child 1003\nparent 6\n");
    REQUIRE(followed.hits == std::vector<std::string>{"forking%return retval=1000", "forking%return retval=1001",
                                                      "forking%return retval=1002", "forking%return retval=1003",
                                                      "forking%return retval=3", "forking%return retval=4",
                                                      "forking%return retval=5", "forking%return retval=6"});
  }
}

TEST_CASE("return: -n ends tracing mid-recursion and the rest returns to the real callers", "[return]") {
  for (const std::string& program : kReturns) {
    INFO(program);
    Traced t = trace({"depth%return $retval"}, program, {"depth", "20"}, {"-q", "-n", "3"});
    REQUIRE(t.run.status == 0);
    REQUIRE(t.run.out == "depth 20\n");
    REQUIRE(t.hits == std::vector<std::string>{"depth%return retval=0", "depth%return retval=1", "depth%return retval=2"});
  }
}

TEST_CASE("return: detach while hijacked frames are live leaves memory untouched and the program returns normally",
          "[return][attach]") {
  for (const std::string& program : kReturns) {
    INFO(program);
    Child child({target(program), "park", "8"});
    REQUIRE(child.read_line() == "ready " + std::to_string(child.pid()));
    Snapshot before = snapshot(child.pid());
    std::string out = temp_path("hits");
    itest::Tracer tracer({"-q", "-o", out, "-p", std::to_string(child.pid()), "park%return $retval"});
    REQUIRE(tracer.wait_armed());
    child.signal(SIGUSR1);
    REQUIRE(child.read_line() == "bottom");  // 9 frames hijacked, none returned
    tracer.signal(SIGINT);
    Result r = tracer.finish();
    REQUIRE(r.status == 0);
    REQUIRE(slurp(out).empty());
    require_untouched(before, child.pid());
    child.signal(SIGUSR1);
    REQUIRE(child.read_line() == "result 8");
    REQUIRE(child.wait() == 0);
    unlink(out.c_str());
  }
}

TEST_CASE("return: attach and detach with hijacked frames live, then again: each return is reported once",
          "[return][attach]") {
  Child child({target("returns"), "park", "4"});
  REQUIRE(child.read_line() == "ready " + std::to_string(child.pid()));
  std::string out = temp_path("hits");
  {
    itest::Tracer first({"-q", "-o", out, "-p", std::to_string(child.pid()), "park%return $retval"});
    REQUIRE(first.wait_armed());
    child.signal(SIGUSR1);
    REQUIRE(child.read_line() == "bottom");
    first.signal(SIGINT);
    REQUIRE(first.finish().status == 0);
  }
  // Attached again at the bottom: the frames entered before are not known
  // and return untraced; nothing is reported twice or wrongly.
  itest::Tracer second({"-q", "-o", out, "-p", std::to_string(child.pid()), "park%return $retval"});
  REQUIRE(second.wait_armed());
  child.signal(SIGUSR1);
  REQUIRE(child.read_line() == "result 4");
  REQUIRE(child.wait() == 0);
  REQUIRE(second.finish().status == 0);
  REQUIRE(slurp(out).empty());
  unlink(out.c_str());
}

TEST_CASE("return: a tail call returns both frames, innermost first, whichever of them is probed", "[return]") {
  // At -O2 tail_caller ends in a branch to tail_leaf, which then returns
  // straight to tail_caller's caller through the one hijacked address.
  for (const std::string& program : kReturns) {
    INFO(program);
    std::vector<std::string> both, caller, leaf;
    for (int i = 0; i < 5; ++i) {
      const std::string v = std::to_string(2 * i + 1);
      both.push_back("tail_leaf%return retval=" + v);
      both.push_back("tail_caller%return retval=" + v);
      caller.push_back("tail_caller%return retval=" + v);
      leaf.push_back("tail_leaf%return retval=" + v);
    }
    Traced t = trace({"tail_caller%return $retval", "tail_leaf%return $retval"}, program, {"tail", "5"});
    REQUIRE(t.run.status == 0);
    REQUIRE(t.run.out == "sum 25\n");
    REQUIRE(t.hits == both);
    t = trace({"tail_caller%return $retval"}, program, {"tail", "5"});
    REQUIRE(t.run.out == "sum 25\n");
    REQUIRE(t.hits == caller);
    t = trace({"tail_leaf%return $retval"}, program, {"tail", "5"});
    REQUIRE(t.run.out == "sum 25\n");
    REQUIRE(t.hits == leaf);
  }
}

TEST_CASE("return: functions of a shared library return to their caller in the executable", "[return][module]") {
  // A call into another module goes through a PLT stub; on ppc64le the
  // stub saves the caller's TOC pointer (r2) and the caller reloads it
  // right after the call, so a return sent to the wrong place or with r2
  // disturbed would crash the program or change its sum.
  Traced t = trace({"libuptest:uptest_lib_work%return $retval", "libuptest:uptest_lib_other%return $retval"}, "uselib",
                   {"3"});
  INFO(t.run.err);
  REQUIRE(t.run.status == 0);
  // uptest_sink accumulates x + 1 (work, x = 0..2), then x + 2 (other, x = 0..5).
  REQUIRE(t.run.out == "done 123\n");
  std::vector<std::string> expected;
  for (const char* v : {"1", "3", "6"}) expected.push_back(std::string("libuptest:uptest_lib_work%return retval=") + v);
  for (const char* v : {"8", "11", "15", "20", "26", "33"})
    expected.push_back(std::string("libuptest:uptest_lib_other%return retval=") + v);
  REQUIRE(t.hits == expected);
}

TEST_CASE("return: detach while a hijacked leaf runs puts its return address back", "[return][attach]") {
  // spin_leaf makes no call, so it never moves its return address (aarch64:
  // x30 holds the trampoline all the while it spins).
  for (const std::string& program : kReturns) {
    INFO(program);
    Child child({target(program), "spin", "0"});
    REQUIRE(child.read_line() == "ready " + std::to_string(child.pid()));
    std::string out = temp_path("hits");
    itest::Tracer tracer({"-q", "-o", out, "-p", std::to_string(child.pid()), "spin_leaf%return $retval"});
    REQUIRE(tracer.wait_armed());
    child.signal(SIGUSR1);
    std::this_thread::sleep_for(scaled(std::chrono::milliseconds(300)));  // into spin_leaf, spinning
    tracer.signal(SIGINT);
    REQUIRE(tracer.finish().status == 0);
    REQUIRE(slurp(out).empty());
    child.signal(SIGUSR1);
    REQUIRE(child.read_line() == "leaf 42");
    REQUIRE(child.wait() == 0);
    unlink(out.c_str());
  }
}

TEST_CASE("return: detach while a function the probed one tail-called runs, with the trampoline in its frame",
          "[return][attach]") {
  // -O2: tail_wait branches to wait_work, which (on aarch64) saves x30, the
  // trampoline, in its own frame, a word uptrace never hijacked.
  for (const std::string& program : kReturns) {
    INFO(program);
    Child child({target(program), "tailwait", "0"});
    REQUIRE(child.read_line() == "ready " + std::to_string(child.pid()));
    std::string out = temp_path("hits");
    itest::Tracer tracer({"-q", "-o", out, "-p", std::to_string(child.pid()), "tail_wait%return $retval"});
    REQUIRE(tracer.wait_armed());
    child.signal(SIGUSR1);
    REQUIRE(child.read_line() == "waiting");
    tracer.signal(SIGINT);
    REQUIRE(tracer.finish().status == 0);
    REQUIRE(slurp(out).empty());
    child.signal(SIGUSR1);
    REQUIRE(child.read_line() == "result 41");
    REQUIRE(child.wait() == 0);
    unlink(out.c_str());
  }
}

TEST_CASE("return: -n at a hijacking entry detaches before the prologue has saved the return address",
          "[return]") {
  // The entry probe's hit ends tracing; the same trap has just replaced the
  // return address. With optimisation early's first instruction is a
  // compare, stepped out of line, and uptrace leaves with the thread right
  // after it: on aarch64 x30 holds the trampoline and the prologue that
  // saves it is still ahead.
  for (const std::string& program : kReturns) {
    INFO(program);
    Traced t = trace({"early", "early%return"}, program, {"early", "10"}, {"-q", "-n", "1"});
    REQUIRE(t.run.status == 0);
    REQUIRE(t.run.out == "early 11\n");
    REQUIRE(t.hits == std::vector<std::string>{"early"});
  }
}

TEST_CASE("return: --explain says how the return is caught", "[return][explain]") {
  Result text = uptrace({"--explain", "-x", target("returns"), "depth%return $retval"});
  REQUIRE(text.status == 0);
  INFO(text.out);
  const std::string ra = isa_expectations().return_address;
  REQUIRE(count_lines(text.out, "  return:      at entry, the return address (" + ra +
                                    ") is replaced by uptrace's return trampoline") == 1);
  // Where a link register is saved, where depth's prologue saves it (its
  // CFI: aarch64's stp x29, x30, [sp, #-N]!, ppc64le's std r0,16(r1)).
  if (const char* save = isa_expectations().return_address_save) {
    REQUIRE(text.out.find(std::string("; the prologue saves ") + ra + " at " + save) != std::string::npos);
    REQUIRE(text.out.find(isa_expectations().return_address_save_cfi) != std::string::npos);
  }
  Parked parked(target("resolve"));
  Result json = uptrace({"--explain", "--format", "json", "-p", parked.spid(), "work_a%return"});
  INFO(json.out << json.err);
  REQUIRE(json.status == 0);
  auto j = nlohmann::json::parse(json.out);
  REQUIRE(j["probe"] == "work_a%return");
  REQUIRE(j["refused"].is_null());
  REQUIRE(j["return"].get<std::string>().find("replaced by uptrace's return trampoline") != std::string::npos);
}

TEST_CASE("return: $retval is a usage error outside %return", "[return][errors]") {
  Result r = uptrace({"-x", target("returns"), "--explain", "depth $retval"});
  REQUIRE(r.status == 2);
  REQUIRE(r.err == "uptrace: bad fetch argument '$retval' in probe 'depth $retval': $retval is only available at a FUNC%return probe\n");
}

// Typed $retval (issue 7): returns.c's "typed" scenario calls functions whose
// return register holds more than their value; DWARF says which part is the
// value and how it prints, as for DWARF variables.
namespace {

const std::vector<std::string> kTypedProbes = {"narrow_int%return $retval", "narrow_uchar%return $retval",
                                               "narrow_char%return $retval", "truth%return $retval",
                                               "pick%return $retval",        "label%return $retval",
                                               "place%return $retval"};

// What every build prints for kTypedProbes over one round.
const std::vector<std::string> kTypedHits = {
    "narrow_int%return retval=-1",        "narrow_uchar%return retval=200", "narrow_char%return retval=65",
    "truth%return retval=true",           "truth%return retval=false",      "pick%return retval=GRUMPY",
    "pick%return retval=HAPPY",           "pick%return retval=7",           "label%return retval=\"ready\"",
    "label%return retval=(fault)",        "place%return retval=0x3000"};

const std::string kTypedOutput = "typed 12572\n";  // the program's own sum of one round

// The last line uptrace printed on stderr, which must be its only error.
std::string refusal(const std::string& probe, const std::string& exe) {
  Result r = uptrace({"-q", probe, "--", exe, "typed", "1"});
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  CHECK(r.out.empty());  // refused before the program ran
  auto lines = r.err_lines();
  CHECK(lines.size() == 1);
  return lines.empty() ? std::string() : lines.back();
}

}  // namespace

TEST_CASE("return: $retval prints as the function's DWARF return type says", "[return][dwarf]") {
  for (const std::string& program : kReturns) {
    INFO(program);
    Traced t = trace(kTypedProbes, program, {"typed", "1"});
    INFO(t.run.err);
    REQUIRE(t.run.status == 0);
    REQUIRE(t.run.out == kTypedOutput);
    CHECK(t.hits == kTypedHits);
  }
}

TEST_CASE("return: JSON carries a typed $retval as DWARF values are", "[return][dwarf]") {
  std::string out = temp_path("hits");
  std::vector<std::string> argv = {"-q", "--format", "json", "-o", out};
  argv.insert(argv.end(), kTypedProbes.begin(), kTypedProbes.end());
  argv.insert(argv.end(), {"--", target("returns"), "typed", "1"});
  Result r = uptrace(argv);
  INFO(r.err);
  REQUIRE(r.status == 0);
  std::vector<nlohmann::json> values;
  for (const std::string& line : lines_of(slurp(out))) values.push_back(nlohmann::json::parse(line)["args"]["retval"]);
  unlink(out.c_str());
  std::vector<nlohmann::json> expected = {-1,      200,    65, true,    false, "GRUMPY",
                                          "HAPPY", 7,      "ready", nullptr, "0x3000"};
  CHECK(values == expected);
}

TEST_CASE("return: an explicit :TYPE on $retval overrides DWARF", "[return][dwarf]") {
  for (const std::string& program : kReturns) {
    INFO(program);
    Traced t = trace({"narrow_int%return $retval:u32", "truth%return b=$retval:x8", "pick%return $retval:s32",
                      "label%return $retval:string", "no_result%return $retval:x64"},
                     program, {"typed", "1"});
    INFO(t.run.err);
    REQUIRE(t.run.status == 0);
    REQUIRE(t.hits.size() == 9);
    CHECK(std::vector<std::string>(t.hits.begin(), t.hits.end() - 1) ==
          std::vector<std::string>{"narrow_int%return retval=4294967295", "truth%return b=0x1", "truth%return b=0x0",
                                   "pick%return retval=-2", "pick%return retval=3", "pick%return retval=7",
                                   "label%return retval=\"ready\"", "label%return retval=(fault)"});
    // A void function leaves whatever it last had in the register: the
    // user asked for it, so it is read.
    CHECK(std::regex_match(t.hits.back(), std::regex("no_result%return retval=0x[0-9a-f]+")));
  }
}

TEST_CASE("return: $retval without DWARF is the return register as s64", "[return][dwarf]") {
  // -O0 leaves the whole long argument in narrow_int's return register on
  // x86-64 and aarch64, where ppc64le's extends the int (extsw) and
  // riscv64's keeps it sign-extended, as its psABI wants (sext.w).
  // narrow_uchar's x86-64 code does too (the caller narrows al), where
  // aarch64's and ppc64le's clear all above the byte before it returns.
  const std::string int_register = isa_expectations().narrow_int_raw_return;
  const std::string uchar_register = isa_expectations().narrow_uchar_raw_return;
  const std::string stripped = target("returns-O0-nodebug");  // objcopy --strip-debug, at build time
  std::string out = temp_path("hits");
  Result r = uptrace({"-q", "-o", out, "narrow_int%return $retval", "narrow_uchar%return $retval", "truth%return $retval",
                      "--", stripped, "typed", "1"});
  std::vector<std::string> hits = hits_of(slurp(out));
  unlink(out.c_str());
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(hits == std::vector<std::string>{"narrow_int%return retval=" + int_register,
                                         "narrow_uchar%return retval=" + uchar_register,
                                         "truth%return retval=1", "truth%return retval=0"});
}

TEST_CASE("return: $retval of a function DWARF says returns no value is refused with a hint", "[return][dwarf][errors][mode-free]") {
  for (const std::string& program : kReturns) {
    std::string exe = target(program);
    INFO(exe);
    CHECK(refusal("no_result%return $retval", exe) ==
          "uptrace: probe 'no_result%return $retval': cannot fetch '$retval' at no_result%return in " + exe +
              ": no_result returns void; hint: drop $retval (the probe reports each return without it), or read the "
              "raw return register with $retval:x64");
    CHECK(refusal("make_pair%return p=$retval", exe) ==
          "uptrace: probe 'make_pair%return p=$retval': cannot fetch '$retval' at make_pair%return in " + exe +
              ": make_pair returns a struct pair, not one value; hint: fetch its members where the caller stores it "
              "(SRCFILE:LINE VAR.FIELD), or read the raw return register with $retval:x64");
    CHECK(refusal("half%return $retval", exe) ==
          "uptrace: probe 'half%return $retval': cannot fetch '$retval' at half%return in " + exe +
              ": half returns a floating-point value (double), which is in a floating-point register uptrace does "
              "not read; hint: fetch it where the caller stores it (SRCFILE:LINE VAR): $retval:TYPE would read the "
              "integer return register, which does not hold it");
  }
  // The same at --explain, without a process: the probe is refused.
  Result r = uptrace({"--explain", "-x", target("returns"), "no_result%return $retval"});
  CHECK(r.status == 1);
  CHECK(count_lines(r.out, "  refused:     probe 'no_result%return $retval': cannot fetch '$retval' at "
                           "no_result%return in ") == 1);
  CHECK(count_lines(r.out, ": no_result returns void; hint: ") == 1);
  // No $retval, no question asked.
  Traced t = trace({"no_result%return"}, "returns", {"typed", "1"});
  CHECK(t.run.status == 0);
  CHECK(t.hits == std::vector<std::string>{"no_result%return"});
}

TEST_CASE("return: each match of a glob types its own $retval, and one DWARF refuses stays raw with a warning",
          "[return][dwarf]") {
  Traced t = trace({"n*%return $retval"}, "returns-O0", {"typed", "1"}, {});
  INFO(t.run.err);
  REQUIRE(t.run.status == 0);
  REQUIRE(t.hits.size() == 4);
  CHECK(std::vector<std::string>(t.hits.begin(), t.hits.end() - 1) ==
        std::vector<std::string>{"narrow_int%return retval=-1", "narrow_uchar%return retval=200",
                                 "narrow_char%return retval=65"});
  CHECK(std::regex_match(t.hits.back(), std::regex("no_result%return retval=-?[0-9]+")));
  CHECK(count_lines(t.run.err, "uptrace: warning: probe 'n*%return $retval': 1 of the matches returns no value "
                               "$retval can print (void, a struct or floating point: no_result); their $retval is "
                               "the raw return register as s64") == 1);
}

TEST_CASE("return: --explain shows a typed $retval and its register", "[return][dwarf][explain]") {
  const std::string reg = isa_expectations().return_register;
  Result r = uptrace({"--explain", "-x", target("returns"), "pick%return $retval", "label%return s=$retval"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(count_lines(r.out, "  fetch:       retval: enum mood, " + reg + " (the return value)") == 1);
  CHECK(count_lines(r.out, "  fetch:       s: const char *, " + reg + " (the return value)") == 1);
}

TEST_CASE("return: aarch64 refuses a function that signs its return address, and one without CFI",
          "[return][errors]" ONLY_AARCH64) {
  // -mbranch-protection=pac-ret: depth signs x30 with paciasp (after the
  // early return, where GCC shrink-wraps the prologue).
  Result pac = uptrace({"-q", "depth%return", "--", target("returns-pac"), "depth", "3"});
  INFO(pac.err);
  REQUIRE(pac.status == 1);
  REQUIRE(pac.err.starts_with("uptrace: cannot probe depth%return: depth signs its return address with pointer "
                              "authentication (paciasp at +0x"));
  REQUIRE(pac.err.find("; hint: probe its return instructions with FUNC+OFF instead (see objdump -d), or build it "
                       "with -mbranch-protection=none\n") != std::string::npos);
  REQUIRE(count_lines(pac.err, "uptrace:") == 1);
  // Its entry probe is fine, and so is the program.
  Traced entry = trace({"depth"}, "returns-pac", {"depth", "3"});
  REQUIRE(entry.run.status == 0);
  REQUIRE(entry.run.out == "depth 3\n");
  REQUIRE(entry.hits.size() == 4);

  Result nocfi = uptrace({"--explain", "-x", target("returns-nocfi"), "depth%return"});
  INFO(nocfi.out);
  REQUIRE(nocfi.status == 1);
  REQUIRE(count_lines(nocfi.out, "  refused:     cannot probe depth%return: no call-frame information (.eh_frame or "
                                 ".debug_frame) covers depth in ") == 1);
  REQUIRE(count_lines(nocfi.out, "so uptrace cannot tell where its prologue saves the return address (x30); hint: ") == 1);
}

TEST_CASE("return: aarch64 --explain names x30 for a function that never saves it", "[return][explain]" ONLY_AARCH64) {
  // main_work is a leaf: its CFI never saves x30.
  Result r = uptrace({"--explain", "-x", target("returns"), "main_work%return"});
  INFO(r.out);
  REQUIRE(r.status == 0);
  REQUIRE(count_lines(r.out, "x30 holds it all through: the CFI of main_work never saves it") == 1);
}
