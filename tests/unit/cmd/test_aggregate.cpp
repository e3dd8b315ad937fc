// -c, --hist and --by (SPEC.md "Latency and aggregation"): the log2
// buckets and their bpftrace labels, what the Aggregator gathers per probe
// and group, and the lines and objects the writers print at exit.
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cmd/aggregate.h"
#include "cmd/histogram.h"
#include "cmd/output.h"
#include "common/error.h"

using uptrace::FetchedValue;
using uptrace::FetchType;
using uptrace::Hit;
using uptrace::ProbeLabel;
using uptrace::cmd::AggregateOptions;
using uptrace::cmd::Aggregator;
using uptrace::cmd::HitWriter;
using uptrace::cmd::Log2Histogram;
using uptrace::cmd::OutputFormat;

namespace {

FetchedValue integer(FetchType type, uint64_t bits) {
  FetchedValue v;
  v.type = type;
  v.bits = bits;
  return v;
}

FetchedValue text(std::string s) {
  FetchedValue v;
  v.type = FetchType::String;
  v.text = std::move(s);
  return v;
}

Hit hit(uint32_t probe, std::vector<FetchedValue> values, std::optional<uint64_t> duration = std::nullopt,
        pid_t tid = 101) {
  Hit h;
  h.pid = 100;
  h.tid = tid;
  h.probe = probe;
  h.values = std::move(values);
  // A return's duration is its time since its entry (Hit::duration_ns()).
  h.time_ns = 1'000'000'000;
  if (duration) h.entry_time_ns = h.time_ns - *duration;
  return h;
}

// What a writer prints at exit for these hits.
std::string finish(OutputFormat format, const AggregateOptions& o, const std::vector<ProbeLabel>& labels,
                   const std::vector<Hit>& hits) {
  int fd = memfd_create("uptrace-aggregate-test", MFD_CLOEXEC);
  REQUIRE(fd >= 0);
  Aggregator agg(o, labels);
  std::vector<uint64_t> counts(labels.size());
  {
    auto w = HitWriter::create(format, true, fd, labels);
    for (const Hit& h : hits) {
      agg.add(h);
      ++counts[h.probe];
      REQUIRE(w->hit(h));
    }
    REQUIRE(w->finish(counts, &agg));
  }
  struct stat st {};
  REQUIRE(fstat(fd, &st) == 0);
  std::string out(static_cast<size_t>(st.st_size), '\0');
  REQUIRE(pread(fd, out.data(), out.size(), 0) == st.st_size);
  close(fd);
  return out;
}

}  // namespace

// -------------------------------------------------------------- histogram

TEST_CASE("hist: values go to bpftrace's log2 buckets", "[aggregate]") {
  Log2Histogram h;
  for (int64_t v : {-5, -1, 0, 1, 1, 2, 3, 4, 7, 8, 1023, 1024}) h.add(static_cast<uint64_t>(v), true);
  h.add(UINT64_MAX, false);          // unsigned: the last bucket
  h.add(uint64_t{1} << 63, false);
  CHECK(h.count(0) == 2);   // (..., 0)
  CHECK(h.count(1) == 1);   // [0]
  CHECK(h.count(2) == 2);   // [1]
  CHECK(h.count(3) == 2);   // [2, 4)
  CHECK(h.count(4) == 2);   // [4, 8)
  CHECK(h.count(5) == 1);   // [8, 16)
  CHECK(h.count(11) == 1);  // [512, 1K)
  CHECK(h.count(12) == 1);  // [1K, 2K)
  CHECK(h.count(65) == 2);  // [8E, 16E)
  CHECK(h.first() == 0);
  CHECK(h.last() == 65);
  CHECK(h.max_count() == 2);
}

TEST_CASE("hist: bucket labels and bounds", "[aggregate]") {
  CHECK(Log2Histogram::label(0) == "(..., 0)");
  CHECK(Log2Histogram::label(1) == "[0]");
  CHECK(Log2Histogram::label(2) == "[1]");
  CHECK(Log2Histogram::label(3) == "[2, 4)");
  CHECK(Log2Histogram::label(11) == "[512, 1K)");
  CHECK(Log2Histogram::label(12) == "[1K, 2K)");
  CHECK(Log2Histogram::label(21) == "[512K, 1M)");
  CHECK(Log2Histogram::label(26) == "[16M, 32M)");
  CHECK(Log2Histogram::label(32) == "[1G, 2G)");
  CHECK(Log2Histogram::label(65) == "[8E, 16E)");
  CHECK_FALSE(Log2Histogram::lo(0).has_value());
  CHECK(Log2Histogram::hi(0) == "0");
  CHECK(Log2Histogram::lo(1) == 0u);
  CHECK(Log2Histogram::hi(1) == "1");
  CHECK(Log2Histogram::lo(2) == 1u);
  CHECK(Log2Histogram::hi(2) == "2");
  CHECK(Log2Histogram::lo(12) == 1024u);
  CHECK(Log2Histogram::hi(12) == "2048");
  CHECK(Log2Histogram::lo(65) == uint64_t{1} << 63);
  CHECK(Log2Histogram::hi(65) == "18446744073709551616");
}

// -------------------------------------------------------------- aggregator

TEST_CASE("aggregate: --hist and --by must name a value of every probe", "[aggregate]") {
  const std::vector<ProbeLabel> labels = {{"work", {"n"}}, {"other", {}}};
  try {
    Aggregator({true, std::string("n"), std::nullopt}, labels);
    FAIL("no error");
  } catch (const uptrace::Error& e) {
    CHECK(e.kind() == uptrace::ErrorKind::Usage);
    CHECK(std::string(e.what()) == "--hist n: probe 'other' has no value named 'n' (it fetches none)");
  }
  CHECK_THROWS_WITH(Aggregator({true, std::nullopt, std::string("m")}, labels),
                    "--by m: probe 'work' has no value named 'm' (its values: n)");
  CHECK_NOTHROW(Aggregator({true, std::string("duration"), std::string("tid")}, labels));
  CHECK_NOTHROW(Aggregator({true, std::nullopt, std::string("pid")}, labels));
}

TEST_CASE("aggregate: groups by value in key order, with durations", "[aggregate]") {
  Aggregator agg({true, std::nullopt, std::string("k")}, {{"work%return", {"k"}}});
  agg.add(hit(0, {integer(FetchType::S64, 3)}, 300));
  agg.add(hit(0, {integer(FetchType::S64, static_cast<uint64_t>(-2))}, 100));
  agg.add(hit(0, {integer(FetchType::S64, 3)}, 500));
  agg.add(hit(0, {integer(FetchType::S64, 10)}, 7));
  const auto& groups = agg.groups(0);
  REQUIRE(groups.size() == 3);
  auto it = groups.begin();
  CHECK(static_cast<int64_t>(it->first.value.bits) == -2);  // signed order: -2 before 3
  CHECK(it->second.hits == 1);
  ++it;
  CHECK(it->first.value.bits == 3);
  CHECK(it->second.hits == 2);
  CHECK(it->second.durations.total == 800);
  CHECK(it->second.durations.min == 300);
  CHECK(it->second.durations.max == 500);
  CHECK(it->second.durations.avg() == 400);
  ++it;
  CHECK(it->first.value.bits == 10);
}

// ------------------------------------------------------------------ output

TEST_CASE("count: a return probe's line adds total, min, avg and max", "[aggregate][output]") {
  const std::vector<ProbeLabel> labels = {{"work%return", {}}, {"work", {}}, {"idle%return", {}}};
  const std::vector<Hit> hits = {hit(0, {}, 1500), hit(0, {}, 2500000), hit(1, {}), hit(0, {}, 3000)};
  const AggregateOptions count{true, std::nullopt, std::nullopt};
  CHECK(finish(OutputFormat::Text, count, labels, hits) ==
        "work%return 3 total=2.504ms min=1.500us avg=834.833us max=2.500ms\n"
        "work 1\n"
        "idle%return 0\n");
  const std::string json = finish(OutputFormat::Json, count, labels, hits);
  CHECK(json ==
        "{\"probe\":\"work%return\",\"hits\":3,\"duration_ns\":{\"total\":2504500,\"min\":1500,\"avg\":834833,"
        "\"max\":2500000}}\n"
        "{\"probe\":\"work\",\"hits\":1}\n"
        "{\"probe\":\"idle%return\",\"hits\":0}\n");
  for (const std::string& line : {json.substr(0, json.find('\n'))}) CHECK_NOTHROW(nlohmann::json::parse(line));
}

TEST_CASE("count --by: one line per value, strings quoted, pid and tid", "[aggregate][output]") {
  const std::vector<ProbeLabel> labels = {{"open", {"path"}}};
  const std::vector<Hit> hits = {hit(0, {text("/tmp/b")}), hit(0, {text("/etc/a")}), hit(0, {text("/tmp/b")})};
  CHECK(finish(OutputFormat::Text, {true, std::nullopt, std::string("path")}, labels, hits) ==
        "open path=\"/etc/a\" 1\n"
        "open path=\"/tmp/b\" 2\n");
  CHECK(finish(OutputFormat::Json, {true, std::nullopt, std::string("path")}, labels, hits) ==
        "{\"probe\":\"open\",\"key\":{\"path\":\"/etc/a\"},\"hits\":1}\n"
        "{\"probe\":\"open\",\"key\":{\"path\":\"/tmp/b\"},\"hits\":2}\n");
  const std::vector<Hit> threads = {hit(0, {text("x")}, std::nullopt, 7), hit(0, {text("x")}, std::nullopt, 5),
                                    hit(0, {text("x")}, std::nullopt, 7)};
  CHECK(finish(OutputFormat::Text, {true, std::nullopt, std::string("tid")}, labels, threads) ==
        "open tid=5 1\n"
        "open tid=7 2\n");
  CHECK(finish(OutputFormat::Json, {true, std::nullopt, std::string("pid")}, labels, threads) ==
        "{\"probe\":\"open\",\"key\":{\"pid\":100},\"hits\":3}\n");
}

TEST_CASE("hist: bpftrace's text layout, empty buckets between included", "[aggregate][output]") {
  const std::vector<ProbeLabel> labels = {{"size", {"v"}}};
  std::vector<Hit> hits;
  for (int64_t v : {0, 1, 1, 2, 3, 3, 3, 3, 40})
    hits.push_back(hit(0, {integer(FetchType::S64, static_cast<uint64_t>(v))}));
  const std::string out = finish(OutputFormat::Text, {false, std::string("v"), std::nullopt}, labels, hits);
  CHECK(out ==
        "size v:\n"
        "[0]                    1 |@@@@@@@@@@                                          |\n"
        "[1]                    2 |@@@@@@@@@@@@@@@@@@@@                                |\n"
        "[2, 4)                 5 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
        "[4, 8)                 0 |                                                    |\n"
        "[8, 16)                0 |                                                    |\n"
        "[16, 32)               0 |                                                    |\n"
        "[32, 64)               1 |@@@@@@@@@@                                          |\n"
        "\n");
}

TEST_CASE("hist: JSON buckets are lo-hi numbers (hi excluded), the negative one without lo", "[aggregate][output]") {
  const std::vector<ProbeLabel> labels = {{"size", {"v"}}};
  const std::vector<Hit> hits = {hit(0, {integer(FetchType::S64, static_cast<uint64_t>(-3))}),
                                 hit(0, {integer(FetchType::S64, 1)}), hit(0, {integer(FetchType::S64, 5)})};
  const std::string out = finish(OutputFormat::Json, {false, std::string("v"), std::nullopt}, labels, hits);
  CHECK(out ==
        "{\"probe\":\"size\",\"hist\":[{\"lo\":null,\"hi\":0,\"count\":1},{\"lo\":0,\"hi\":1,\"count\":0},"
        "{\"lo\":1,\"hi\":2,\"count\":1},{\"lo\":2,\"hi\":4,\"count\":0},{\"lo\":4,\"hi\":8,\"count\":1}]}\n");
  CHECK_NOTHROW(nlohmann::json::parse(out));
}

TEST_CASE("hist: of durations, per --by group, after the counts with -c", "[aggregate][output]") {
  const std::vector<ProbeLabel> labels = {{"read%return", {}}};
  const std::vector<Hit> hits = {hit(0, {}, 1500, 8), hit(0, {}, 1800, 8), hit(0, {}, 3000000, 9)};
  const std::string out = finish(OutputFormat::Text, {true, std::string("duration"), std::string("tid")}, labels, hits);
  CHECK(out ==
        "read%return tid=8 2 total=3.300us min=1.500us avg=1.650us max=1.800us\n"
        "read%return tid=9 1 total=3.000ms min=3.000ms avg=3.000ms max=3.000ms\n"
        "read%return tid=8 duration:\n"
        "[1K, 2K)               2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
        "\n"
        "read%return tid=9 duration:\n"
        "[2M, 4M)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
        "\n");
  CHECK(finish(OutputFormat::Json, {false, std::string("duration"), std::string("tid")}, labels, hits) ==
        "{\"probe\":\"read%return\",\"key\":{\"tid\":8},\"hist\":[{\"lo\":1024,\"hi\":2048,\"count\":2}]}\n"
        "{\"probe\":\"read%return\",\"key\":{\"tid\":9},\"hist\":[{\"lo\":2097152,\"hi\":4194304,\"count\":1}]}\n");
}

TEST_CASE("hist: a probe without hits has an empty histogram, unreadable values are left out", "[aggregate][output]") {
  const std::vector<ProbeLabel> labels = {{"a", {"v"}}, {"b", {"v"}}};
  FetchedValue unreadable = integer(FetchType::S64, 0);
  unreadable.fault = true;
  Aggregator agg({false, std::string("v"), std::nullopt}, labels);
  agg.add(hit(1, {unreadable}));
  agg.add(hit(1, {text("not a number")}));
  agg.add(hit(1, {integer(FetchType::U8, 200)}));
  REQUIRE(agg.groups(1).size() == 1);
  CHECK(agg.groups(1).begin()->second.not_counted == 2);
  CHECK(agg.groups(1).begin()->second.hist.count(9) == 1);  // [128, 256)
  CHECK(finish(OutputFormat::Text, {false, std::string("v"), std::nullopt}, labels, {}) == "a v:\n\nb v:\n\n");
  CHECK(finish(OutputFormat::Json, {false, std::string("v"), std::nullopt}, labels, {}) ==
        "{\"probe\":\"a\",\"hist\":[]}\n{\"probe\":\"b\",\"hist\":[]}\n");
}
