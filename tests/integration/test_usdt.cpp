// USDT markers (SPEC.md "Probes": [MODULE:]%PROVIDER:NAME): the markers of
// tests/targets/sdt.c with their typed arguments, in registers, in memory and
// constant, at -O1 and -O0; a marker's semaphore, raised while it is probed
// and lowered on every way out; globs, --list and --explain; and the markers
// libstdc++ has for C++ exceptions, counted in a program that throws a known
// number of times.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <map>
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

// The hit lines of a text output without the time and pid/tid.
std::vector<std::string> hits_of(const std::string& out) {
  static const std::regex re("[0-9]+\\.[0-9]{6} [0-9]+/[0-9]+ (.*)");
  std::vector<std::string> hits;
  for (const std::string& line : lines_of(out)) {
    std::smatch m;
    INFO(line);
    REQUIRE(std::regex_match(line, m, re));
    hits.push_back(m[1]);
  }
  return hits;
}

// uptest:tick in round i: int i, long -1000*i, unsigned char 200+i, the
// name "rec-i", the id 7*i read from memory, and i again as x8.
std::string tick_line(int i) {
  char low[8];
  std::snprintf(low, sizeof low, "%#x", i);
  return "%uptest:tick arg1=" + std::to_string(i) + " arg2=" + std::to_string(-1000 * i) +
         " arg3=" + std::to_string(200 + i) + " name=\"rec-" + std::to_string(i) + "\" arg5=" + std::to_string(7 * i) +
         " low=" + (i == 0 ? std::string("0x0") : std::string(low));
}

Result traced(const std::vector<std::string>& args, std::string& hits) {
  std::string out = temp_path("usdt");
  std::vector<std::string> argv{"-q", "-o", out};
  argv.insert(argv.end(), args.begin(), args.end());
  Result r = uptrace(argv);
  hits = slurp(out);
  unlink(out.c_str());
  return r;
}

// The target parked in "wait" mode; one round per round().
struct Waiting {
  Child child;
  explicit Waiting(const std::string& program) : child({program, "wait"}) {
    REQUIRE(child.read_line() == "ready " + std::to_string(child.pid()));
  }
  std::string pid() const { return std::to_string(child.pid()); }
  std::string round() {
    child.signal(SIGUSR1);
    return child.read_line();
  }
  ~Waiting() { child.signal(SIGUSR2); }
};

}  // namespace

TEST_CASE("usdt: every marker's arguments, typed as the note says, in each round", "[usdt]") {
  for (const char* program : {"sdt", "sdt-O0"}) {
    INFO(program);
    std::string hits;
    Result r = traced({"%uptest:tick $arg1 $arg2 $arg3 name=+0($arg4):string $arg5 low=$arg1:x8",
                       "%uptest:answer $arg1", "%uptest:guarded $arg1 $arg2", "--", target(program), "10"},
                      hits);
    INFO(r.err);
    REQUIRE(r.status == 0);
    // The semaphore was raised: the program saw it in every round.
    REQUIRE(r.out == "guarded 10\nsum 45\n");
    std::vector<std::string> expected;
    for (int i = 0; i < 10; ++i) {
      expected.push_back(tick_line(i));
      expected.push_back("%uptest:answer arg1=42");
      expected.push_back("%uptest:guarded arg1=" + std::to_string(i) + " arg2=" + std::to_string(3 * i));
    }
    REQUIRE(hits_of(hits) == expected);
  }
}

TEST_CASE("usdt: a marker whose semaphore nobody raised is skipped by the program", "[usdt]") {
  std::string hits;
  Result r = traced({"-c", "%uptest:tick", "%uptest:guarded", "--", target("sdt"), "6"}, hits);
  REQUIRE(r.status == 0);
  REQUIRE(r.out == "guarded 6\nsum 15\n");
  CHECK(hits == "%uptest:tick 6\n%uptest:guarded 6\n");
  // Not probed: its semaphore stays 0, and the program skips it.
  r = traced({"-c", "%uptest:tick", "--", target("sdt"), "6"}, hits);
  REQUIRE(r.status == 0);
  REQUIRE(r.out == "guarded 0\nsum 15\n");
  CHECK(hits == "%uptest:tick 6\n");
}

TEST_CASE("usdt: globs over provider and name make one probe per marker, in the notes' order", "[usdt]") {
  std::string hits;
  Result r = traced({"-c", "%uptest:*", "%upt?st:g*", "--", target("sdt"), "4"}, hits);
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out == "guarded 4\nsum 6\n");
  CHECK(hits == "%uptest:tick 4\n%uptest:answer 4\n%uptest:guarded 4\n%uptest:guarded 4\n");
}

TEST_CASE("usdt: the semaphore is raised while armed and lowered on every way out", "[usdt][attach]") {
  for (int how : {SIGINT, SIGKILL}) {
    INFO("uptrace ends by " << strsignal(how));
    Waiting t(target("sdt"));
    REQUIRE(t.round() == "semaphore 0 guarded 0");
    Snapshot before = snapshot(t.child.pid());
    {
      Tracer tracer({"-p", t.pid(), "%uptest:guarded $arg1"});
      REQUIRE(tracer.wait_armed());
      REQUIRE(t.round() == "semaphore 1 guarded 1");
      REQUIRE(t.round() == "semaphore 1 guarded 2");
      // SIGKILL: the front end dies; the engine restores the target.
      tracer.signal(how);
      Result r = tracer.finish();
      if (how == SIGINT) {
        REQUIRE(r.status == 0);
        REQUIRE(hits_of(r.out) == std::vector<std::string>{"%uptest:guarded arg1=1", "%uptest:guarded arg1=2"});
      }
    }
    // The engine may outlive the front end by a moment.
    auto deadline = std::chrono::steady_clock::now() + scaled(10s);
    while (tracer_pid(t.child.pid()) != 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    require_untouched(before, t.child.pid());
    REQUIRE(t.round() == "semaphore 0 guarded 2");
  }
}

TEST_CASE("usdt: a semaphore another tracer raised keeps its count", "[usdt][attach]") {
  Waiting t(target("sdt"));
  Tracer first({"-p", t.pid(), "-c", "%uptest:guarded"});
  REQUIRE(first.wait_armed());
  REQUIRE(t.round() == "semaphore 1 guarded 1");
  // One process, one tracer: the second uptrace cannot attach, and says so
  // without touching the count.
  Result second = uptrace({"-p", t.pid(), "%uptest:guarded"});
  CHECK(second.status == 1);
  REQUIRE(t.round() == "semaphore 1 guarded 2");
  first.signal(SIGINT);
  Result r = first.finish();
  REQUIRE(r.status == 0);
  CHECK(r.out == "%uptest:guarded 2\n");
  REQUIRE(t.round() == "semaphore 0 guarded 2");
}

TEST_CASE("usdt: --list lists markers as %PROVIDER:NAME, --explain says where and what", "[usdt][list]") {
  Result r = uptrace({"--list", "%*", "-x", target("sdt")});
  REQUIRE(r.status == 0);
  std::vector<std::string> lines = r.out_lines();
  REQUIRE(lines.size() == 3);
  const std::vector<std::string> names{"%uptest:tick", "%uptest:answer", "%uptest:guarded"};
  for (size_t i = 0; i < 3; ++i) {
    INFO(lines[i]);
    CHECK(std::regex_match(lines[i], std::regex(names[i] + " 0x[0-9a-f]+ 0 " + target("sdt"))));
  }
  r = uptrace({"--list", "--format", "json", "%uptest:[ag]*", "-x", target("sdt")});
  REQUIRE(r.status == 0);
  lines = r.out_lines();
  REQUIRE(lines.size() == 2);
  auto answer = nlohmann::json::parse(lines[0]), guarded = nlohmann::json::parse(lines[1]);
  CHECK(answer["name"] == "%uptest:answer");
  CHECK(answer["semaphore"].is_null());
  CHECK(guarded["name"] == "%uptest:guarded");
  CHECK(guarded["semaphore"].is_string());
  CHECK(guarded["module"] == target("sdt"));
  // A function glob lists no markers.
  r = uptrace({"--list", "tick", "-x", target("sdt")});
  REQUIRE(r.out_lines().size() == 1);
  CHECK(r.out.rfind("tick 0x", 0) == 0);

  r = uptrace({"--explain", "%uptest:guarded $arg1", "-x", target("sdt")});
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("  at:          guarded_round+0x") != std::string::npos);
  CHECK(r.out.find("  marker:      %uptest:guarded: arguments ") != std::string::npos);
  CHECK(r.out.find("; semaphore at 0x") != std::string::npos);
  CHECK(r.out.find("  fetch:       $arg1: -8@") != std::string::npos);
  CHECK(r.out.find(", s64\n") != std::string::npos);
}

TEST_CASE("usdt: the marker's nop is a jump site when its arguments are registers or constants",
          "[usdt][mode-specific]" ONLY_X86_64) {
  Result r = uptrace({"--explain", "%uptest:answer $arg1", "-x", target("sdt")});
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("  instruction: 90  nop\n") != std::string::npos);
  CHECK(r.out.find("  mode:        jump: ") != std::string::npos);
  // Armed in jump mode, each hit is still there with its value.
  std::string hits;
  r = traced({"--mode", "jump", "%uptest:answer $arg1", "--", target("sdt"), "25"}, hits);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(hits_of(hits) == std::vector<std::string>(25, "%uptest:answer arg1=42"));
}

TEST_CASE("usdt: what is not there is one line and status 1, bad syntax is status 2", "[usdt][errors][mode-free]") {
  const std::string sdt = target("sdt");
  Result r = uptrace({"%uptest:nope", "--", sdt, "1"});
  CHECK(r.status == 1);
  CHECK(r.err == "uptrace: no USDT marker '%uptest:nope' in " + sdt +
                     "; hint: its markers: %uptest:tick, %uptest:answer, %uptest:guarded\n");
  r = uptrace({"%uptest:answer $arg2", "--", sdt, "1"});
  CHECK(r.status == 1);
  CHECK(r.err.find("uptrace: probe '%uptest:answer $arg2': there is no $arg2 at marker uptest:answer at 0x") == 0);
  CHECK(r.err.find(": it has 1 argument (-4@") != std::string::npos);
  r = uptrace({"%x:y", "--", target("busy"), "1", "0"});
  CHECK(r.status == 1);
  CHECK(r.err.find("uptrace: no USDT marker '%x:y' in " + target("busy") + ": it has none (no .note.stapsdt)") == 0);
  r = uptrace({"%uptest", "--", sdt, "1"});
  CHECK(r.status == 2);
  CHECK(r.err == "uptrace: bad probe '%uptest': '%uptest' is a fetch argument: it goes in the word of its probe, "
                 "quoted (e.g. 'FUNC %uptest'); a USDT marker is %PROVIDER:NAME\n");
  r = uptrace({"sdt:%uptest", "--", sdt, "1"});
  CHECK(r.status == 2);
  CHECK(r.err == "uptrace: bad probe 'sdt:%uptest': '%uptest' is not a USDT marker: write %PROVIDER:NAME (see "
                 "--list)\n");
  r = uptrace({"%uptest:", "--", sdt, "1"});
  CHECK(r.status == 2);
}

// Debian's libstdc++6 has these markers; the aarch64 VM runs the cross
// toolchain's libstdc++ (libstdc++6-arm64-cross), built without <sys/sdt.h>.
TEST_CASE("usdt: libstdc++'s markers count each throw and catch of a C++ program", "[usdt]" ONLY_X86_64) {
  // throws 10: rounds 0..9; i % 3 == 0 throws Far (4 times), i % 3 == 1
  // throws Near (3 times); each is caught once.
  std::string hits;
  Result r = traced({"-c", "libstdc++:%libstdcxx:*", "--", target("throws"), "throws", "10"}, hits);
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out == "far 4 sum 18003\n");
  std::map<std::string, std::string> counts;
  for (const std::string& line : lines_of(hits)) counts[line.substr(0, line.rfind(' '))] = line.substr(line.rfind(' ') + 1);
  CHECK(counts["libstdc++:%libstdcxx:throw"] == "7");
  CHECK(counts["libstdc++:%libstdcxx:catch"] == "7");
  CHECK(counts["libstdc++:%libstdcxx:rethrow"] == "0");
  // $arg2 is the thrown type's typeinfo: Far's 4 times, Near's 3 times.
  r = traced({"--format", "json", "libstdc++:%libstdcxx:throw $arg1 $arg2", "--", target("throws"), "throws", "10"}, hits);
  REQUIRE(r.status == 0);
  std::map<uint64_t, int> by_type;
  for (const std::string& line : lines_of(hits)) {
    auto hit = nlohmann::json::parse(line);
    CHECK(hit["probe"] == "libstdc++:%libstdcxx:throw");
    CHECK(hit["args"]["arg1"].get<uint64_t>() != 0);
    ++by_type[hit["args"]["arg2"].get<uint64_t>()];
  }
  REQUIRE(by_type.size() == 2);
  std::vector<int> n;
  for (auto& [type, count] : by_type) n.push_back(count);
  std::sort(n.begin(), n.end());
  CHECK(n == std::vector<int>{3, 4});
}
