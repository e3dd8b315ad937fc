// Trap plans: the slot is the copy and a trailing c.ebreak, 2- and 4-byte
// copies; begin_hit sends the thread to the slot, the core runs it to the
// trailing trap and calls finish_step with pc set to the trap's address
// (isa.h, StepMechanism::TrailingTrap). Each test plays the CPU's and the
// core's part by setting the registers as they would be.
#include <catch2/catch.hpp>

#include "arch/riscv64/plans.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::riscv64;
using namespace uptrace::arch::riscv64::test;

namespace {

std::unique_ptr<ProbePlan> step_plan(uint32_t raw, ModeRequest request = ModeRequest::Auto) {
  SiteAnalysis a = analyze(insns({raw}), request);
  INFO(a.refusal);
  REQUIRE(a.plan != nullptr);
  REQUIRE(a.plan->mode() == ExecMode::Trap);
  return std::move(a.plan);
}

}  // namespace

TEST_CASE("riscv64 step: the slot is the copy and c.ebreak, for 2- and 4-byte instructions", "[arch][riscv64]") {
  struct Case {
    uint32_t raw;
    Bytes slot;
  };
  const Case cases[] = {
      // 00158513  addi a0, a1, 1        -> 13 85 15 00 | 02 90
      {0x00158513, {0x13, 0x85, 0x15, 0x00, 0x02, 0x90}},
      // 0505      c.addi a0, 1          -> 05 05 | 02 90
      {0x0505, {0x05, 0x05, 0x02, 0x90}},
      // 60a2      c.ldsp ra, 8(sp)      -> a2 60 | 02 90
      {0x60a2, {0xa2, 0x60, 0x02, 0x90}},
      // 00b6252f  amoadd.w a0, a1, (a2) -> 2f 25 b6 00 | 02 90
      {0x00b6252f, {0x2f, 0x25, 0xb6, 0x00, 0x02, 0x90}},
      // 0330000f  fence rw, rw          -> 0f 00 30 03 | 02 90
      {0x0330000f, {0x0f, 0x00, 0x30, 0x03, 0x02, 0x90}},
      // 6505      c.lui a0, 0x1         -> 05 65 | 02 90
      {0x6505, {0x05, 0x65, 0x02, 0x90}},
  };
  NoMemory mem;
  for (const Case& c : cases) {
    INFO(std::hex << c.raw);
    auto plan = step_plan(c.raw);
    CHECK(plan->slot_code() == c.slot);
    CHECK(plan->slot_code().size() <= isa().slot_size());
    const uint64_t length = c.slot.size() - 2;
    CHECK(plan->is_step_end_trap(RuntimeAddr(kSlot + length)));
    CHECK_FALSE(plan->is_step_end_trap(RuntimeAddr(kSlot)));
    CHECK_FALSE(plan->is_step_end_trap(RuntimeAddr(kSite + length)));
    CHECK(plan->describe() == "single-step out of line (the copy, then c.ebreak)");

    Regs regs = hit_regs();
    StepState state;
    REQUIRE(plan->begin_hit(regs, mem, state) == HitAction::SingleStep);
    CHECK(regs.words[kPc] == kSlot);
    // The copy ran; the thread stopped at the trailing trap, and the core
    // set pc to the trap's address.
    regs.words[10] = 0x42;
    regs.words[kPc] = kSlot + length;
    plan->finish_step(regs, mem, state);
    CHECK(regs.words[kPc] == kSite + length);
    CHECK(regs.words[10] == 0x42);  // the step's result is kept
    CHECK(regs.words[1] == hit_regs().words[1]);

    // A signal or fault before the copy completed: back at the site.
    regs = hit_regs();
    REQUIRE(plan->begin_hit(regs, mem, state) == HitAction::SingleStep);
    plan->abort_step(regs, state);
    CHECK(regs.words[kPc] == kSite);
    CHECK(plan->original_pc(kSlot) == kSite);
    CHECK_FALSE(plan->original_pc(kSlot + length).has_value());
  }
  CHECK(mem.reads == 0);
  CHECK(mem.writes == 0);
}

TEST_CASE("riscv64 step: auipc in the slot is moved back to the site's address", "[arch][riscv64]") {
  NoMemory mem;
  // 12345517  auipc a0, 0x12345: in the slot a0 = slot + 0x12345000.
  auto plan = step_plan(0x12345517, ModeRequest::Trap);
  CHECK(plan->slot_code() == Bytes{0x17, 0x55, 0x34, 0x12, 0x02, 0x90});
  Regs regs = hit_regs();
  StepState state;
  REQUIRE(plan->begin_hit(regs, mem, state) == HitAction::SingleStep);
  regs.words[10] = kSlot + 0x12345000;
  regs.words[kPc] = kSlot + 4;
  plan->finish_step(regs, mem, state);
  CHECK(regs.words[10] == kSite + 0x12345000);
  CHECK(regs.words[kPc] == kSite + 4);

  // fffff317  auipc t1, 0xfffff: -4096 from the pc.
  auto negative = step_plan(0xfffff317, ModeRequest::Trap);
  regs = hit_regs();
  REQUIRE(negative->begin_hit(regs, mem, state) == HitAction::SingleStep);
  regs.words[6] = kSlot - 4096;
  regs.words[kPc] = kSlot + 4;
  negative->finish_step(regs, mem, state);
  CHECK(regs.words[6] == kSite - 4096);

  // 00001017  auipc zero, 0x1: nothing to move (writes to x0 vanish).
  auto to_zero = step_plan(0x00001017, ModeRequest::Trap);
  CHECK(to_zero->describe() == "single-step out of line (the copy, then c.ebreak)");
  regs = hit_regs();
  REQUIRE(to_zero->begin_hit(regs, mem, state) == HitAction::SingleStep);
  regs.words[kPc] = kSlot + 4;
  const Regs before = regs;
  to_zero->finish_step(regs, mem, state);
  CHECK(regs.words[kPc] == kSite + 4);
  for (unsigned i = 1; i < 32; ++i) CHECK(regs.words[i] == before.words[i]);
}
