// Jump mode on riscv64 (arch/riscv64/jump.h): its trampolines displace one
// 4-byte instruction, and the targets' function entries are compressed
// (2-byte) ones, so the shared jump tests (ONLY_JUMP_ISAS), which probe
// `work` at its entry, are skipped here; these probe the first 4-byte
// instruction of `work`, which --explain finds. Kept few and short: they run
// in the riscv64 VM stage under TCG.
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

// The first place in `func` of `target` that --mode jump takes.
std::string jump_site(const std::string& target_path, const std::string& func) {
  for (int offset = 0; offset <= 0x20; offset += 2) {
    const std::string site = offset ? func + "+" + std::to_string(offset) : func;
    Result ex = uptrace({"--explain", "--mode", "jump", "-x", target_path, site});
    if (ex.status == 0) return site;
  }
  return func;
}

// "work+0x8" as uptrace prints the probe "work+8".
std::string printed(const std::string& site) {
  const auto plus = site.find('+');
  if (plus == std::string::npos) return site;
  char buf[32];
  snprintf(buf, sizeof buf, "+0x%x", std::stoi(site.substr(plus + 1)));
  return site.substr(0, plus) + buf;
}

class TinyRing {
 public:
  explicit TinyRing(const char* records) { setenv("UPTRACE_TEST_RING_RECORDS", records, 1); }
  ~TinyRing() { unsetenv("UPTRACE_TEST_RING_RECORDS"); }
  TinyRing(const TinyRing&) = delete;
  TinyRing& operator=(const TinyRing&) = delete;
};

}  // namespace

TEST_CASE("riscv64 jump: --explain jumps a 4-byte instruction and a compressed entry with the next one",
          "[jump][riscv64]" ONLY_RISCV64) {
  Result entry = uptrace({"--explain", "--mode", "jump", "-x", target("counted"), "work"});
  INFO(entry.out << entry.err);
  REQUIRE(entry.status == 0);
  REQUIRE(entry.out.find("  mode:        jump: the 2-byte instruction at the site and the ") != std::string::npos);
  // The first 4-byte instruction.
  std::string site;
  for (int offset = 2; offset <= 0x20 && site.empty(); offset += 2) {
    Result ex = uptrace({"--explain", "--mode", "jump", "-x", target("counted"), "work+" + std::to_string(offset)});
    if (ex.status == 0 && ex.out.find("  mode:        jump: the instruction at the site becomes a jal") != std::string::npos)
      site = "work+" + std::to_string(offset);
  }
  REQUIRE(!site.empty());
  Result ex = uptrace({"--explain", "-x", target("counted"), site + " i=$arg1"});
  INFO(ex.out << ex.err);
  REQUIRE(ex.status == 0);
  REQUIRE(count_lines(ex.out, "  mode:        jump: ") == 1);
}

TEST_CASE("riscv64 jump: 8 threads through a full ring, every hit once with its values and its own thread",
          "[jump][ring][riscv64]" ONLY_RISCV64) {
  TinyRing ring("4");
  const std::string site = jump_site(target("counted"), "work");
  std::string out = temp_path("hits");
  Result r = uptrace({"-q", "--mode", "jump", "--format", "json", "-o", out, site + " i=$arg1 r=$arg2", "--",
                      target("counted"), "8", "300"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.err.empty());
  std::map<int64_t, std::set<int64_t>> rounds_by_index, tids_by_index;
  std::set<int64_t> tids;
  int64_t last_time = -1;
  for (const std::string& line : lines_of(slurp(out))) {
    auto j = nlohmann::json::parse(line);
    INFO(line);
    REQUIRE(j["probe"] == printed(site));
    const int64_t index = j["args"]["i"], round = j["args"]["r"];
    REQUIRE(rounds_by_index[index].insert(round).second);
    tids_by_index[index].insert(j["tid"].get<int64_t>());
    tids.insert(j["tid"].get<int64_t>());
    REQUIRE(j["time_ns"].get<int64_t>() >= 0);
    last_time = std::max(last_time, j["time_ns"].get<int64_t>());
  }
  REQUIRE(rounds_by_index.size() == 8);
  for (auto& [index, rounds] : rounds_by_index) {
    INFO("thread index " << index);
    REQUIRE(rounds.size() == 300);
    REQUIRE(tids_by_index[index].size() == 1);
  }
  REQUIRE(tids.size() == 8);
  REQUIRE(last_time > 0);
  unlink(out.c_str());
}

TEST_CASE("riscv64 jump: signals that find threads in the trampoline get the original pc, every hit counted",
          "[jump][ring][signals][riscv64]" ONLY_RISCV64) {
  TinyRing ring("2");
  const std::string site = jump_site(target("signals"), "work");
  std::string out = temp_path("counts");
  Result r = uptrace({"-q", "-c", "-o", out, "--mode", "jump", site, "--", target("signals"), "1000"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out_lines().size() == 2);
  REQUIRE(r.out_lines()[0] == "handled=1000 outside=0");
  REQUIRE(slurp(out) == printed(site) + " " + r.out_lines()[1].substr(std::string("calls=").size()) + "\n");
  unlink(out.c_str());
}

TEST_CASE("riscv64 jump: attached to busy threads at a compressed entry, every thread runs on and the code is pristine",
          "[jump][attach][riscv64]" ONLY_RISCV64) {
  // busy's work starts with a 2-byte instruction: the jal covers the next one too.
  Child busy({target("busy"), "4", "0"});
  REQUIRE(busy.read_line() == "ready " + std::to_string(busy.pid()));
  Snapshot before = snapshot(busy.pid());
  for (const char* how : {"-d", "-n"}) {
    INFO(how);
    const bool n = std::string(how) == "-n";
    Result r =
        uptrace_jump_attach({how, n ? "2000" : "0.3", "-q", "-c", "--mode", "jump", "-p", std::to_string(busy.pid()), "work"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    REQUIRE(r.err.empty());
    REQUIRE(r.out.rfind("work ", 0) == 0);
    if (n) REQUIRE(r.out == "work 2000\n");
    require_untouched(before, busy.pid());
    REQUIRE(busy.alive());
  }
}

TEST_CASE("riscv64 jump: detaching while writers wait for room leaves every thread running and the code pristine",
          "[jump][ring][attach][riscv64]" ONLY_RISCV64) {
  TinyRing ring("2");
  const std::string site = jump_site(target("busy"), "work");
  Child busy({target("busy"), "4", "0"});
  REQUIRE(busy.read_line() == "ready " + std::to_string(busy.pid()));
  Snapshot before = snapshot(busy.pid());
  for (const char* how : {"-d", "-n"}) {
    INFO(how);
    const bool n = std::string(how) == "-n";
    Result r = uptrace({how, n ? "2000" : "0.3", "-q", "-c", "--mode", "jump", "-p", std::to_string(busy.pid()), site});
    INFO(r.err);
    REQUIRE(r.status == 0);
    REQUIRE(r.err.empty());
    REQUIRE(r.out.rfind(printed(site) + " ", 0) == 0);
    if (n) REQUIRE(r.out == printed(site) + " 2000\n");
    require_untouched(before, busy.pid());
    REQUIRE(busy.alive());
  }
}
