// Where probes resolve (SPEC.md "Probes"): MODULE:FUNC by prefix, file name
// and path, in libc and in a library of our own; globs; 0xADDR in PIE and
// non-PIE executables; SRCFILE:LINE; FUNC+OFF spelled in decimal and hex;
// two probes at one address; --list and --explain with -x and -p. Counts are
// exact: the targets make a known number of calls.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "checks.h"
#include "harness.h"
#include "isa.h"

using namespace itest;
using namespace std::chrono_literals;

namespace {

const std::string kResolve = target("resolve");
const std::string kResolveNopie = target("resolve-nopie");
const std::string kUselib = target("uselib");
const std::string kDriver = target("insn_driver");
const std::string kLibUptest = target_dir() + "/libuptest.so";



std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::string hex(uint64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%#lx", static_cast<unsigned long>(v));
  return buf;
}

// "nm -S" (or "nm -D -S" for a stripped library): address and size of a symbol.
using Sym = ElfSymbol;
Sym nm_symbol(const std::string& file, const std::string& name, bool dynamic = false) {
  if (auto sym = elf_symbol(file, name, dynamic)) return *sym;
  FAIL("no symbol " << name << " in " << file);
  return {};
}

// The path the kernel shows for libc in a process's maps.
std::optional<std::string> libc_in_maps(const std::string& maps) {
  for (const std::string& line : lines_of(maps)) {
    auto slash = line.find('/');
    if (slash != std::string::npos && line.find("/libc.so.6") != std::string::npos) return line.substr(slash);
  }
  return std::nullopt;
}

// The libc the targets load: the test process's own, or, when the test
// executable is linked statically (the cross build of tests/cross), a
// target's.
std::string libc_path() {
  if (auto own = libc_in_maps(slurp("/proc/self/maps"))) return *own;
  Parked t(kResolve);
  auto theirs = libc_in_maps(slurp("/proc/" + t.spid() + "/maps"));
  if (!theirs) FAIL("libc.so.6 is mapped neither in the test process nor in " << kResolve);
  return *theirs;
}

std::string real(const std::string& path) {
  char buf[PATH_MAX];
  REQUIRE(realpath(path.c_str(), buf) != nullptr);
  return buf;
}

// Runs `uptrace -c PROBES -- PROGRAM ROUNDS` and returns the count lines.
std::vector<std::string> counts(const std::vector<std::string>& probes, const std::string& program, long rounds,
                                const std::vector<std::string>& options = {}) {
  std::string file = temp_path("counts");
  std::vector<std::string> args{"-c", "-o", file};
  args.insert(args.end(), options.begin(), options.end());
  args.insert(args.end(), probes.begin(), probes.end());
  args.push_back("--");
  args.push_back(program);
  args.push_back(std::to_string(rounds));
  Result r = uptrace(args);
  std::string text = slurp(file);
  unlink(file.c_str());
  INFO(r.err);
  REQUIRE(r.status == 0);
  // The program ran to its end (the insn driver prints its checksums).
  REQUIRE((r.out.rfind("done", 0) == 0 || r.out.find("\nmismatches 0\n") != std::string::npos));
  // A return probe's line ends with its calls' durations, which vary
  // (test_aggregate.cpp checks them): the counts are compared here.
  std::vector<std::string> lines = lines_of(text);
  for (std::string& line : lines)
    if (size_t at = line.find(" total="); at != std::string::npos && line.find("%return ") != std::string::npos)
      line.resize(at);
  return lines;
}



// The line of tests/targets/resolve.c with the marker comment.
unsigned marked_line(const std::string& marker = "PROBE-LINE") {
  std::string here = __FILE__;
  std::string source = here.substr(0, here.rfind("/integration/")) + "/targets/resolve.c";
  auto lines = lines_of(slurp(source));
  REQUIRE(!lines.empty());
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i].find("/* " + marker + " */") != std::string::npos) return static_cast<unsigned>(i + 1);
  FAIL("no " << marker << " marker in " << source);
  return 0;
}
unsigned probe_line() { return marked_line(); }

}  // namespace

TEST_CASE("resolution: libc by prefix or file name or path counts exactly", "[resolve][module]") {
  const std::string libc = libc_path();
  for (long rounds : {5L, 37L}) {
    INFO(rounds << " rounds");
    auto got = counts({"libc:getppid", "libc.so.6:getppid", libc + ":getppid"}, kResolve, rounds);
    REQUIRE(got == std::vector<std::string>{"libc:getppid " + std::to_string(rounds),
                                            "libc.so.6:getppid " + std::to_string(rounds),
                                            libc + ":getppid " + std::to_string(rounds)});
  }
}

TEST_CASE("resolution: a path through a symlinked directory names the same library", "[resolve][module]") {
  const std::string libc = libc_path();
  if (libc.rfind("/usr/lib/", 0) != 0 || real("/lib") != "/usr/lib") {
    WARN("skipped: /lib is not a symlink to /usr/lib here");
    return;
  }
  std::string via_lib = libc.substr(4);  // "/lib/..."
  auto got = counts({via_lib + ":getppid"}, kResolve, 4);
  REQUIRE(got == std::vector<std::string>{via_lib + ":getppid 4"});
}

TEST_CASE("resolution: functions in a shared library of our own", "[resolve][module]") {
  const std::string lib = real(kLibUptest);
  Sym work = nm_symbol(kLibUptest, "uptest_lib_work");
  auto got = counts({"libuptest.so:uptest_lib_work", "libuptest:uptest_lib_other", lib + ":uptest_lib_work",
                     "libuptest.so:" + hex(work.addr)},
                    kUselib, 6);
  REQUIRE(got == std::vector<std::string>{"libuptest.so:uptest_lib_work 6", "libuptest:uptest_lib_other 12",
                                          lib + ":uptest_lib_work 6", "libuptest.so:" + hex(work.addr) + " 6"});
  // A glob in a module keeps the module prefix and prints the matched names.
  REQUIRE(sorted(counts({"libuptest:uptest_lib_*"}, kUselib, 2)) ==
          std::vector<std::string>{"libuptest:uptest_lib_other 4", "libuptest:uptest_lib_work 2"});
}

TEST_CASE("resolution: the main executable named as a module", "[resolve][module]") {
  // The address where work_c's calls enter (ppc64le: its local entry).
  const std::string work_c = hex(nm_symbol(kResolve, "work_c").entry());
  auto got = counts({"target-resolve:work_b", "target-resolve:" + work_c}, kResolve, 3);
  REQUIRE(got == std::vector<std::string>{"target-resolve:work_b 6", "target-resolve:" + work_c + " 9"});
}

TEST_CASE("resolution: a source line in a shared library", "[resolve][line][module]" ONLY_X86_64) {
  std::string here = __FILE__;
  std::string source = here.substr(0, here.rfind("/integration/")) + "/targets/lib/uptest_lib.c";
  unsigned work_line = 0, other_line = 0;
  auto lines = lines_of(slurp(source));
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find("long uptest_lib_work(") != std::string::npos) work_line = static_cast<unsigned>(i + 1);
    if (lines[i].find("long uptest_lib_other(") != std::string::npos) other_line = static_cast<unsigned>(i + 1);
  }
  REQUIRE(work_line != 0);
  REQUIRE(other_line != 0);
  std::string w = "libuptest.so:uptest_lib.c:" + std::to_string(work_line);
  std::string o = "libuptest:lib/uptest_lib.c:" + std::to_string(other_line);
  auto got = counts({w, o, "libuptest:uptest_lib_work+7"}, kUselib, 3);
  REQUIRE(got == std::vector<std::string>{w + " 3", o + " 6", "libuptest:uptest_lib_work+0x7 3"});
}

TEST_CASE("resolution: C++ functions by their mangled names", "[resolve][cxx]") {
  auto got = counts({"_ZN2ns3Bar3runEl", "target-cxx_names:_ZN2ns6helperEl"}, target("cxx_names"), 3);
  REQUIRE(got == std::vector<std::string>{"_ZN2ns3Bar3runEl 3", "target-cxx_names:_ZN2ns6helperEl 6"});
}

TEST_CASE("resolution: C++ functions by their qualified names", "[resolve][cxx]") {
  // uptrace(1): "ns::Bar::run is a function and libfoo.so:ns::Bar::run is
  // that function in libfoo.so"; overloads and templates are below.
  auto got = counts({"ns::Bar::run", "target-cxx_names:ns::helper"}, target("cxx_names"), 3);
  REQUIRE(got == std::vector<std::string>{"ns::Bar::run 3", "target-cxx_names:ns::helper 6"});
}

TEST_CASE("resolution: C++ overloads: a name is all of them, a signature one, a glob each", "[resolve][cxx]") {
  // target-overloads: libcxxlib.so's lib::ns::twice(long) ROUNDS times,
  // twice(double) 2*ROUNDS, twice(long, long) 3*ROUNDS; app::Counter::bump()
  // const ROUNDS, bump() 2*ROUNDS; app::Box<int>::get() const and
  // (anonymous namespace)::hidden(char const*) ROUNDS each.
  auto got = counts({"libcxxlib:lib::ns::twice", "libcxxlib:lib::ns::twice(long)",
                     "libcxxlib:lib::ns::twice(long, long)", "libcxxlib.so:lib::ns::twice(double)",
                     "libcxxlib:lib::ns::twice(long,long)", "app::Counter::bump() const", "app::Counter::bump()",
                     "app::Box<int>::get", "(anonymous namespace)::hidden(char const*)",
                     "app::Box<int>::get() const%return"},
                    target("overloads"), 4);
  REQUIRE(got == std::vector<std::string>{"libcxxlib:lib::ns::twice 24", "libcxxlib:lib::ns::twice(long) 4",
                                          "libcxxlib:lib::ns::twice(long, long) 12",
                                          "libcxxlib.so:lib::ns::twice(double) 8",
                                          "libcxxlib:lib::ns::twice(long,long) 12", "app::Counter::bump() const 4",
                                          "app::Counter::bump() 8", "app::Box<int>::get 4",
                                          "(anonymous namespace)::hidden(char const*) 4",
                                          "app::Box<int>::get() const%return 4"});
  // A glob reports each function by its qualified name, or by its signature
  // where it matched several overloads of one name.
  got = counts({"libcxxlib:lib::ns::*", "app::*"}, target("overloads"), 2);
  REQUIRE(sorted(got) == sorted({"libcxxlib:lib::ns::twice(long) 2", "libcxxlib:lib::ns::twice(double) 4",
                                 "libcxxlib:lib::ns::twice(long, long) 6", "app::Counter::bump() const 2",
                                 "app::Counter::bump() 4", "app::Box<int>::get 2"}));
  // No such overload: the ones there are, as a hint.
  Result none = uptrace({"-c", "libcxxlib:lib::ns::twice(char)", "--", target("overloads"), "1"});
  REQUIRE(none.status == 1);
  REQUIRE(none.err == "uptrace: no function 'lib::ns::twice(char)' in " + real(target_dir() + "/libcxxlib.so") +
                         " (did you mean lib::ns::twice(long), lib::ns::twice(double), lib::ns::twice(long, long)?)\n");
}

TEST_CASE("resolution: C++ names in --list and --explain, with and without MODULE:", "[resolve][cxx][list][explain]") {
  // `uptrace --list 'node::Start*' -x /usr/bin/node` said "no function
  // matches ':Start*'", and 'v8::internal::Heap::Collect*' read as module v8.
  const std::string lib = target_dir() + "/libcxxlib.so";
  std::vector<std::string> want;
  for (const char* sig : {"twice(long)", "twice(double)", "twice(long, long)"}) {
    const char* mangled = std::string(sig) == "twice(long)"     ? "_ZN3lib2ns5twiceEl"
                          : std::string(sig) == "twice(double)" ? "_ZN3lib2ns5twiceEd"
                                                                : "_ZN3lib2ns5twiceEll";
    Sym s = nm_symbol(lib, mangled);
    want.push_back("lib::ns::" + std::string(sig) + " " + hex(s.addr) + " " + std::to_string(s.size) + " " + lib +
                   " (aliases: " + mangled + ")");
  }
  for (const char* glob : {"lib::ns::tw*", "libcxxlib.so:lib::ns::*", "lib::*::twice", "lib::ns::twice(*)"}) {
    INFO(glob);
    Result r = uptrace({"--list", glob, "-x", lib});
    INFO(r.err);
    REQUIRE(r.status == 0);
    REQUIRE(sorted(r.out_lines()) == sorted(want));
  }
  Result one = uptrace({"--list", "lib::ns::twice(long, *)", "-x", lib});
  REQUIRE(one.out_lines() == std::vector<std::string>{want[2]});

  Result ex = uptrace({"--explain", "libcxxlib.so:lib::ns::twice(double)", "lib::ns::twice", "-x", lib});
  INFO(ex.out << ex.err);
  REQUIRE(ex.status == 0);
  // At the function's entry (ppc64le: its local entry, if it sets up a TOC).
  REQUIRE(count_lines(ex.out, "  at:          lib::ns::twice(double)" +
                                  elf_symbol(lib, "_ZN3lib2ns5twiceEd").value().entry_offset() + " in " + lib) == 2);
  REQUIRE(count_lines(ex.out, "  at:          lib::ns::twice(") == 4);
}

TEST_CASE("resolution: a .cold part is not an entry: not in FUNC, a glob or --list", "[resolve][cold][cxx]") {
  // `node::Start` put a second probe at "node::Start(int, char**) [clone
  // .cold]", which runs only on the unlikely path. target-cold_cxx-O2 calls
  // ns::check 100 times, 10 of them through its cold part.
  const std::string cxx = target("cold_cxx-O2"), c = target("coldsplit-O2");
  // GCC splits them on x86-64, not on aarch64, ppc64le or riscv64
  // (-freorder-blocks-and-partition heuristics differ per target); isa.h
  // says which, so a split that stops where it was made fails, not skips.
  if (!isa_expectations().cold_parts) {
    WARN("skipped: " << isa_expectations().name << "'s GCC makes no .cold parts of the targets");
    return;
  }
  REQUIRE(elf_symbol(cxx, "_ZN2ns5checkEl.cold"));
  REQUIRE(elf_symbol(c, "hot_or_cold.cold"));
  REQUIRE(counts({"ns::check", "ns::*", "_ZN2ns5checkEl", "*check*"}, cxx, 100) ==
          std::vector<std::string>{"ns::check 100", "ns::check 100", "_ZN2ns5checkEl 100", "_ZN2ns5checkEl 100"});
  REQUIRE(counts({"ns::check(long)"}, cxx, 100) == std::vector<std::string>{"ns::check(long) 100"});
  std::string out = temp_path("cold");
  Result r = uptrace({"-c", "-o", out, "hot_or_*", "--", c, "100"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(slurp(out) == "hot_or_cold 100\n");
  unlink(out.c_str());

  for (const auto& [glob, file] : {std::pair{"hot*", c}, {"*cold*", c}, {"ns::*", cxx}, {"*check*", cxx}}) {
    INFO(glob);
    Result list = uptrace({"--list", glob, "-x", file});
    REQUIRE(list.status == 0);
    REQUIRE(list.out_lines().size() == 1);
    REQUIRE(list.out.find(".cold") == std::string::npos);
  }
  Result ex = uptrace({"--explain", "ns::check", "-x", cxx});
  REQUIRE(ex.status == 0);
  REQUIRE(count_lines(ex.out, "  at:          ") == 1);
  REQUIRE(count_lines(ex.out, "  at:          ns::check(long)" + elf_symbol(cxx, "_ZN2ns5checkEl").value().entry_offset() +
                                  " in ") == 1);
  // Named by its own symbol, a cold part is still a place to probe.
  Result by_name = uptrace({"--explain", "hot_or_cold.cold", "-x", c});
  REQUIRE(by_name.status == 0);
  REQUIRE(count_lines(by_name.out, "  at:          hot_or_cold.cold+0x0 in ") == 1);
}

TEST_CASE("resolution: counts as JSON", "[resolve][json]") {
  auto got = counts({"work_a", "work_*"}, kResolve, 2, {"--format", "json"});
  REQUIRE(got.size() == 4);
  REQUIRE(got[0] == R"({"probe":"work_a","hits":2})");
  REQUIRE(sorted({got[1], got[2], got[3]}) ==
          std::vector<std::string>{R"({"probe":"work_a","hits":2})", R"({"probe":"work_b","hits":4})",
                                   R"({"probe":"work_c","hits":6})"});
}

TEST_CASE("resolution: a glob makes one probe per match under the matched name", "[resolve][glob]") {
  SECTION("work_* with -c") {
    std::string file = temp_path("counts");
    Result r = uptrace({"-c", "-o", file, "work_*", "--", kResolve, "4"});
    REQUIRE(r.status == 0);
    auto err = r.err_lines();
    REQUIRE(err.size() == 1);
    REQUIRE(err[0].rfind("uptrace: 3 probes armed in pid ", 0) == 0);
    REQUIRE(sorted(lines_of(slurp(file))) == std::vector<std::string>{"work_a 4", "work_b 8", "work_c 12"});
    unlink(file.c_str());
  }
  SECTION("each hit line names the function") {
    std::string file = temp_path("hits");
    Result r = uptrace({"-q", "-o", file, "work_* x=$arg1", "--", kResolve, "2"});
    REQUIRE(r.status == 0);
    auto text = slurp(file);
    REQUIRE(lines_of(text).size() == 2 + 4 + 6);
    REQUIRE(count_lines(text, " work_a x=") == 2);
    REQUIRE(count_lines(text, " work_b x=") == 4);
    REQUIRE(count_lines(text, " work_c x=") == 6);
    REQUIRE(count_lines(text, " work_c x=5") == 1);
    unlink(file.c_str());
  }
  SECTION("? and [..]") {
    REQUIRE(sorted(counts({"work_?"}, kResolve, 1)) == std::vector<std::string>{"work_a 1", "work_b 2", "work_c 3"});
    REQUIRE(sorted(counts({"work_[ac]"}, kResolve, 1)) == std::vector<std::string>{"work_a 1", "work_c 3"});
    REQUIRE(sorted(counts({"work_[!ac]"}, kResolve, 1)) == std::vector<std::string>{"work_b 2"});
  }
  SECTION("a glob that matches nothing") {
    Result r = uptrace({"-c", "nomatch_*", "--", kResolve});
    REQUIRE(r.status == 1);
    REQUIRE(r.err == "uptrace: no function matches 'nomatch_*' in " + real(kResolve) + "\n");
  }
}

TEST_CASE("resolution: a glob with an offset makes one probe per match", "[resolve][glob]" ONLY_X86_64) {
  // work_a/b/c have the same code: +7 is the second instruction of each.
  Result ex = uptrace({"--explain", "--format", "json", "-x", kResolve, "work_*+7"});
  REQUIRE(ex.status == 0);
  REQUIRE(ex.out_lines().size() == 3);
  for (const std::string& line : ex.out_lines()) REQUIRE(nlohmann::json::parse(line)["insn"].get<std::string>().rfind("lea", 0) == 0);
  REQUIRE(sorted(counts({"work_*+7"}, kResolve, 2)) ==
          std::vector<std::string>{"work_a+0x7 2", "work_b+0x7 4", "work_c+0x7 6"});
}

TEST_CASE("resolution: 0xADDR in a PIE and in a non-PIE executable", "[resolve][addr]") {
  for (const std::string& program : {kResolve, kResolveNopie}) {
    INFO(program);
    // Where work_b's calls enter (ppc64le: its local entry, past the global
    // entry that only calls through a pointer pass).
    uint64_t addr = nm_symbol(program, "work_b").entry();
    std::string file = temp_path("hits");
    // Upper-case hex digits are normalised to lower case.
    std::string written = hex(addr);
    std::transform(written.begin() + 2, written.end(), written.begin() + 2, ::toupper);
    Result r = uptrace({"-q", "--format", "json", "-o", file, written + " pc=$pc:x64", "--", program, "3"});
    REQUIRE(r.status == 0);
    auto lines = lines_of(slurp(file));
    unlink(file.c_str());
    REQUIRE(lines.size() == 6);
    for (const std::string& line : lines) {
      auto j = nlohmann::json::parse(line);
      REQUIRE(j["probe"] == hex(addr));
      REQUIRE(j["args"]["pc"] == j["addr"]);
      uint64_t runtime = std::stoull(j["addr"].get<std::string>(), nullptr, 16);
      if (program == kResolveNopie)
        REQUIRE(runtime == addr);  // no load bias
      else
        REQUIRE((runtime - addr) % 4096 == 0);  // a page-aligned load bias
    }
  }
}

TEST_CASE("resolution: SRCFILE:LINE by file name and by longer paths", "[resolve][line]") {
  const std::string line = std::to_string(probe_line());
  std::string here = __FILE__;
  std::string full = here.substr(0, here.rfind("/integration/")) + "/targets/resolve.c";
  for (const std::string& program : {kResolve, kResolveNopie}) {
    INFO(program);
    auto got = counts({"resolve.c:" + line, "targets/resolve.c:" + line, full + ":" + line}, program, 7);
    REQUIRE(got == std::vector<std::string>{"resolve.c:" + line + " 7", "targets/resolve.c:" + line + " 7",
                                            full + ":" + line + " 7"});
  }
  // One line per hit, under the name as written.
  std::string file = temp_path("hits");
  Result r = uptrace({"-q", "-o", file, "resolve.c:" + line, "--", kResolve, "3"});
  REQUIRE(r.status == 0);
  auto lines = lines_of(slurp(file));
  unlink(file.c_str());
  REQUIRE(lines.size() == 3);
  for (const std::string& l : lines)
    REQUIRE(std::regex_match(l, std::regex("[0-9]+\\.[0-9]{6} [0-9]+/[0-9]+ resolve\\.c:" + line)));
  Result ex = uptrace({"--explain", "--format", "json", "-x", kResolve, "resolve.c:" + line});
  REQUIRE(ex.status == 0);
  auto j = nlohmann::json::parse(ex.out_lines().at(0));
  REQUIRE(j["probe"] == "resolve.c:" + line);
  REQUIRE(j["location"].get<std::string>().rfind("main+0x", 0) == 0);
}

TEST_CASE("resolution: a source line inlined at two places is one probe at each under one name", "[resolve][line]") {
  const std::string probe = "resolve.c:" + std::to_string(marked_line("INLINE-LINE"));
  // inlined() is in inline_caller1 and inline_caller2.
  Result ex = uptrace({"--explain", "--format", "json", "-x", kResolve, probe});
  REQUIRE(ex.status == 0);
  auto sites = ex.out_lines();
  REQUIRE(sites.size() == 2);
  std::vector<std::string> where;
  for (const std::string& line : sites) {
    auto j = nlohmann::json::parse(line);
    REQUIRE(j["probe"] == probe);
    std::string location = j["location"];
    where.push_back(location.substr(0, location.find('+')));
  }
  REQUIRE(sorted(where) == std::vector<std::string>{"inline_caller1", "inline_caller2"});
  // With -c it counts as one probe: every execution of the line, once.
  REQUIRE(counts({probe}, kResolve, 5) == std::vector<std::string>{probe + " 15"});
  std::string file = temp_path("hits");
  Result r = uptrace({"-q", "-o", file, probe, "--", kResolve, "4"});
  REQUIRE(r.status == 0);
  std::string text = slurp(file);
  unlink(file.c_str());
  REQUIRE(lines_of(text).size() == 12);
  REQUIRE(count_lines(text, " " + probe) == 12);
}

TEST_CASE("resolution: a source line without code names lines that have some", "[resolve][line]") {
  Result r = uptrace({"-c", "resolve.c:1", "--", kResolve});
  REQUIRE(r.status == 1);
  auto err = r.err_lines();
  REQUIRE(err.size() == 1);
  REQUIRE(std::regex_match(err[0], std::regex("uptrace: no code at resolve\\.c:1 in " + real(kResolve) +
                                              "; lines with code nearby: [0-9]+(, [0-9]+)*")));
  Result none = uptrace({"-c", "nosuch.c:3", "--", kResolve});
  REQUIRE(none.status == 1);
  REQUIRE(none.err == "uptrace: no source file 'nosuch.c' with code in " + real(kResolve) + "\n");
}

TEST_CASE("resolution: FUNC+OFF in decimal or hex or with a leading zero prints as +0x", "[resolve][offset]" ONLY_X86_64) {
  const long rounds = 100;
  uint64_t loop_iterations = 0, jcc32_not_taken = 0;
  for (long i = 0; i < rounds; ++i) {
    loop_iterations += static_cast<uint64_t>(i % 5 + 1);
    if ((i % 7) % 2 == 0) ++jcc32_not_taken;
  }
  // loop_fn+4 is the add inside the loop; jcc_rel32+10 is the fall-through
  // after the jne (see insn_classes.S). A leading 0 is not octal.
  auto got = counts({"loop_fn+4", "loop_fn+0x4", "loop_fn+04", "jcc_rel32+010", "jcc_rel32+0xA", "loop_fn+0"},
                    kDriver, rounds);
  std::string li = std::to_string(loop_iterations), nt = std::to_string(jcc32_not_taken);
  REQUIRE(got == std::vector<std::string>{"loop_fn+0x4 " + li, "loop_fn+0x4 " + li, "loop_fn+0x4 " + li,
                                          "jcc_rel32+0xa " + nt, "jcc_rel32+0xa " + nt,
                                          "loop_fn+0x0 " + std::to_string(rounds)});
}

TEST_CASE("resolution: probes that share an address are each reported", "[resolve][offset]") {
  // work_a, work_a+OFF and 0xADDR all name where work_a's calls enter: its
  // first instruction, or on ppc64le its local entry (FUNC+OFF counts from
  // the global entry there).
  const Sym a = nm_symbol(kResolve, "work_a");
  std::string addr = hex(a.entry()), plus = "work_a" + a.entry_offset();
  auto got = counts({"work_a", plus, addr, "work_*"}, kResolve, 5);
  REQUIRE(got == std::vector<std::string>{"work_a 5", plus + " 5", addr + " 5", "work_a 5", "work_b 10", "work_c 15"});
  // Text: one line per probe per hit.
  std::string file = temp_path("hits");
  Result r = uptrace({"-q", "-o", file, "work_a v=$arg1", plus + " w=$arg1", "--", kResolve, "2"});
  REQUIRE(r.status == 0);
  std::string text = slurp(file);
  unlink(file.c_str());
  REQUIRE(lines_of(text).size() == 4);
  REQUIRE(count_lines(text, " work_a v=0") == 1);
  REQUIRE(count_lines(text, " work_a v=1") == 1);
  REQUIRE(count_lines(text, " " + plus + " w=0") == 1);
  REQUIRE(count_lines(text, " " + plus + " w=1") == 1);
}

TEST_CASE("resolution: --list -x lists name and address and size and module", "[resolve][list]") {
  Result r = uptrace({"--list", "work_*", "-x", kResolve});
  REQUIRE(r.status == 0);
  std::vector<std::string> want;
  for (const char* f : {"work_a", "work_b", "work_c"}) {
    Sym s = nm_symbol(kResolve, f);
    want.push_back(std::string(f) + " " + hex(s.addr) + " " + std::to_string(s.size) + " " + kResolve);
  }
  REQUIRE(sorted(r.out_lines()) == want);

  Result all = uptrace({"--list", "-x", kResolve});
  REQUIRE(all.status == 0);
  Sym m = nm_symbol(kResolve, "main");
  REQUIRE(count_lines(all.out, "main " + hex(m.addr) + " " + std::to_string(m.size) + " " + kResolve) == 1);
  REQUIRE(count_lines(all.out, "work_") == 3);
  REQUIRE(count_lines(all.out, "other_fn ") == 1);

  Result json = uptrace({"--list", "other_*", "--format", "json", "-x", kResolve});
  REQUIRE(json.status == 0);
  REQUIRE(json.out_lines().size() == 1);
  auto j = nlohmann::json::parse(json.out_lines()[0]);
  Sym o = nm_symbol(kResolve, "other_fn");
  REQUIRE(j["name"] == "other_fn");
  REQUIRE(j["addr"] == hex(o.addr));
  REQUIRE(j["size"] == o.size);
  REQUIRE(j["module"] == kResolve);
}

TEST_CASE("resolution: names sharing an address are reported under the default version, never a compat alias",
          "[resolve][glob][list]") {
  // libaliases.so's release_it@@ALIASES_1 and crelease_it@ALIASES_1 share an
  // address, as glibc's free and cfree@GLIBC_2.2.5 do: `-c 'libc:*'` reported
  // free's hits as cfree@GLIBC_2.2.5.
  const std::string lib = target_dir() + "/libaliases.so";
  for (const char* glob : {"libaliases:*", "libaliases:*release*", "libaliases:crelease_it*"}) {
    INFO(glob);
    std::vector<std::string> got = counts({glob}, target("aliases"), 7);
    REQUIRE(std::count(got.begin(), got.end(), "libaliases:release_it 7") == 1);
    for (const std::string& line : got) REQUIRE(line.find("crelease") == std::string::npos);
  }
  // An exact name is reported as written.
  REQUIRE(counts({"libaliases:crelease_it@ALIASES_1"}, target("aliases"), 3) ==
          std::vector<std::string>{"libaliases:crelease_it@ALIASES_1 3"});

  // --list: one line for the address, the other names beside it.
  Sym s = nm_symbol(lib, "release_it");
  Result list = uptrace({"--list", "*release*", "-x", lib});
  INFO(list.err);
  REQUIRE(list.status == 0);
  REQUIRE(list.out == "release_it " + hex(s.addr) + " " + std::to_string(s.size) + " " + lib +
                          " (aliases: crelease_compat, crelease_it@ALIASES_1)\n");
  Result json = uptrace({"--list", "crelease_it*", "--format", "json", "-x", lib});
  REQUIRE(json.status == 0);
  REQUIRE(json.out_lines().size() == 1);
  auto j = nlohmann::json::parse(json.out_lines()[0]);
  REQUIRE(j["name"] == "release_it");
  REQUIRE(j["addr"] == hex(s.addr));
  REQUIRE(j["aliases"] == nlohmann::json::array({"crelease_compat", "crelease_it@ALIASES_1"}));
}

TEST_CASE("resolution: --list -x with a MODULE: prefix lists only when it names the file", "[resolve][list]") {
  Result same = uptrace({"--list", "target-resolve:work_*", "-x", kResolve});
  REQUIRE(same.status == 0);
  REQUIRE(same.out_lines().size() == 3);
  // libc is not the file: its functions cannot be listed from it, and the
  // file's own functions must not be passed off as libc's. --explain -x
  // refuses such a probe (status 1); --list does the same.
  Result other = uptrace({"--list", "libc:work_*", "-x", kResolve});
  INFO(other.out << other.err);
  REQUIRE(other.out.empty());
  REQUIRE(other.status == 1);
  REQUIRE(other.err_lines().size() == 1);
}

TEST_CASE("resolution: --list -p with an unknown or ambiguous module fails", "[resolve][list][attach]") {
  Parked t(kUselib);
  Snapshot before = snapshot(t.pid());
  Result none = uptrace({"--list", "nosuch:*", "-p", t.spid()});
  REQUIRE(none.status == 1);
  REQUIRE(none.out.empty());
  REQUIRE(none.err == "uptrace: no module 'nosuch' is mapped in pid " + t.spid() + "\n");
  Result ambiguous = uptrace({"--list", "lib:*", "-p", t.spid()});
  REQUIRE(ambiguous.status == 1);
  REQUIRE(ambiguous.out.empty());
  REQUIRE(ambiguous.err_lines().size() == 1);
  REQUIRE(ambiguous.err.rfind("uptrace: module prefix 'lib' is ambiguous in pid " + t.spid() +
                                  ": libc.so.6, libuptest.so",
                              0) == 0);
  require_untouched(before, t.pid());
}

TEST_CASE("resolution: --list -p lists the process's modules and leaves it untouched", "[resolve][list][attach]") {
  Parked t(kUselib);
  Snapshot before = snapshot(t.pid());
  const std::string exe = real(kUselib), lib = real(kLibUptest), libc = libc_path();

  Result main_only = uptrace({"--list", "main", "-p", t.spid()});
  REQUIRE(main_only.status == 0);
  Sym m = nm_symbol(kUselib, "main");
  REQUIRE(main_only.out == "main " + hex(m.addr) + " " + std::to_string(m.size) + " " + exe + "\n");

  Result in_lib = uptrace({"--list", "libuptest.so:uptest_*", "-p", t.spid()});
  REQUIRE(in_lib.status == 0);
  std::vector<std::string> want;
  for (const char* f : {"uptest_lib_other", "uptest_lib_work"}) {
    Sym s = nm_symbol(kLibUptest, f);
    want.push_back(std::string(f) + " " + hex(s.addr) + " " + std::to_string(s.size) + " " + lib);
  }
  REQUIRE(sorted(in_lib.out_lines()) == want);

  Result in_libc = uptrace({"--list", "libc:getppid", "-p", t.spid()});
  REQUIRE(in_libc.status == 0);
  Sym g = nm_symbol(libc, "getppid", true);
  // With libc6-dbg installed, its debug file's .symtab adds libc's internal
  // names of the address (__getppid, __GI_getppid), listed after it.
  const std::string head = "getppid " + hex(g.addr) + " " + std::to_string(g.size) + " " + libc;
  INFO(in_libc.out);
  REQUIRE((in_libc.out == head + "\n" ||
           (in_libc.out.starts_with(head + " (aliases: ") && in_libc.out.ends_with(")\n"))));

  // Without a module, every mapped module is searched.
  Result everywhere = uptrace({"--list", "uptest_lib_w*", "-p", t.spid()});
  REQUIRE(everywhere.status == 0);
  REQUIRE(everywhere.out == want[1] + "\n");

  require_untouched(before, t.pid());
}

TEST_CASE("resolution: --explain -x explains several probes and a refused one makes status 1", "[resolve][explain]") {
  Result ok = uptrace({"--explain", "-x", kResolve, "work_a", "other_fn", "resolve.c:" + std::to_string(probe_line())});
  INFO(ok.out << ok.err);
  REQUIRE(ok.status == 0);
  auto lines = ok.out_lines();
  for (const std::string& name : {std::string("work_a"), std::string("other_fn"), "resolve.c:" + std::to_string(probe_line())})
    REQUIRE(std::count(lines.begin(), lines.end(), name) == 1);
  Sym o = nm_symbol(kResolve, "other_fn");
  REQUIRE(count_lines(ok.out, "  at:          other_fn" + o.entry_offset() + " in " + kResolve + " (file address " +
                                  hex(o.entry())) == 1);
  REQUIRE(count_lines(ok.out, "  mode:        ") == 3);

  // An unknown function is refused with the reason, as JSON too.
  Result unknown = uptrace({"--explain", "--format", "json", "-x", kResolve, "othr_fn"});
  REQUIRE(unknown.status == 1);
  auto j = nlohmann::json::parse(unknown.out_lines().at(0));
  REQUIRE(j["probe"] == "othr_fn");
  REQUIRE(j["mode"].is_null());
  REQUIRE(j["refused"] == "no function 'othr_fn' in " + kResolve + " (did you mean other_fn?)");
}

TEST_CASE("resolution: --explain -x reads a file of another ISA as that ISA, and names an ISA it does not know",
          "[resolve][explain]") {
  // The same file with its e_machine changed: the bytes at work_a are then
  // decoded as the other ISA's instructions, as uptrace on that ISA would.
  auto with_machine = [&](uint16_t machine) {
    std::string copy = temp_path("machine");
    std::string bytes = slurp(kResolve);
    REQUIRE(bytes.size() > 20);
    bytes[18] = static_cast<char>(machine & 0xff);  // e_machine, little-endian
    bytes[19] = static_cast<char>(machine >> 8);
    std::ofstream(copy, std::ios::binary) << bytes;
    return copy;
  };
  auto instruction_line = [](const Result& r) {
    for (const std::string& line : r.out_lines())
      if (line.rfind("  instruction: ", 0) == 0) return line;
    return std::string();
  };
  Result native = uptrace({"--explain", "-x", kResolve, "work_a"});
  REQUIRE(native.status == 0);
  const uint16_t other = isa_expectations().foreign_machine;
  std::string foreign = with_machine(other);
  Result r = uptrace({"--explain", "-x", foreign, "work_a"});
  INFO(native.out << r.out << r.err);
  REQUIRE_FALSE(instruction_line(native).empty());
  REQUIRE_FALSE(instruction_line(r).empty());
  CHECK(instruction_line(r) != instruction_line(native));
  unlink(foreign.c_str());

  std::string unknown = with_machine(40);  // EM_ARM
  r = uptrace({"--explain", "-x", unknown, "work_a"});
  unlink(unknown.c_str());
  CHECK(r.status == 1);
  REQUIRE(r.err_lines().size() == 1);
  CHECK(r.err_lines()[0].rfind("uptrace: " + unknown + " is for ELF machine 40, which uptrace does not know; hint: uptrace probes x86_64, aarch64", 0) == 0);
}

TEST_CASE("resolution: --explain -x explains a refused trap instruction between two good probes", "[resolve][explain]" ONLY_X86_64) {
  // Refused: a trap instruction, between two good probes; all three are explained.
  Result refused = uptrace({"--explain", "-x", kDriver, "call_rel", "trap_int3", "jmp_rel8"});
  INFO(refused.out << refused.err);
  REQUIRE(refused.status == 1);
  auto rl = refused.out_lines();
  auto at = std::find(rl.begin(), rl.end(), "trap_int3");
  REQUIRE(at != rl.end());
  REQUIRE(std::find(at, rl.end(), "  refused:     int3 is already a breakpoint instruction") != rl.end());
  REQUIRE(std::count(rl.begin(), rl.end(), "call_rel") == 1);
  REQUIRE(std::count(rl.begin(), rl.end(), "jmp_rel8") == 1);
  // call_rel is a jump where the step mechanism allows one, else emulated;
  // jmp_rel8 is emulated.
  REQUIRE(count_lines(refused.out, "  mode:        jump: ") + count_lines(refused.out, "  mode:        emulate: ") == 2);
}

TEST_CASE("resolution: --explain -p shows runtime addresses and changes nothing", "[resolve][explain][attach]") {
  Parked t(kUselib);
  Snapshot before = snapshot(t.pid());
  Result r = uptrace({"--explain", "--format", "json", "-p", t.spid(), "main", "libuptest:uptest_lib_work",
                      "libc:getppid"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  auto lines = r.out_lines();
  REQUIRE(lines.size() == 3);
  auto lib = nlohmann::json::parse(lines[1]);
  REQUIRE(lib["probe"] == "libuptest:uptest_lib_work");
  REQUIRE(lib["module"] == real(kLibUptest));
  REQUIRE(lib["file_addr"] == hex(nm_symbol(kLibUptest, "uptest_lib_work").entry()));
  REQUIRE(lib["refused"].is_null());
  // The runtime address is in one of the library's executable mappings.
  uint64_t runtime = std::stoull(lib["addr"].get<std::string>(), nullptr, 16);
  bool inside = false;
  for (const std::string& line : lines_of(before.maps)) {
    unsigned long start = 0, end = 0;
    char perms[8] = {};
    if (sscanf(line.c_str(), "%lx-%lx %7s", &start, &end, perms) == 3 && perms[2] == 'x' &&
        line.find("libuptest.so") != std::string::npos && runtime >= start && runtime < end)
      inside = true;
  }
  REQUIRE(inside);
  REQUIRE(nlohmann::json::parse(lines[2])["module"] == libc_path());

  Result refused = uptrace({"--explain", "-p", t.spid(), "main", "nosuch_fn"});
  REQUIRE(refused.status == 1);
  REQUIRE(count_lines(refused.out, "  refused:     no function 'nosuch_fn' in " + real(kUselib)) == 1);
  require_untouched(before, t.pid());
}
