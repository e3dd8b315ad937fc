#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cmd/output.h"
#include "common/error.h"

using uptrace::FetchedValue;
using uptrace::FetchType;
using uptrace::Hit;
using uptrace::ProbeLabel;
using uptrace::RuntimeAddr;
using uptrace::cmd::HitWriter;
using uptrace::cmd::OutputFormat;

namespace {

// An in-memory file to write to and read back.
class Capture {
 public:
  Capture() : fd_(memfd_create("uptrace-output-test", MFD_CLOEXEC)) { REQUIRE(fd_ >= 0); }
  ~Capture() { close(fd_); }
  int fd() const { return fd_; }
  std::string text() const {
    struct stat st {};
    REQUIRE(fstat(fd_, &st) == 0);
    std::string out(static_cast<size_t>(st.st_size), '\0');
    REQUIRE(pread(fd_, out.data(), out.size(), 0) == st.st_size);
    return out;
  }

 private:
  int fd_;
};

FetchedValue integer(FetchType type, uint64_t bits) {
  FetchedValue v;
  v.type = type;
  v.bits = bits;
  return v;
}

FetchedValue string(std::string text) {
  FetchedValue v;
  v.type = FetchType::String;
  v.text = std::move(text);
  return v;
}

FetchedValue fault(FetchType type) {
  FetchedValue v;
  v.type = type;
  v.fault = true;
  return v;
}

Hit make_hit(std::vector<FetchedValue> values, uint32_t probe = 0) {
  Hit h;
  h.time_ns = 123456789;
  h.pid = 100;
  h.tid = 101;
  h.probe = probe;
  h.addr = RuntimeAddr(0x401136);
  h.values = std::move(values);
  return h;
}

// The one line a hit produces, for a probe whose arguments are named by `names`.
std::string line(OutputFormat format, const Hit& hit, std::vector<std::string> names) {
  Capture out;
  {
    auto w = HitWriter::create(format, false, out.fd(), {ProbeLabel{"parse+0x4", std::move(names)}});
    REQUIRE(w->hit(hit));
    REQUIRE(w->flush());
  }
  return out.text();
}

std::string text_value(FetchedValue v) { return line(OutputFormat::Text, make_hit({std::move(v)}), {"v"}); }
std::string json_value(FetchedValue v) {
  std::string l = line(OutputFormat::Json, make_hit({std::move(v)}), {"v"});
  CHECK_NOTHROW(nlohmann::json::parse(l));
  return l;
}

constexpr const char* kTextPrefix = "0.123456 100/101 parse+0x4 v=";
constexpr const char* kJsonPrefix =
    R"({"time_ns":123456789,"pid":100,"tid":101,"probe":"parse+0x4","addr":"0x401136","args":{"v":)";

}  // namespace

// --------------------------------------------------------------------- text

TEST_CASE("text: the line of the SPEC example", "[output]") {
  Hit h = make_hit({integer(FetchType::U32, 5), string("hi")});
  CHECK(line(OutputFormat::Text, h, {"len", "buf"}) == "0.123456 100/101 parse+0x4 len=5 buf=\"hi\"\n");
}

TEST_CASE("text: time has exactly six decimals, truncated", "[output]") {
  struct Row {
    uint64_t ns;
    const char* time;
  };
  for (const Row& row : {Row{0, "0.000000"}, Row{999, "0.000000"}, Row{1000, "0.000001"},
                         Row{1999999999, "1.999999"}, Row{12345678901234, "12345.678901"},
                         Row{60000000000, "60.000000"}}) {
    Hit h = make_hit({});
    h.time_ns = row.ns;
    CHECK(line(OutputFormat::Text, h, {}) == std::string(row.time) + " 100/101 parse+0x4\n");
  }
}

TEST_CASE("text: integers per type, width and signedness", "[output]") {
  struct Row {
    FetchType type;
    uint64_t bits;
    const char* text;
  };
  const Row rows[] = {
      {FetchType::U8, 0xff, "255"},
      {FetchType::U8, 0xffffffffffffffff, "255"},  // only the type's width counts
      {FetchType::U16, 0xffff, "65535"},
      {FetchType::U32, 0xffffffff, "4294967295"},
      {FetchType::U64, 0xffffffffffffffff, "18446744073709551615"},
      {FetchType::U64, 0, "0"},
      {FetchType::S8, 0x7f, "127"},
      {FetchType::S8, 0x80, "-128"},
      {FetchType::S8, 0xff, "-1"},
      {FetchType::S8, 0xffffffffffffff80, "-128"},  // already sign-extended by the evaluator
      {FetchType::S16, 0x8000, "-32768"},
      {FetchType::S16, 0x7fff, "32767"},
      {FetchType::S32, 0xffffffff, "-1"},
      {FetchType::S32, 0x80000000, "-2147483648"},
      {FetchType::S32, 0x1234567800000005, "5"},
      {FetchType::S64, 0x8000000000000000, "-9223372036854775808"},
      {FetchType::S64, 0x7fffffffffffffff, "9223372036854775807"},
      {FetchType::S64, 0xfffffffffffffffe, "-2"},
      {FetchType::X8, 0xff, "0xff"},
      {FetchType::X8, 0xffffffffffffffff, "0xff"},
      {FetchType::X8, 0, "0x0"},
      {FetchType::X16, 0xffffffffffff1234, "0x1234"},
      {FetchType::X32, 0xdeadbeef, "0xdeadbeef"},
      {FetchType::X64, 0xffffffffffffffff, "0xffffffffffffffff"},
      {FetchType::X64, 0x401136, "0x401136"},
  };
  for (const Row& row : rows) {
    INFO(uptrace::to_string(row.type) << " " << row.bits);
    CHECK(text_value(integer(row.type, row.bits)) == std::string(kTextPrefix) + row.text + "\n");
  }
}

TEST_CASE("text: strings are quoted with C escapes", "[output]") {
  struct Row {
    std::string raw;
    const char* text;
  };
  const Row rows[] = {
      {"", R"("")"},
      {"hello, world", R"("hello, world")"},
      {"a\nb\tc\rd", R"("a\nb\tc\rd")"},
      {"say \"hi\"", R"("say \"hi\"")"},
      {"C:\\dir", R"("C:\\dir")"},
      {std::string("\x01\x1b\x7f", 3), R"("\x01\x1b\x7f")"},
      {std::string("a\0b", 3), R"("a\x00b")"},
      {"caf\xc3\xa9", R"("caf\xc3\xa9")"},
      {"\xff\xfe", R"("\xff\xfe")"},
      {"\x01" "abc", R"("\x01abc")"},
  };
  for (const Row& row : rows) {
    INFO(row.text);
    CHECK(text_value(string(row.raw)) == std::string(kTextPrefix) + row.text + "\n");
  }
}

TEST_CASE("text: an unreadable value is (fault)", "[output]") {
  CHECK(text_value(fault(FetchType::String)) == std::string(kTextPrefix) + "(fault)\n");
  CHECK(text_value(fault(FetchType::S64)) == std::string(kTextPrefix) + "(fault)\n");
  CHECK(text_value(fault(FetchType::X32)) == std::string(kTextPrefix) + "(fault)\n");
}

TEST_CASE("text: no arguments", "[output]") {
  CHECK(line(OutputFormat::Text, make_hit({}), {}) == "0.123456 100/101 parse+0x4\n");
}

TEST_CASE("text: --stack frames follow the line, indented", "[output]") {
  Hit h = make_hit({integer(FetchType::S64, 3)});
  h.stack = {"parse+0x4 (/path/prog)", "main+0x20 (/path/prog)", "__libc_start_call_main+0x7a (/usr/lib/libc.so.6)"};
  CHECK(line(OutputFormat::Text, h, {"n"}) ==
        "0.123456 100/101 parse+0x4 n=3\n"
        "    parse+0x4 (/path/prog)\n"
        "    main+0x20 (/path/prog)\n"
        "    __libc_start_call_main+0x7a (/usr/lib/libc.so.6)\n");
}

TEST_CASE("durations: ns, us, ms or s with exactly 3 decimals", "[output]") {
  using uptrace::cmd::format_duration;
  CHECK(format_duration(0) == "0.000ns");
  CHECK(format_duration(523) == "523.000ns");
  CHECK(format_duration(999) == "999.000ns");
  CHECK(format_duration(1000) == "1.000us");
  CHECK(format_duration(1234) == "1.234us");
  CHECK(format_duration(999999) == "999.999us");
  CHECK(format_duration(1000000) == "1.000ms");
  CHECK(format_duration(1234567) == "1.234ms");  // the digits past the third are cut, as TIME's are
  CHECK(format_duration(20005000) == "20.005ms");
  CHECK(format_duration(2500000000) == "2.500s");
  CHECK(format_duration(5000000000000) == "5000.000s");  // no unit above s
  CHECK(format_duration(UINT64_MAX) == "18446744073.709s");
}

TEST_CASE("text: a return's duration follows its values", "[output]") {
  Hit h = make_hit({integer(FetchType::S64, 7)});
  h.entry_time_ns = h.time_ns - 1234;
  CHECK(line(OutputFormat::Text, h, {"retval"}) == "0.123456 100/101 parse+0x4 retval=7 duration=1.234us\n");
  Hit bare = make_hit({});
  bare.entry_time_ns = bare.time_ns - 20005000;
  CHECK(line(OutputFormat::Text, bare, {}) == "0.123456 100/101 parse+0x4 duration=20.005ms\n");
}

// --------------------------------------------------------------------- JSON

TEST_CASE("json: a return's duration is duration_ns, in ns", "[output]") {
  Hit h = make_hit({integer(FetchType::S64, 7)});
  h.entry_time_ns = h.time_ns - 1234;
  std::string l = line(OutputFormat::Json, h, {"retval"});
  CHECK(l == R"({"time_ns":123456789,"pid":100,"tid":101,"probe":"parse+0x4","addr":"0x401136","args":{"retval":7},)"
             R"("duration_ns":1234})"
             "\n");
  CHECK(nlohmann::json::parse(l)["duration_ns"] == 1234);
  // Other hits have no such key.
  CHECK(line(OutputFormat::Json, make_hit({}), {}).find("duration_ns") == std::string::npos);
}

TEST_CASE("json: the object of the SPEC example", "[output]") {
  Hit h = make_hit({integer(FetchType::U32, 5), string("hi")});
  std::string l = line(OutputFormat::Json, h, {"len", "buf"});
  CHECK(l ==
        R"({"time_ns":123456789,"pid":100,"tid":101,"probe":"parse+0x4","addr":"0x401136","args":{"len":5,"buf":"hi"}})"
        "\n");
  auto j = nlohmann::json::parse(l);
  CHECK(j["args"]["len"] == 5);
  CHECK(j["args"]["buf"] == "hi");
}

TEST_CASE("json: numbers, hex strings and null", "[output]") {
  struct Row {
    FetchedValue value;
    const char* json;
  };
  const Row rows[] = {
      {integer(FetchType::U8, 0xff), "255"},
      {integer(FetchType::U64, 0xffffffffffffffff), R"("18446744073709551615")"},
      {integer(FetchType::S8, 0x80), "-128"},
      {integer(FetchType::S8, 0xff), "-1"},
      {integer(FetchType::S32, 0xfffffff6), "-10"},
      {integer(FetchType::S64, 0x8000000000000000), R"("-9223372036854775808")"},
      {integer(FetchType::U32, 0xffffffff), "4294967295"},
      {integer(FetchType::S16, 0x1234), "4660"},
      {integer(FetchType::X8, 0xff), R"("0xff")"},
      {integer(FetchType::X64, 0x7ffd1234), R"("0x7ffd1234")"},
      {integer(FetchType::X32, 0), R"("0x0")"},
      {fault(FetchType::S64), "null"},
      {fault(FetchType::String), "null"},
      {fault(FetchType::X8), "null"},
  };
  for (const Row& row : rows) {
    INFO(row.json);
    CHECK(json_value(row.value) == std::string(kJsonPrefix) + row.json + "}}\n");
  }
  auto j = nlohmann::json::parse(json_value(integer(FetchType::S64, 0x8000000000000000)));
  CHECK(std::stoll(j["args"]["v"].get<std::string>()) == INT64_MIN);
  j = nlohmann::json::parse(json_value(integer(FetchType::U64, UINT64_MAX)));
  CHECK(std::stoull(j["args"]["v"].get<std::string>()) == UINT64_MAX);
}

TEST_CASE("json: integers a double cannot hold exactly are decimal strings", "[output]") {
  // jq, JavaScript and Python's json with floats read a JSON number as a
  // double: 2^53 + 1 would come back as 2^53.
  constexpr uint64_t kSafe = (uint64_t{1} << 53) - 1;  // Number.MAX_SAFE_INTEGER
  struct Row {
    FetchedValue value;
    std::string json;
  };
  const Row rows[] = {
      {integer(FetchType::U64, kSafe), "9007199254740991"},
      {integer(FetchType::U64, kSafe + 1), R"("9007199254740992")"},
      {integer(FetchType::U64, kSafe + 2), R"("9007199254740993")"},
      {integer(FetchType::S64, kSafe), "9007199254740991"},
      {integer(FetchType::S64, 0 - kSafe), "-9007199254740991"},
      {integer(FetchType::S64, 0 - kSafe - 1), R"("-9007199254740992")"},
      {integer(FetchType::S64, 0x7fffffffffffffff), R"("9223372036854775807")"},
      {integer(FetchType::X64, 0xffffffffffffffff), R"("0xffffffffffffffff")"},  // as before
  };
  for (const Row& row : rows) {
    INFO(row.json);
    CHECK(json_value(row.value) == std::string(kJsonPrefix) + row.json + "}}\n");
  }
  // The tracer's own numbers too: a hit past 104 days of tracing, a count.
  Hit late = make_hit({});
  late.time_ns = kSafe + 2;
  CHECK(line(OutputFormat::Json, late, {}).starts_with(R"({"time_ns":"9007199254740993","pid":100,)"));
  late.time_ns = kSafe;
  CHECK(line(OutputFormat::Json, late, {}).starts_with(R"({"time_ns":9007199254740991,"pid":100,)"));
  Capture counts;
  {
    auto w = HitWriter::create(OutputFormat::Json, true, counts.fd(), {{"a", {}}, {"b", {}}});
    const uint64_t hits[] = {kSafe, kSafe + 1};
    REQUIRE(w->finish(hits));
  }
  CHECK(counts.text() == "{\"probe\":\"a\",\"hits\":9007199254740991}\n{\"probe\":\"b\",\"hits\":\"9007199254740992\"}\n");
}



TEST_CASE("json: strings are escaped and always valid UTF-8", "[output]") {
  struct Row {
    std::string raw;
    const char* json;
    std::string decoded;  // what a JSON parser reads back
  };
  const Row rows[] = {
      {"", R"("")", ""},
      {"a\nb\tc\rd", R"("a\nb\tc\rd")", "a\nb\tc\rd"},
      {"\b\f", R"("\b\f")", "\b\f"},
      {"q\"b\\", R"("q\"b\\")", "q\"b\\"},
      {std::string("\x01\x1f\x7f\0", 4), R"("\u0001\u001f\u007f\u0000")", std::string("\x01\x1f\x7f\0", 4)},
      {"caf\xc3\xa9", "\"caf\xc3\xa9\"", "caf\xc3\xa9"},                    // valid UTF-8 stays as it is
      {"\xe2\x82\xac", "\"\xe2\x82\xac\"", "\xe2\x82\xac"},                 // 3 bytes
      {"\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"", "\xf0\x9f\x98\x80"},     // 4 bytes
      {"\xff", R"("\u00ff")", "\xc3\xbf"},                                  // a byte that is never UTF-8
      {"a\xc3", R"("a\u00c3")", "a\xc3\x83"},                               // truncated sequence
      {"\xc3(", R"("\u00c3(")", "\xc3\x83("},                               // bad continuation
      {"\xc0\xaf", R"("\u00c0\u00af")", "\xc3\x80\xc2\xaf"},                // overlong
      {"\xed\xa0\x80", R"("\u00ed\u00a0\u0080")", "\xc3\xad\xc2\xa0\xc2\x80"},  // a surrogate
      {"\xf4\x90\x80\x80", R"("\u00f4\u0090\u0080\u0080")", "\xc3\xb4\xc2\x90\xc2\x80\xc2\x80"},  // > U+10FFFF
      {"\x80x", R"("\u0080x")", "\xc2\x80x"},                               // a lone continuation byte
  };
  for (const Row& row : rows) {
    INFO(row.json);
    std::string l = json_value(string(row.raw));
    CHECK(l == std::string(kJsonPrefix) + row.json + "}}\n");
    CHECK(nlohmann::json::parse(l)["args"]["v"].get<std::string>() == row.decoded);
  }
}

TEST_CASE("json: no arguments, and names that need escaping", "[output]") {
  CHECK(line(OutputFormat::Json, make_hit({}), {}) ==
        R"({"time_ns":123456789,"pid":100,"tid":101,"probe":"parse+0x4","addr":"0x401136","args":{}})"
        "\n");
  std::string l = line(OutputFormat::Json, make_hit({integer(FetchType::S64, 1)}), {"+0($arg1)"});
  CHECK(nlohmann::json::parse(l)["args"]["+0($arg1)"] == 1);
}

TEST_CASE("json: stack only when there are frames", "[output]") {
  Hit h = make_hit({integer(FetchType::S64, 3)});
  h.stack = {"parse+0x4 (/path/prog)", "main+0x20 (/path/prog)"};
  std::string l = line(OutputFormat::Json, h, {"n"});
  CHECK(l ==
        R"({"time_ns":123456789,"pid":100,"tid":101,"probe":"parse+0x4","addr":"0x401136","args":{"n":3},)"
        R"j("stack":["parse+0x4 (/path/prog)","main+0x20 (/path/prog)"]})j"
        "\n");
  CHECK(nlohmann::json::parse(l)["stack"].size() == 2);
}

// ------------------------------------------------------------ labels, count

TEST_CASE("hits print under the label of their probe", "[output]") {
  Capture out;
  {
    auto w = HitWriter::create(OutputFormat::Text, false, out.fd(),
                               {ProbeLabel{"a", {"x"}}, ProbeLabel{"libc:getpid%return", {"retval"}}});
    REQUIRE(w->hit(make_hit({integer(FetchType::S64, 1)}, 1)));
    REQUIRE(w->hit(make_hit({integer(FetchType::S64, 2)}, 0)));
    // A probe or value the labels do not know still prints.
    REQUIRE(w->hit(make_hit({integer(FetchType::S64, 3)}, 7)));
    REQUIRE(w->hit(make_hit({integer(FetchType::S64, 4), integer(FetchType::S64, 5)}, 0)));
    REQUIRE(w->flush());
  }
  CHECK(out.text() ==
        "0.123456 100/101 libc:getpid%return retval=1\n"
        "0.123456 100/101 a x=2\n"
        "0.123456 100/101 #7 ?=3\n"
        "0.123456 100/101 a x=4 ?=5\n");
}

TEST_CASE("count mode: one line per probe at exit", "[output]") {
  std::vector<ProbeLabel> labels = {{"parse+0x4", {}}, {"handle_get", {}}, {"libc:getpid%return", {"retval"}}};
  const uint64_t hits[] = {42, 0, 7};

  Capture text;
  {
    auto w = HitWriter::create(OutputFormat::Text, true, text.fd(), labels);
    REQUIRE(w->hit(make_hit({})));  // nothing per hit
    REQUIRE(w->flush());
    CHECK(text.text().empty());
    REQUIRE(w->finish(hits));
    REQUIRE(w->finish(hits));  // once only
  }
  CHECK(text.text() == "parse+0x4 42\nhandle_get 0\nlibc:getpid%return 7\n");

  Capture json;
  {
    auto w = HitWriter::create(OutputFormat::Json, true, json.fd(), labels);
    REQUIRE(w->finish(hits));
  }
  CHECK(json.text() ==
        "{\"probe\":\"parse+0x4\",\"hits\":42}\n"
        "{\"probe\":\"handle_get\",\"hits\":0}\n"
        "{\"probe\":\"libc:getpid%return\",\"hits\":7}\n");
}

TEST_CASE("lost hits: a JSON object in the stream, in count mode too, nothing in text", "[output]") {
  std::vector<ProbeLabel> labels = {{"work", {}}};
  const uint64_t hits[] = {5};
  Capture json;
  {
    auto w = HitWriter::create(OutputFormat::Json, true, json.fd(), labels);
    REQUIRE(w->lost(4242, 3, "their threads \"ended\""));
    REQUIRE(w->finish(hits));
  }
  CHECK(json.text() ==
        "{\"lost\":3,\"pid\":4242,\"reason\":\"their threads \\\"ended\\\"\"}\n"
        "{\"probe\":\"work\",\"hits\":5}\n");
  Capture text;
  {
    auto w = HitWriter::create(OutputFormat::Text, false, text.fd(), labels);
    REQUIRE(w->lost(4242, 3, "why"));
    REQUIRE(w->finish(hits));
  }
  CHECK(text.text().empty());
}

TEST_CASE("count mode: two probes with the same name are two lines", "[output]") {
  // `uptrace -c work work`: each probe was hit K times and reports K.
  Capture out;
  {
    auto w = HitWriter::create(OutputFormat::Text, true, out.fd(), {{"work", {}}, {"work", {}}});
    const uint64_t hits[] = {3, 3};
    REQUIRE(w->finish(hits));
  }
  CHECK(out.text() == "work 3\nwork 3\n");
}

TEST_CASE("count mode: missing counts are 0", "[output]") {
  Capture out;
  {
    auto w = HitWriter::create(OutputFormat::Text, true, out.fd(), {{"a", {}}, {"b", {}}});
    const uint64_t hits[] = {5};
    REQUIRE(w->finish(hits));
  }
  CHECK(out.text() == "a 5\nb 0\n");
}

TEST_CASE("finish without count mode only flushes", "[output]") {
  Capture out;
  auto w = HitWriter::create(OutputFormat::Text, false, out.fd(), {{"a", {}}});
  REQUIRE(w->hit(make_hit({})));
  const uint64_t hits[] = {1};
  REQUIRE(w->finish(hits));
  CHECK(out.text() == "0.123456 100/101 a\n");
}

// ---------------------------------------------------------------- buffering

TEST_CASE("hits are buffered until flush, and written once the buffer is large", "[output]") {
  Capture out;
  auto w = HitWriter::create(OutputFormat::Text, false, out.fd(), {{"a", {}}});
  REQUIRE(w->hit(make_hit({})));
  CHECK(out.text().empty());
  REQUIRE(w->flush());
  CHECK(out.text() == "0.123456 100/101 a\n");

  const size_t line_size = out.text().size();
  size_t n = 1;
  while (out.text().size() == line_size) {
    REQUIRE(w->hit(make_hit({})));
    ++n;
    REQUIRE(n < 100000);
  }
  CHECK(out.text().size() >= 64 * 1024);
  REQUIRE(w->flush());
  CHECK(out.text().size() == n * line_size);
}

TEST_CASE("the destructor writes what is left", "[output]") {
  Capture out;
  {
    auto w = HitWriter::create(OutputFormat::Json, false, out.fd(), {{"a", {}}});
    REQUIRE(w->hit(make_hit({})));
  }
  CHECK(out.text() == R"({"time_ns":123456789,"pid":100,"tid":101,"probe":"a","addr":"0x401136","args":{}})"
                      "\n");
}

TEST_CASE("a non-blocking pipe gets every byte", "[output]") {
  int p[2];
  REQUIRE(pipe2(p, O_CLOEXEC) == 0);
  REQUIRE(fcntl(p[1], F_SETFL, O_NONBLOCK) == 0);
  std::string received;
  std::thread reader([&] {
    char buf[4096];
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0) {
      received.append(buf, static_cast<size_t>(n));
      usleep(50);  // slower than the writer, so it meets a full pipe
    }
  });
  const int kHits = 20000;
  {
    auto w = HitWriter::create(OutputFormat::Text, false, p[1], {{"a", {"s"}}});
    for (int i = 0; i < kHits; ++i) REQUIRE(w->hit(make_hit({string(std::string(100, 'x'))})));
    REQUIRE(w->flush());
  }
  close(p[1]);
  reader.join();
  close(p[0]);
  std::string expected_line = "0.123456 100/101 a s=\"" + std::string(100, 'x') + "\"\n";
  CHECK(received.size() == kHits * expected_line.size());
  CHECK(received.substr(0, expected_line.size()) == expected_line);
}

// ------------------------------------------------------------------- errors

TEST_CASE("a closed reader is EPIPE, not a dead tracer", "[output]") {
  int p[2];
  REQUIRE(pipe2(p, O_CLOEXEC) == 0);
  close(p[0]);
  auto w = HitWriter::create(OutputFormat::Text, false, p[1], {{"a", {}}});
  REQUIRE(w->hit(make_hit({})));  // buffered: nothing written yet
  CHECK_FALSE(w->flush());
  CHECK_FALSE(w->ok());
  CHECK(w->error() == EPIPE);
  CHECK(w->error_message() == "cannot write output: Broken pipe");
  // Sticky: nothing more is tried.
  CHECK_FALSE(w->hit(make_hit({})));
  CHECK_FALSE(w->flush());
  const uint64_t hits[] = {1};
  CHECK_FALSE(w->finish(hits));
  w.reset();
  close(p[1]);
}

TEST_CASE("output file: created, and its errors", "[output]") {
  char dir[] = "/tmp/uptrace-output-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  std::string path = std::string(dir) + "/hits.jsonl";
  {
    auto w = HitWriter::open(OutputFormat::Json, true, path, {{"a", {}}});
    const uint64_t hits[] = {3};
    REQUIRE(w->finish(hits));
  }
  {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    CHECK(s.str() == "{\"probe\":\"a\",\"hits\":3}\n");
  }
  unlink(path.c_str());
  rmdir(dir);

  try {
    HitWriter::open(OutputFormat::Text, false, "/nonexistent-dir/hits.txt", {});
    FAIL("no error");
  } catch (const uptrace::Error& e) {
    CHECK(e.kind() == uptrace::ErrorKind::Runtime);
    CHECK(std::string(e.what()) == "cannot open output file '/nonexistent-dir/hits.txt': No such file or directory");
  }

  if (access("/dev/full", W_OK) == 0) {
    auto w = HitWriter::open(OutputFormat::Text, false, "/dev/full", {{"a", {}}});
    REQUIRE(w->hit(make_hit({})));
    CHECK_FALSE(w->flush());
    CHECK(w->error() == ENOSPC);
    CHECK(w->error_message() == "cannot write output to '/dev/full': No space left on device");
  }
}

TEST_CASE("format names of --format", "[output]") {
  CHECK(uptrace::cmd::parse_output_format("text") == OutputFormat::Text);
  CHECK(uptrace::cmd::parse_output_format("json") == OutputFormat::Json);
  CHECK(uptrace::cmd::parse_output_format("chrome") == OutputFormat::Chrome);
  CHECK(uptrace::cmd::parse_output_format("folded") == OutputFormat::Folded);
  CHECK_FALSE(uptrace::cmd::parse_output_format("JSON").has_value());
  CHECK_FALSE(uptrace::cmd::parse_output_format("").has_value());
}

// ------------------------------------------------------------- DWARF values

TEST_CASE("DWARF values: bool, enumerators and optimized out in text and JSON", "[output][dwarf]") {
  using uptrace::ValueShow;
  FetchedValue yes = integer(FetchType::U8, 1);
  yes.show = ValueShow::Bool;
  FetchedValue no = integer(FetchType::U8, 0);
  no.show = ValueShow::Bool;
  FetchedValue blue = integer(FetchType::S32, static_cast<uint64_t>(-1));
  blue.show = ValueShow::Enum;
  blue.text = "BLUE";
  FetchedValue unnamed = integer(FetchType::S32, 7);
  unnamed.show = ValueShow::Enum;
  FetchedValue gone = integer(FetchType::S32, 0);
  gone.optimized_out = true;
  FetchedValue bad = fault(FetchType::S32);

  CHECK(text_value(yes) == std::string(kTextPrefix) + "true\n");
  CHECK(text_value(no) == std::string(kTextPrefix) + "false\n");
  CHECK(text_value(blue) == std::string(kTextPrefix) + "BLUE\n");
  CHECK(text_value(unnamed) == std::string(kTextPrefix) + "7\n");
  CHECK(text_value(gone) == std::string(kTextPrefix) + "(optimized out)\n");

  CHECK(json_value(yes) == std::string(kJsonPrefix) + "true}}\n");
  CHECK(json_value(no) == std::string(kJsonPrefix) + "false}}\n");
  CHECK(json_value(blue) == std::string(kJsonPrefix) + "\"BLUE\"}}\n");
  CHECK(json_value(unnamed) == std::string(kJsonPrefix) + "7}}\n");
  // null alone would not tell it from a fault: the name is listed too.
  CHECK(json_value(gone) == std::string(kJsonPrefix) + "null},\"optimized_out\":[\"v\"]}\n");
  std::string two = line(OutputFormat::Json, make_hit({gone, bad, gone}), {"a", "b", "c"});
  CHECK(two.find(R"("args":{"a":null,"b":null,"c":null},"optimized_out":["a","c"]})") != std::string::npos);
}
