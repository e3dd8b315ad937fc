// Aggregations (SPEC.md "Latency and aggregation"): -c with durations of a
// return probe's calls, --hist NAME in bpftrace's log2 layout, --by NAME
// groups. known_calls makes calls whose arguments the tests know, so every
// bucket and group is exact; durations get bounds only (a loaded machine
// only adds time).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "harness.h"

using namespace itest;

namespace {

struct Run {
  Result result;
  std::vector<std::string> lines;  // what uptrace wrote to -o
};

Run trace_known(const std::vector<std::string>& options, const std::vector<std::string>& probes,
                const std::vector<std::string>& args) {
  const std::string out = temp_path("aggregate");
  std::vector<std::string> argv = {"-q", "-o", out};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.insert(argv.end(), probes.begin(), probes.end());
  argv.push_back("--");
  argv.push_back(target("known_calls"));
  argv.insert(argv.end(), args.begin(), args.end());
  Run r{uptrace(argv), {}};
  r.lines = lines_of(slurp(out));
  unlink(out.c_str());
  return r;
}

std::vector<nlohmann::json> parsed(const std::vector<std::string>& lines) {
  std::vector<nlohmann::json> out;
  for (const std::string& l : lines) out.push_back(nlohmann::json::parse(l));
  return out;
}

constexpr int64_t kMs = 1'000'000;

}  // namespace

TEST_CASE("aggregate: --hist of known values, bucket by bucket in bpftrace's layout", "[aggregate]") {
  // sizes: -5 0 1 1 2 3 5 8 13 21 34 55 89 144 1000 1023 1024 70000
  Run r = trace_known({"--hist", "v"}, {"size_of v=$arg1"}, {"sizes"});
  INFO(r.result.err);
  REQUIRE(r.result.status == 0);
  const std::vector<std::string> expected = {
      "size_of v:",
      "(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |",
      "[0]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |",
      "[1]                    2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|",
      "[2, 4)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|",
      "[4, 8)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |",
      "[8, 16)                2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|",
      "[16, 32)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |",
      "[32, 64)               2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|",
      "[64, 128)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |",
      "[128, 256)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |",
      "[256, 512)             0 |                                                    |",
      "[512, 1K)              2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|",
      "[1K, 2K)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |",
      "[2K, 4K)               0 |                                                    |",
      "[4K, 8K)               0 |                                                    |",
      "[8K, 16K)              0 |                                                    |",
      "[16K, 32K)             0 |                                                    |",
      "[32K, 64K)             0 |                                                    |",
      "[64K, 128K)            1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |",
      "",  // an empty line ends each histogram, as in bpftrace
  };
  CHECK(r.lines == expected);
}

TEST_CASE("aggregate: --hist in JSON, and only of the hits a filter keeps", "[aggregate][filter]") {
  Run r = trace_known({"--format", "json", "--hist", "v"}, {"size_of v=$arg1:u64 if v > 100 && v < 0x10000"},
                      {"sizes"});
  INFO(r.result.err);
  REQUIRE(r.result.status == 0);
  REQUIRE(r.lines.size() == 1);
  const nlohmann::json expected = nlohmann::json::parse(R"({"probe":"size_of","hist":[
      {"lo":128,"hi":256,"count":1},{"lo":256,"hi":512,"count":0},{"lo":512,"hi":1024,"count":2},
      {"lo":1024,"hi":2048,"count":1}]})");
  CHECK(nlohmann::json::parse(r.lines[0]) == expected);
}

TEST_CASE("aggregate: --by a value splits -c counts, in key order", "[aggregate]") {
  Run r = trace_known({"--by", "k"}, {"kind k=$arg1"}, {"kinds"});
  INFO(r.result.err);
  REQUIRE(r.result.status == 0);
  CHECK(r.lines ==
        std::vector<std::string>{"kind k=1 1", "kind k=2 2", "kind k=3 3", "kind k=4 4", "kind k=5 5"});

  Run j = trace_known({"--format", "json", "-c", "--by", "p"}, {"item p=+0($arg2):string if $arg1 >= 0"},
                      {"items", "2"});
  INFO(j.result.err);
  REQUIRE(j.result.status == 0);
  const std::vector<nlohmann::json> expected = parsed({
      // n = 0..49 is call 50..99 of a round: paths 2, 3, 0, 1, ... from the 50th.
      R"({"probe":"item","key":{"p":"/etc/hosts"},"hits":26})",
      R"({"probe":"item","key":{"p":"/etc/passwd"},"hits":24})",
      R"({"probe":"item","key":{"p":"/tmp/a"},"hits":24})",
      R"({"probe":"item","key":{"p":"/var/log/x"},"hits":26})",
  });
  CHECK(parsed(j.lines) == expected);
}

TEST_CASE("aggregate: --by tid gives each thread its count and histogram", "[aggregate]") {
  // threads 3 20: thread t calls kind(t + 1) 20 * (t + 1) times.
  Run r = trace_known({"--format", "json", "-c", "--hist", "k", "--by", "tid"}, {"kind k=$arg1"},
                      {"threads", "3", "20"});
  INFO(r.result.err);
  REQUIRE(r.result.status == 0);
  REQUIRE(r.lines.size() == 6);  // 3 count lines, then 3 histograms
  std::map<int64_t, uint64_t> hits_by_tid;
  std::set<uint64_t> counts;
  for (size_t i = 0; i < 3; ++i) {
    const nlohmann::json c = nlohmann::json::parse(r.lines[i]);
    INFO(c.dump());
    REQUIRE(c["probe"] == "kind");
    hits_by_tid[c["key"]["tid"].get<int64_t>()] = c["hits"].get<uint64_t>();
    counts.insert(c["hits"].get<uint64_t>());
  }
  CHECK(counts == std::set<uint64_t>{20, 40, 60});
  for (size_t i = 3; i < 6; ++i) {
    const nlohmann::json h = nlohmann::json::parse(r.lines[i]);
    INFO(h.dump());
    const uint64_t hits = hits_by_tid.at(h["key"]["tid"].get<int64_t>());
    // Thread t's values are all t + 1: 1 -> [1], 2 and 3 -> [2, 4).
    REQUIRE(h["hist"].size() == 1);
    CHECK(h["hist"][0]["count"] == hits);
    CHECK(h["hist"][0]["lo"] == (hits == 20 ? 1 : 2));
  }
}

TEST_CASE("aggregate: -c on a return probe adds total, min, avg and max duration", "[aggregate][latency]") {
  Run r = trace_known({"-c"}, {"nap%return", "nap"}, {"nap", "2000", "3"});
  INFO(r.result.err);
  REQUIRE(r.result.status == 0);
  REQUIRE(r.lines.size() == 2);
  const std::regex line(
      R"(nap%return 3 total=([0-9.]+)(ns|us|ms|s) min=([0-9.]+)(ns|us|ms|s) avg=[0-9.]+(ns|us|ms|s) max=[0-9.]+(ns|us|ms|s))");
  std::smatch m;
  INFO(r.lines[0]);
  REQUIRE(std::regex_match(r.lines[0], m, line));
  CHECK(r.lines[1] == "nap 3");  // an entry probe has no durations

  Run j = trace_known({"-c", "--format", "json"}, {"nap%return"}, {"nap", "2000", "3"});
  INFO(j.result.err);
  REQUIRE(j.result.status == 0);
  REQUIRE(j.lines.size() == 1);
  const nlohmann::json c = nlohmann::json::parse(j.lines[0]);
  INFO(c.dump());
  CHECK(c["hits"] == 3);
  const nlohmann::json& d = c["duration_ns"];
  const int64_t total = d["total"], min = d["min"], avg = d["avg"], max = d["max"];
  CHECK(min >= 2 * kMs);
  CHECK(min <= avg);
  CHECK(avg <= max);
  CHECK(total >= 3 * min);
  CHECK(avg == total / 3);
}

TEST_CASE("aggregate: --hist duration puts each call in the bucket of its time", "[aggregate][latency]") {
  Run r = trace_known({"--format", "json", "--hist", "duration"}, {"nap%return"}, {"nap", "20000", "2"});
  INFO(r.result.err);
  REQUIRE(r.result.status == 0);
  REQUIRE(r.lines.size() == 1);
  const nlohmann::json h = nlohmann::json::parse(r.lines[0]);
  INFO(h.dump());
  uint64_t calls = 0;
  for (const nlohmann::json& b : h["hist"]) {
    calls += b["count"].get<uint64_t>();
    // 20 ms is in [16M, 32M) ns: no call can be in a bucket below it.
    if (b["count"] != 0) CHECK(b["hi"].get<uint64_t>() > (uint64_t{1} << 24));
  }
  CHECK(calls == 2);
  CHECK(h["hist"][0]["lo"].get<uint64_t>() >= (uint64_t{1} << 24));
}

TEST_CASE("aggregate: a NAME no probe has is a usage error with a hint", "[aggregate][errors]") {
  struct Row {
    std::vector<std::string> options;
    std::string probe;
    std::string message;
  };
  const std::vector<Row> rows = {
      {{"--hist", "zz"}, "item n=$arg1", "uptrace: --hist zz: probe 'item n=$arg1' has no value named 'zz' (its values: n)"},
      {{"--by", "zz"}, "item", "uptrace: --by zz: probe 'item' has no value named 'zz' (it fetches none; or pid, tid)"},
      {{"--hist", "duration"}, "item", "uptrace: --hist duration: probe 'item' is no FUNC%return probe"},
      {{"--hist", "p"}, "item p=+0($arg2):string", "uptrace: --hist p: in probe 'item p=+0($arg2):string' it is a string"},
  };
  for (const Row& row : rows) {
    INFO(row.probe);
    std::vector<std::string> argv = row.options;
    argv.insert(argv.end(), {row.probe, "--", target("known_calls"), "items", "1"});
    Result r = uptrace(argv);
    CHECK(r.status == 2);
    const std::vector<std::string> err = r.err_lines();
    REQUIRE(err.size() == 1);
    INFO(err[0]);
    CHECK(err[0].starts_with(row.message));
    CHECK(err[0].find("; hint: ") != std::string::npos);
    CHECK(r.out.empty());
  }
}
