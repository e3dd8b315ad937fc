// riscv64: probes on every class of instruction of riscv64_insns.S, 2- and
// 4-byte: compressed and full-size branches and jumps, jalr with and without
// a link, auipc, plain instructions, an lr/sc loop (refused inside) and the
// program's own ebreaks. The driver (tests/targets/riscv64_driver.c) checks
// every result against a C model, so a wrongly executed instruction shows up
// in its output, which must be byte-identical with and without uptrace; the
// counts must be exact (SPEC.md Guarantee 2).
//
// --explain -x and --list -x read the file without running it, so those
// tests run on every host that has the driver: on riscv64 it is built with
// the targets, elsewhere cross-built when riscv64-linux-gnu-gcc is there
// (tests/targets/extra.cmake); without it they say they are skipped.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <utility>

#include "checks.h"
#include "harness.h"
#include "isa.h"

using namespace itest;

namespace {

const std::string kDriver = target("riscv64_driver");

bool have_driver() {
  if (access(kDriver.c_str(), R_OK) == 0) return true;
  WARN("skipped: no riscv64 build of the driver (" + kDriver + "); install gcc-riscv64-linux-gnu and rebuild");
  return false;
}

// How often a site runs in `rounds` rounds of the driver (x = i % 3 - 1,
// y = i % 2 - 1 in round i).
enum class Count { PerRound, HelperCalls, XIsZero, XEqualsY };

long expected_hits(Count c, long rounds) {
  long n = 0;
  for (long i = 0; i < rounds; ++i) {
    const long x = i % 3 - 1, y = i % 2 - 1;
    switch (c) {
      case Count::PerRound: n += 1; break;
      case Count::HelperCalls: n += 5; break;  // itself, rv_jal, rv_jalr, rv_cjalr, rv_cjr
      case Count::XIsZero: n += x == 0; break;
      case Count::XEqualsY: n += x == y; break;
    }
  }
  return n;
}

// One probe site per class. `insn` is how the instruction at the site
// starts in uptrace's disassembly (proves FUNC+OFF is the documented
// instruction); `mode` is what --mode auto picks (boost wherever the copy
// can run free: the driver is small, so its slots are within jal's 1 MiB).
struct Site {
  const char* probe;
  const char* shown;  // as printed (offsets in 0x-hex)
  const char* insn;
  const char* mode;
  unsigned length;
  Count count = Count::PerRound;
};

// The mode auto picks where uptrace could place the slot within jal's
// reach, as --explain -x assumes: jump for a 4-byte instruction that runs
// the same anywhere, or auipc.
const std::vector<Site>& sites() {
  static const std::vector<Site> all = {
      {"rv_cbeqz", "rv_cbeqz", "beqz a0, ", "emulate", 2},
      {"rv_cbeqz+6", "rv_cbeqz+0x6", "li a0, 10", "boost", 2, Count::XIsZero},
      {"rv_cbnez", "rv_cbnez", "bnez a0, ", "emulate", 2},
      {"rv_beq", "rv_beq", "beq a0, a1, ", "emulate", 4},
      {"rv_beq+12", "rv_beq+0xc", "li a0, 10", "jump", 4, Count::XEqualsY},
      {"rv_blt", "rv_blt", "blt a0, a1, ", "emulate", 4},
      {"rv_bgeu", "rv_bgeu", "bgeu a0, a1, ", "emulate", 4},
      {"rv_cj", "rv_cj", "j ", "emulate", 2},
      {"rv_cj+4", "rv_cj+0x4", "addi a0, a0, 4", "boost", 2},
      {"rv_helper", "rv_helper", "slli t0, a0, 0x1", "jump", 4, Count::HelperCalls},
      {"rv_helper+8", "rv_helper+0x8", "ret", "emulate", 4, Count::HelperCalls},
      {"rv_jal+8", "rv_jal+0x8", "jal ", "emulate", 4},
      {"rv_jalr+12", "rv_jalr+0xc", "jalr t1", "emulate", 4},
      {"rv_cjalr+4", "rv_cjalr+0x4", "jalr a1", "emulate", 2},
      {"rv_cjalr+12", "rv_cjalr+0xc", "ret", "emulate", 2},
      {"rv_cjr", "rv_cjr", "jr a1", "emulate", 2},
      {"rv_jr_off", "rv_jr_off", "auipc t1, 0x0", "jump", 4},
      {"rv_jr_off+4", "rv_jr_off+0x4", "jr 20(t1)", "emulate", 4},
      {"rv_jr_off+20", "rv_jr_off+0x14", "addi a0, a0, 5", "jump", 4},
      {"rv_auipc", "rv_auipc", "auipc a0, 0x0", "jump", 4},
      {"rv_pcrel", "rv_pcrel", "auipc a0, ", "jump", 4},
      {"rv_pcrel+4", "rv_pcrel+0x4", "ld a0, ", "jump", 4},
      {"rv_lrsc+16", "rv_lrsc+0x10", "mv a0, t0", "jump", 4},
      {"rv_lrsc_d+14", "rv_lrsc_d+0xe", "mv a0, t0", "boost", 2},
      {"rv_ebreak+2", "rv_ebreak+0x2", "addi a0, a0, 7", "boost", 2},
      // A 2-byte site jumps, displacing the next instruction too
      // (arch/riscv64/jump_targets.h). --explain looks at one probe at a
      // time; armed with rv_plain+2 (below), rv_plain is boosted instead,
      // as that probe is inside its jal.
      {"rv_plain", "rv_plain", "addi a0, a0, 1", "jump", 2},
      {"rv_plain+2", "rv_plain+0x2", "addi a0, a0, 2", "jump", 4},
      {"rv_cframe", "rv_cframe", "addi sp, sp, -16", "jump", 2},
  };
  return all;
}

// Sites refused, with the start of the reason.
struct Refused {
  const char* probe;
  const char* insn;
  const char* reason;
};

const std::vector<Refused>& refused_sites() {
  static const std::vector<Refused> all = {
      {"rv_lrsc", "lr.w t0, (a0)", "lr.w is a load-reserved"},
      {"rv_lrsc+4", "add t1, t0, a1",
       "inside a load-reserved/store-conditional sequence (opened by the lr.w at +0x0)"},
      {"rv_lrsc+8", "sc.w t2, t1, (a0)", "sc.w is a store-conditional"},
      {"rv_lrsc_d", "lr.d.aqrl t0, (a0)", "lr.d is a load-reserved"},
      {"rv_lrsc_d+4", "add t0, t0, a1",
       "inside a load-reserved/store-conditional sequence (opened by the lr.d at +0x0)"},
      {"rv_lrsc_d+6", "sc.d.rl t2, t0, (a0)", "sc.d is a store-conditional"},
      {"rv_ebreak", "ebreak", "c.ebreak is already a breakpoint instruction"},
      {"rv_ebreak4", "ebreak", "ebreak is already a breakpoint instruction"},
  };
  return all;
}

// Untraced output of the driver for `rounds` rounds; checks it is sane.
const std::string& untraced_output(long rounds) {
  static std::map<long, std::string> cache;
  auto it = cache.find(rounds);
  if (it != cache.end()) return it->second;
  Result plain = run({kDriver, std::to_string(rounds)});
  INFO(plain.out << plain.err);
  REQUIRE(plain.status == 0);
  REQUIRE(plain.out.find("\nmismatches 0\n") != std::string::npos);
  REQUIRE(plain.out.find("\nebreaks " + std::to_string(2 * rounds) + "\n") != std::string::npos);
  return cache[rounds] = plain.out;
}

// `only_steppable`: the sites auto boosts, and auipc, which --mode trap
// steps too.
void all_classes_at_once(const std::vector<std::string>& mode_args, bool only_steppable, bool only_boostable = false) {
  const long rounds = 60;
  const std::string& expected_out = untraced_output(rounds);
  std::string counts = temp_path("counts");
  std::vector<std::string> args = mode_args;
  for (const std::string& a : {std::string("-c"), std::string("-o"), counts}) args.push_back(a);
  std::string want;
  size_t probes = 0;
  for (const Site& s : sites()) {
    // A 4-byte site auto jumps is boosted where jump is not asked for, but auipc.
    const bool auipc = std::string(s.insn).rfind("auipc", 0) == 0;
    const bool boosted = std::string(s.mode) == "boost" || (std::string(s.mode) == "jump" && !auipc);
    if (only_steppable && !boosted && !auipc) continue;
    if (only_boostable && !boosted) continue;
    args.push_back(s.probe);
    want += std::string(s.shown) + " " + std::to_string(expected_hits(s.count, rounds)) + "\n";
    ++probes;
  }
  args.push_back("--");
  args.push_back(kDriver);
  args.push_back(std::to_string(rounds));
  Result r = uptrace(args);
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out == expected_out);
  REQUIRE(slurp(counts) == want);
  auto err = r.err_lines();
  REQUIRE(err.size() == 1);
  REQUIRE(std::regex_match(err[0], std::regex("uptrace: " + std::to_string(probes) + " probes armed in pid [0-9]+")));
  unlink(counts.c_str());
}

}  // namespace

TEST_CASE("riscv64: --explain -x names each site's instruction and the mode auto picks", "[riscv64][explain]") {
  if (!have_driver()) return;
  std::vector<std::string> args{"--explain", "--format", "json", "-x", kDriver};
  for (const Site& s : sites()) args.push_back(s.probe);
  Result r = uptrace(args);
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  auto lines = r.out_lines();
  REQUIRE(lines.size() == sites().size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const Site& s = sites()[i];
    INFO(s.probe << ": " << lines[i]);
    auto j = nlohmann::json::parse(lines[i]);
    CHECK(j["probe"] == s.shown);
    CHECK(j["insn"].get<std::string>().rfind(s.insn, 0) == 0);
    CHECK(j["mode"] == s.mode);
    CHECK(j["refused"].is_null());
    // "19 c1" or "13 05 a0 00": the instruction's bytes.
    CHECK(j["bytes"].get<std::string>().size() == 3 * s.length - 1);
  }
}

TEST_CASE("riscv64: --explain -x refuses sites in the lr/sc loops and the program's own ebreaks",
          "[riscv64][explain]") {
  if (!have_driver()) return;
  for (const Refused& s : refused_sites()) {
    INFO(s.probe);
    Result r = uptrace({"--explain", "--format", "json", "-x", kDriver, s.probe});
    INFO(r.out << r.err);
    CHECK(r.status == 1);
    auto lines = r.out_lines();
    REQUIRE(lines.size() == 1);
    auto j = nlohmann::json::parse(lines[0]);
    CHECK(j["insn"] == s.insn);
    CHECK(j["mode"].is_null());
    CHECK(j["refused"].get<std::string>().rfind(s.reason, 0) == 0);
  }
  // The instruction after the sc is outside the sequence.
  Result after = uptrace({"--explain", "-x", kDriver, "rv_lrsc+12", "rv_lrsc_d+10"});
  INFO(after.out << after.err);
  CHECK(after.status == 0);
  CHECK(count_lines(after.out, "  mode:        emulate: emulated: bnez (jump to ") == 2);
}

TEST_CASE("riscv64: --explain -x of a site inside a 4-byte instruction names the boundaries", "[riscv64][explain]") {
  if (!have_driver()) return;
  Result r = uptrace({"--explain", "-x", kDriver, "rv_beq+2"});
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  CHECK(r.out.find("rv_beq+0x2 is inside the instruction at +0x0 (beq a0, a1, ") != std::string::npos);
  CHECK(r.out.find(", 4 bytes); nearest boundaries +0x0, +0x4") != std::string::npos);
}

TEST_CASE("riscv64: --list -x lists the assembly functions with their sizes", "[riscv64][explain]") {
  if (!have_driver()) return;
  Result r = uptrace({"--list", "rv_*", "-x", kDriver});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  const std::map<std::string, unsigned> sizes = {{"rv_cbeqz", 10}, {"rv_beq", 20}, {"rv_cj", 8},
                                                 {"rv_cjr", 2},    {"rv_lrsc", 24}, {"rv_lrsc_d", 18},
                                                 {"rv_plain", 8}};
  for (const auto& [name, size] : sizes) {
    INFO(name);
    bool found = false;
    for (const std::string& line : r.out_lines()) {
      std::smatch m;
      if (std::regex_match(line, m, std::regex(name + " 0x[0-9a-f]+ ([0-9]+) .*target-riscv64_driver"))) {
        found = true;
        CHECK(std::stoul(m[1]) == size);
      }
    }
    CHECK(found);
  }
}

TEST_CASE("riscv64 insns: the driver is deterministic and self-checking", "[riscv64]" ONLY_RISCV64) {
  Result a = run({kDriver, "60"});
  Result b = run({kDriver, "60"});
  REQUIRE(a.status == 0);
  REQUIRE(a.out == b.out);
  auto lines = a.out_lines();
  REQUIRE(lines.size() == 20 + 2);
  REQUIRE(lines[20] == "ebreaks 120");
  REQUIRE(lines.back() == "mismatches 0");
}

TEST_CASE("riscv64 insns: all classes at once give the same output and exact counts", "[riscv64]" ONLY_RISCV64) {
  all_classes_at_once({"--mode", "auto"}, false);
}

TEST_CASE("riscv64 insns: every steppable class with --mode trap gives the same output and exact counts",
          "[riscv64]" ONLY_RISCV64) {
  all_classes_at_once({"--mode", "trap"}, true);
}

TEST_CASE("riscv64 insns: every boostable class with --mode boost gives the same output and exact counts",
          "[riscv64][boost]" ONLY_RISCV64) {
  all_classes_at_once({"--mode", "boost"}, false, true);
}

TEST_CASE("riscv64 insns: --mode boost refuses what it cannot boost, with the reason", "[riscv64][boost]" ONLY_RISCV64) {
  struct Case {
    const char* probe;
    const char* reason;
  };
  const Case cases[] = {
      {"rv_auipc", "cannot boost: auipc computes from its own address"},
      {"rv_beq", "cannot boost: beq transfers control: run from the slot"},
      {"rv_cj", "cannot boost: c.j transfers control: run from the slot"},
  };
  for (const Case& c : cases) {
    INFO(c.probe);
    Result r = uptrace({"--mode", "boost", c.probe, "--", kDriver, "1"});
    INFO(r.out << r.err);
    CHECK(r.status == 1);
    CHECK(r.err.find(c.reason) != std::string::npos);
  }
}

TEST_CASE("riscv64 insns: the program's own ebreaks reach it while it is traced, and cannot be probed",
          "[riscv64]" ONLY_RISCV64) {
  const long rounds = 20;
  // Probes right before and after them: uptrace's c.ebreaks beside the program's.
  Result r = uptrace({"-c", "rv_ebreak+2", "rv_ebreak4+4", "--", kDriver, std::to_string(rounds)});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("ebreaks " + std::to_string(2 * rounds) + "\n") != std::string::npos);
  CHECK(r.out.find("rv_ebreak+0x2 " + std::to_string(rounds) + "\n") != std::string::npos);
  CHECK(r.out.find("rv_ebreak4+0x4 " + std::to_string(rounds) + "\n") != std::string::npos);

  Result refused = uptrace({"-c", "rv_ebreak", "--", kDriver, "1"});
  CHECK(refused.status == 1);
  CHECK(refused.err.find("c.ebreak is already a breakpoint instruction") != std::string::npos);
}

TEST_CASE("riscv64 insns: %return of a leaf and of a function that saves ra", "[riscv64][return]" ONLY_RISCV64) {
  // rv_jal(x) = 3x + 1 for x = -1, 0, 1: its prologue saves ra (CFI), and it
  // calls rv_helper, a leaf that returns with ra where it came in.
  Result r = uptrace({"rv_jal%return r=$retval:s64", "rv_helper%return h=$retval:s64", "--", kDriver, "3"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  std::vector<std::string> jal, helper;
  for (const std::string& line : r.out_lines()) {
    std::smatch m;
    if (std::regex_search(line, m, std::regex(" rv_jal%return r=(-?[0-9]+)"))) jal.push_back(m[1]);
    if (std::regex_search(line, m, std::regex(" rv_helper%return h=(-?[0-9]+)"))) helper.push_back(m[1]);
  }
  CHECK(jal == std::vector<std::string>{"-2", "1", "4"});
  // 5 calls per round: x*3 each time.
  CHECK(helper.size() == 15);
  CHECK(r.out.find("mismatches 0\n") != std::string::npos);
}

TEST_CASE("riscv64: a file of another float ABI is refused by name", "[riscv64][explain]") {
  if (!have_driver()) return;
  // The driver with its e_flags (offset 48 of the ELF64 header) changed from
  // RVC | double-float (0x5) to RVC | single-float (0x3).
  std::string bytes = slurp(kDriver);
  REQUIRE(bytes.size() > 64);
  REQUIRE(static_cast<uint8_t>(bytes[48]) == 0x5);
  bytes[48] = 0x3;
  const std::string copy = temp_path("lp64f");
  std::ofstream(copy, std::ios::binary) << bytes;
  for (const char* what : {"--explain", "--list"}) {
    INFO(what);
    Result r = std::string(what) == "--list" ? uptrace({"--list", "-x", copy}) : uptrace({"--explain", "-x", copy, "rv_cj"});
    CHECK(r.status == 1);
    REQUIRE(r.err_lines().size() == 1);
    CHECK(r.err_lines()[0] == "uptrace: " + copy +
                                  " is a riscv64 file for the lp64f (single-float) ABI (e_flags 0x3), not lp64d, "
                                  "which uptrace does not know; hint: uptrace probes riscv64 ELF files for 64-bit "
                                  "little-endian Linux (lp64d ABI)");
  }
  unlink(copy.c_str());
}

TEST_CASE("riscv64: --explain -x of %return names ra and the prologue's save slot from the CFI", "[riscv64][explain][return]") {
  if (!have_driver()) return;
  Result r = uptrace({"--explain", "-x", kDriver, "rv_jal%return $retval:s64", "rv_helper%return"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(count_lines(r.out, "  return:      at entry, the return address (ra) is replaced by uptrace's return trampoline") ==
        2);
  // rv_jal: addi sp, sp, -16; sd ra, 8(sp) (CFI: CFA = sp + 16, ra at CFA - 8 from +0x8).
  CHECK(r.out.find("the prologue saves ra at [entry sp-0x8] from +0x8 (CFI: CFA-0x8)") != std::string::npos);
  // rv_helper, a leaf.
  CHECK(r.out.find("ra holds it all through: the CFI of rv_helper never saves it") != std::string::npos);
}

TEST_CASE("riscv64: --explain -x of a jump at a 2-byte site names both displaced instructions, or why not",
          "[riscv64][explain][jump]") {
  if (!have_driver()) return;
  Result r = uptrace({"--explain", "--mode", "jump", "-x", kDriver, "rv_cframe", "rv_plain"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("the 2-byte instruction at the site and the c.sdsp after it become a jal to a trampoline") !=
        std::string::npos);
  CHECK(r.out.find("a fault in the c.sdsp is delivered at the site, with the c.addi undone (sp +16)") != std::string::npos);
  CHECK(r.out.find("the 2-byte instruction at the site and the addi after it become a jal and a c.nop to a trampoline") !=
        std::string::npos);
  // c.addi a0, 4 then c.jr ra: the return cannot run from the trampoline.
  Result refused = uptrace({"--explain", "--mode", "jump", "-x", kDriver, "rv_cj+4"});
  INFO(refused.out << refused.err);
  CHECK(refused.status == 1);
  CHECK(refused.out.find("cannot jump: a 2-byte (compressed) instruction, so the 4-byte jal would cover the next one "
                         "too, which cannot be displaced: c.jr transfers control") != std::string::npos);
}

TEST_CASE("riscv64 insns: jumps at 2-byte function entries give the same output and exact counts",
          "[riscv64][jump]" ONLY_RISCV64) {
  // rv_cframe: c.addi sp then c.sdsp (2 + 2 bytes); rv_plain: c.addi a0
  // then a 4-byte addi (2 + 4: the jal and a c.nop).
  const long rounds = 60;
  const std::string& expected_out = untraced_output(rounds);
  const std::string counts = temp_path("counts");
  Result r = uptrace({"--mode", "jump", "-c", "-o", counts, "rv_cframe", "rv_plain", "--", kDriver,
                      std::to_string(rounds)});
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out == expected_out);
  CHECK(slurp(counts) == "rv_cframe 60\nrv_plain 60\n");
  unlink(counts.c_str());
}

TEST_CASE("riscv64 insns: attached while the program may be in its own SIGTRAP handler, every mode leaves it running",
          "[riscv64][jump][attach]" ONLY_RISCV64) {
  // The driver runs its SIGTRAP handler twice a round, so an attach often
  // stops it there, with SIGTRAP blocked; a trap uptrace's own system calls
  // ran into then made the kernel reset that handler, and the program's
  // next ebreak killed it.
  Child driver({kDriver, "forever"});
  REQUIRE(driver.read_line() == "ready " + std::to_string(driver.pid()));
  const Snapshot before = snapshot(driver.pid());
  REQUIRE(catches_sigtrap(driver.pid()));
  for (const char* mode : {"jump", "boost", "trap"}) {
    // Each site as given and as printed.
    for (auto [site, shown] : {std::pair{"rv_cframe", "rv_cframe"}, std::pair{"rv_plain+2", "rv_plain+0x2"},
                               std::pair{"rv_jr_off+20", "rv_jr_off+0x14"}}) {
      INFO(mode << " " << site);
      Result r = uptrace({"-q", "-c", "-n", "300", "--mode", mode, "-p", std::to_string(driver.pid()), site});
      INFO(r.err);
      REQUIRE(r.status == 0);
      REQUIRE(r.err.empty());
      CHECK(r.out == std::string(shown) + " 300\n");
      // Its next rounds run its own ebreaks.
      usleep(100000);
      REQUIRE(driver.alive());
      REQUIRE(catches_sigtrap(driver.pid()));
      require_untouched(before, driver.pid());
    }
  }
}

namespace {

// Attached to the driver running rounds for ever: `sites` jumped for 0.3 s
// three times; each counted, its code as before after each detach.
void attach_rounds(const std::vector<std::string>& sites) {
  Child driver({kDriver, "forever"});
  REQUIRE(driver.read_line() == "ready " + std::to_string(driver.pid()));
  Snapshot before = snapshot(driver.pid());
  for (int round = 0; round < 3; ++round) {
    const std::string out = temp_path("counts");
    std::vector<std::string> args{"-q", "-c", "-o", out, "--mode", "jump", "-d", "0.3", "-p", std::to_string(driver.pid())};
    args.insert(args.end(), sites.begin(), sites.end());
    Result r = uptrace(args);
    INFO(r.err);
    REQUIRE(r.status == 0);
    REQUIRE(driver.alive());
    // Each runs once per round of the driver: counted within one of each other.
    const auto counts = lines_of(slurp(out));
    unlink(out.c_str());
    REQUIRE(counts.size() == sites.size());
    std::vector<long> n;
    for (size_t i = 0; i < sites.size(); ++i) {
      INFO(counts[i]);
      long c = 0;
      REQUIRE(sscanf(counts[i].c_str(), "%*s %ld", &c) == 1);
      CHECK(c > 0);
      n.push_back(c);
    }
    for (long c : n) CHECK(std::labs(c - n.front()) <= 1);
    require_untouched(before, driver.pid());
    REQUIRE(driver.alive());
  }
}

}  // namespace

TEST_CASE("riscv64 insns: jumps at 2-byte sites are restored at detach while the program runs through them",
          "[riscv64][jump][attach]" ONLY_RISCV64) {
  attach_rounds({"rv_cframe", "rv_plain"});
}

TEST_CASE("riscv64 insns: jumps at 4-byte sites are restored at detach while the program runs through them",
          "[riscv64][jump][attach]" ONLY_RISCV64) {
  attach_rounds({"rv_plain+2", "rv_jr_off+20"});
}
