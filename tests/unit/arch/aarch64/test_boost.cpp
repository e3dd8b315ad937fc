// Boosted aarch64 probes: the slot's words (the copy, then b back) side by
// side with their disassembly, the landings a signal maps back, and what is
// refused with its reason.
#include <catch2/catch.hpp>

#include "arch/aarch64/boost.h"
#include "support.h"

using namespace uptrace::arch;
using namespace uptrace::arch::aarch64;
using namespace uptrace::arch::aarch64::test;

namespace {
using Declined = std::vector<std::pair<ExecMode, std::string>>;
constexpr uint64_t kNearSlot = kSite + 0x100000;  // 1 MiB above the site: in reach of b
}  // namespace

TEST_CASE("aarch64 boost: the copy, then a b back to the next instruction", "[arch][aarch64][boost]") {
  // 91000420            add x0, x1, #1
  SiteAnalysis a = analyze(words({0x91000420}), kSite, ModeRequest::Auto, kNearSlot);
  REQUIRE(a.plan);
  CHECK(a.plan->mode() == ExecMode::Boost);
  CHECK(a.plan->slot_code() == words({
                                   0x91000420,  // add x0, x1, #1
                                   0x17fc0000,  // b #-0x100000 (to kSite + 4)
                               }));
  CHECK(a.plan->describe() == "boosted: the copy runs in the slot, then branches back to 0x401004");
  CHECK(a.declined == Declined{{ExecMode::Emulate, "add cannot be emulated"},
                               {ExecMode::Jump, "jump mode is not available"}});
  // Nothing has run at the slot's start; the copy has at the b.
  CHECK(a.plan->original_pc(kNearSlot) == kSite);
  CHECK(a.plan->original_pc(kNearSlot + 4) == kSite + 4);
  CHECK_FALSE(a.plan->original_pc(kNearSlot + 8));

  Regs regs = hit_regs();
  FakeMemory mem;
  StepState state;
  CHECK(a.plan->begin_hit(regs, mem, state) == HitAction::Resume);
  CHECK(regs.words[kPc] == kNearSlot);
  CHECK(regs.words[0] == 0);  // nothing else touched
}

TEST_CASE("aarch64 boost: a conditional branch forced into boost lands on a b per outcome", "[arch][aarch64][boost]") {
  // 54000200            b.eq #0x401040, --mode boost
  SiteAnalysis a = analyze(words({0x54000200}), kSite, ModeRequest::Boost, kNearSlot);
  REQUIRE(a.plan);
  CHECK(a.plan->mode() == ExecMode::Boost);
  CHECK(a.plan->slot_code() == words({
                                   0x54000040,  // b.eq #+8 (the copy, retargeted inside the slot)
                                   0x17fc0000,  // b #-0x100000 (not taken: to kSite + 4)
                                   0x17fc000e,  // b #-0xfffc8 (taken: to 0x401040)
                               }));
  CHECK(a.plan->describe() ==
        "boosted: the copy runs in the slot, then branches to 0x401040 if taken, else to 0x401004");
  CHECK(a.plan->original_pc(kNearSlot + 4) == kSite + 4);
  CHECK(a.plan->original_pc(kNearSlot + 8) == 0x401040);
}

TEST_CASE("aarch64 boost: adr and adrp load the site's value from the slot", "[arch][aarch64][boost]") {
  // f0000001            adrp x1, #0x404000, --mode boost
  SiteAnalysis a = analyze(words({0xf0000001}), kSite, ModeRequest::Boost, kNearSlot);
  REQUIRE(a.plan);
  CHECK(a.plan->mode() == ExecMode::Boost);
  CHECK(a.plan->slot_code() == Bytes{
                                   0x41, 0x00, 0x00, 0x58,                          // ldr x1, #+8
                                   0x00, 0x00, 0xfc, 0x17,                          // b #-0x100000 (to kSite + 4)
                                   0x00, 0x40, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00,  // .quad 0x404000
                               });
  CHECK(a.plan->describe() ==
        "boosted: the slot loads x1 = 0x404000 (the site's value) from beside it, then branches back to 0x401004");
  CHECK(a.plan->original_pc(kNearSlot) == kSite);
  CHECK(a.plan->original_pc(kNearSlot + 4) == kSite + 4);
  CHECK_FALSE(a.plan->original_pc(kNearSlot + 8));
  // 30000080            adr x0, #0x401011
  SiteAnalysis adr = analyze(words({0x30000080}), kSite, ModeRequest::Boost, kNearSlot);
  REQUIRE(adr.plan);
  CHECK(adr.plan->slot_code() == Bytes{0x40, 0x00, 0x00, 0x58, 0x00, 0x00, 0xfc, 0x17,
                                       0x11, 0x10, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00});
}

TEST_CASE("aarch64 boost: pc from a register needs no branch back", "[arch][aarch64][boost]") {
  // d61f0200            br x16, --mode boost (the slot far away: nothing to reach)
  SiteAnalysis a = analyze(words({0xd61f0200}), kSite, ModeRequest::Boost);
  REQUIRE(a.plan);
  CHECK(a.plan->slot_code() == words({0xd61f0200}));
  CHECK(a.plan->describe() == "boosted: the copy runs in the slot; pc comes from the instruction itself");
}

TEST_CASE("aarch64 boost: what needs a fixup after the copy is refused with the reason", "[arch][aarch64][boost]") {
  struct Case {
    uint32_t word;
    const char* text;
    const char* refusal;
  };
  const Case cases[] = {
      {0x94000080, "bl #0x401200", "cannot boost: a call from the slot would leave a slot address in x30"},
      {0xd63f0200, "blr x16", "cannot boost: a call from the slot would leave a slot address in x30"},
      {0x9c000080, "ldr q0, #0x401010",
       "cannot boost: the copy loads through a borrowed register that must be given back after it"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    const SiteAnalysis a = analyze(words({c.word}), kSite, ModeRequest::Boost, kNearSlot);
    CHECK(a.plan == nullptr);
    CHECK(a.refusal == c.refusal);
  }
  // Out of reach: auto keeps the step, and says why.
  // 91000420            add x0, x1, #1 with the slot 0x7f0000001000
  const SiteAnalysis far = analyze(words({0x91000420}));
  REQUIRE(far.plan);
  CHECK(far.plan->mode() == ExecMode::Trap);
  CHECK(far.declined.at(1) == std::pair<ExecMode, std::string>{
                                  ExecMode::Boost, "the branch back is out of reach of the slot (b reaches +-128 MiB)"});
}

TEST_CASE("aarch64 boost: b reaches +-128 MiB and no further", "[arch][aarch64][boost]") {
  CHECK(b_to(0x10000000, 0x10000004) == 0x14000001u);
  CHECK(b_to(0x10000000, 0x10000000 - (uint64_t{1} << 27)) == 0x16000000u);  // b #-0x8000000
  CHECK(b_to(0x10000000, 0x10000000 + (uint64_t{1} << 27) - 4) == 0x15ffffffu);
  CHECK_FALSE(b_to(0x10000000, 0x10000000 + (uint64_t{1} << 27)));
  CHECK_FALSE(b_to(0x10000000, 0x10000000 - (uint64_t{1} << 27) - 4));
  CHECK_FALSE(b_to(0x10000000, 0x10000002));
}
