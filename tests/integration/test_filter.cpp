// Filters (SPEC.md "Filters"): `PROBE ... if COND` keeps only the hits where
// COND holds; the others are neither reported nor counted. known_calls makes
// calls whose arguments the tests know, so every count here is exact, in
// every execution mode: at a stop uptrace evaluates the condition, in a jump
// trampoline the trampoline does (a filtered-out hit writes no record), so
// -c and -n see only kept hits either way.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness.h"
#include "isa.h"

using namespace itest;

namespace {

struct Run {
  Result result;
  std::vector<std::string> lines;  // what uptrace wrote to -o
};

// `options` and `probes`, then `-- known_calls args`; uptrace's output in a
// file so the target's own stdout does not mix with it.
Run trace_known(const std::vector<std::string>& options, const std::vector<std::string>& probes,
                const std::vector<std::string>& args, const std::string& program = "known_calls") {
  const std::string out = temp_path("filter");
  std::vector<std::string> argv = {"-q", "-o", out};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.insert(argv.end(), probes.begin(), probes.end());
  argv.push_back("--");
  argv.push_back(target(program));
  argv.insert(argv.end(), args.begin(), args.end());
  Run r{uptrace(argv), {}};
  r.lines = lines_of(slurp(out));
  unlink(out.c_str());
  return r;
}

// The modes a register-only condition must give the same counts in: at a
// stop (trap, boost) and in the trampoline (jump), those the ISA has, and
// what auto picks.
std::vector<std::vector<std::string>> every_mode() {
  std::vector<std::vector<std::string>> modes{{"--mode", "trap"}};
  if (isa_expectations().boost_mode) modes.push_back({"--mode", "boost"});
  if (isa_expectations().jump_mode) modes.push_back({"--mode", "jump"});
  modes.push_back({"--mode", "auto"});
  return modes;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += x + " ";
  return s;
}

}  // namespace

TEST_CASE("filter: integer comparisons count exactly the calls that match, in every mode", "[filter][mode-specific]") {
  // items 2: item(n, ...) for n = -50..49, twice.
  struct Row {
    std::string probe;
    std::string count;
  };
  const std::vector<Row> rows = {
      {"item n=$arg1 if n >= 0 && n < 10", "item 20"},
      {"item n=$arg1 if n < 0 || n == 49", "item 102"},
      {"item n=$arg1 if !(n != 7)", "item 2"},
      {"item if $arg1 > 40", "item 18"},                 // an operand of the condition's own
      {"item if $arg1:u64 > 40", "item 118"},            // unsigned: the negatives are huge
      {"item if $arg1:s8 == -3 && $arg3 == -9", "item 2"},  // n = -3, triple = -9
      {"item n=$arg1 t=$arg3 if (n == 1 || n == 2) && t != 3", "item 2"},
      {"item n=$arg1 if n == 0x10", "item 2"},
      {"item n=$arg1 if n > 1000", "item 0"},
  };
  for (const std::vector<std::string>& mode : every_mode()) {
    for (const Row& row : rows) {
      INFO(joined(mode) << row.probe);
      std::vector<std::string> options = mode;
      options.push_back("-c");
      Run r = trace_known(options, {row.probe}, {"items", "2"});
      INFO(r.result.err);
      REQUIRE(r.result.status == 0);
      REQUIRE(r.lines == std::vector<std::string>{row.count});
    }
  }
}

TEST_CASE("filter: kept hits are reported with their values, the others not at all", "[filter][mode-specific]") {
  for (const std::vector<std::string>& mode : every_mode()) {
    INFO(joined(mode));
    Run r = trace_known(mode, {"item n=$arg1 t=$arg3 if n == -3 || n == 48"}, {"items", "2"});
    INFO(r.result.err);
    REQUIRE(r.result.status == 0);
    REQUIRE(r.lines.size() == 4);
    const std::vector<std::string> expected = {"item n=-3 t=-9", "item n=48 t=144", "item n=-3 t=-9", "item n=48 t=144"};
    for (size_t i = 0; i < r.lines.size(); ++i) {
      INFO(r.lines[i]);
      // "TIME PID/TID " in front.
      const size_t second = r.lines[i].find(' ', r.lines[i].find(' ') + 1);
      CHECK(r.lines[i].substr(second + 1) == expected[i]);
    }
  }
}

TEST_CASE("filter: -n counts only kept hits", "[filter][mode-specific]") {
  for (const std::vector<std::string>& mode : every_mode()) {
    INFO(joined(mode));
    std::vector<std::string> options = mode;
    options.insert(options.end(), {"--format", "json", "-n", "5"});
    Run r = trace_known(options, {"item n=$arg1 if n > 40"}, {"items", "3"});
    INFO(r.result.err);
    REQUIRE(r.result.status == 0);
    REQUIRE(r.lines.size() == 5);
    for (size_t i = 0; i < r.lines.size(); ++i) {
      const nlohmann::json hit = nlohmann::json::parse(r.lines[i]);
      CHECK(hit["args"]["n"] == 41 + static_cast<int>(i));
    }
  }
}

TEST_CASE("filter: every thread's hits are filtered, in every mode", "[filter][mode-specific]") {
  // threads 3 40: thread t calls kind(t + 1) 40 * (t + 1) times.
  for (const std::vector<std::string>& mode : every_mode()) {
    INFO(joined(mode));
    std::vector<std::string> options = mode;
    options.push_back("-c");
    Run r = trace_known(options, {"kind k=$arg1 if k >= 2", "kind if $arg1 == 1"}, {"threads", "3", "40"});
    INFO(r.result.err);
    REQUIRE(r.result.status == 0);
    REQUIRE(r.lines == std::vector<std::string>{"kind 200", "kind 40"});
  }
}

TEST_CASE("filter: strings compare with ==, != and glob ~", "[filter]") {
  // items 3: paths cycle /etc/passwd, /tmp/a, /etc/hosts, /var/log/x.
  struct Row {
    std::string probe;
    std::string count;
  };
  const std::vector<Row> rows = {
      {"item p=+0($arg2):string if p ~ \"/etc/*\"", "item 150"},
      {"item p=+0($arg2):string if p == \"/tmp/a\"", "item 75"},
      {"item if +0($arg2):string != \"/tmp/a\"", "item 225"},
      {"item p=+0($arg2):string if p ~ \"/?\?\?/[h-l]*\"", "item 150"},  // /etc/hosts, /var/log/x
      {"item p=+0($arg2):string n=$arg1 if p ~ \"*s*\" && n >= 0", "item 75"},
      {"item p=+0($arg2):string if p == \"/etc\"", "item 0"},
  };
  for (const Row& row : rows) {
    INFO(row.probe);
    Run r = trace_known({"-c"}, {row.probe}, {"items", "3"});
    INFO(r.result.err);
    REQUIRE(r.result.status == 0);
    REQUIRE(r.lines == std::vector<std::string>{row.count});
  }
}

TEST_CASE("filter: a return probe's condition reads $retval", "[filter]") {
  // depth(6) returns 0..6, innermost first.
  Run r = trace_known({"-c"}, {"depth%return r=$retval if r >= 4", "depth%return if $retval < 0"}, {"depth", "6"},
                      "returns");
  INFO(r.result.err);
  REQUIRE(r.result.status == 0);
  REQUIRE(r.lines.size() == 2);
  CHECK(r.lines[0].starts_with("depth%return 3 total="));
  CHECK(r.lines[1] == "depth%return 0");
}

TEST_CASE("filter: a condition that reads memory refuses a forced jump, with the reason",
          "[filter][mode-specific]" ONLY_JUMP_ISAS) {
  Run r = trace_known({"--mode", "jump", "-c"}, {"item n=$arg1 if +0($arg2):u8 == 0x2f"}, {"items", "1"});
  INFO(r.result.err);
  CHECK(r.result.status == 1);
  const std::vector<std::string> err = r.result.err_lines();
  REQUIRE(err.size() == 1);
  CHECK(err[0].starts_with("uptrace: cannot probe item: cannot jump: "));
  CHECK(err[0].find("memory") != std::string::npos);
  // auto runs it at a stop instead, and counts it exactly (every path
  // starts with '/').
  Run a = trace_known({"-c"}, {"item n=$arg1 if +0($arg2):u8 == 0x2f"}, {"items", "1"});
  INFO(a.result.err);
  REQUIRE(a.result.status == 0);
  CHECK(a.lines == std::vector<std::string>{"item 100"});
}

TEST_CASE("filter: --explain says a trampoline evaluates the condition", "[filter][mode-specific]" ONLY_JUMP_FILTER_ISAS) {
  Result r = uptrace({"--explain", "--mode", "jump", "item n=$arg1 if n < 0", "-x", target("known_calls")});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("records the hit (when its condition holds)") != std::string::npos);
}

TEST_CASE("filter: a malformed condition is a usage error naming the column, with a hint", "[filter][errors][mode-free]") {
  struct Row {
    std::string probe;
    std::string message;  // what the one stderr line starts with
  };
  const std::vector<Row> rows = {
      {"item if $arg1 = 3", "uptrace: bad condition in probe 'item if $arg1 = 3' at column 15: '=' is not a comparison"},
      {"item if", "uptrace: bad condition in probe 'item if' at column 6: nothing after 'if'"},
      {"item if $arg1 == \"x\"", "uptrace: bad condition in probe 'item if $arg1 == \"x\"' at column 18: '$arg1' is an "
                                 "integer (s64), not a string"},
      {"item if ($arg1 == 1", "uptrace: bad condition in probe 'item if ($arg1 == 1' at column 9: this '(' has no ')'"},
      {"item if $arg1 == 1 &&", "uptrace: bad condition in probe 'item if $arg1 == 1 &&' at column 22: expected a "
                                "comparison"},
      {"item if $arg1 < \"a\"", "uptrace: bad condition in probe 'item if $arg1 < \"a\"' at column 15: strings compare"},
      {"item if $arg1 ~ 3", "uptrace: bad condition in probe 'item if $arg1 ~ 3' at column 17: '~' matches a string"},
      {"item if $arg9x == 1", "uptrace: bad condition in probe 'item if $arg9x == 1' at column 9: "},
  };
  for (const Row& row : rows) {
    INFO(row.probe);
    Result r = uptrace({"-c", row.probe, "--", target("known_calls"), "items", "1"});
    CHECK(r.status == 2);
    const std::vector<std::string> err = r.err_lines();
    REQUIRE(err.size() == 1);
    INFO(err[0]);
    CHECK(err[0].starts_with(row.message));
    CHECK(err[0].find("; hint: COND is EXPR OP LITERAL") != std::string::npos);
    CHECK(r.out.empty());  // nothing was launched
  }
}
