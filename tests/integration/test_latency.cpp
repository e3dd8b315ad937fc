// Latency of FUNC%return (SPEC.md "Latency and aggregation"): each return
// carries the time since the entry of the same call, paired by the same
// frames as $retval. A function that sleeps a known time gives bounds (a
// loaded machine only adds time); the pairing gives exact relations: a
// return's time minus its duration is its entry's time, and an outer call
// of a recursion lasts longer than every call inside it.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "harness.h"

using namespace itest;

namespace {

constexpr int64_t kNapNs = 20'000'000;  // nap 20000 us
// What a nap may take at most, on a machine loaded with other tests.
constexpr int64_t kNapCeilingNs = 5'000'000'000;

std::vector<nlohmann::json> json_hits(const std::vector<std::string>& args) {
  std::string out = temp_path("hits");
  std::vector<std::string> argv = {"-q", "--format", "json", "-o", out};
  argv.insert(argv.end(), args.begin(), args.end());
  Result r = uptrace(argv);
  INFO(r.err);
  REQUIRE(r.status == 0);
  std::vector<nlohmann::json> hits;
  for (const std::string& line : lines_of(slurp(out))) hits.push_back(nlohmann::json::parse(line));
  unlink(out.c_str());
  return hits;
}

}  // namespace

TEST_CASE("latency: a return of a function that sleeps 20 ms carries at least 20 ms", "[latency]") {
  std::vector<nlohmann::json> hits =
      json_hits({"nap%return us=$retval", "--", target("known_calls"), "nap", "20000", "3"});
  REQUIRE(hits.size() == 3);
  for (const nlohmann::json& h : hits) {
    INFO(h.dump());
    REQUIRE(h["args"]["us"] == 20000);
    REQUIRE(h["duration_ns"].is_number_integer());
    CHECK(h["duration_ns"].get<int64_t>() >= kNapNs);
    CHECK(h["duration_ns"].get<int64_t>() < kNapCeilingNs);
  }
}

TEST_CASE("latency: text shows the duration with its unit and 3 decimals", "[latency]") {
  std::string out = temp_path("hits");
  Result r = uptrace({"-q", "-o", out, "nap%return", "--", target("known_calls"), "nap", "20000", "2"});
  REQUIRE(r.status == 0);
  std::vector<std::string> lines = lines_of(slurp(out));
  unlink(out.c_str());
  REQUIRE(lines.size() == 2);
  const std::regex line(R"([0-9]+\.[0-9]{6} [0-9]+/[0-9]+ nap%return duration=([0-9]+)\.([0-9]{3})(ms|s))");
  for (const std::string& l : lines) {
    INFO(l);
    std::smatch m;
    REQUIRE(std::regex_match(l, m, line));
    if (m[3] == "ms") CHECK(std::stol(m[1]) >= 20);
  }
}

TEST_CASE("latency: a return's time minus its duration is its entry's time, exactly", "[latency]") {
  std::vector<nlohmann::json> hits =
      json_hits({"nap", "nap%return", "--", target("known_calls"), "nap", "1000", "5"});
  REQUIRE(hits.size() == 10);
  for (size_t i = 0; i < hits.size(); i += 2) {
    const nlohmann::json& entry = hits[i];
    const nlohmann::json& ret = hits[i + 1];
    INFO(entry.dump() << "\n" << ret.dump());
    REQUIRE(entry["probe"] == "nap");
    REQUIRE_FALSE(entry.contains("duration_ns"));
    REQUIRE(ret["probe"] == "nap%return");
    CHECK(ret["time_ns"].get<int64_t>() - ret["duration_ns"].get<int64_t>() == entry["time_ns"].get<int64_t>());
    CHECK(ret["duration_ns"].get<int64_t>() >= 1'000'000);
  }
}

TEST_CASE("latency: in a recursion every call lasts longer than the calls inside it", "[latency]") {
  // depth(6) returns 0..6, innermost first: each one contains the one before.
  std::vector<nlohmann::json> hits =
      json_hits({"depth%return r=$retval", "--", target("returns"), "depth", "6"});
  REQUIRE(hits.size() == 7);
  int64_t inner = -1;
  for (size_t i = 0; i < hits.size(); ++i) {
    INFO(hits[i].dump());
    REQUIRE(hits[i]["args"]["r"] == static_cast<int64_t>(i));
    const int64_t d = hits[i]["duration_ns"];
    CHECK(d > inner);
    inner = d;
  }
}
