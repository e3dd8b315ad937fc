// Boosted ppc64le probes: the slot's words (the copy, then b back) side by
// side with their disassembly, the landings a signal maps back, and what is
// refused with its reason.
#include <catch2/catch.hpp>

#include "arch/ppc64le/boost.h"
#include "support.h"

using namespace uptrace::arch;
using namespace uptrace::arch::ppc64le;
using namespace uptrace::arch::ppc64le::test;

namespace {
using Declined = std::vector<std::pair<ExecMode, std::string>>;
constexpr uint64_t kNearSlot = kSite + 0x100000;  // 1 MiB above the site: in reach of b
}  // namespace

TEST_CASE("ppc64le boost: the copy, then a b back to the next instruction", "[arch][ppc64le][boost]") {
  // 38630001            addi r3,r3,1
  SiteAnalysis a = analyze(words({0x38630001}), kSite, ModeRequest::Auto, kNearSlot);
  REQUIRE(a.plan);
  CHECK(a.plan->mode() == ExecMode::Boost);
  CHECK(a.plan->slot_code() == words({
                                   0x38630001,  // addi r3,r3,1
                                   0x4bf00000,  // b .-0x100000 (to kSite + 4)
                               }));
  CHECK(a.plan->describe() == "boosted: the copy runs in the slot, then branches back to 0x10001004");
  CHECK(a.declined == Declined{{ExecMode::Emulate, "addi cannot be emulated"},
                               {ExecMode::Jump, "jump mode is not available"}});
  CHECK(a.plan->original_pc(kNearSlot) == kSite);
  CHECK(a.plan->original_pc(kNearSlot + 4) == kSite + 4);
  CHECK_FALSE(a.plan->original_pc(kNearSlot + 8));

  Regs regs = hit_regs();
  FakeMemory mem;
  StepState state;
  CHECK(a.plan->begin_hit(regs, mem, state) == HitAction::Resume);
  CHECK(regs.words[kNip] == kNearSlot);
}

TEST_CASE("ppc64le boost: a prefixed instruction is copied whole, the b after its 8 bytes", "[arch][ppc64le][boost]") {
  // 06000000 38800064   pli r4,100 (paddi with R=0)
  SiteAnalysis a = analyze(words({0x06000000, 0x38800064}), kSite, ModeRequest::Auto, kNearSlot);
  REQUIRE(a.plan);
  CHECK(a.plan->mode() == ExecMode::Boost);
  CHECK(a.plan->slot_code() == words({
                                   0x06000000, 0x38800064,  // pli r4,100
                                   0x4bf00000,              // b .-0x100000 (to kSite + 8)
                               }));
  CHECK(a.plan->original_pc(kNearSlot + 8) == kSite + 8);
}

TEST_CASE("ppc64le boost: what needs a fixup after the copy is refused with the reason", "[arch][ppc64le][boost]") {
  // 04100000 f4600020   pstd r3,0x10001020: rewritten through a borrowed base register
  const SiteAnalysis pstd = analyze(words({0x04100000, 0xf4600020}), kSite, ModeRequest::Boost, kNearSlot);
  CHECK(pstd.plan == nullptr);
  CHECK(pstd.refusal == "cannot boost: the copy loads through a borrowed register that must be given back after it");
  // Out of reach: auto keeps the step, and says why.
  const SiteAnalysis far = analyze(words({0x38630001}));
  REQUIRE(far.plan);
  CHECK(far.plan->mode() == ExecMode::Trap);
  CHECK(far.declined.at(1) ==
        std::pair<ExecMode, std::string>{ExecMode::Boost,
                                         "the branch back is out of reach of the slot (b reaches +-32 MiB)"});
}

TEST_CASE("ppc64le boost: b reaches +-32 MiB and no further", "[arch][ppc64le][boost]") {
  CHECK(b_to(0x10000000, 0x10000004) == 0x48000004u);
  CHECK(b_to(0x10000000, 0x10000000 - (uint64_t{1} << 25)) == 0x4a000000u);  // b .-0x2000000
  CHECK(b_to(0x10000000, 0x10000000 + (uint64_t{1} << 25) - 4) == 0x49fffffcu);
  CHECK_FALSE(b_to(0x10000000, 0x10000000 + (uint64_t{1} << 25)));
  CHECK_FALSE(b_to(0x10000000, 0x10000000 - (uint64_t{1} << 25) - 4));
  CHECK_FALSE(b_to(0x10000000, 0x10000002));
}
