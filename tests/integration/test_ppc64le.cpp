// ppc64le: the ELFv2 entries, emulated branches and pc reads, refused
// load-reserve windows and traps, and the program's own traps, on the
// functions of tests/targets/ppc64le/ppc_insns.S (offsets from there). The
// driver checks every result, so its output must be the same with and
// without uptrace, and the counts exact.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <regex>

#include "harness.h"
#include "isa.h"

using namespace itest;
using namespace std::chrono_literals;

namespace {

constexpr int kRounds = 20;

// The ppc64le driver: native on ppc64le, else the cross-built copy (only for
// reading with -x), or empty when there is none.
std::string ppc_driver() {
#if defined(__powerpc64__)
  return target("ppc_driver");
#else
  const std::string cross = target_dir() + "/ppc64le-ppc_driver";
  return std::ifstream(cross).good() ? cross : std::string();
#endif
}

// Two of the program's own traps a round: own_trap's, and checked's
// conditional one, called once with a negative argument.
std::string expected_output() {
  return "ready\ndone " + std::to_string(kRounds) + " traps=" + std::to_string(2 * kRounds) + "\n";
}

// Runs the driver under uptrace with `probes` counted; returns stdout and
// checks the counts.
void run_counted(const std::vector<std::string>& probes, const std::vector<std::string>& counts) {
  std::vector<std::string> args = {"-q", "-c"};
  args.insert(args.end(), probes.begin(), probes.end());
  args.insert(args.end(), {"--", ppc_driver(), std::to_string(kRounds)});
  Result r = uptrace(args);
  INFO(r.err);
  CHECK(r.status == 0);
  // -c prints the counts after the program's output.
  std::string want = expected_output();
  for (const std::string& c : counts) want += c + "\n";
  CHECK(r.out == want);
}

}  // namespace

TEST_CASE("ppc64le: the driver checks itself untraced", "[ppc64le]" ONLY_PPC64LE) {
  Result r = run({ppc_driver(), std::to_string(kRounds)});
  CHECK(r.status == 0);
  CHECK(r.out == expected_output());
}

TEST_CASE("ppc64le: FUNC is the local entry, so direct calls and calls through a pointer hit once each",
          "[ppc64le][resolution]" ONLY_PPC64LE) {
  // Per round: entries(r) direct and through the pointer, plus a direct call
  // only when the first result is wrong: 2 per round.
  run_counted({"entries", "entries+0x0"}, {"entries " + std::to_string(2 * kRounds), "entries+0x0 " + std::to_string(kRounds)});
  Result e = uptrace({"--explain", "entries", "entries+0", "-x", ppc_driver()});
  CHECK(e.status == 0);
  CHECK(count_lines(e.out, "  entries:     global entries+0x0 (sets up the TOC in r2), local entries+0x8; probed: the "
                           "local entry, so calls through either entry hit once") == 1);
  CHECK(count_lines(e.out, "probed: the global entry, which only calls through a pointer or the PLT pass") == 1);
}

TEST_CASE("ppc64le: branches and bcl 20,31 run from trampolines (or emulated), lnia set by one, and all land right",
          "[ppc64le][insn]" ONLY_PPC64LE) {
  const std::string per_round = std::to_string(kRounds), four = std::to_string(4 * kRounds);
  // branchy runs 4 times a round (n = 0..3); bdnz runs 0+1+2+3 = 6 times.
  run_counted({"pcread+0x4", "nia", "branchy+0x24", "branchy+0x34", "branchy+0x38", "branchy+0x48", "branchy+0x60",
               "branchy+0x78", "leaf+0x4", "atomic_add+0x10"},
              {"pcread+0x4 " + per_round, "nia " + per_round, "branchy+0x24 " + four,
               "branchy+0x34 " + std::to_string(6 * kRounds), "branchy+0x38 " + std::to_string(3 * kRounds),
               "branchy+0x48 " + four, "branchy+0x60 " + four, "branchy+0x78 " + four,
               "leaf+0x4 " + std::to_string(8 * kRounds), "atomic_add+0x10 " + per_round});
  Result e = uptrace({"--explain", "pcread+4", "nia", "branchy+0x34", "-x", ppc_driver()});
  CHECK(e.status == 0);
  // bcl 20,31 and bdnz are relocated into their trampolines (bcl's LR set
  // there), and lnia's value, known at the site, is set there (no stop).
  const std::string jump = "  mode:        jump: the instruction at the site becomes a b to a trampoline that records "
                           "the hit without stopping (thread named by r13, or gettid), ";
  CHECK(count_lines(e.out, jump + "sets LR = ") == 1);
  CHECK(count_lines(e.out, jump + "sets r3 = ") == 1);
  CHECK(count_lines(e.out, jump + "branches to ") == 1);
  CHECK(count_lines(e.out, "if the displaced bc is taken, else back to ") == 2);
  // Asked to, the branches are emulated.
  e = uptrace({"--explain", "--mode", "emulate", "pcread+4", "branchy+0x34", "-x", ppc_driver()});
  CHECK(e.status == 0);
  CHECK(count_lines(e.out, "  mode:        emulate: emulated: bcl 20,31,$+4 (LR = ") == 1);
  CHECK(count_lines(e.out, "  mode:        emulate: emulated: bdnz ") == 1);
}

TEST_CASE("ppc64le: sites inside a lwarx..stwcx. loop and traps of any condition are refused",
          "[ppc64le][errors]" ONLY_PPC64LE) {
  for (const char* site : {"atomic_add+0x4", "atomic_add+0x8", "atomic_add+0xc", "checked", "own_trap"}) {
    INFO(site);
    Result e = uptrace({"--explain", site, "-x", ppc_driver()});
    CHECK(e.status == 1);
    CHECK(count_lines(e.out, "  refused:     ") == 1);
  }
  Result e = uptrace({"--explain", "atomic_add+8", "checked", "-x", ppc_driver()});
  CHECK(count_lines(e.out, "  refused:     inside a load-reserve/store-conditional sequence (opened by the "
                           "load-reserve at +0x4)") == 1);
  CHECK(count_lines(e.out, "  refused:     tdi is already a trap instruction") == 1);
  // The sites around the loop can be probed, and the loop completes.
  run_counted({"atomic_add", "atomic_add+0x14"}, {"atomic_add " + std::to_string(kRounds), "atomic_add+0x14 " + std::to_string(kRounds)});
}

TEST_CASE("ppc64le: the program's own traps reach it while uptrace traces", "[ppc64le][signals]" ONLY_PPC64LE) {
  // own_trap's trap and checked's conditional one, when it fires, are the
  // program's: its handler counts them (traps=N) and checks their siginfo
  // is a trap instruction's. Probes right after each keep working.
  run_counted({"own_trap+0x4", "checked+0x4"},
              {"own_trap+0x4 " + std::to_string(kRounds), "checked+0x4 " + std::to_string(2 * kRounds)});
}

TEST_CASE("ppc64le: $arg1..$arg10 (the ninth from the parameter save area), %r3..%r31, %lr, %ctr, $sp and $retval",
          "[ppc64le][args]" ONLY_PPC64LE) {
  // The driver calls many(1, -2, 3, 4, 5, 6, 7, 8, 9009, -10010) through a
  // pointer once a round: mtctr r12; bctrl, so CTR and r12 hold its global
  // entry, and LR the return address in main.
  const std::string out = temp_path("hits");
  Result r = uptrace({"-q", "-o", out,
                      "many a=$arg1 b=$arg2 h=$arg8 i=$arg9 j=$arg10 r3=%r3 r10=%r10 i_mem=+96($sp):s64 "
                      "sp=$sp:x64 pc=$pc:x64 ctr=%ctr:x64 r12=%r12:x64 lr=%lr:x64 r31=%r31:x64",
                      "many%return $retval r3=%r3 sp=$sp:x64", "--", ppc_driver(), "2"});
  const std::vector<std::string> hits = lines_of(slurp(out));
  unlink(out.c_str());
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out == "ready\ndone 2 traps=4\n");
  REQUIRE(hits.size() == 4);
  const std::regex entry(
      "[0-9.]+ [0-9]+/[0-9]+ many a=1 b=-2 h=8 i=9009 j=-10010 r3=1 r10=8 i_mem=9009 sp=(0x[0-9a-f]+) pc=(0x[0-9a-f]+) "
      "ctr=(0x[0-9a-f]+) r12=(0x[0-9a-f]+) lr=(0x[0-9a-f]+) r31=0x[0-9a-f]+");
  const std::regex ret("[0-9.]+ [0-9]+/[0-9]+ many%return retval=-969 r3=-969 sp=(0x[0-9a-f]+) "
                        "duration=[0-9]+\\.[0-9]{3}(ns|us|ms|s)");
  const ElfSymbol many = elf_symbol(ppc_driver(), "many").value(), main_fn = elf_symbol(ppc_driver(), "main").value();
  for (int i = 0; i < 2; ++i) {
    std::smatch e, x;
    INFO(hits[2 * i] << "\n" << hits[2 * i + 1]);
    REQUIRE(std::regex_match(hits[2 * i], e, entry));
    REQUIRE(std::regex_match(hits[2 * i + 1], x, ret));
    auto num = [](const std::ssub_match& m) { return std::stoull(m.str(), nullptr, 16); };
    const uint64_t sp = num(e[1]), pc = num(e[2]), ctr = num(e[3]), r12 = num(e[4]), lr = num(e[5]);
    CHECK(sp % 16 == 0);
    CHECK(num(x[1]) == sp);  // blr leaves r1 as it was at the entry
    CHECK(ctr == r12);
    CHECK(pc == ctr + many.local_entry);  // FUNC: the local entry
    // LR: an address inside main, at the same load bias as many.
    const uint64_t bias = ctr - many.addr;
    CHECK(lr - bias > main_fn.addr);
    CHECK(lr - bias < main_fn.addr + main_fn.size);
  }
}

TEST_CASE("ppc64le: --explain -x of a ppc64le file on any host", "[ppc64le][explain]") {
  const std::string file = ppc_driver();
  if (file.empty()) {
    WARN("skipped: no ppc64le build of the driver (install g++-powerpc64le-linux-gnu)");
    return;
  }
  Result e = uptrace({"--explain", "entries", "pcread+4", "atomic_add+8", "-x", file});
  CHECK(e.status == 1);  // one probe cannot be placed
  CHECK(count_lines(e.out, "  instruction: 01 00 63 38  addi r3, r3, 1") == 1);
  CHECK(count_lines(e.out, "  instruction: 05 00 9f 42  bcl 20,31,$+4") == 1);
  CHECK(count_lines(e.out, "  refused:     inside a load-reserve/store-conditional sequence") == 1);
  Result l = uptrace({"--list", "atomic*", "-x", file});
  CHECK(l.status == 0);
  CHECK(count_lines(l.out, "atomic_add ") == 1);
}

TEST_CASE("ppc64le: -x refuses a ppc64 file that is not ELFv2", "[ppc64le][errors]") {
  const std::string file = ppc_driver();
  if (file.empty()) {
    WARN("skipped: no ppc64le build of the driver (install g++-powerpc64le-linux-gnu)");
    return;
  }
  // The same file marked ELFv1 (e_flags, at offset 48 of the ELF64 header, = 1).
  std::string bytes = slurp(file);
  REQUIRE(bytes.size() > 64);
  REQUIRE((bytes[48] & 3) == 2);
  bytes[48] = static_cast<char>((bytes[48] & ~3) | 1);
  const std::string v1 = temp_path("elfv1");
  std::ofstream(v1, std::ios::binary) << bytes;
  Result r = uptrace({"--explain", "entries", "-x", v1});
  CHECK(r.status == 1);
  CHECK(r.err == "uptrace: " + v1 + " is a ppc64 file for the ELFv1 ABI (e_flags 0x1), not ELFv2, which uptrace does "
                 "not know; hint: uptrace probes ppc64le ELF files for 64-bit little-endian Linux (ELFv2 ABI)\n");
}
