// Emulated instructions: one stop, the tracer computes the effect.
#include <catch2/catch.hpp>

#include "arch/ppc64le/plans.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::ppc64le;
using namespace uptrace::arch::ppc64le::test;

namespace {

std::unique_ptr<ProbePlan> emulation(const Bytes& code, uint64_t site = kSite) {
  SiteAnalysis a = analyze(code, site);
  INFO(a.refusal);
  REQUIRE(a.plan != nullptr);
  REQUIRE(a.plan->mode() == ExecMode::Emulate);
  return std::move(a.plan);
}

// Runs one hit, which must complete without a step; sp and the TOC are never touched.
Regs hit(const ProbePlan& plan, Regs regs, FakeMemory& mem) {
  const uint64_t sp = regs.words[kSp], toc = regs.words[kToc];
  StepState state;
  REQUIRE(plan.begin_hit(regs, mem, state) == HitAction::Resume);
  CHECK(regs.words[kSp] == sp);
  CHECK(regs.words[kToc] == toc);
  return regs;
}

// CR with only bit `bi` set (bit 0 is CR0.LT, the most significant).
uint64_t cr_with(unsigned bi) { return uint64_t{1} << (31 - bi); }

}  // namespace

TEST_CASE("ppc64le emulate: b, bl, ba, bla", "[arch][ppc64le]") {
  FakeMemory mem;
  // 48000100            b .+0x100
  auto plan = emulation(words({0x48000100}));
  CHECK(plan->describe() == "emulated: b 0x10001100 (jump to 0x10001100)");
  CHECK(plan->slot_code().empty());
  Regs regs = hit(*plan, hit_regs(), mem);
  CHECK(regs.words[kNip] == 0x10001100);
  CHECK(regs.words[kLink] == hit_regs().words[kLink]);
  CHECK(regs.words[kCtr] == 5);

  // 4bfff000            b .-0x1000
  CHECK(hit(*emulation(words({0x4bfff000})), hit_regs(), mem).words[kNip] == 0x10000000);

  // 48000201            bl .+0x200
  plan = emulation(words({0x48000201}));
  CHECK(plan->describe() == "emulated: bl 0x10001200 (LR = 0x10001004, jump to 0x10001200)");
  regs = hit(*plan, hit_regs(), mem);
  CHECK(regs.words[kNip] == 0x10001200);
  CHECK(regs.words[kLink] == 0x10001004);

  // 48001002 ba 0x1000; 48002003 bla 0x2000
  CHECK(hit(*emulation(words({0x48001002})), hit_regs(), mem).words[kNip] == 0x1000);
  regs = hit(*emulation(words({0x48002003})), hit_regs(), mem);
  CHECK(regs.words[kNip] == 0x2000);
  CHECK(regs.words[kLink] == 0x10001004);
}

TEST_CASE("ppc64le emulate: bc on CR bits, taken and not", "[arch][ppc64le]") {
  FakeMemory mem;
  struct Case {
    uint32_t word;
    uint64_t cr;
    bool taken;
  };
  const Case cases[] = {
      {0x41820040, cr_with(2), true},   // beq .+0x40 (BO 12, BI 2: CR0.EQ set)
      {0x41820040, cr_with(1), false},
      {0x409e0040, 0, true},            // bne cr7,.+0x40 (BO 4, BI 30: CR7.EQ clear)
      {0x409e0040, cr_with(30), false},
      {0x409e0040, cr_with(2), true},   // CR0.EQ is not CR7.EQ
      {0x41e10008, cr_with(1), true},   // bgt+ .+8 (hint bits do not matter)
      {0x41c00008, cr_with(0), true},   // blt- .+8
      {0x41c00008, 0, false},
      {0x42800010, 0, true},            // bc 20,lt: branch always
  };
  for (const Case& c : cases) {
    INFO(std::hex << c.word << " cr " << c.cr);
    Regs regs = hit_regs();
    regs.words[kCcr] = c.cr;
    const uint32_t bd = c.word & 0xfffc;
    regs = hit(*emulation(words({c.word})), regs, mem);
    CHECK(regs.words[kNip] == (c.taken ? kSite + bd : kSite + 4));
    CHECK(regs.words[kCtr] == 5);  // BO bit 2 set: CTR untouched
    CHECK(regs.words[kLink] == hit_regs().words[kLink]);
  }
  // 41820011            beql .+0x10: LR is set whether taken or not
  Regs regs = hit(*emulation(words({0x41820011})), hit_regs(), mem);
  CHECK(regs.words[kNip] == kSite + 4);
  CHECK(regs.words[kLink] == kSite + 4);
}

TEST_CASE("ppc64le emulate: bdnz and bdz decrement CTR", "[arch][ppc64le]") {
  FakeMemory mem;
  // 4200fff0            bdnz .-0x10
  auto bdnz = emulation(words({0x4200fff0}));
  Regs regs = hit_regs();
  regs.words[kCtr] = 2;
  regs = hit(*bdnz, regs, mem);
  CHECK(regs.words[kCtr] == 1);
  CHECK(regs.words[kNip] == kSite - 0x10);
  regs = hit(*bdnz, hit_regs(), mem);  // CTR 5 -> 4, taken
  CHECK(regs.words[kCtr] == 4);
  regs = hit_regs();
  regs.words[kCtr] = 1;
  regs = hit(*bdnz, regs, mem);  // CTR 1 -> 0: falls through
  CHECK(regs.words[kCtr] == 0);
  CHECK(regs.words[kNip] == kSite + 4);
  regs = hit_regs();
  regs.words[kCtr] = 0;
  regs = hit(*bdnz, regs, mem);  // CTR 0 -> all ones: taken (64-bit CTR)
  CHECK(regs.words[kCtr] == ~uint64_t{0});
  CHECK(regs.words[kNip] == kSite - 0x10);

  // 42400020            bdz .+0x20
  regs = hit_regs();
  regs.words[kCtr] = 1;
  regs = hit(*emulation(words({0x42400020})), regs, mem);
  CHECK(regs.words[kCtr] == 0);
  CHECK(regs.words[kNip] == kSite + 0x20);

  // 4e000020            bdnzlr
  regs = hit(*emulation(words({0x4e000020})), hit_regs(), mem);
  CHECK(regs.words[kCtr] == 4);
  CHECK(regs.words[kNip] == 0x10000500);
}

TEST_CASE("ppc64le emulate: the pc-read idiom bcl 20,31,$+4", "[arch][ppc64le]") {
  FakeMemory mem;
  // 429f0005            bcl 20,4*cr7+so,.+4
  auto plan = emulation(words({0x429f0005}));
  CHECK(plan->describe() == "emulated: bcl 20,31,$+4 (LR = 0x10001004, jump to 0x10001004)");
  const Regs regs = hit(*plan, hit_regs(), mem);
  CHECK(regs.words[kNip] == kSite + 4);
  CHECK(regs.words[kLink] == kSite + 4);
  CHECK(regs.words[kCtr] == 5);
}

TEST_CASE("ppc64le emulate: blr, bctr and their linking and conditional forms", "[arch][ppc64le]") {
  FakeMemory mem;
  Regs start = hit_regs();
  start.words[kLink] = 0x10002003;  // the low two bits are ignored
  start.words[kCtr] = 0x10003007;
  // 4e800020            blr
  Regs regs = hit(*emulation(words({0x4e800020})), start, mem);
  CHECK(regs.words[kNip] == 0x10002000);
  // 4e800021            blrl: branches to the old LR
  regs = hit(*emulation(words({0x4e800021})), start, mem);
  CHECK(regs.words[kNip] == 0x10002000);
  CHECK(regs.words[kLink] == kSite + 4);
  // 4e800420            bctr
  regs = hit(*emulation(words({0x4e800420})), start, mem);
  CHECK(regs.words[kNip] == 0x10003004);
  CHECK(regs.words[kCtr] == 0x10003007);
  // 4e800421            bctrl
  auto bctrl = emulation(words({0x4e800421}));
  CHECK(bctrl->describe() == "emulated: bctrl (LR = 0x10001004, jump to CTR)");
  regs = hit(*bctrl, start, mem);
  CHECK(regs.words[kNip] == 0x10003004);
  CHECK(regs.words[kLink] == kSite + 4);
  // 4d820020            beqlr, CR0.EQ clear: falls through
  regs = hit(*emulation(words({0x4d820020})), start, mem);
  CHECK(regs.words[kNip] == kSite + 4);
  start.words[kCcr] = cr_with(2);
  regs = hit(*emulation(words({0x4d820020})), start, mem);
  CHECK(regs.words[kNip] == 0x10002000);
  // 4c860420            bnectr cr1 (BI 6: CR1.EQ)
  regs = hit(*emulation(words({0x4c860420})), start, mem);
  CHECK(regs.words[kNip] == 0x10003004);
}

TEST_CASE("ppc64le emulate: addpcis and pla", "[arch][ppc64le]") {
  FakeMemory mem;
  // 4c600005            addpcis r3,1: r3 = (site + 4) + 0x10000
  auto plan = emulation(words({0x4c600005}));
  CHECK(plan->describe() == "emulated: addpcis r3,1 (r3 = 0x10011004)");
  Regs regs = hit(*plan, hit_regs(), mem);
  CHECK(regs.words[3] == kSite + 4 + 0x10000);
  CHECK(regs.words[kNip] == kSite + 4);
  // 4ca00004            lnia r5
  regs = hit(*emulation(words({0x4ca00004})), hit_regs(), mem);
  CHECK(regs.words[5] == kSite + 4);
  // 4c9fffc5            subpcis r4,1
  regs = hit(*emulation(words({0x4c9fffc5})), hit_regs(), mem);
  CHECK(regs.words[4] == kSite + 4 - 0x10000);
  // 06100000 38800064   pla r4,site+100 (relative to the prefix's own address)
  regs = hit(*emulation(words({0x06100000, 0x38800064})), hit_regs(), mem);
  CHECK(regs.words[4] == kSite + 100);
  CHECK(regs.words[kNip] == kSite + 8);
  // 0613ffff 3880fff0   pla r4,site-16 (a negative 34-bit displacement)
  regs = hit(*emulation(words({0x0613ffff, 0x3880fff0})), hit_regs(), mem);
  CHECK(regs.words[4] == kSite - 16);
}

TEST_CASE("ppc64le emulate: pc-relative loads, and the step when the data cannot be read", "[arch][ppc64le]") {
  FakeMemory mem;
  mem.put_u64(kSite + 0x10, 0x80000000fffffffe);
  struct Case {
    uint32_t suffix;
    uint64_t value;
  };
  const Case cases[] = {
      {0xe4600010, 0x80000000fffffffe},  // pld r3 (8LS prefix)
      {0xa4600010, 0xfffffffffffffffe},  // plwa r3: the low word, sign-extended (8LS)
  };
  for (const Case& c : cases) {
    INFO(std::hex << c.suffix);
    Regs regs = hit(*emulation(words({0x04100000, c.suffix})), hit_regs(), mem);
    CHECK(regs.words[3] == c.value);
    CHECK(regs.words[kNip] == kSite + 8);
  }
  const Case mls[] = {
      {0x80600010, 0x00000000fffffffe},  // plwz r3
      {0xa0600010, 0x000000000000fffe},  // plhz r3
      {0xa8600010, 0xfffffffffffffffe},  // plha r3
      {0x88600010, 0x00000000000000fe},  // plbz r3
  };
  for (const Case& c : mls) {
    INFO(std::hex << c.suffix);
    Regs regs = hit(*emulation(words({0x06100000, c.suffix})), hit_regs(), mem);
    CHECK(regs.words[3] == c.value);
  }

  // Unreadable: stepped as pld r3,0(r3) with r3 = the address.
  auto plan = emulation(words({0x04100000, 0xe4600010}));
  CHECK(plan->describe() == "emulated: pld r3,0x10001010 (8 bytes from 0x10001010)");
  CHECK(plan->slot_code() == words({0x04000000, 0xe4630000}));
  mem.readable = false;
  Regs regs = hit_regs();
  StepState state;
  REQUIRE(plan->begin_hit(regs, mem, state) == HitAction::SingleStep);
  CHECK(regs.words[kNip] == kSlot);
  CHECK(regs.words[3] == kSite + 0x10);
  regs.words[kNip] = kSlot + 8;
  regs.words[3] = 0x1234;  // what the load got
  plan->finish_step(regs, mem, state);
  CHECK(regs.words[kNip] == kSite + 8);
  CHECK(regs.words[3] == 0x1234);
}
