// --format chrome and --format folded on real programs: the trace-event file
// is one JSON document with the calls nested as they ran, and the folded
// stacks are the call tree of fib(4).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "harness.h"

using namespace itest;

namespace {

nlohmann::json chrome_trace(const std::vector<std::string>& args, const std::string& expect_stdout) {
  std::string out = temp_path("trace");
  std::vector<std::string> argv{"-q", "--format", "chrome", "-o", out};
  argv.insert(argv.end(), args.begin(), args.end());
  Result r = uptrace(argv);
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out == expect_stdout);
  std::string text = slurp(out);
  unlink(out.c_str());
  INFO(text);
  nlohmann::json doc = nlohmann::json::parse(text);  // throws, and fails the test, if it is not JSON
  REQUIRE(doc.is_array());
  return doc;
}

std::vector<nlohmann::json> events(const nlohmann::json& doc, const std::string& ph) {
  std::vector<nlohmann::json> out;
  for (const auto& e : doc)
    if (e["ph"] == ph) out.push_back(e);
  return out;
}

}  // namespace

TEST_CASE("chrome: each return and its entry are one complete event, nested as the calls were", "[exports][return]") {
  nlohmann::json doc = chrome_trace({"depth%return $retval", "depth", "--", target("returns"), "depth", "3"}, "depth 3\n");
  std::vector<nlohmann::json> meta = events(doc, "M"), instants = events(doc, "i"), calls = events(doc, "X");
  REQUIRE(meta.size() == 2);
  REQUIRE(instants.size() == 4);
  REQUIRE(calls.size() == 4);
  REQUIRE(doc.size() == 10);
  const int pid = meta[0]["pid"];
  CHECK(meta[0] == nlohmann::json({{"name", "process_name"}, {"ph", "M"}, {"pid", pid}, {"tid", pid},
                                   {"args", {{"name", "target-returns"}}}}));
  CHECK(meta[1] == nlohmann::json({{"name", "thread_name"}, {"ph", "M"}, {"pid", pid}, {"tid", pid},
                                   {"args", {{"name", "target-returns"}}}}));
  for (const auto& e : instants) {
    CHECK(e["name"] == "depth");
    CHECK(e["s"] == "t");
    CHECK(e["pid"] == pid);
    CHECK(e["tid"] == pid);
    CHECK(e["args"] == nlohmann::json::object());
  }
  // Innermost first: depth(0) returns first.
  for (size_t k = 0; k < calls.size(); ++k) {
    INFO(calls[k].dump());
    CHECK(calls[k]["name"] == "depth");
    CHECK(calls[k]["cat"] == "uptrace");
    CHECK(calls[k]["pid"] == pid);
    CHECK(calls[k]["tid"] == pid);
    CHECK(calls[k]["args"] == nlohmann::json({{"retval", static_cast<int>(k)}}));
    REQUIRE(calls[k]["dur"].get<double>() > 0);
  }
  auto begin = [](const nlohmann::json& e) { return e["ts"].get<double>(); };
  auto end = [&](const nlohmann::json& e) { return begin(e) + e["dur"].get<double>(); };
  for (size_t k = 1; k < calls.size(); ++k) {
    CHECK(begin(calls[k]) < begin(calls[k - 1]));
    CHECK(end(calls[k]) > end(calls[k - 1]));
  }
  // Each call begins at its entry: depth(3) is the first entry, before
  // every other hit, and the instant of depth(k)'s entry is inside it.
  CHECK(begin(calls[3]) <= begin(instants[0]));
  for (size_t k = 0; k < calls.size(); ++k) {
    const nlohmann::json& entry = instants[3 - k];
    CHECK(begin(entry) >= begin(calls[k]));
    CHECK(begin(entry) < end(calls[k]));
  }
}

TEST_CASE("chrome: one named track per thread", "[exports]") {
  // 3 threads, each calling depth(5) twice: 6 calls from each.
  nlohmann::json doc = chrome_trace({"depth%return", "--", target("returns"), "threads", "3", "2"}, "sum 30\n");
  std::map<int, size_t> calls_per_tid;
  std::set<int> named;
  int pid = 0;
  for (const auto& e : doc) {
    if (e["name"] == "process_name") pid = e["pid"];
    if (e["name"] == "thread_name") {
      REQUIRE(named.insert(e["tid"].get<int>()).second);  // named once
      CHECK(e["args"]["name"] == "target-returns");
    }
    if (e["ph"] == "X") ++calls_per_tid[e["tid"].get<int>()];
  }
  REQUIRE(calls_per_tid.size() == 3);
  CHECK(calls_per_tid.count(pid) == 0);  // main only waits for them
  for (const auto& [tid, n] : calls_per_tid) {
    CHECK(n == 12);  // depth(5) is 6 calls, twice
    CHECK(named.count(tid) == 1);
  }
}

TEST_CASE("folded: the call tree of fib(4), outermost frame first, one line per stack", "[exports][stack]") {
  std::string out = temp_path("folded");
  Result r = uptrace({"-q", "--stack", "--format", "folded", "-o", out, "fib", "--", target("returns"), "fib", "4"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out == "fib 3\n");
  const std::string text = slurp(out);
  unlink(out.c_str());
  INFO(text);
  std::vector<std::string> lines = lines_of(text);
  // fib(4) calls fib(3) and fib(2), and so on: 1 call at the top, 2 one
  // level down, 4 below, 2 at the bottom. Every stack is the same from the
  // program's start to main.
  REQUIRE(lines.size() == 4);
  const std::string marker = ";main;fib";
  const size_t at = lines[0].find(marker);
  REQUIRE(at != std::string::npos);
  const std::string prefix = lines[0].substr(0, at + std::string(";main").size());
  // ppc64le's _start branches to __libc_start_main without linking: it is
  // no frame there.
  CHECK((prefix.find("_start") == 0 || prefix.find("__libc_start_main;") == 0));
  std::vector<std::string> expected;
  for (auto [fibs, count] : std::vector<std::pair<int, int>>{{1, 1}, {2, 2}, {3, 4}, {4, 2}}) {
    std::string line = prefix;
    for (int i = 0; i < fibs; ++i) line += ";fib";
    expected.push_back(line + ";fib " + std::to_string(count));
  }
  CHECK(lines == expected);
}

TEST_CASE("exports: what they cannot do is a usage error", "[exports][errors]") {
  Result r = uptrace({"--format", "folded", "fib", "--", target("returns"), "fib", "4"});
  CHECK(r.status == 2);
  CHECK(r.err == "uptrace: --format folded needs --stack: the stacks are what it folds (see uptrace --help)\n");
  r = uptrace({"-c", "--format", "chrome", "fib", "--", target("returns"), "fib", "4"});
  CHECK(r.status == 2);
  CHECK(r.err == "uptrace: -c does not go with --format chrome, a record of every hit (see uptrace --help)\n");
  r = uptrace({"--list", "--format", "chrome", "-x", target("returns")});
  CHECK(r.status == 2);
  CHECK(r.err == "uptrace: --format chrome is for hits; --list prints text or json (see uptrace --help)\n");
  r = uptrace({"--format", "xml", "fib", "--", target("returns"), "fib", "4"});
  CHECK(r.status == 2);
  CHECK(r.err == "uptrace: --format must be text, json, chrome or folded, not 'xml' (see uptrace --help)\n");
}
