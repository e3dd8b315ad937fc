// Boosted riscv64 probes: the slot's bytes (the copy, a jal back, then the
// copy's stepped form for a thread a signal finds at the slot's start) side
// by side with their disassembly (riscv64-linux-gnu-objdump, binutils 2.40,
// at the slot's address), where a thread in the slot goes (slot_exit), and
// what is refused with its reason.
#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "arch/riscv64/boost.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::riscv64;
using namespace uptrace::arch::riscv64::test;

namespace {
using Declined = std::vector<std::pair<ExecMode, std::string>>;

std::unique_ptr<ProbePlan> boost_plan(uint32_t raw, ModeRequest request = ModeRequest::Auto) {
  SiteAnalysis a = analyze(insns({raw}), request, kSite, kSite, kNearSlot);
  INFO(a.refusal);
  REQUIRE(a.plan != nullptr);
  REQUIRE(a.plan->mode() == ExecMode::Boost);
  return std::move(a.plan);
}
}  // namespace

TEST_CASE("riscv64 boost: the copy, a jal back, and the copy's stepped form", "[arch][riscv64][boost]") {
  struct Case {
    uint32_t raw;
    Bytes slot;
  };
  const Case cases[] = {
      // site 0x401000: 00158513  addi a0, a1, 1
      {0x00158513,
       {
           0x13, 0x85, 0x15, 0x00,  // 481000: 00158513  addi a0, a1, 1
           0x6f, 0x00, 0x08, 0x80,  // 481004: 8008006f  j 0x401004
           0x13, 0x85, 0x15, 0x00,  // 481008: 00158513  addi a0, a1, 1   (the stepped form)
           0x02, 0x90,              // 48100c: 9002      c.ebreak         (its end trap)
       }},
      // site 0x401000: 0505  c.addi a0, 1 (the copy stays compressed)
      {0x0505,
       {
           0x05, 0x05,              // 481000: 0505      c.addi a0, 1
           0x6f, 0x00, 0x08, 0x80,  // 481002: 8008006f  j 0x401002
           0x02, 0x90,              // 481006: 9002      c.ebreak         (padding, never run)
           0x05, 0x05,              // 481008: 0505      c.addi a0, 1     (the stepped form)
           0x02, 0x90,              // 48100a: 9002      c.ebreak         (its end trap)
       }},
      // site 0x401000: 60a2  c.ldsp ra, 8(sp)
      {0x60a2, {0xa2, 0x60, 0x6f, 0x00, 0x08, 0x80, 0x02, 0x90, 0xa2, 0x60, 0x02, 0x90}},
      // site 0x401000: 00b6252f  amoadd.w a0, a1, (a2)
      {0x00b6252f,
       {0x2f, 0x25, 0xb6, 0x00, 0x6f, 0x00, 0x08, 0x80, 0x2f, 0x25, 0xb6, 0x00, 0x02, 0x90}},
  };
  NoMemory mem;
  for (const Case& c : cases) {
    INFO(std::hex << c.raw);
    auto plan = boost_plan(c.raw);
    const uint64_t length = (c.raw & 3) == 3 ? 4 : 2;
    CHECK(plan->slot_code() == c.slot);
    CHECK(plan->slot_code().size() <= isa().slot_size());
    CHECK(plan->describe() == fmt::format("boosted: the copy runs in the slot, then a jal back to {:#x}", kSite + length));

    Regs regs = hit_regs();
    StepState state;
    CHECK(plan->begin_hit(regs, mem, state) == HitAction::Resume);
    CHECK(regs.words[kPc] == kNearSlot);
    for (uint16_t i = 1; i < 32; ++i) CHECK(regs.words[i] == hit_regs().words[i]);  // nothing clobbered

    // A signal finds the thread at the start (the copy not run): it leaves
    // through the stepped form; at the jal (the copy run): at site + length.
    CHECK(plan->slot_exit(kNearSlot) == SlotExit{SlotExit::Kind::Step, kNearSlot + 8});
    CHECK(plan->slot_exit(kNearSlot + length) == SlotExit{SlotExit::Kind::Original, kSite + length});
    CHECK_FALSE(plan->slot_exit(kNearSlot + 8));
    // At detach, with the probe disarmed before it runs on, the start maps to the site.
    CHECK(plan->original_pc(kNearSlot) == kSite);
    CHECK(plan->original_pc(kNearSlot + length) == kSite + length);
    CHECK_FALSE(plan->original_pc(kNearSlot + 8));

    // The stepped form ends at its c.ebreak; finish_step puts pc after the site.
    CHECK(plan->is_step_end_trap(RuntimeAddr(kNearSlot + 8 + length)));
    CHECK_FALSE(plan->is_step_end_trap(RuntimeAddr(kNearSlot + length)));
    CHECK_FALSE(plan->is_step_end_trap(RuntimeAddr(kNearSlot + 6)));  // the padding, never run
    regs.words[kPc] = kNearSlot + 8 + length;
    regs.words[10] = 0x42;
    plan->finish_step(regs, mem, state);
    CHECK(regs.words[kPc] == kSite + length);
    CHECK(regs.words[10] == 0x42);
    // A fault in a copy: the thread goes back to the site, where it is delivered.
    plan->abort_step(regs, state);
    CHECK(regs.words[kPc] == kSite);
  }
  CHECK(mem.reads == 0);
  CHECK(mem.writes == 0);
}

TEST_CASE("riscv64 boost: auto boosts what it would step, and says what it declined", "[arch][riscv64][boost]") {
  SiteAnalysis a = analyze(insns({0x00158513}), ModeRequest::Auto, kSite, kSite, kNearSlot);
  REQUIRE(a.plan);
  CHECK(a.plan->mode() == ExecMode::Boost);
  CHECK(a.declined == Declined{{ExecMode::Emulate, "addi cannot be emulated"},
                               {ExecMode::Jump, "jump mode is not available"}});
  // What auto emulates stays emulated: control transfers, auipc, nop.
  for (uint32_t raw : {0x100000efu, 0x8082u, 0x04b50063u, 0x12345517u, 0x0001u}) {
    INFO(std::hex << raw);
    SiteAnalysis e = analyze(insns({raw}), ModeRequest::Auto, kSite, kSite, kNearSlot);
    REQUIRE(e.plan);
    CHECK(e.plan->mode() == ExecMode::Emulate);
  }
  // --mode trap: the step, as before.
  SiteAnalysis trap = analyze(insns({0x00158513}), ModeRequest::Trap, kSite, kSite, kNearSlot);
  REQUIRE(trap.plan);
  CHECK(trap.plan->mode() == ExecMode::Trap);
  CHECK(trap.declined.at(1) == std::pair<ExecMode, std::string>{ExecMode::Boost, "trap mode was requested"});
  // --mode boost on a nop: boosted like any other copy.
  CHECK(boost_plan(0x0001, ModeRequest::Boost)->slot_code() ==
        Bytes{0x01, 0x00, 0x6f, 0x00, 0x08, 0x80, 0x02, 0x90, 0x01, 0x00, 0x02, 0x90});
}

TEST_CASE("riscv64 boost: what reads its own address is refused with the reason", "[arch][riscv64][boost]") {
  struct Case {
    uint32_t raw;
    const char* text;
    const char* refusal;
  };
  const Case cases[] = {
      {0x12345517, "auipc a0, 0x12345",
       "cannot boost: auipc computes from its own address: its copy in the slot would give the slot's, and moving it "
       "to the site's needs a stop after the copy"},
      {0x100000ef, "jal 0x401100",
       "cannot boost: jal transfers control: run from the slot it would link or branch relative to the slot, so it "
       "is only emulated"},
      {0x010780e7, "jalr 16(a5)",
       "cannot boost: jalr transfers control: run from the slot it would link or branch relative to the slot, so it "
       "is only emulated"},
      {0x8082, "ret (c.jr ra)",
       "cannot boost: c.jr transfers control: run from the slot it would link or branch relative to the slot, so it "
       "is only emulated"},
      {0x04b50063, "beq a0, a1, 0x401040",
       "cannot boost: beq transfers control: run from the slot it would link or branch relative to the slot, so it "
       "is only emulated"},
      {0xc005, "c.beqz s0, 0x401020",
       "cannot boost: c.beqz transfers control: run from the slot it would link or branch relative to the slot, so "
       "it is only emulated"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    const SiteAnalysis a = analyze(insns({c.raw}), ModeRequest::Boost, kSite, kSite, kNearSlot);
    CHECK(a.plan == nullptr);
    CHECK(a.refusal == c.refusal);
  }
}

TEST_CASE("riscv64 boost: a slot out of jal's reach keeps the step and says how far it is", "[arch][riscv64][boost]") {
  // 00158513  addi a0, a1, 1, the slot at 0x3f00001000 (kSlot)
  const SiteAnalysis far = analyze(insns({0x00158513}));
  REQUIRE(far.plan);
  CHECK(far.plan->mode() == ExecMode::Trap);
  CHECK(far.declined.at(1) ==
        std::pair<ExecMode, std::string>{ExecMode::Boost, "the slot is 258044 MiB away; jal reaches 1 MiB"});
  CHECK(analyze(insns({0x00158513}), ModeRequest::Boost).refusal ==
        "cannot boost: the slot is 258044 MiB away; jal reaches 1 MiB");
  // At the edges: the jal back is at slot + 4 and goes to site + 4, so
  // offset = site - slot must lie in [-1 MiB, 1 MiB - 2].
  auto at = [](uint64_t slot) { return analyze(insns({0x00158513}), ModeRequest::Boost, kSite, kSite, slot); };
  CHECK(at(kSite + 0x100000).plan != nullptr);
  CHECK(at(kSite + 0x100008).refusal == "cannot boost: the slot is 1.0 MiB away; jal reaches 1 MiB");
  CHECK(at(kSite - 0xffff8).plan != nullptr);
  CHECK(at(kSite - 0x100000).refusal == "cannot boost: the slot is 1.0 MiB away; jal reaches 1 MiB");
}

TEST_CASE("riscv64 boost: jal reaches +-1 MiB and no further", "[arch][riscv64][boost]") {
  // 7ffff06f  j .+0xffffe;  8000006f  j .-0x100000 (riscv64-linux-gnu-as)
  CHECK(jal_to(0x10000000, 0x10000000 + 0xffffe) == 0x7ffff06fu);
  CHECK(jal_to(0x10000000, 0x10000000 - 0x100000) == 0x8000006fu);
  CHECK(jal_to(0x481004, 0x401004) == 0x8008006fu);
  CHECK_FALSE(jal_to(0x10000000, 0x10000000 + 0x100000));
  CHECK_FALSE(jal_to(0x10000000, 0x10000000 - 0x100002));
  CHECK_FALSE(jal_to(0x10000000, 0x10000001));
}
