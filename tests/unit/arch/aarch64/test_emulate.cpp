// Emulated instructions: one stop, the tracer computes the effect.
#include <catch2/catch.hpp>

#include "arch/aarch64/plans.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::aarch64;
using namespace uptrace::arch::aarch64::test;

namespace {

std::unique_ptr<ProbePlan> emulation(uint32_t word, uint64_t site = kSite) {
  SiteAnalysis a = analyze(words({word}), site);
  INFO(a.refusal);
  REQUIRE(a.plan != nullptr);
  REQUIRE(a.plan->mode() == ExecMode::Emulate);
  return std::move(a.plan);
}

// Runs one hit, which must complete without a step, and checks what every
// emulation does besides its own effect: BTYPE cleared, sp untouched.
Regs hit(const ProbePlan& plan, Regs regs, FakeMemory& mem) {
  const uint64_t sp = regs.words[kSp];
  StepState state;
  REQUIRE(plan.begin_hit(regs, mem, state) == HitAction::Resume);
  CHECK((regs.words[kPstate] & pstate::kBtype) == 0);
  CHECK(regs.words[kSp] == sp);
  return regs;
}

}  // namespace

TEST_CASE("aarch64 emulate: b and bl", "[arch][aarch64]") {
  FakeMemory mem;
  // 14000040            b #0x401100
  auto plan = emulation(0x14000040);
  CHECK(plan->describe() == "emulated: b (jump to 0x401100)");
  CHECK(plan->slot_code().empty());
  Regs regs = hit(*plan, hit_regs(), mem);
  CHECK(regs.words[kPc] == 0x401100);
  CHECK(regs.words[kLr] == hit_regs().words[kLr]);

  // 17fffc00            b #0x400000 (backwards)
  regs = hit(*emulation(0x17fffc00), hit_regs(), mem);
  CHECK(regs.words[kPc] == 0x400000);

  // 94000080            bl #0x401200
  plan = emulation(0x94000080);
  CHECK(plan->describe() == "emulated: bl (x30 = 0x401004, jump to 0x401200)");
  regs = hit(*plan, hit_regs(), mem);
  CHECK(regs.words[kPc] == 0x401200);
  CHECK(regs.words[kLr] == 0x401004);
}

TEST_CASE("aarch64 emulate: b.cond taken and not taken", "[arch][aarch64]") {
  FakeMemory mem;
  using namespace pstate;
  struct Case {
    uint32_t word;  // b.<cond> #0x401040 (offset 0x40)
    uint64_t flags;
    bool taken;
  };
  const Case cases[] = {
      {0x54000200, kZ, true},  {0x54000200, 0, false},        // b.eq
      {0x54000201, 0, true},   {0x54000201, kZ, false},       // b.ne
      {0x54000208, kC, true},  {0x54000208, kC | kZ, false},  // b.hi
      {0x5400020a, kN | kV, true}, {0x5400020a, kN, false},   // b.ge
      {0x5400020b, kV, true},  {0x5400020b, 0, false},        // b.lt
      {0x5400020c, 0, true},   {0x5400020c, kZ, false},       // b.gt
      {0x5400020d, kZ, true},  {0x5400020d, 0, false},        // b.le
      {0x5400020e, 0, true},                                  // b.al
      {0x54000210, kZ, true},  {0x54000210, 0, false},        // bc.eq (FEAT_HBC)
  };
  for (const Case& c : cases) {
    INFO(std::hex << c.word << " flags " << c.flags);
    Regs regs = hit_regs();
    regs.words[kPstate] |= c.flags;
    regs = hit(*emulation(c.word), regs, mem);
    CHECK(regs.words[kPc] == (c.taken ? 0x401040 : 0x401004));
    CHECK((regs.words[kPstate] & (kN | kZ | kC | kV)) == c.flags);  // flags are read, not changed
  }
  CHECK(emulation(0x54000201)->describe() == "emulated: b.ne (jump to 0x401040 if taken, else continue at 0x401004)");
}

TEST_CASE("aarch64 emulate: cbz/cbnz test w or x", "[arch][aarch64]") {
  FakeMemory mem;
  // 34000103            cbz w3, #0x401020: only the low 32 bits count
  auto cbz_w = emulation(0x34000103);
  Regs regs = hit_regs();
  regs.words[3] = 0xffffffff00000000;
  CHECK(hit(*cbz_w, regs, mem).words[kPc] == 0x401020);
  regs.words[3] = 1;
  CHECK(hit(*cbz_w, regs, mem).words[kPc] == 0x401004);

  // b5000809            cbnz x9, #0x401100
  auto cbnz_x = emulation(0xb5000809);
  regs.words[9] = 0x100000000;
  CHECK(hit(*cbnz_x, regs, mem).words[kPc] == 0x401100);
  regs.words[9] = 0;
  CHECK(hit(*cbnz_x, regs, mem).words[kPc] == 0x401004);
}

TEST_CASE("aarch64 emulate: tbz/tbnz test one bit", "[arch][aarch64]") {
  FakeMemory mem;
  // 37280083            tbnz w3, #5, #0x401010
  auto tbnz = emulation(0x37280083);
  Regs regs = hit_regs();
  regs.words[3] = 0x20;
  CHECK(hit(*tbnz, regs, mem).words[kPc] == 0x401010);
  regs.words[3] = ~uint64_t{0x20};
  CHECK(hit(*tbnz, regs, mem).words[kPc] == 0x401004);

  // b647ff83            tbz x3, #40, #0x400ff0 (backwards; bit 40 needs b5)
  auto tbz = emulation(0xb647ff83);
  regs.words[3] = uint64_t{1} << 40;
  CHECK(hit(*tbz, regs, mem).words[kPc] == 0x401004);
  regs.words[3] = ~(uint64_t{1} << 40);
  CHECK(hit(*tbz, regs, mem).words[kPc] == 0x400ff0);
}

TEST_CASE("aarch64 emulate: adr and adrp compute from the site", "[arch][aarch64]") {
  FakeMemory mem;
  // 30000080            adr x0, #0x401245   (site 0x401234)
  auto adr = emulation(0x30000080, 0x401234);
  CHECK(adr->describe() == "emulated: adr x0, 0x401245");
  Regs regs = hit(*adr, hit_regs(0x401234), mem);
  CHECK(regs.words[0] == 0x401245);
  CHECK(regs.words[kPc] == 0x401238);

  // f0000001            adrp x1, #0x404000  (site 0x401234: page 0x401000 + 3 pages)
  auto adrp = emulation(0xf0000001, 0x401234);
  CHECK(adrp->describe() == "emulated: adrp x1, 0x404000");
  regs = hit(*adrp, hit_regs(0x401234), mem);
  CHECK(regs.words[1] == 0x404000);
  CHECK(regs.words[kPc] == 0x401238);

  // 10800000            adr x0, #0x301000 (the most negative offset, -1 MiB)
  regs = hit(*emulation(0x10800000), hit_regs(), mem);
  CHECK(regs.words[0] == 0x301000);
}

TEST_CASE("aarch64 emulate: literal loads read target memory", "[arch][aarch64]") {
  FakeMemory mem;
  mem.put_u64(0x401020, 0x8877665544332211);
  mem.put_u64(0x401008, 0x00000000f0000001);
  mem.put_u64(0x40100c, 0x0000000080000000);

  // 58000103            ldr x3, #0x401020
  auto ldr_x = emulation(0x58000103);
  CHECK(ldr_x->describe() == "emulated: ldr x3, [0x401020] (8 bytes)");
  Regs regs = hit(*ldr_x, hit_regs(), mem);
  CHECK(regs.words[3] == 0x8877665544332211);
  CHECK(regs.words[kPc] == 0x401004);

  // 18000043            ldr w3, #0x401008: zero-extends
  regs = hit(*emulation(0x18000043), hit_regs(), mem);
  CHECK(regs.words[3] == 0xf0000001);

  // 98000063            ldrsw x3, #0x40100c: sign-extends
  regs = hit(*emulation(0x98000063), hit_regs(), mem);
  CHECK(regs.words[3] == 0xffffffff80000000);

  // 5800005f            ldr xzr, #0x401008: the value is discarded
  const Regs before = hit_regs();
  regs = hit(*emulation(0x5800005f), before, mem);
  for (uint16_t i = 0; i <= 30; ++i) CHECK(regs.words[i] == before.words[i]);
  CHECK(regs.words[kPc] == 0x401004);

  // d8000040            prfm pldl1keep, #0x401008: no effect
  regs = hit(*emulation(0xd8000040), before, mem);
  CHECK(regs.words[kPc] == 0x401004);
  for (uint16_t i = 0; i <= 30; ++i) CHECK(regs.words[i] == before.words[i]);
}

TEST_CASE("aarch64 emulate: an unreadable literal is stepped so the CPU faults", "[arch][aarch64]") {
  FakeMemory mem;
  mem.readable = false;
  // 58000103            ldr x3, #0x401020
  //                  -> f9400063   ldr x3, [x3] with x3 = 0x401020 for the step
  auto plan = emulation(0x58000103);
  CHECK(plan->slot_code() == words({0xf9400063}));
  Regs regs = hit_regs();
  StepState state;
  REQUIRE(plan->begin_hit(regs, mem, state) == HitAction::SingleStep);
  CHECK(regs.words[kPc] == kSlot);
  CHECK(regs.words[3] == 0x401020);
  // The load faults: the thread goes back to the site with x3 as it was.
  plan->abort_step(regs, state);
  CHECK(regs.words[kPc] == kSite);
  CHECK(regs.words[3] == hit_regs().words[3]);
}

TEST_CASE("aarch64 emulate: br, blr, ret take pc from a register", "[arch][aarch64]") {
  FakeMemory mem;
  Regs regs = hit_regs();
  regs.words[16] = 0x7f0000123450;
  regs.words[30] = 0x400abc;
  regs.words[5] = 0x400def;

  // d61f0200            br x16
  Regs out = hit(*emulation(0xd61f0200), regs, mem);
  CHECK(out.words[kPc] == 0x7f0000123450);
  CHECK(out.words[kLr] == 0x400abc);

  // d63f03c0            blr x30: branches to the old x30, then x30 = site + 4
  auto blr = emulation(0xd63f03c0);
  CHECK(blr->describe() == "emulated: blr (x30 = 0x401004, jump to x30)");
  out = hit(*blr, regs, mem);
  CHECK(out.words[kPc] == 0x400abc);
  CHECK(out.words[kLr] == 0x401004);

  // d65f03c0            ret
  out = hit(*emulation(0xd65f03c0), regs, mem);
  CHECK(out.words[kPc] == 0x400abc);

  // d65f00a0            ret x5
  out = hit(*emulation(0xd65f00a0), regs, mem);
  CHECK(out.words[kPc] == 0x400def);
  CHECK(out.words[kLr] == 0x400abc);
}

TEST_CASE("aarch64 emulate: nop and bti continue after themselves and clear BTYPE", "[arch][aarch64]") {
  FakeMemory mem;
  // d503201f            nop
  auto nop = emulation(0xd503201f);
  CHECK(nop->describe() == "emulated: nop (continue at 0x401004)");
  Regs regs = hit_regs();
  regs.words[kPstate] |= pstate::kN | pstate::kBtype;
  Regs out = hit(*nop, regs, mem);
  CHECK(out.words[kPc] == 0x401004);
  CHECK(out.words[kPstate] == pstate::kN);

  // d503245f            bti c: reached by blr with BTYPE = 10
  auto bti = emulation(0xd503245f);
  CHECK(bti->describe() == "emulated: bti c (continue at 0x401004)");
  regs.words[kPstate] = uint64_t{2} << 10;
  out = hit(*bti, regs, mem);
  CHECK(out.words[kPc] == 0x401004);
  CHECK(out.words[kPstate] == 0);
}
