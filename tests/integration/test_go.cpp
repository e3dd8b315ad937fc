// Go code (tests/targets/go/deep.go, built only when golang-go is
// installed): %return is refused, because Go's runtime moves goroutine
// stacks and checks every return address on them (a replaced one killed the
// program: "unexpected return pc"), and the hint's return instructions count
// the calls instead; $argN warns that Go passes arguments in other registers.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <regex>
#include <sstream>

#include "harness.h"
#include "isa.h"

using namespace itest;

namespace {

const std::string kGo = target("go");

bool have_go_target() {
  struct stat st {};
  if (stat(kGo.c_str(), &st) == 0) return true;
  WARN("skipped: golang-go not installed (no " << kGo << " was built)");
  return false;
}

}  // namespace

TEST_CASE("go: %return is refused in Go code, and the return instructions it names count every call", "[go]") {
  if (!have_go_target()) return;
  Result r = uptrace({"-c", "main.deep%return", "--", kGo, "3"});
  REQUIRE(r.status == 1);
  REQUIRE(r.out.empty());  // refused before the program ran
  REQUIRE(r.err_lines().size() == 1);
  REQUIRE(r.err.starts_with("uptrace: cannot probe main.deep%return: " + kGo + " is Go code (go1."));
  REQUIRE(r.err.find("whose runtime moves goroutine stacks and checks the return addresses on them") !=
          std::string::npos);
  std::smatch m;
  REQUIRE(std::regex_search(r.err, m, std::regex("; hint: probe its return instructions? instead, where the results are "
                                                 "in registers \\(%[a-z0-9]+ for the first\\): ([^\\n]+)\\n$")));
  std::vector<std::string> probes{"-c"};
  std::istringstream returns(m[1].str());
  for (std::string at; returns >> at;) {
    REQUIRE(at.starts_with("main.deep+0x"));
    probes.push_back(at);
  }
  REQUIRE(probes.size() >= 2);
  probes.insert(probes.end(), {"--", kGo, "3"});
  Result counted = uptrace(probes);
  INFO(counted.err);
  REQUIRE(counted.status == 0);
  std::vector<std::string> lines = counted.out_lines();
  REQUIRE(lines.front().starts_with("done "));
  uint64_t total = 0;
  for (size_t i = 1; i < lines.size(); ++i) total += std::stoull(lines[i].substr(lines[i].rfind(' ') + 1));
  REQUIRE(total == 3 * 2001);  // each call returns once, also while the stack moves
}

TEST_CASE("go: $argN in Go code says where Go passes arguments", "[go]" ONLY_X86_64) {
  if (!have_go_target()) return;
  Result ex = uptrace({"--explain", "main.deep $arg1", "-x", kGo});
  INFO(ex.out << ex.err);
  REQUIRE(ex.status == 0);
  const std::string note = "main.deep is Go code (go1.";
  REQUIRE(count_lines(ex.out, "  note:        " + note) == 1);
  REQUIRE(count_lines(ex.out, "whose register ABI passes integer arguments in rax, rbx, rcx, rdi, rsi, r8, r9, r10, "
                              "r11, not where $argN reads them: name the registers (%rax for the first)") == 1);
  REQUIRE(count_lines(ex.err, "uptrace: warning: " + note) == 1);
  // As the note says: the first argument is in rax.
  Result r = uptrace({"-n", "1", "main.deep n=%rax", "--", kGo, "1"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(count_lines(r.out, " main.deep n=2000") == 1);
}

TEST_CASE("go: the program runs to its end after uptrace leaves it mid-recursion, run after run", "[go]") {
  if (!have_go_target()) return;
  // -n 1 detaches while the goroutine recurses through the probe: in jump
  // mode, usually inside the trampoline, whose gettid syscall (Go's fs:0
  // is 0) the detach steps over. The kernel reports that step as a
  // breakpoint, and the program died of that SIGTRAP about 1 run in 10.
  for (int run = 0; run < 20; ++run) {
    INFO("run " << run);
    Result r = uptrace({"-q", "-n", "1", "main.deep", "--", kGo, "1"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    REQUIRE(count_lines(r.out, "done ") == 1);
    REQUIRE(count_lines(r.out, " main.deep") == 1);
  }
}
