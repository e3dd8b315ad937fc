// Single-stepped instructions: the slot's words, and the fixups after the step.
#include <catch2/catch.hpp>

#include "arch/ppc64le/plans.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::ppc64le;
using namespace uptrace::arch::ppc64le::test;

namespace {

std::unique_ptr<ProbePlan> step_plan(const Bytes& code, ModeRequest request = ModeRequest::Auto) {
  SiteAnalysis a = analyze(code, kSite, request);
  INFO(a.refusal);
  REQUIRE(a.plan != nullptr);
  REQUIRE(a.plan->mode() == ExecMode::Trap);
  return std::move(a.plan);
}

}  // namespace

TEST_CASE("ppc64le step: a plain instruction is copied and pc moved to after the site", "[arch][ppc64le]") {
  FakeMemory mem;
  // f821ffe1            stdu r1,-32(r1)
  auto plan = step_plan(words({0xf821ffe1}));
  CHECK(plan->describe() == "single-step out of line");
  CHECK(plan->slot_code() == words({0xf821ffe1}));
  Regs regs = hit_regs();
  StepState state;
  REQUIRE(plan->begin_hit(regs, mem, state) == HitAction::SingleStep);
  CHECK(regs.words[kNip] == kSlot);
  regs.words[kNip] = kSlot + 4;
  regs.words[kSp] -= 32;
  plan->finish_step(regs, mem, state);
  CHECK(regs.words[kNip] == kSite + 4);
  CHECK(regs.words[kSp] == 0x7ffff000 - 32);

  // A signal or fault before the copy completed: back to the site.
  regs = hit_regs();
  plan->begin_hit(regs, mem, state);
  plan->abort_step(regs, state);
  CHECK(regs.words[kNip] == kSite);
}

TEST_CASE("ppc64le step: a prefixed instruction is 8 bytes in the slot and after it", "[arch][ppc64le]") {
  FakeMemory mem;
  // 04000000 e4640010   pld r3,16(r4) (R=0: no pc dependence)
  auto plan = step_plan(words({0x04000000, 0xe4640010}));
  CHECK(plan->slot_code() == words({0x04000000, 0xe4640010}));
  Regs regs = hit_regs();
  StepState state;
  plan->begin_hit(regs, mem, state);
  regs.words[kNip] = kSlot + 8;
  plan->finish_step(regs, mem, state);
  CHECK(regs.words[kNip] == kSite + 8);
  // Slots are a multiple of 64 bytes long, from a page boundary: a prefixed
  // copy at a slot's start never crosses a 64-byte boundary.
  CHECK(isa().slot_size() % 64 == 0);
}

TEST_CASE("ppc64le step: pc-relative stores and vector loads through a borrowed register", "[arch][ppc64le]") {
  FakeMemory mem;
  // 04100000 f4600020   pstd r3,site+0x20: stepped as pstd r3,0(r12), r12 = site+0x20
  auto plan = step_plan(words({0x04100000, 0xf4600020}));
  CHECK(plan->describe() == "single-step out of line; as an access to 0x10001020 through r12, given back its value after");
  CHECK(plan->slot_code() == words({0x04000000, 0xf46c0000}));  // pstd r3,0(r12)
  Regs regs = hit_regs();
  StepState state;
  plan->begin_hit(regs, mem, state);
  CHECK(regs.words[12] == kSite + 0x20);
  CHECK(regs.words[3] == hit_regs().words[3]);
  regs.words[kNip] = kSlot + 8;
  plan->finish_step(regs, mem, state);
  CHECK(regs.words[12] == hit_regs().words[12]);
  CHECK(regs.words[kNip] == kSite + 8);
  // Aborted: r12 is given back too.
  regs = hit_regs();
  plan->begin_hit(regs, mem, state);
  plan->abort_step(regs, state);
  CHECK(regs.words[12] == hit_regs().words[12]);
  CHECK(regs.words[kNip] == kSite);

  // 04100000 f5800020   pstd r12,...: r12 is the data, so r11 is borrowed
  plan = step_plan(words({0x04100000, 0xf5800020}));
  CHECK(plan->slot_code() == words({0x04000000, 0xf58b0000}));  // pstd r12,0(r11)
  // 04100000 e1800000   plq r12,...: the pair r12:r13 is the data, so r11
  plan = step_plan(words({0x04100000, 0xe1800000}));
  CHECK(plan->slot_code() == words({0x04000000, 0xe18b0000}));  // plq r12,0(r11)

  // 04100000 cc400000   plxv vs34,site: plxv vs34,0(r12)
  plan = step_plan(words({0x04100000, 0xcc400000}));
  CHECK(plan->slot_code() == words({0x04000000, 0xcc4c0000}));
}

TEST_CASE("ppc64le step: btar and btarl keep TAR's target and fix LR", "[arch][ppc64le]") {
  FakeMemory mem;
  // 4e800461            btarl
  auto plan = step_plan(words({0x4e800461}));
  CHECK(plan->describe() ==
        "single-step out of line; pc comes from TAR when taken, else moves to the next instruction; then LR is "
        "rewritten to 0x10001004");
  Regs regs = hit_regs();
  StepState state;
  plan->begin_hit(regs, mem, state);
  regs.words[kNip] = 0x10005000;  // taken: TAR's value
  regs.words[kLink] = kSlot + 4;
  plan->finish_step(regs, mem, state);
  CHECK(regs.words[kNip] == 0x10005000);
  CHECK(regs.words[kLink] == kSite + 4);
  // 4e800460            btar, not taken (a BO that tests a CR bit would say so)
  plan = step_plan(words({0x4e800460}));
  regs = hit_regs();
  plan->begin_hit(regs, mem, state);
  regs.words[kNip] = kSlot + 4;
  plan->finish_step(regs, mem, state);
  CHECK(regs.words[kNip] == kSite + 4);
  CHECK(regs.words[kLink] == hit_regs().words[kLink]);
}
