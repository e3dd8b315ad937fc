// Jump probes (SPEC.md --mode jump): no stop per hit, records in a shared
// ring. Counts must stay exact, each hit must name the thread that made it,
// register values must be those at the site, and a probe whose arguments
// read memory must fall back to a trap-based mode, saying why.
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "checks.h"
#include "harness.h"
#include "isa.h"

using namespace itest;

namespace {

// Runs `program THREADS CALLS` in jump mode, every call of work(index,
// round) recorded as JSON, and checks what each test of thread naming
// checks: every (index, round) reported once, from one process, each index
// always by one tid of its own that is not the pid. The tid of each index.
std::map<int64_t, int64_t> named_threads(Result& r, const char* program, int64_t threads, int64_t calls) {
  std::string out = temp_path("hits");
  r = uptrace({"-q", "--mode", "jump", "--format", "json", "-o", out, "work i=$arg1 r=$arg2", "--", target(program),
               std::to_string(threads), std::to_string(calls)});
  INFO(r.err);
  REQUIRE(r.status == 0);
  std::map<int64_t, std::set<int64_t>> rounds_by_index, tids_by_index;
  std::set<int64_t> pids;
  for (const std::string& line : lines_of(slurp(out))) {
    auto j = nlohmann::json::parse(line);
    const int64_t index = j["args"]["i"];
    REQUIRE(rounds_by_index[index].insert(j["args"]["r"].get<int64_t>()).second);
    tids_by_index[index].insert(j["tid"].get<int64_t>());
    pids.insert(j["pid"].get<int64_t>());
  }
  unlink(out.c_str());
  REQUIRE(pids.size() == 1);
  REQUIRE(rounds_by_index.size() == static_cast<size_t>(threads));
  std::map<int64_t, int64_t> tid_of_index;
  std::set<int64_t> all_tids;
  for (auto& [index, tids] : tids_by_index) {
    INFO("thread index " << index);
    REQUIRE(rounds_by_index[index].size() == static_cast<size_t>(calls));
    REQUIRE(tids.size() == 1);
    REQUIRE(*tids.begin() != *pids.begin());
    all_tids.insert(*tids.begin());
    tid_of_index[index] = *tids.begin();
  }
  REQUIRE(all_tids.size() == static_cast<size_t>(threads));
  return tid_of_index;
}

}  // namespace

TEST_CASE("jump: counted exactly from 8 threads, each hit naming its own thread", "[jump][mode-specific]" ONLY_JUMP_ISAS) {
  Result r;
  named_threads(r, "counted", 8, 2000);
  REQUIRE(r.out == "total 56016160000\n");
}

TEST_CASE("jump: timestamps are in the order of the hits", "[jump][mode-specific]" ONLY_JUMP_ISAS) {
  std::string out = temp_path("hits");
  Result r = uptrace({"-q", "--format", "json", "-o", out, "work", "--", target("counted"), "1", "3000"});
  REQUIRE(r.status == 0);
  int64_t last = -1;
  size_t hits = 0;
  for (const std::string& line : lines_of(slurp(out))) {
    int64_t t = nlohmann::json::parse(line)["time_ns"];
    REQUIRE(t >= last);
    last = t;
    ++hits;
  }
  REQUIRE(hits == 3000);
  unlink(out.c_str());
}

TEST_CASE("jump: arguments that read memory fall back to a stop, and --explain says why", "[jump][mode-specific]" ONLY_JUMP_ISAS) {
  Result ex = uptrace({"--explain", "-x", target("counted"), "work", "work x=+0($sp)"});
  REQUIRE(ex.status == 0);
  REQUIRE(count_lines(ex.out, "  mode:        jump: ") == 1);
  REQUIRE(count_lines(ex.out, "  not jump:    a fetch argument reads the target's memory, which a trampoline cannot do "
                              "safely") == 1);
  // And it still counts exactly, stopping.
  std::string out = temp_path("counts");
  Result r = uptrace({"-c", "-o", out, "work x=+0($sp)", "--", target("counted"), "2", "500"});
  REQUIRE(r.status == 0);
  REQUIRE(slurp(out) == "work 1000\n");
  unlink(out.c_str());
}

TEST_CASE("jump: attached to busy threads, the ring and trampolines are gone after detach", "[jump][attach]" ONLY_JUMP_ISAS) {
  Child busy({target("busy"), "4", "20"});
  REQUIRE(busy.read_line() == "ready " + std::to_string(busy.pid()));
  Snapshot before = snapshot(busy.pid());
  for (int round = 0; round < 5; ++round) {
    Result r = uptrace({"-q", "-c", "-d", "0.3", "-p", std::to_string(busy.pid()), "work"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    REQUIRE(r.err.find("lost") == std::string::npos);
    require_untouched(before, busy.pid());
    REQUIRE(busy.alive());
  }
}

TEST_CASE("jump: a function with a part placed elsewhere (FUNC.cold) is checked with it", "[jump][mode-specific]" ONLY_X86_64) {
  // hot_or_cold.cold jumps back into hot_or_cold from outside its code; its
  // branches are decoded like the function's, and none lands in the window.
  Result ex = uptrace({"--explain", "-x", target("coldsplit-O2"), "hot_or_cold"});
  INFO(ex.out << ex.err);
  REQUIRE(ex.status == 0);
  REQUIRE(count_lines(ex.out, "  mode:        jump: ") == 1);
  std::string out = temp_path("counts");
  Result r = uptrace({"-c", "-o", out, "hot_or_cold", "--", target("coldsplit-O2"), "1000"});
  REQUIRE(r.status == 0);
  REQUIRE(r.out == "sum 1000000\n");
  REQUIRE(slurp(out) == "hot_or_cold 1000\n");
  // ns::check's cold part runs on every tenth call: 100 calls, 10 through it.
  Result plain = run({target("cold_cxx-O2"), "100"});
  REQUIRE(plain.status == 0);
  Result traced = uptrace({"-c", "--mode", "jump", "-o", out, "ns::check", "--", target("cold_cxx-O2"), "100"});
  INFO(traced.err);
  REQUIRE(traced.status == 0);
  REQUIRE(traced.out == plain.out);
  REQUIRE(slurp(out) == "ns::check 100\n");
  unlink(out.c_str());
}

TEST_CASE("jump: a call, a jcc, a ret or jmp before padding, and a switch in the window run from the trampoline",
          "[jump][mode-specific]" ONLY_X86_64) {
  // Each function of target-jump_sites is called 600 times; forced into
  // jump mode, each probe counts exactly that and the results stay the
  // driver's model's (it exits 1 on a mismatch).
  const std::vector<std::pair<std::string, std::string>> sites{
      {"js_call", "(the call pushes its own return address, "},
      {"js_jcc", "(branches retargeted with rel32)"},
      {"js_ret_short", "5 bytes at the site (2 of them padding after the function)"},
      {"js_ret_nop", "5 bytes at the site (1 of them padding after the function)"},
      {"js_tail", "5 bytes at the site (1 of them padding after the function)"},
      {"js_switch", "runs 2 displaced instructions and jumps back to "},
      // Its table base loaded before its loop, proven over the function's paths.
      {"js_loop_switch", "runs 2 displaced instructions and jumps back to "},
  };
  std::vector<std::string> args{"-q", "-c", "--mode", "jump", "-o", temp_path("counts")};
  const std::string out = args.back();
  for (const auto& [function, plan] : sites) {
    Result ex = uptrace({"--explain", "--mode", "jump", "-x", target("jump_sites"), function});
    INFO(function << "\n" << ex.out << ex.err);
    REQUIRE(ex.status == 0);
    REQUIRE(count_lines(ex.out, "  mode:        jump: ") == 1);
    REQUIRE(ex.out.find(plan) != std::string::npos);
    args.push_back(function);
  }
  Result plain = run({target("jump_sites"), "600"});
  REQUIRE(plain.status == 0);
  REQUIRE(plain.out_lines().back() == "mismatches 0");
  args.insert(args.end(), {"--", target("jump_sites"), "600"});
  Result r = uptrace(args);
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out == plain.out);
  std::string expected;
  for (const auto& [function, plan] : sites) expected += function + " 600\n";
  REQUIRE(slurp(out) == expected);
  unlink(out.c_str());
}

TEST_CASE("jump: where another function branches into the window, a jmp rel8 goes to a relay in the padding before it",
          "[jump][mode-specific]" ONLY_X86_64) {
  // js_enters ends in a jmp to js_entered+2 (as glibc's mempcpy enters
  // memmove): a jmp over js_entered's first 5 bytes would be entered in its
  // middle, so only its first instruction is covered, by a jmp rel8 to a
  // jmp in the int3 padding before it.
  Result ex = uptrace({"--explain", "--mode", "jump", "-x", target("jump_sites"), "js_entered"});
  INFO(ex.out << ex.err);
  REQUIRE(ex.status == 0);
  REQUIRE(ex.out.find("  mode:        jump: the site's first 2 bytes become a jmp rel8 to a jmp at 0x") != std::string::npos);
  REQUIRE(ex.out.find("in the padding before the function, to a trampoline") != std::string::npos);
  // With no padding before it, the jump is refused.
  Result tight = uptrace({"--explain", "--mode", "jump", "-x", target("jump_sites"), "js_entered_tight"});
  INFO(tight.out << tight.err);
  REQUIRE(tight.status == 1);
  REQUIRE(tight.out.find("  refused:     cannot jump: a branch at 0x") != std::string::npos);
  REQUIRE(tight.out.find(", elsewhere in the module, lands inside the bytes a jump would overwrite\n") != std::string::npos);

  // Hits at the entry are counted, the way in at +2 is not, and every result is right.
  const std::string out = temp_path("counts");
  Result plain = run({target("jump_sites"), "300"});
  REQUIRE(plain.status == 0);
  Result r = uptrace({"-q", "-c", "-o", out, "js_entered", "js_enters", "js_entered_tight", "js_enters_tight", "--",
                      target("jump_sites"), "300"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out == plain.out);
  REQUIRE(slurp(out) == "js_entered 300\njs_enters 300\njs_entered_tight 300\njs_enters_tight 300\n");
  unlink(out.c_str());
}

TEST_CASE("jump: a relay in the padding is restored with the site at detach, while the program runs through both",
          "[jump][attach][mode-specific]" ONLY_X86_64) {
  Child driver({target("jump_sites"), "forever"});
  REQUIRE(driver.read_line() == "ready " + std::to_string(driver.pid()));
  Snapshot before = snapshot(driver.pid());
  for (int round = 0; round < 5; ++round) {
    const std::string out = temp_path("counts");
    Result r = uptrace_jump_attach({"-q", "-c", "-o", out, "--mode", "jump", "-d", "0.3", "-p",
                                    std::to_string(driver.pid()), "js_entered", "js_enters"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    // Each call of js_enters runs js_entered's second half, never its entry:
    // both are counted once per round of the driver, so within one of each other.
    const auto counts = lines_of(slurp(out));
    unlink(out.c_str());
    REQUIRE(counts.size() == 2);
    long entered = 0, enters = 0;
    REQUIRE(sscanf(counts[0].c_str(), "js_entered %ld", &entered) == 1);
    REQUIRE(sscanf(counts[1].c_str(), "js_enters %ld", &enters) == 1);
    CHECK(entered > 0);
    CHECK(std::labs(entered - enters) <= 1);
    require_untouched(before, driver.pid());
    REQUIRE(driver.alive());
  }
}

TEST_CASE("jump: aarch64 branches at the site run from the trampoline", "[jump][mode-specific]" ONLY_AARCH64) {
  // b, bl, cbz, tbnz, ret and blr, each displaced into its trampoline
  // (tests/targets/a64_branches.c has them at these sites).
  const std::vector<std::string> sites{"ab_b", "ab_bl+4", "ab_cbz", "ab_tbnz", "ab_ret", "ab_blr+8"};
  for (const std::string& site : sites) {
    Result ex = uptrace({"--explain", "--mode", "jump", "-x", target("a64_branches"), site});
    INFO(site << "\n" << ex.out << ex.err);
    REQUIRE(ex.status == 0);
    REQUIRE(ex.out.find("  mode:        jump: ") != std::string::npos);
  }
  const std::string out = temp_path("counts");
  Result plain = run({target("a64_branches"), "300"});
  REQUIRE(plain.status == 0);
  std::vector<std::string> args{"-q", "-c", "-o", out, "--mode", "jump"};
  args.insert(args.end(), sites.begin(), sites.end());
  args.insert(args.end(), {"--", target("a64_branches"), "300"});
  Result r = uptrace(args);
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out == plain.out);
  REQUIRE(slurp(out) == "ab_b 300\nab_bl+0x4 300\nab_cbz 300\nab_tbnz 300\nab_ret 300\nab_blr+0x8 300\n");
  unlink(out.c_str());
}

TEST_CASE("jump: ppc64le branches at the site run from the trampoline", "[jump][mode-specific]" ONLY_PPC64LE) {
  // b, bl, beq, bdnz, bcl 20,31,$+4, blr, beqlr, bctr and bctrl, each
  // relocated into its trampoline (tests/targets/p64_branches.c has them
  // at these sites).
  const std::vector<std::string> sites{"pb_b",     "pb_bl+4",    "pb_beq+4",  "pb_bdnz+20", "pb_bcl+4",
                                       "pb_blr",   "pb_beqlr+4", "pb_bctr+4", "pb_bctrl+8"};
  for (const std::string& site : sites) {
    Result ex = uptrace({"--explain", "--mode", "jump", "-x", target("p64_branches"), site});
    INFO(site << "\n" << ex.out << ex.err);
    REQUIRE(ex.status == 0);
    REQUIRE(ex.out.find("  mode:        jump: ") != std::string::npos);
  }
  const std::string out = temp_path("counts");
  Result plain = run({target("p64_branches"), "300"});
  REQUIRE(plain.status == 0);
  std::vector<std::string> args{"-q", "-c", "-o", out, "--mode", "jump"};
  args.insert(args.end(), sites.begin(), sites.end());
  args.insert(args.end(), {"--", target("p64_branches"), "300"});
  Result r = uptrace(args);
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out == plain.out);
  // pb_bdnz's loop branch runs (i & 7) + 1 times for i = 0..299.
  REQUIRE(slurp(out) ==
          "pb_b 300\npb_bl+0x4 300\npb_beq+0x4 300\npb_bdnz+0x14 1342\npb_bcl+0x4 300\npb_blr 300\n"
          "pb_beqlr+0x4 300\npb_bctr+0x4 300\npb_bctrl+0x8 300\n");
  unlink(out.c_str());
}

TEST_CASE("jump: threads whose thread pointer does not point to itself (as Go's) are still named each",
          "[jump][mode-specific]" ONLY_X86_64) {
  Result r;
  named_threads(r, "foreign_tls", 4, 1000);
  REQUIRE(r.out == "total 4000 failed 0\n");
}

TEST_CASE("jump: threads that share one thread pointer (clone without CLONE_SETTLS) are still named each",
          "[jump][shared-tls][mode-specific]" ONLY_JUMP_ISAS) {
  // The pointer the trampoline names a thread by is the same for all of
  // them: uptrace must notice two live threads with one pointer and have
  // the trampolines ask the kernel, or every hit goes to one of them.
  Result r;
  const std::map<int64_t, int64_t> named = named_threads(r, "shared_tls", 3, 1000);
  // Each index by the tid clone() gave its thread, as the program prints.
  REQUIRE(r.out_lines().size() == 4);
  REQUIRE(r.out_lines().back() == "total 3000");
  for (const auto& [index, tid] : named)
    REQUIRE(r.out_lines()[static_cast<size_t>(index)] == "thread " + std::to_string(index) + " " + std::to_string(tid));
}

TEST_CASE("jump: signals that find threads in a trampoline before its gettid reach them, and no SIGTRAP does",
          "[jump][signals][mode-specific]" ONLY_X86_64) {
  // A thread whose fs:0 is 0 (as Go's) asks the kernel for its id with a
  // syscall in the trampoline. A signal that finds it before that has it
  // single-stepped out over the syscall, a step the kernel reports as
  // TRAP_BRKPT; taken for a signal of the program's and delivered after
  // SIGUSR1, that SIGTRAP killed the program.
  std::string out = temp_path("counts");
  for (const char* mode : {"jump", "auto"}) {
    INFO("--mode " << mode);
    Result r = uptrace({"-q", "-c", "-o", out, "--mode", mode, "work", "--", target("foreign_tls"), "1", "0", "300"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    REQUIRE(r.out == "handled=300 outside=0\n");
    REQUIRE(std::stol(slurp(out).substr(5)) > 0);
  }
  unlink(out.c_str());
}
