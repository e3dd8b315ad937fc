// Indirect functions (STT_GNU_IFUNC): a probe on one counts the calls, at
// the implementation its resolver picked in the process (as the GOT says),
// not the resolver's one run; when the pick is not known yet it says so
// instead of counting nothing. target-ifunc: per round, its own add_one 3
// times, libc's strlen 5 times, libifunclib.so's lib_add_two twice (one
// through a pointer bound at load) and lib_add_three once (through a lazily
// bound PLT slot only); libifunclib.so is stripped of .symtab.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <regex>

#include "checks.h"
#include "harness.h"

using namespace itest;

namespace {

const std::string kIfunc = target("ifunc");

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// `uptrace -c PROBES -- target-ifunc ROUNDS`.
Result count(const std::vector<std::string>& probes, long rounds) {
  std::vector<std::string> args{"-c"};
  args.insert(args.end(), probes.begin(), probes.end());
  args.push_back("--");
  args.push_back(kIfunc);
  args.push_back(std::to_string(rounds));
  return uptrace(args);
}

// An environment variable of this process (which uptrace and its COMMAND
// inherit) for one scope.
struct ScopedEnv {
  std::string name;
  ScopedEnv(std::string n, const std::string& value) : name(std::move(n)) { setenv(name.c_str(), value.c_str(), 1); }
  ~ScopedEnv() { unsetenv(name.c_str()); }
};

}  // namespace

TEST_CASE("ifunc: the calls are counted at the implementation the resolver picked", "[ifunc]") {
  // Before, `libc:strlen` counted 1 (a binding) for 347 calls.
  Result r = count({"add_one", "libc:strlen", "libifunclib:lib_add_two", "libifunclib:lib_add_two%return $retval",
                    "add_one+0", "add_*"},
                   7);
  INFO(r.err);
  REQUIRE(r.status == 0);
  std::vector<std::string> lines = r.out_lines();
  REQUIRE(lines.size() == 8);
  REQUIRE(lines[0] == "done");
  // A return probe's count line ends with its calls' durations
  // (test_aggregate.cpp checks those).
  REQUIRE(lines[4].starts_with("libifunclib:lib_add_two%return 14 total="));
  lines[4] = "libifunclib:lib_add_two%return 14";
  REQUIRE(std::vector<std::string>(lines.begin() + 1, lines.begin() + 6) ==
          std::vector<std::string>{"add_one 21", "libc:strlen 35", "libifunclib:lib_add_two 14",
                                   "libifunclib:lib_add_two%return 14", "add_one+0x0 21"});
  // The glob probes add_one once, at add_one_fast, whose own name is left out.
  REQUIRE(sorted({lines[6], lines[7]}) == std::vector<std::string>{"add_one 21", "add_one_plain 0"});
}

TEST_CASE("ifunc: a pick not known yet (lazy binding) is an error, or a warning in a glob", "[ifunc]") {
  Result r = count({"libifunclib:lib_add_three"}, 7);
  REQUIRE(r.status == 1);
  REQUIRE(r.out.empty());
  REQUIRE(r.err_lines().size() == 1);
  REQUIRE(r.err.starts_with("uptrace: cannot probe libifunclib:lib_add_three: lib_add_three is an indirect function "
                            "(STT_GNU_IFUNC), and which implementation its resolver picks is not known: no module of "
                            "pid "));
  REQUIRE(r.err.find("(lazy binding)") != std::string::npos);
  REQUIRE(r.err.find("; hint: with LD_BIND_NOW=1 in the program's environment") != std::string::npos);

  // Bound at start, it is known.
  Result now = [] {
    ScopedEnv bind_now("LD_BIND_NOW", "1");
    return count({"libifunclib:lib_add_three"}, 7);
  }();
  INFO(now.err);
  REQUIRE(now.status == 0);
  REQUIRE(now.out == "done\nlibifunclib:lib_add_three 7\n");

  // A glob probes what it can and names what it leaves out.
  Result glob = count({"libifunclib:*"}, 7);
  INFO(glob.err);
  REQUIRE(glob.status == 0);
  REQUIRE(glob.out == "done\nlibifunclib:lib_add_two 14\n");
  REQUIRE(count_lines(glob.err, "uptrace: warning: probe 'libifunclib:*': 1 indirect function (STT_GNU_IFUNC) is not "
                                "probed, because which implementation its resolver picks is not known in pid ") == 1);
  REQUIRE(count_lines(glob.err, "(--explain says why): lib_add_three; with LD_BIND_NOW=1") == 1);
}

TEST_CASE("ifunc: --explain names the implementation in a process and the resolver in a file, and -p counts", "[ifunc]") {
  Child t({kIfunc, "1", "wait"});
  REQUIRE(t.read_line() == "done");
  REQUIRE(t.read_line() == "ready " + std::to_string(t.pid()));
  const std::string pid = std::to_string(t.pid());

  Result ex = uptrace({"--explain", "add_one", "libifunclib:lib_add_two", "libifunclib:lib_add_three", "-p", pid});
  INFO(ex.out << ex.err);
  REQUIRE(ex.status == 0);
  uint64_t fast = symbol_address(kIfunc, "add_one_fast");
  char fast_hex[32];
  snprintf(fast_hex, sizeof fast_hex, "%#lx", static_cast<unsigned long>(fast));
  REQUIRE(count_lines(ex.out, "  ifunc:       add_one is an indirect function (STT_GNU_IFUNC): in pid " + pid +
                                  " its resolver picked add_one_fast (" + fast_hex + "), as target-ifunc's GOT slot at ") == 1);
  REQUIRE(count_lines(ex.out, "_IRELATIVE) says; that is probed") == 1);
  // FUNC is probed where calls enter (ppc64le: the local entry).
  REQUIRE(count_lines(ex.out, "  at:          add_one_fast" + elf_symbol(kIfunc, "add_one_fast").value().entry_offset() +
                                  " in ") == 1);
  // Nothing names the code in the stripped library: its address does.
  REQUIRE(std::regex_search(ex.out, std::regex("  ifunc:       lib_add_two is an indirect function \\(STT_GNU_IFUNC\\): "
                                               "in pid [0-9]+ its resolver picked the code at 0x[0-9a-f]+ \\(no symbol "
                                               "names it\\), as target-ifunc's GOT slot at 0x[0-9a-f]+ \\(R_[A-Z0-9_]+\\) "
                                               "says; that is probed")));
  // Called once, lib_add_three is bound now.
  REQUIRE(count_lines(ex.out, "  ifunc:       lib_add_three is an indirect function (STT_GNU_IFUNC): in pid ") == 1);
  // R_X86_64_JUMP_SLOT, R_AARCH64_JUMP_SLOT, R_PPC64_JMP_SLOT.
  REQUIRE(count_lines(ex.out, "_SLOT) says; that is probed") == 1);

  Tracer tracer({"-p", pid, "-c", "add_one", "libifunclib:lib_add_three", "libc:strlen"});
  REQUIRE(tracer.wait_armed());
  t.signal(SIGUSR1);
  REQUIRE(t.read_line() == "again");
  REQUIRE(t.wait() == 0);
  Result r = tracer.finish();
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out == "add_one 3\nlibifunclib:lib_add_three 1\nlibc:strlen 5\n");

  // --list marks it.
  Result list = uptrace({"--list", "add_one", "-x", kIfunc});
  REQUIRE(list.status == 0);
  REQUIRE(list.out_lines().size() == 1);
  REQUIRE(list.out.ends_with(" (aliases: resolve_add_one; indirect function)\n"));

  Result file = uptrace({"--explain", "add_one", "-x", kIfunc});
  REQUIRE(file.status == 0);
  REQUIRE(count_lines(file.out, "  ifunc:       add_one is an indirect function (STT_GNU_IFUNC): this is its resolver, "
                                "which the dynamic loader runs to pick the implementation calls go to") == 1);
}
