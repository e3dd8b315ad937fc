// Guarantee 2 for jump probes: a writer that finds the ring full waits at
// its trampoline's trap until uptrace has drained the ring, so every hit is
// reported exactly once however far the reader is behind. Rings of a few
// records (UPTRACE_TEST_RING_RECORDS, a test-only setting) keep the ring
// full nearly all the time, so these tests exercise the waiting path on
// every run rather than when the machine happens to be loaded.
#include <signal.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "checks.h"
#include "harness.h"
#include "isa.h"

using namespace itest;

namespace {

// The ring size for uptrace runs started while this lives.
class TinyRing {
 public:
  explicit TinyRing(const char* records) { setenv("UPTRACE_TEST_RING_RECORDS", records, 1); }
  ~TinyRing() { unsetenv("UPTRACE_TEST_RING_RECORDS"); }
  TinyRing(const TinyRing&) = delete;
  TinyRing& operator=(const TinyRing&) = delete;
};

// Every (thread index, round) of counted/gated exactly once, each index named
// by one thread of its own; returns the number of hits.
size_t check_json_hits(const std::string& path, int threads, int64_t rounds) {
  std::map<int64_t, std::set<int64_t>> rounds_by_index, tids_by_index;
  size_t hits = 0;
  for (const std::string& line : lines_of(slurp(path))) {
    auto j = nlohmann::json::parse(line);
    INFO(line);
    REQUIRE(j.contains("args"));
    const int64_t index = j["args"]["i"], round = j["args"]["r"];
    REQUIRE(rounds_by_index[index].insert(round).second);
    tids_by_index[index].insert(j["tid"].get<int64_t>());
    ++hits;
  }
  REQUIRE(rounds_by_index.size() == static_cast<size_t>(threads));
  for (auto& [index, r] : rounds_by_index) {
    INFO("thread index " << index);
    REQUIRE(r.size() == static_cast<size_t>(rounds));
    REQUIRE(tids_by_index[index].size() == 1);
  }
  return hits;
}

}  // namespace

TEST_CASE("jump ring: full all the time, one thread counts every hit", "[jump][ring][mode-specific]" ONLY_JUMP_ISAS) {
  TinyRing ring("2");
  for (const char* mode : {"jump", "auto"}) {
    INFO("--mode " << mode);
    std::string out = temp_path("counts");
    Result r = uptrace({"-c", "-o", out, "--mode", mode, "work", "--", target("counted"), "1", "20000"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    REQUIRE(r.err.find("lost") == std::string::npos);
    REQUIRE(slurp(out) == "work 20000\n");
    unlink(out.c_str());
  }
}

TEST_CASE("jump ring: full all the time, 8 threads report every hit with its values and thread",
          "[jump][ring][mode-specific]" ONLY_JUMP_ISAS) {
  TinyRing ring("4");
  std::string out = temp_path("hits");
  Result r = uptrace({"-q", "--mode", "jump", "--format", "json", "-o", out, "work i=$arg1 r=$arg2", "--",
                      target("counted"), "8", "1500"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.err.empty());
  REQUIRE(check_json_hits(out, 8, 1500) == 12000);
  unlink(out.c_str());
}

TEST_CASE("jump ring: text lines from a full ring are each hit once, in the order the threads made them",
          "[jump][ring][mode-specific]" ONLY_JUMP_ISAS) {
  TinyRing ring("8");
  Result r = uptrace({"-q", "--mode", "jump", "work i=$arg1 r=$arg2", "--", target("counted"), "3", "2000"});
  REQUIRE(r.status == 0);
  std::map<std::string, int64_t> next_round;  // per index: rounds come in order within a thread
  size_t hits = 0;
  for (const std::string& line : r.out_lines()) {
    if (line.rfind("total ", 0) == 0) continue;
    auto i = line.find(" i="), rr = line.find(" r=");
    REQUIRE(i != std::string::npos);
    REQUIRE(rr != std::string::npos);
    const std::string index = line.substr(i + 3, rr - i - 3);
    REQUIRE(std::stoll(line.substr(rr + 3)) == next_round[index]++);
    ++hits;
  }
  REQUIRE(hits == 6000);
}

TEST_CASE("jump ring: threads that come and go while the ring is full lose nothing", "[jump][ring][threads][mode-specific]" ONLY_JUMP_ISAS) {
  TinyRing ring("4");
  std::string out = temp_path("counts");
  Result r = uptrace({"-c", "-o", out, "--mode", "jump", "work", "--", target("churn"), "20", "8", "200"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out == "calls=32000\n");
  REQUIRE(slurp(out) == "work 32000\n");
  unlink(out.c_str());
}

TEST_CASE("jump ring: -n with a full ring reports exactly N", "[jump][ring][mode-specific]" ONLY_JUMP_ISAS) {
  TinyRing ring("2");
  Result r = uptrace({"-q", "--mode", "jump", "-n", "777", "--format", "json", "work i=$arg1", "--", target("counted"),
                      "4", "5000"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(count_lines(r.out, "\"probe\":\"work\"") == 777);
}

TEST_CASE("jump ring: attached, a full ring counts exactly and the target exits as it would", "[jump][ring][attach][mode-specific]" ONLY_JUMP_ISAS) {
  TinyRing ring("4");
  Child gated({target("gated"), "4", "5000"});
  REQUIRE(gated.read_line() == "ready " + std::to_string(gated.pid()));
  Tracer tracer({"-c", "--mode", "jump", "-p", std::to_string(gated.pid()), "work"});
  REQUIRE(tracer.wait_armed());
  gated.signal(SIGUSR1);
  REQUIRE(gated.read_line() == "total 20000");
  REQUIRE(gated.wait() == 0);
  Result r = tracer.finish();
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out == "work 20000\n");
  REQUIRE(r.err.find("lost") == std::string::npos);
}

TEST_CASE("jump ring: detaching while writers wait for room leaves every thread running and the code pristine",
          "[jump][ring][attach][mode-specific]" ONLY_JUMP_ISAS) {
  TinyRing ring("2");
  Child busy({target("busy"), "4", "0"});
  REQUIRE(busy.read_line() == "ready " + std::to_string(busy.pid()));
  Snapshot before = snapshot(busy.pid());
  for (const char* how : {"-d", "-n", "SIGINT"}) {
    INFO(how);
    std::vector<std::string> args{"-q", "-c", "--mode", "jump", "-p", std::to_string(busy.pid()), "work"};
    Result r;
    if (std::string(how) == "SIGINT") {
      Tracer tracer(args);
      REQUIRE(tracer.wait_armed());
      std::this_thread::sleep_for(scaled(std::chrono::milliseconds(300)));
      tracer.signal(SIGINT);
      r = tracer.finish();
    } else {
      args.insert(args.begin(), {how, std::string(how) == "-d" ? "0.3" : "5000"});
      r = uptrace_jump_attach(args);
    }
    INFO(r.err);
    REQUIRE(r.status == 0);
    REQUIRE(r.err.empty());
    REQUIRE(r.out.rfind("work ", 0) == 0);
    if (std::string(how) == "-n") REQUIRE(r.out == "work 5000\n");
    require_untouched(before, busy.pid());
    REQUIRE(busy.alive());
  }
}

TEST_CASE("jump ring: writers that ask the kernel for their thread id, stepped out at detach, are left no SIGTRAP",
          "[jump][ring][mode-specific]" ONLY_X86_64) {
  // Threads whose fs:0 is 0 (as Go's) run the trampoline's gettid syscall
  // after they find room. Detach steps each writer waiting at the full
  // ring over it, and the kernel reports that step as TRAP_BRKPT, not as a
  // step; taken for a signal of the program's, it was handed to the thread
  // as uptrace let it go, and killed the program (as -n 1 did Go's 1 run in
  // 10). The tiny ring has writers waiting at every detach.
  TinyRing ring("2");
  std::string out = temp_path("counts");
  for (const char* mode : {"jump", "auto"})
    for (const char* how : {"-n", "-d"}) {
      INFO("--mode " << mode << " " << how);
      const bool n = std::string(how) == "-n";
      Result r = uptrace({"-q", "-c", "-o", out, "--mode", mode, how, n ? "2000" : "0.2", "work", "--",
                          target("foreign_tls"), "4", "200000"});
      INFO(r.err);
      REQUIRE(r.status == 0);
      REQUIRE(r.out == "total 800000 failed 0\n");
      if (n) REQUIRE(slurp(out) == "work 2000\n");
    }
  unlink(out.c_str());
}

TEST_CASE("jump ring: forked children followed with -f, a full ring in each", "[jump][ring][fork][mode-specific]" ONLY_JUMP_ISAS) {
  TinyRing ring("2");
  std::string out = temp_path("hits");
  Result r = uptrace({"-q", "-f", "--mode", "jump", "--format", "json", "-o", out, "work", "--", target("forker"),
                      "fork", "20"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out == "ok\n");
  // The parent's 20 calls and 3 from each of 20 children.
  std::map<int64_t, size_t> by_pid;
  for (const std::string& line : lines_of(slurp(out))) ++by_pid[nlohmann::json::parse(line)["pid"].get<int64_t>()];
  REQUIRE(by_pid.size() == 21);
  size_t threes = 0, total = 0;
  for (auto& [pid, n] : by_pid) {
    threes += n == 3;
    total += n;
  }
  REQUIRE(threes == 20);
  REQUIRE(total == 80);
  unlink(out.c_str());
}

TEST_CASE("jump ring: vfork children writing to their parent's full ring", "[jump][ring][fork][mode-specific]" ONLY_JUMP_ISAS) {
  TinyRing ring("2");
  std::string out = temp_path("counts");
  for (const char* follow : {"-f", ""}) {
    INFO("follow: " << follow);
    std::vector<std::string> args{"-q", "-c", "-o", out, "--mode", "jump", "work", "--", target("forker"), "vfork", "20"};
    if (*follow) args.insert(args.begin(), follow);
    Result r = uptrace(args);
    REQUIRE(r.status == 0);
    REQUIRE(r.out == "ok\n");
    REQUIRE(slurp(out) == (*follow ? "work 20\n" : "work 0\n"));
  }
  unlink(out.c_str());
}

TEST_CASE("jump ring: signals that find a writer waiting for room get the original pc", "[jump][ring][signals][mode-specific]" ONLY_JUMP_ISAS) {
  TinyRing ring("2");
  std::string out = temp_path("counts");
  Result r = uptrace({"-q", "-c", "-o", out, "--mode", "jump", "work", "--", target("signals"), "3000"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out_lines().size() == 2);
  REQUIRE(r.out_lines()[0] == "handled=3000 outside=0");
  REQUIRE(slurp(out) == "work " + r.out_lines()[1].substr(std::string("calls=").size()) + "\n");
  unlink(out.c_str());
}

TEST_CASE("jump ring: detaching over and over while writers wait for room never leaves a thread in a trampoline",
          "[jump][ring][attach][mode-specific]" ONLY_JUMP_ISAS) {
  // With 2 records and 8 writers, a thread that reserved a record and was
  // stopped before publishing it holds the ring full for the others: they
  // can only be stepped out after it, whatever order detach takes them in.
  TinyRing ring("2");
  Child busy({target("busy"), "8", "0"});
  REQUIRE(busy.read_line() == "ready " + std::to_string(busy.pid()));
  Snapshot before = snapshot(busy.pid());
  for (int round = 0; round < 15; ++round) {
    INFO("round " << round);
    Result r = uptrace_jump_attach({"-c", "--mode", "jump", "-d", "0.05", "-p", std::to_string(busy.pid()), "work"});
    REQUIRE(r.status == 0);
    REQUIRE(r.err.find("warning") == std::string::npos);
    require_untouched(before, busy.pid());
    REQUIRE(busy.alive());
  }
}
