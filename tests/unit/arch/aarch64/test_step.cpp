// Trap plans: the slot's bytes, and what begin_hit / finish_step /
// abort_step do around the single step. Each test plays the CPU's part by
// setting registers as the step would leave them.
#include <catch2/catch.hpp>

#include "arch/aarch64/analyzer.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::aarch64;
using namespace uptrace::arch::aarch64::test;

namespace {

std::unique_ptr<ProbePlan> step_plan(uint32_t word, uint64_t site = kSite, ModeRequest request = ModeRequest::Trap) {
  SiteAnalysis a = analyze(words({word}), site, request);
  INFO(a.refusal);
  REQUIRE(a.plan != nullptr);
  REQUIRE(a.plan->mode() == ExecMode::Trap);
  return std::move(a.plan);
}

// begin_hit must send the thread into the slot for one step.
void begin(const ProbePlan& plan, Regs& regs, FakeMemory& mem, StepState& state) {
  REQUIRE(plan.begin_hit(regs, mem, state) == HitAction::SingleStep);
  REQUIRE(regs.words[kPc] == kSlot);
}

}  // namespace

TEST_CASE("aarch64 step: an ordinary instruction runs as it is, pc relocated", "[arch][aarch64]") {
  FakeMemory mem;
  // 91000420            add x0, x1, #1     -> slot: 20 04 00 91
  auto plan = step_plan(0x91000420, kSite, ModeRequest::Auto);
  CHECK(plan->slot_code() == Bytes{0x20, 0x04, 0x00, 0x91});
  CHECK(plan->describe() == "single-step out of line");
  Regs regs = hit_regs();
  StepState state;
  begin(*plan, regs, mem, state);
  regs.words[kPc] = kSlot + 4;
  regs.words[0] = 0x42;
  plan->finish_step(regs, mem, state);
  CHECK(regs.words[kPc] == kSite + 4);
  CHECK(regs.words[0] == 0x42);
  CHECK(regs.words[kLr] == hit_regs().words[kLr]);

  // A fault or signal before the step completed: back at the site.
  regs = hit_regs();
  begin(*plan, regs, mem, state);
  plan->abort_step(regs, state);
  CHECK(regs.words[kPc] == kSite);
}

TEST_CASE("aarch64 step: pointer authentication is stepped as it is", "[arch][aarch64]") {
  FakeMemory mem;
  // d503233f            paciasp
  auto pac = step_plan(0xd503233f, kSite, ModeRequest::Auto);
  CHECK(pac->slot_code() == Bytes{0x3f, 0x23, 0x03, 0xd5});

  // d65f0bff            retaa, --mode trap (auto boosts it: no branch back
  // to reach): pc is whatever the authenticated x30 was
  auto retaa = step_plan(0xd65f0bff, kSite, ModeRequest::Trap);
  CHECK(retaa->slot_code() == Bytes{0xff, 0x0b, 0x5f, 0xd6});
  CHECK(retaa->describe() == "single-step out of line; pc comes from the instruction, not the slot");
  Regs regs = hit_regs();
  StepState state;
  begin(*retaa, regs, mem, state);
  regs.words[kPc] = 0x400abc;
  retaa->finish_step(regs, mem, state);
  CHECK(regs.words[kPc] == 0x400abc);

  // d73f0864            blraa x3, x4: the copy's x30 is the slot's; rewritten to the site's
  auto blraa = step_plan(0xd73f0864, kSite, ModeRequest::Auto);
  CHECK(blraa->slot_code() == Bytes{0x64, 0x08, 0x3f, 0xd7});
  regs = hit_regs();
  begin(*blraa, regs, mem, state);
  regs.words[kPc] = 0x7f00aa000000;
  regs.words[kLr] = kSlot + 4;
  blraa->finish_step(regs, mem, state);
  CHECK(regs.words[kPc] == 0x7f00aa000000);
  CHECK(regs.words[kLr] == kSite + 4);
}

TEST_CASE("aarch64 step: immediate branches land inside the slot, then pc is set", "[arch][aarch64]") {
  FakeMemory mem;
  struct Case {
    uint32_t word;
    uint32_t slot_word;  // the same branch to slot + 8
    uint64_t taken;
    uint64_t not_taken;
    bool link;
  };
  const Case cases[] = {
      // 14000040 b #0x401100         -> 14000002 b .+8
      {0x14000040, 0x14000002, 0x401100, 0x401100, false},
      // 94000080 bl #0x401200        -> 94000002 bl .+8
      {0x94000080, 0x94000002, 0x401200, 0x401200, true},
      // 54000201 b.ne #0x401040      -> 54000041 b.ne .+8
      {0x54000201, 0x54000041, 0x401040, 0x401004, false},
      // 34000103 cbz w3, #0x401020   -> 34000043 cbz w3, .+8
      {0x34000103, 0x34000043, 0x401020, 0x401004, false},
      // b5000809 cbnz x9, #0x401100  -> b5000049 cbnz x9, .+8
      {0xb5000809, 0xb5000049, 0x401100, 0x401004, false},
      // 37280083 tbnz w3, #5, #0x401010 -> 37280043 tbnz w3, #5, .+8
      {0x37280083, 0x37280043, 0x401010, 0x401004, false},
      // b647ff83 tbz x3, #40, #0x400ff0 -> b6400043 tbz x3, #40, .+8
      {0xb647ff83, 0xb6400043, 0x400ff0, 0x401004, false},
  };
  for (const Case& c : cases) {
    INFO(std::hex << c.word);
    auto plan = step_plan(c.word);
    CHECK(plan->slot_code() == words({c.slot_word}));
    for (bool taken : {true, false}) {
      Regs regs = hit_regs();
      StepState state;
      begin(*plan, regs, mem, state);
      regs.words[kPc] = kSlot + (taken ? kTakenOffsetInSlot : 4);
      if (c.link) regs.words[kLr] = kSlot + 4;
      plan->finish_step(regs, mem, state);
      CHECK(regs.words[kPc] == (taken ? c.taken : c.not_taken));
      CHECK(regs.words[kLr] == (c.link ? kSite + 4 : hit_regs().words[kLr]));
    }
  }
  CHECK(step_plan(0x54000201)->describe() ==
        "single-step out of line; the copy branches inside the slot, then pc is set to 0x401040 if taken, else "
        "0x401004");
  CHECK(step_plan(0x94000080)->describe() ==
        "single-step out of line; the copy calls inside the slot, then x30 is set to 0x401004 and pc to 0x401200");
}

TEST_CASE("aarch64 step: register branches keep their pc, and blr gets the site's return address", "[arch][aarch64]") {
  FakeMemory mem;
  // d63f03c0            blr x30 (trap mode)
  auto blr = step_plan(0xd63f03c0);
  CHECK(blr->slot_code() == Bytes{0xc0, 0x03, 0x3f, 0xd6});
  Regs regs = hit_regs();
  StepState state;
  begin(*blr, regs, mem, state);
  regs.words[kPc] = 0x400abc;
  regs.words[kLr] = kSlot + 4;
  blr->finish_step(regs, mem, state);
  CHECK(regs.words[kPc] == 0x400abc);
  CHECK(regs.words[kLr] == kSite + 4);

  // d65f03c0            ret (trap mode)
  auto ret = step_plan(0xd65f03c0);
  regs = hit_regs();
  begin(*ret, regs, mem, state);
  regs.words[kPc] = 0x400abc;
  ret->finish_step(regs, mem, state);
  CHECK(regs.words[kPc] == 0x400abc);
  CHECK(regs.words[kLr] == hit_regs().words[kLr]);
}

TEST_CASE("aarch64 step: adr and adrp are moved from the slot to the site", "[arch][aarch64]") {
  FakeMemory mem;
  constexpr uint64_t kSite2 = 0x401234;
  constexpr uint64_t kSlot2 = 0x7f0000001ff0;  // not page-aligned: adrp uses its page
  // 30000080            adr x0, #0x401245
  SiteAnalysis a = analyze(words({0x30000080}), kSite2, ModeRequest::Trap, kSlot2);
  REQUIRE(a.plan);
  CHECK(a.plan->slot_code() == words({0x30000080}));
  Regs regs = hit_regs(kSite2);
  StepState state;
  REQUIRE(a.plan->begin_hit(regs, mem, state) == HitAction::SingleStep);
  regs.words[kPc] = kSlot2 + 4;
  regs.words[0] = kSlot2 + 0x11;  // what adr computed in the slot
  a.plan->finish_step(regs, mem, state);
  CHECK(regs.words[0] == 0x401245);
  CHECK(regs.words[kPc] == kSite2 + 4);

  // f0000001            adrp x1, #0x404000
  a = analyze(words({0xf0000001}), kSite2, ModeRequest::Trap, kSlot2);
  REQUIRE(a.plan);
  regs = hit_regs(kSite2);
  REQUIRE(a.plan->begin_hit(regs, mem, state) == HitAction::SingleStep);
  regs.words[kPc] = kSlot2 + 4;
  regs.words[1] = 0x7f0000001000 + 0x3000;  // the slot's page + 3 pages
  a.plan->finish_step(regs, mem, state);
  CHECK(regs.words[1] == 0x404000);
}

TEST_CASE("aarch64 step: literal loads become loads through a base register", "[arch][aarch64]") {
  FakeMemory mem;
  struct Case {
    uint32_t word;
    uint32_t slot_word;
    uint16_t base;
    uint64_t address;
    bool base_is_result;
  };
  const Case cases[] = {
      // 58000103 ldr x3, #0x401020   -> f9400063 ldr x3, [x3]
      {0x58000103, 0xf9400063, 3, 0x401020, true},
      // 18000043 ldr w3, #0x401008   -> b9400063 ldr w3, [x3]
      {0x18000043, 0xb9400063, 3, 0x401008, true},
      // 98000063 ldrsw x3, #0x40100c -> b9800063 ldrsw x3, [x3]
      {0x98000063, 0xb9800063, 3, 0x40100c, true},
      // 5800005f ldr xzr, #0x401008  -> f940021f ldr xzr, [x16]
      {0x5800005f, 0xf940021f, 16, 0x401008, false},
      // 9c000080 ldr q0, #0x401010   -> 3dc00200 ldr q0, [x16]
      {0x9c000080, 0x3dc00200, 16, 0x401010, false},
      // 1c000021 ldr s1, #0x401004   -> bd400201 ldr s1, [x16]
      {0x1c000021, 0xbd400201, 16, 0x401004, false},
  };
  for (const Case& c : cases) {
    INFO(std::hex << c.word);
    auto plan = step_plan(c.word);
    CHECK(plan->slot_code() == words({c.slot_word}));
    Regs regs = hit_regs();
    StepState state;
    begin(*plan, regs, mem, state);
    CHECK(regs.words[c.base] == c.address);

    regs.words[kPc] = kSlot + 4;
    if (c.base_is_result) regs.words[c.base] = 0x5a5a;  // the loaded value
    plan->finish_step(regs, mem, state);
    CHECK(regs.words[kPc] == kSite + 4);
    CHECK(regs.words[c.base] == (c.base_is_result ? 0x5a5a : hit_regs().words[c.base]));

    // The load faulted: the base register gets its own value back.
    regs = hit_regs();
    begin(*plan, regs, mem, state);
    plan->abort_step(regs, state);
    CHECK(regs.words[kPc] == kSite);
    CHECK(regs.words[c.base] == hit_regs().words[c.base]);
  }
  CHECK(step_plan(0x9c000080)->describe() ==
        "single-step out of line; as a load from 0x401010 through x16, restored after");
}
