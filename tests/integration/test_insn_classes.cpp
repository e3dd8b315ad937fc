// Probes on every class of instruction that needs care out of line:
// rip-relative operands (integer, SSE, AVX, AVX-512), relative and indirect
// branches and calls, stack writes, ret, locked read-modify-writes, loop,
// string moves, nops and endbr64. The driver (tests/targets/insn_driver.c +
// insn_classes.S) checks every result against a C model, so a wrongly
// executed instruction shows up in its output, which must be byte-identical
// with and without uptrace; the counts must be exact (SPEC.md Guarantee 2).
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "checks.h"
#include "harness.h"
#include "isa.h"

using namespace itest;
using namespace std::chrono_literals;

namespace {



const std::string kDriver = target("insn_driver");

enum class Count { PerRound, TwoPerRound, FourPerRound, LoopIterations, Loop32Iterations, Jcc8Taken, Avx, Avx512 };

// One probe site per class. `insn` is how the instruction at the site
// starts in uptrace's disassembly (proves FUNC+OFF is the documented
// instruction); `mode` is what --mode auto picks.
struct Site {
  const char* probe;
  const char* shown;  // as printed (offsets in 0x-hex)
  const char* insn;
  const char* mode;
  bool rip_relative;
  Count count = Count::PerRound;
};

const std::vector<Site>& sites() {
  static const std::vector<Site> all = {
      {"rip_load", "rip_load", "mov rax, qword ptr [rip", "jump", true},
      {"rip_store", "rip_store", "mov qword ptr [rip", "jump", true},
      {"rip_store_imm", "rip_store_imm", "add qword ptr [rip", "jump", true},
      {"rip_lea", "rip_lea", "lea rax, [rip", "jump", true},
      {"sse_movsd", "sse_movsd", "movsd xmm1, qword ptr [rip", "jump", true},
      {"sse_addsd", "sse_addsd", "addsd xmm0, qword ptr [rip", "jump", true},
      {"avx_vaddsd", "avx_vaddsd", "vaddsd xmm0, xmm0, qword ptr [rip", "jump", true, Count::Avx},
      {"avx512_vmovsd", "avx512_vmovsd", "vmovsd xmm16, qword ptr [rip", "jump", true, Count::Avx512},
      {"call_rel", "call_rel", "call", "jump", false},
      {"jcc_rel8+3", "jcc_rel8+0x3", "jb", "jump", false},
      {"jcc_rel32+4", "jcc_rel32+0x4", "jne", "jump", false},
      {"jmp_rel8", "jmp_rel8", "jmp", "jump", false},
      {"jmp_rel32", "jmp_rel32", "jmp", "jump", false},
      {"push_pop", "push_pop", "push rbx", "jump", false},
      {"push_pop+8", "push_pop+0x8", "pop rbx", "jump", false},
      {"push_imm", "push_imm", "push 0x2a", "jump", false},
      {"pushf_fn", "pushf_fn", "pushf", "emulate", false},
      {"ret_fn+4", "ret_fn+0x4", "ret", "jump", false},
      {"lock_xadd", "lock_xadd", "lock xadd dword ptr [rip", "jump", true},
      {"lock_add", "lock_add", "lock add dword ptr [rdi], esi", "jump", false},
      {"lock_cmpxchg+2", "lock_cmpxchg+0x2", "lock cmpxchg dword ptr [rdi], edx", "jump", false},
      {"call_reg", "call_reg", "call rsi", "trap", false},
      {"call_mem", "call_mem", "call qword ptr [rip", "trap", true},
      {"jmp_mem", "jmp_mem", "jmp qword ptr [rip", "jump", true},
      {"jmp_mem_landing", "jmp_mem_landing", "lea rax, [rdi + 0xd]", "jump", false},
      {"jmp_indexed+13", "jmp_indexed+0xd", "jmp qword ptr [rcx + rax*8]", "jump", false},
      {"loop_fn+6", "loop_fn+0x6", "loop", "emulate", false, Count::LoopIterations},
      {"cmov_fn+6", "cmov_fn+0x6", "cmovl rax, rsi", "jump", false},
      {"xchg_fn", "xchg_fn", "xchg qword ptr [rsi], rdi", "jump", false},
      {"movsb_fn", "movsb_fn", "movsb", "jump", false},
      {"nop_fn", "nop_fn", "nop dword ptr [rax + rax]", "jump", false},
      {"nop1_fn", "nop1_fn", "nop", "jump", false},
      {"endbr_fn", "endbr_fn", "endbr64", "jump", false},
      {"call_helper", "call_helper", "lea rax, [rdi + 1]", "jump", false, Count::FourPerRound},
      {"ret_imm_callee+10", "ret_imm_callee+0xa", "ret 8", "jump", false},
      {"jrcxz_fn+3", "jrcxz_fn+0x3", "jrcxz", "emulate", false},
      {"jecxz_fn+3", "jecxz_fn+0x3", "jecxz", "emulate", false},
      {"loop32_fn+8", "loop32_fn+0x8", "loop", "emulate", false, Count::Loop32Iterations},
      {"push_rsp_fn", "push_rsp_fn", "push rsp", "jump", false},
      {"push_r12_fn", "push_r12_fn", "push r12", "jump", false},
      {"push_mem_fn", "push_mem_fn", "push qword ptr [rip", "jump", true},
      {"cmp_rip_imm_fn", "cmp_rip_imm_fn", "cmp qword ptr [rip", "jump", true},
      {"repz_ret_fn+4", "repz_ret_fn+0x4", "ret", "jump", false},
      {"bnd_call_fn", "bnd_call_fn", "bnd call", "jump", false},
      {"lea32_fn+7", "lea32_fn+0x7", "lea eax, [rip", "jump", true},
      {"lea16_fn+7", "lea16_fn+0x7", "lea ax, [rip", "jump", true},
      {"xchg_r8_fn+3", "xchg_r8_fn+0x3", "xchg rax, r8", "jump", false},
      {"getpc_fn", "getpc_fn", "call", "jump", false},
      {"call_ra_fn+7", "call_ra_fn+0x7", "call rsi", "trap", false},
      {"call_ra_fn+22", "call_ra_fn+0x16", "call qword ptr [rip", "trap", true},
      {"ra_callee", "ra_callee", "mov rax, qword ptr [rsp]", "jump", false, Count::TwoPerRound},
      // Sites that other probed instructions branch, return or loop to.
      {"getpc_fn+5", "getpc_fn+0x5", "pop rax", "jump", false},
      {"call_rel+5", "call_rel+0x5", "lea rax, [rax + rax*2]", "jump", false},
      {"jcc_rel8+9", "jcc_rel8+0x9", "lea eax, [rdi + 0xc8]", "jump", false, Count::Jcc8Taken},
      {"loop_fn+4", "loop_fn+0x4", "add eax, ecx", "boost", false, Count::LoopIterations},
      {"loop32_fn+5", "loop32_fn+0x5", "add eax, 1", "boost", false, Count::Loop32Iterations},
  };
  return all;
}

struct Cpu {
  bool avx = false, avx512f = false;
};

// The driver's first line says which extensions it uses.
Cpu parse_cpu_line(const std::string& line) {
  Cpu cpu;
  REQUIRE(line.rfind("cpu ", 0) == 0);
  cpu.avx = line.find("avx=1") != std::string::npos;
  cpu.avx512f = line.find("avx512f=1") != std::string::npos;
  return cpu;
}

uint64_t expected_hits(const Site& s, long rounds, const Cpu& cpu) {
  switch (s.count) {
    case Count::PerRound: return static_cast<uint64_t>(rounds);
    case Count::TwoPerRound: return 2 * static_cast<uint64_t>(rounds);  // ra_callee from call_ra_fn
    case Count::FourPerRound: return 4 * static_cast<uint64_t>(rounds);  // call_rel, call_reg, call_mem, bnd_call_fn
    case Count::Avx: return cpu.avx ? static_cast<uint64_t>(rounds) : 0;
    case Count::Avx512: return cpu.avx512f ? static_cast<uint64_t>(rounds) : 0;
    case Count::LoopIterations: {
      uint64_t n = 0;
      for (long i = 0; i < rounds; ++i) n += static_cast<uint64_t>(i % 5 + 1);
      return n;
    }
    case Count::Loop32Iterations: {
      uint64_t n = 0;
      for (long i = 0; i < rounds; ++i) n += static_cast<uint64_t>(i % 4 + 1);
      return n;
    }
    case Count::Jcc8Taken: {
      uint64_t n = 0;
      for (long i = 0; i < rounds; ++i) n += i % 7 < 3 ? 1 : 0;
      return n;
    }
  }
  return 0;
}

std::vector<std::string> all_probes() {
  std::vector<std::string> out;
  for (const Site& s : sites()) out.push_back(s.probe);
  return out;
}

// The probes of the table that `--mode MODE` can place (--explain says).
std::set<std::string> placeable_in(const char* mode) {
  std::vector<std::string> args{"--explain", "--mode", mode, "--format", "json", "-x", kDriver};
  for (const std::string& p : all_probes()) args.push_back(p);
  Result r = uptrace(args);
  std::set<std::string> out;
  for (const std::string& line : r.out_lines()) {
    auto j = nlohmann::json::parse(line);
    if (j["refused"].is_null()) out.insert(j["probe"].get<std::string>());
  }
  return out;
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
  REQUIRE(plain.out.find("MISMATCH") == std::string::npos);
  return cache[rounds] = plain.out;
}

// `only_mode`: probe only the sites that mode can place.
void all_classes_at_once(const std::vector<std::string>& mode_args, const char* only_mode = nullptr) {
  const std::set<std::string> placeable = only_mode ? placeable_in(only_mode) : std::set<std::string>{};
  const long rounds = 300;
  const std::string& expected_out = untraced_output(rounds);
  Cpu cpu = parse_cpu_line(lines_of(expected_out).at(0));

  std::string counts = temp_path("counts");
  std::vector<std::string> args = mode_args;
  for (const std::string& a : {std::string("-c"), std::string("-o"), counts}) args.push_back(a);
  std::string want;
  size_t probes = 0;
  for (const Site& s : sites()) {
    if (only_mode && !placeable.count(s.shown)) continue;
    args.push_back(s.probe);
    want += std::string(s.shown) + " " + std::to_string(expected_hits(s, rounds, cpu)) + "\n";
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

TEST_CASE("insn classes: the driver is deterministic and self-checking", "[insn]" ONLY_X86_64) {
  Result a = run({kDriver, "300"});
  Result b = run({kDriver, "300"});
  REQUIRE(a.status == 0);
  REQUIRE(a.out == b.out);
  auto lines = a.out_lines();
  // cpu line, one checksum line per function, mismatches line.
  REQUIRE(lines.size() == 1 + 46 + 1);
  REQUIRE(lines.back() == "mismatches 0");
}

TEST_CASE("insn classes: all classes at once in the default mode give the same output and exact counts",
          "[insn][mode-specific]" ONLY_X86_64) {
  all_classes_at_once({});
}

TEST_CASE("insn classes: all classes at once with --mode auto give the same output and exact counts", "[insn]" ONLY_X86_64) {
  all_classes_at_once({"--mode", "auto"});
}

TEST_CASE("insn classes: all classes at once with --mode trap give the same output and exact counts", "[not-trailing-trap][insn]" ONLY_X86_64) {
  all_classes_at_once({"--mode", "trap"});
}

TEST_CASE("insn classes: all boostable classes at once with --mode boost give the same output and exact counts",
          "[not-trailing-trap][insn][boost]" ONLY_X86_64) {
  all_classes_at_once({"--mode", "boost"}, "boost");
}

namespace {

// Each site probed alone: one text line per execution, the command's output
// unchanged, nothing on stderr with -q.
// Sites [first, last) of the table, so that no test case runs too long.
// `only_mode`: probe only the sites that mode can place.
void each_class_alone(const char* mode, const char* only_mode, size_t first, size_t last) {
  const std::set<std::string> placeable = only_mode ? placeable_in(only_mode) : std::set<std::string>{};
  const long rounds = 20;
  const std::string& expected_out = untraced_output(rounds);
  Cpu cpu = parse_cpu_line(lines_of(expected_out).at(0));
  for (size_t i = first; i < std::min(last, sites().size()); ++i) {
    const Site& s = sites()[i];
    if (only_mode && !placeable.count(s.shown)) continue;
    INFO("probe " << s.probe << ", --mode " << mode);
    std::string hits = temp_path("hits");
    Result r = uptrace({"-q", "--mode", mode, "-o", hits, s.probe, "--", kDriver, std::to_string(rounds)});
    INFO(r.err);
    REQUIRE(r.status == 0);
    REQUIRE(r.out == expected_out);
    REQUIRE(r.err.empty());
    auto lines = lines_of(slurp(hits));
    unlink(hits.c_str());
    REQUIRE(lines.size() == expected_hits(s, rounds, cpu));
    std::regex line_re("[0-9]+\\.[0-9]{6} ([0-9]+)/([0-9]+) " +
                       std::regex_replace(std::string(s.shown), std::regex("\\+"), "\\+"));
    for (const std::string& line : lines) {
      std::smatch m;
      INFO(line);
      REQUIRE(std::regex_match(line, m, line_re));
      REQUIRE(m[1] == m[2]);  // single-threaded: pid == tid
    }
  }
}

}  // namespace

TEST_CASE("insn classes: all emulated classes at once with --mode emulate give the same output and exact counts",
          "[insn]" ONLY_X86_64) {
  all_classes_at_once({"--mode", "emulate"}, "emulate");
}

TEST_CASE("insn classes: each class alone reports one line per execution (first half)", "[insn]" ONLY_X86_64) {
  each_class_alone("auto", nullptr, 0, sites().size() / 2);
}

TEST_CASE("insn classes: each class alone reports one line per execution (second half)", "[insn]" ONLY_X86_64) {
  each_class_alone("auto", nullptr, sites().size() / 2, sites().size());
}

TEST_CASE("insn classes: each boosted class alone reports one line per execution", "[insn][boost]" ONLY_X86_64) {
  each_class_alone("boost", "boost", 0, sites().size());
}

TEST_CASE("insn classes: all jump classes at once with --mode jump give the same output and exact counts",
          "[not-trailing-trap][insn][jump]" ONLY_X86_64) {
  all_classes_at_once({"--mode", "jump"}, "jump");
}

TEST_CASE("insn classes: each jump class alone reports one line per execution", "[insn][jump]" ONLY_X86_64) {
  each_class_alone("jump", "jump", 0, sites().size());
}

TEST_CASE("insn classes: each emulated class alone and stepped instead reports one line per execution", "[not-trailing-trap][insn]" ONLY_X86_64) {
  // Where auto emulates, --mode trap steps the instruction out of line.
  each_class_alone("trap", "emulate", 0, sites().size());
}

TEST_CASE("insn classes: --explain shows each site's instruction and the mode auto picks", "[not-trailing-trap][insn][explain]" ONLY_X86_64) {
  std::vector<std::string> args{"--explain", "--format", "json", "-x", kDriver};
  for (const std::string& p : all_probes()) args.push_back(p);
  Result r = uptrace(args);
  INFO(r.err);
  REQUIRE(r.status == 0);
  auto lines = r.out_lines();
  REQUIRE(lines.size() == sites().size());
  for (size_t i = 0; i < sites().size(); ++i) {
    const Site& s = sites()[i];
    INFO(s.probe << ": " << lines[i]);
    auto j = nlohmann::json::parse(lines[i]);
    REQUIRE(j["probe"] == s.shown);
    REQUIRE(j["insn"].get<std::string>().rfind(s.insn, 0) == 0);
    REQUIRE(j["mode"] == s.mode);
    REQUIRE(j["refused"].is_null());
    REQUIRE(j["module"] == kDriver);
    // Rip-relative operands that are stepped or boosted are re-encoded for the slot.
    if (s.rip_relative && std::string(s.mode) != "emulate")
      REQUIRE(j["plan"].get<std::string>().find("rip-relative") != std::string::npos);
  }
}

TEST_CASE("insn classes: --explain --mode trap steps every site", "[not-trailing-trap][insn][explain]" ONLY_X86_64) {
  std::vector<std::string> args{"--explain", "--mode", "trap", "--format", "json", "-x", kDriver};
  for (const std::string& p : all_probes()) args.push_back(p);
  Result r = uptrace(args);
  INFO(r.err);
  REQUIRE(r.status == 0);
  auto lines = r.out_lines();
  REQUIRE(lines.size() == sites().size());
  for (size_t i = 0; i < sites().size(); ++i) {
    INFO(lines[i]);
    auto j = nlohmann::json::parse(lines[i]);
    REQUIRE(j["mode"] == "trap");
  }
}

TEST_CASE("insn classes: --explain text names the mode and the instruction", "[not-trailing-trap][insn][explain]" ONLY_X86_64) {
  Result r = uptrace({"--explain", "-x", kDriver, "call_rel", "jcc_rel8+3", "jmp_rel8", "push_pop", "rip_load",
                      "lock_xadd"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  auto lines = r.out_lines();
  auto block = [&](const std::string& name) {
    auto it = std::find(lines.begin(), lines.end(), name);
    REQUIRE(it != lines.end());
    std::vector<std::string> out;
    for (++it; it != lines.end() && it->rfind("  ", 0) == 0; ++it) out.push_back(*it);
    return out;
  };
  auto has_line = [](const std::vector<std::string>& b, const std::string& prefix) {
    return std::any_of(b.begin(), b.end(), [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
  };
  uint64_t call_rel_addr = symbol_address(kDriver, "call_rel");
  char at[128];
  snprintf(at, sizeof at, "  at:          call_rel+0x0 in %s (file address %#lx", kDriver.c_str(),
           static_cast<unsigned long>(call_rel_addr));
  REQUIRE(has_line(block("call_rel"), at));
  REQUIRE(has_line(block("call_rel"), "  instruction: e8 "));
  // The int3 padding it jumps over is overwritten too: nothing else runs it.
  REQUIRE(has_line(block("jmp_rel8"), "  mode:        jump: 5 bytes at the site (3 of them padding the flow jumps over, "
                                      "inside the function) become a jmp"));
  // A call or a branch in the window runs from the trampoline, relocated.
  REQUIRE(has_line(block("call_rel"), "  mode:        jump: "));
  auto joined = [](const std::vector<std::string>& b) {
    std::string all;
    for (const std::string& l : b) all += l.substr(l.find_first_not_of(' ')) + " ";
    return all;
  };
  REQUIRE(joined(block("call_rel")).find("(the call pushes its own return address, ") != std::string::npos);
  REQUIRE(has_line(block("jcc_rel8+0x3"), "  mode:        jump: "));
  REQUIRE(has_line(block("jcc_rel8+0x3"), "  instruction: 72 "));
  REQUIRE(has_line(block("jmp_rel8"), "  instruction: eb "));
  REQUIRE(has_line(block("push_pop"), "  instruction: 53  push rbx"));
  for (const char* jumped : {"rip_load", "lock_xadd"}) {
    auto b = block(jumped);
    REQUIRE(has_line(b, "  mode:        jump: "));
    REQUIRE(std::any_of(b.begin(), b.end(), [](const std::string& l) {
      return l.rfind("  mode:", 0) == 0 && l.find("rip-relative") != std::string::npos;
    }));
  }
  REQUIRE(has_line(block("lock_xadd"), "  instruction: f0 0f c1 3d "));
}

TEST_CASE("insn classes: attached to a running driver every class runs right and nothing is left", "[not-trailing-trap][insn][attach]" ONLY_X86_64) {
  for (const char* mode : {"auto", "trap"}) {
    INFO("--mode " << mode);
    Child driver({kDriver, "loop"});
    Cpu cpu = parse_cpu_line(driver.read_line());
    REQUIRE(driver.read_line() == "ready " + std::to_string(driver.pid()));
    Snapshot before = snapshot(driver.pid());

    std::vector<std::string> args{"-q", "--mode", mode, "-p", std::to_string(driver.pid()), "-n", "3000"};
    for (const std::string& p : all_probes()) args.push_back(p);
    Result r = uptrace(args);
    INFO(r.err);
    REQUIRE(r.status == 0);
    REQUIRE(r.err.empty());
    auto lines = r.out_lines();
    REQUIRE(lines.size() == 3000);
    std::map<std::string, size_t> per_probe;
    std::regex line_re("[0-9]+\\.[0-9]{6} ([0-9]+)/([0-9]+) (\\S+)");
    for (const std::string& line : lines) {
      std::smatch m;
      INFO(line);
      REQUIRE(std::regex_match(line, m, line_re));
      REQUIRE(m[1] == std::to_string(driver.pid()));
      ++per_probe[m[3]];
    }
    // 3000 hits are about 80 rounds of the loop: every site was hit, and
    // nothing else was reported.
    size_t known = 0;
    for (const Site& s : sites()) {
      if ((s.count == Count::Avx && !cpu.avx) || (s.count == Count::Avx512 && !cpu.avx512f)) continue;
      INFO(s.probe);
      REQUIRE(per_probe[s.shown] > 0);
      known += per_probe[s.shown];
    }
    REQUIRE(known == 3000);
    require_untouched(before, driver.pid());
    // The driver checked every result while traced and goes on checking.
    driver.signal(SIGUSR1);
    REQUIRE(driver.read_line() == "ok mismatches 0");
    REQUIRE(driver.alive());
  }
}
