// --format chrome and --format folded, written from hits made here: the
// exact events and lines, and that the chrome file is one JSON document.
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cmd/output.h"
#include "cmd/output_detail.h"

using uptrace::FetchedValue;
using uptrace::FetchType;
using uptrace::Hit;
using uptrace::ProbeLabel;
using uptrace::RuntimeAddr;
using uptrace::cmd::HitWriter;
using uptrace::cmd::OutputFormat;

namespace {

class Capture {
 public:
  Capture() : fd_(memfd_create("uptrace-export-test", MFD_CLOEXEC)) { REQUIRE(fd_ >= 0); }
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

// pid 0 has no /proc entry: the names are the fallbacks, the same anywhere.
Hit hit_at(uint64_t time_ns, uint32_t probe, int tid, std::vector<FetchedValue> values = {}) {
  Hit h;
  h.time_ns = time_ns;
  h.pid = 0;
  h.tid = tid;
  h.probe = probe;
  h.addr = RuntimeAddr(0x401136);
  h.values = std::move(values);
  return h;
}

FetchedValue s64(int64_t v) {
  FetchedValue f;
  f.type = FetchType::S64;
  f.bits = static_cast<uint64_t>(v);
  return f;
}

}  // namespace

TEST_CASE("chrome: a return and its entry are one complete event, other hits instants, names once", "[output]") {
  Capture out;
  {
    auto w = HitWriter::create(OutputFormat::Chrome, false, out.fd(),
                               {{"work", {"n"}}, {"work%return", {"retval"}}, {"libc:malloc%return", {}}});
    REQUIRE(w->hit(hit_at(1'000'500, 0, 7, {s64(-3)})));
    Hit ret = hit_at(3'250'001, 1, 7, {s64(42)});
    ret.entry_time_ns = 1'000'400;
    REQUIRE(w->hit(ret));
    // A return whose entry is not known is an instant, under its own name.
    REQUIRE(w->hit(hit_at(4'000'000, 2, 8)));
    REQUIRE(w->lost(0, 5, "the ring was gone"));
    REQUIRE(w->finish({}));
  }
  const std::string text = out.text();
  INFO(text);
  CHECK(text == "[\n"
                R"({"name":"process_name","ph":"M","pid":0,"tid":0,"args":{"name":"pid 0"}},)" "\n"
                R"({"name":"thread_name","ph":"M","pid":0,"tid":7,"args":{"name":"tid 7"}},)" "\n"
                R"({"name":"work","cat":"uptrace","ph":"i","s":"t","ts":1000.500,"pid":0,"tid":7,"args":{"n":-3}},)" "\n"
                R"({"name":"work","cat":"uptrace","ph":"X","ts":1000.400,"dur":2249.601,"pid":0,"tid":7,"args":{"retval":42}},)" "\n"
                R"({"name":"thread_name","ph":"M","pid":0,"tid":8,"args":{"name":"tid 8"}},)" "\n"
                R"({"name":"libc:malloc%return","cat":"uptrace","ph":"i","s":"t","ts":4000.000,"pid":0,"tid":8,"args":{}},)" "\n"
                R"({"name":"uptrace: 5 hits lost","cat":"uptrace","ph":"i","s":"g","ts":4000.000,"pid":0,"tid":0,"args":{"lost":5,"reason":"the ring was gone"}})" "\n"
                "]\n");
  nlohmann::json doc = nlohmann::json::parse(text);
  REQUIRE(doc.is_array());
  CHECK(doc.size() == 7);
}

TEST_CASE("chrome: no hits is an empty array, --stack frames go with the values", "[output]") {
  {
    Capture out;
    {
      auto w = HitWriter::create(OutputFormat::Chrome, false, out.fd(), {{"work", {}}});
      REQUIRE(w->finish({}));
    }
    CHECK(out.text() == "[\n]\n");
    CHECK(nlohmann::json::parse(out.text()).empty());
  }
  Capture out;
  {
    auto w = HitWriter::create(OutputFormat::Chrome, false, out.fd(), {{"work", {}}, {"work", {"n"}}, {"x", {"stack"}}});
    Hit bare = hit_at(1000, 0, 3);
    bare.stack = {"work+0x0 (/bin/app)", "main+0x1c (/bin/app)"};
    REQUIRE(w->hit(bare));
    Hit valued = hit_at(2000, 1, 3, {s64(1)});
    valued.stack = {"work+0x0 (/bin/app)"};
    REQUIRE(w->hit(valued));
    // A value named "stack" keeps the key.
    Hit clash = hit_at(3000, 2, 3, {s64(9)});
    clash.stack = {"x+0x0 (/bin/app)"};
    REQUIRE(w->hit(clash));
    REQUIRE(w->finish({}));
  }
  nlohmann::json doc = nlohmann::json::parse(out.text());
  REQUIRE(doc.size() == 5);
  CHECK(doc[2]["args"] == nlohmann::json::parse(R"j({"stack":["work+0x0 (/bin/app)","main+0x1c (/bin/app)"]})j"));
  CHECK(doc[3]["args"] == nlohmann::json::parse(R"j({"n":1,"stack":["work+0x0 (/bin/app)"]})j"));
  CHECK(doc[4]["args"] == nlohmann::json::parse(R"j({"stack":9})j"));
}

TEST_CASE("folded: a frame is its function's name, its module's without one", "[output]") {
  using uptrace::cmd::detail::folded_frame;
  CHECK(folded_frame("parse+0x4 (/usr/bin/app)") == "parse");
  CHECK(folded_frame("ns::Bar::run+0x10 (/usr/bin/app)") == "ns::Bar::run");
  CHECK(folded_frame("operator+<int>+0x8 (/usr/bin/app)") == "operator+<int>");
  CHECK(folded_frame("0x7f12345 (/usr/lib/x86_64-linux-gnu/libc.so.6)") == "[libc.so.6]");
  CHECK(folded_frame("0x7f12345") == "[unknown]");
  CHECK(folded_frame("a;b+0x1 (/x)") == "a:b");
}

TEST_CASE("folded: one line per distinct stack, outermost first, ending in the probe, sorted", "[output]") {
  Capture out;
  {
    auto w = HitWriter::create(OutputFormat::Folded, false, out.fd(), {{"fib", {}}, {"libc:write", {}}});
    auto with_stack = [](uint32_t probe, std::vector<std::string> stack) {
      Hit h = hit_at(1, probe, 1);
      h.stack = std::move(stack);
      return h;
    };
    const Hit outer = with_stack(0, {"fib+0x0 (/t)", "main+0x20 (/t)", "_start+0x2a (/t)"});
    const Hit inner = with_stack(0, {"fib+0x0 (/t)", "fib+0x1b (/t)", "main+0x20 (/t)", "_start+0x2a (/t)"});
    REQUIRE(w->hit(inner));
    REQUIRE(w->hit(outer));
    REQUIRE(w->hit(inner));
    REQUIRE(w->hit(with_stack(1, {"0x7f00 (/lib/libc.so.6)", "main+0x30 (/t)"})));
    REQUIRE(w->hit(with_stack(1, {})));
    CHECK(w->lost(1, 3, "gone"));
    CHECK(out.text().empty());  // nothing until the end
    REQUIRE(w->finish({}));
  }
  // The entry probe's own function is the innermost frame, then the probe.
  CHECK(out.text() == "_start;main;fib;fib 1\n"
                      "_start;main;fib;fib;fib 2\n"
                      "libc:write 1\n"
                      "main;[libc.so.6];libc:write 1\n");
}
