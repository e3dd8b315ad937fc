// Boost plans: the slot holds the relocated copy and a jump to where the
// step's fixup would have put pc, so a hit is one stop. Golden bytes side by
// side, and original_pc for threads found inside the slot.
#include <catch2/catch.hpp>

#include "arch/x86_64/boost.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::x86_64;
using namespace uptrace::arch::x86_64::test;

namespace {

std::unique_ptr<ProbePlan> boost_plan(const Bytes& code, ModeRequest request = ModeRequest::Boost) {
  SiteAnalysis a = analyze(code, kSite, kNearSlot, request);
  INFO(a.refusal);
  REQUIRE(a.plan != nullptr);
  REQUIRE(a.plan->mode() == ExecMode::Boost);
  return std::move(a.plan);
}

}  // namespace

TEST_CASE("x86_64 boost: an ordinary instruction is followed by a jump back", "[arch][x86_64]") {
  // site 0x401000: 48 89 e5            mov rbp, rsp
  // slot 0x402000: 48 89 e5            mov rbp, rsp
  //      0x402003: e9 fb ef ff ff      jmp 0x401003
  auto plan = boost_plan({0x48, 0x89, 0xe5}, ModeRequest::Auto);
  CHECK(plan->slot_code() == Bytes{0x48, 0x89, 0xe5, 0xe9, 0xfb, 0xef, 0xff, 0xff});
  CHECK(plan->describe() == "boosted: the copy runs in the slot, then jumps back to 0x401003");
  FakeMemory mem;
  Regs regs = hit_regs();
  StepState state;
  CHECK(plan->begin_hit(regs, mem, state) == HitAction::Resume);
  CHECK(regs.words[kRip] == kNearSlot);
  // Found in the slot: before the copy ran it is at the site, after it at the next instruction.
  CHECK(plan->original_pc(kNearSlot) == kSite);
  CHECK(plan->original_pc(kNearSlot + 3) == kSite + 3);
  CHECK(plan->original_pc(kNearSlot + 1) == std::nullopt);
  CHECK(plan->site_patch().empty());
}

TEST_CASE("x86_64 boost: a rip-relative operand is re-encoded for the slot", "[arch][x86_64]") {
  // site 0x401000: 48 8b 05 e1 2e 00 00   mov rax, [rip + 0x2ee1]     (0x403ee8)
  // slot 0x402000: 48 8b 05 e1 1e 00 00   mov rax, [rip + 0x1ee1]     (0x403ee8)
  //      0x402007: e9 fb ef ff ff         jmp 0x401007
  auto plan = boost_plan({0x48, 0x8b, 0x05, 0xe1, 0x2e, 0x00, 0x00}, ModeRequest::Auto);
  CHECK(plan->slot_code() == Bytes{0x48, 0x8b, 0x05, 0xe1, 0x1e, 0x00, 0x00, 0xe9, 0xfb, 0xef, 0xff, 0xff});
  CHECK(plan->describe() ==
        "boosted: the copy runs in the slot (rip-relative operand re-encoded for the slot), then jumps back to 0x401007");
}

TEST_CASE("x86_64 boost: ret and indirect jumps need no jump back", "[arch][x86_64]") {
  // c3                  ret                 -> slot: c3
  auto ret = boost_plan({0xc3});
  CHECK(ret->slot_code() == Bytes{0xc3});
  CHECK(ret->original_pc(kNearSlot) == kSite);
  // ff e0               jmp rax             -> slot: ff e0
  auto jmp = boost_plan({0xff, 0xe0}, ModeRequest::Auto);
  CHECK(jmp->slot_code() == Bytes{0xff, 0xe0});
}

TEST_CASE("x86_64 boost: a conditional branch lands on one of two jumps", "[arch][x86_64]") {
  // site 0x401000: 74 10               je 0x401012
  // slot 0x402000: 74 10               je 0x402012  (taken)
  //      0x402002: e9 fb ef ff ff      jmp 0x401002 (not taken)
  //      0x402007: cc x 11             never run
  //      0x402012: e9 fb ef ff ff      jmp 0x401012
  auto je = boost_plan({0x74, 0x10});
  Bytes want{0x74, 0x10, 0xe9, 0xfb, 0xef, 0xff, 0xff};
  want.resize(0x12, 0xcc);
  for (uint8_t b : {0xe9, 0xfb, 0xef, 0xff, 0xff}) want.push_back(b);
  CHECK(je->slot_code() == want);
  CHECK(je->describe() == "boosted: the copy runs in the slot, then jumps to 0x401012 if taken, else to 0x401002");
  CHECK(je->original_pc(kNearSlot + 0x2) == kSite + 0x2);
  CHECK(je->original_pc(kNearSlot + 0x12) == kSite + 0x12);
}

TEST_CASE("x86_64 boost: pushf is not boosted", "[arch][x86_64]") {
  // 9c                  pushf: a thread stepped out of the slot would push the step's trap flag
  SiteAnalysis pushf = analyze({0x9c}, kSite, kNearSlot, ModeRequest::Boost);
  CHECK(pushf.plan == nullptr);
  CHECK(pushf.refusal == "cannot boost: pushf stepped out of the slot would push the trap flag");
}

TEST_CASE("x86_64 boost: refused where the copy needs a fixup after it runs", "[arch][x86_64]") {
  // ff d0               call rax
  SiteAnalysis call = analyze({0xff, 0xd0}, kSite, kNearSlot, ModeRequest::Boost);
  CHECK(call.plan == nullptr);
  CHECK(call.refusal == "cannot boost: a call from the slot would push a return address inside the slot");
  // 48 8b 05 e1 2e 00 00  mov rax, [rip + 0x2ee1] with the slot beyond disp32 reach
  SiteAnalysis far = analyze({0x48, 0x8b, 0x05, 0xe1, 0x2e, 0x00, 0x00}, kSite, kFarSlot, ModeRequest::Boost);
  CHECK(far.plan == nullptr);
  CHECK(far.refusal ==
        "cannot boost: its rip-relative operand is out of reach of the slot and borrows a register that must be restored");
}

// Where copies run to a trailing trap (StepMechanism::TrailingTrap, forced
// on x86-64 by UPTRACE_TEST_TRAILING_TRAP): the boost slot also holds the
// stepped form of the copy, at slot + 64, for a thread a signal finds at
// the slot's start (ProbePlan::slot_exit).
namespace {

SiteAnalysis analyze_trailing(const Bytes& code, ModeRequest request) {
  SiteContext ctx{RuntimeAddr(kSite), code, RuntimeAddr(kSite), RuntimeAddr(kNearSlot), request,
                  StepMechanism::TrailingTrap};
  return isa().analyze(ctx);
}

// `head`, int3 padding up to the stepped form at +64, then `stepped`.
Bytes with_stepped_form(Bytes head, const Bytes& stepped) {
  head.resize(kSteppedFormOffset, 0xcc);
  head.insert(head.end(), stepped.begin(), stepped.end());
  return head;
}

}  // namespace

TEST_CASE("x86_64 boost, trailing trap: the slot holds the copy's stepped form too", "[arch][x86_64][boost]") {
  // site 0x401000: 48 89 e5            mov rbp, rsp
  // slot 0x402000: 48 89 e5            mov rbp, rsp
  //      0x402003: e9 fb ef ff ff      jmp 0x401003
  //      0x402008: cc ...              int3 (padding, never run)
  //      0x402040: 48 89 e5            mov rbp, rsp      (the stepped form)
  //      0x402043: cc                  int3              (its end trap)
  SiteAnalysis a = analyze_trailing({0x48, 0x89, 0xe5}, ModeRequest::Auto);
  REQUIRE(a.plan);
  CHECK(a.plan->mode() == ExecMode::Boost);
  CHECK(a.plan->slot_code() ==
        with_stepped_form({0x48, 0x89, 0xe5, 0xe9, 0xfb, 0xef, 0xff, 0xff}, {0x48, 0x89, 0xe5, 0xcc}));
  CHECK(a.plan->slot_code().size() <= isa().slot_size());
  CHECK(a.plan->describe() == "boosted: the copy runs in the slot, then jumps back to 0x401003");
  // At the start the copy has not run: through the stepped form; at the jmp it has: the next instruction.
  CHECK(a.plan->slot_exit(kNearSlot) == SlotExit{SlotExit::Kind::Step, kNearSlot + 64});
  CHECK(a.plan->slot_exit(kNearSlot + 3) == SlotExit{SlotExit::Kind::Original, kSite + 3});
  CHECK_FALSE(a.plan->slot_exit(kNearSlot + 1));
  // At detach (the probe disarmed) the start still maps to the site.
  CHECK(a.plan->original_pc(kNearSlot) == kSite);
  CHECK(a.plan->is_step_end_trap(RuntimeAddr(kNearSlot + 67)));
  CHECK_FALSE(a.plan->is_step_end_trap(RuntimeAddr(kNearSlot + 3)));
  FakeMemory mem;
  Regs regs = hit_regs();
  StepState state;
  CHECK(a.plan->begin_hit(regs, mem, state) == HitAction::Resume);
  CHECK(regs.words[kRip] == kNearSlot);
  // The core ran the stepped form to its int3 and set pc there.
  regs.words[kRip] = kNearSlot + 67;
  a.plan->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == kSite + 3);
  // A fault in a copy: back at the site.
  a.plan->abort_step(regs, state);
  CHECK(regs.words[kRip] == kSite);
}

TEST_CASE("x86_64 boost, trailing trap: each copy's rip-relative operand is re-encoded for its own address",
          "[arch][x86_64][boost]") {
  // site 0x401000: 48 8b 05 e1 2e 00 00   mov rax, [rip + 0x2ee1]     (0x403ee8)
  // slot 0x402000: 48 8b 05 e1 1e 00 00   mov rax, [rip + 0x1ee1]     (0x403ee8)
  //      0x402007: e9 fb ef ff ff         jmp 0x401007
  //      0x402040: 48 8b 05 a1 1e 00 00   mov rax, [rip + 0x1ea1]     (0x403ee8)
  //      0x402047: cc                     int3
  SiteAnalysis a = analyze_trailing({0x48, 0x8b, 0x05, 0xe1, 0x2e, 0x00, 0x00}, ModeRequest::Auto);
  REQUIRE(a.plan);
  CHECK(a.plan->mode() == ExecMode::Boost);
  CHECK(a.plan->slot_code() == with_stepped_form({0x48, 0x8b, 0x05, 0xe1, 0x1e, 0x00, 0x00, 0xe9, 0xfb, 0xef, 0xff, 0xff},
                                                 {0x48, 0x8b, 0x05, 0xa1, 0x1e, 0x00, 0x00, 0xcc}));
  CHECK(a.plan->slot_exit(kNearSlot) == SlotExit{SlotExit::Kind::Step, kNearSlot + 64});
  CHECK(a.plan->is_step_end_trap(RuntimeAddr(kNearSlot + 71)));
  FakeMemory mem;
  Regs regs = hit_regs();
  StepState state;
  regs.words[kRip] = kNearSlot + 71;
  a.plan->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == kSite + 7);
}

TEST_CASE("x86_64 boost, trailing trap: a branch's stepped form ends at a trap per outcome", "[arch][x86_64][boost]") {
  // site 0x401000: 74 10                  je 0x401012, --mode boost
  SiteAnalysis a = analyze_trailing({0x74, 0x10}, ModeRequest::Boost);
  INFO(a.refusal);
  REQUIRE(a.plan);
  CHECK(a.plan->mode() == ExecMode::Boost);
  const Bytes code = a.plan->slot_code();
  REQUIRE(code.size() > 64 + 18);
  // The stepped form: the je retargeted 16 bytes on inside the slot, an int3 for each outcome.
  CHECK(code[64] == 0x74);
  CHECK(code[65] == 0x10);
  CHECK(code[66] == 0xcc);       // not taken
  CHECK(code[64 + 18] == 0xcc);  // taken
  CHECK(a.plan->slot_exit(kNearSlot) == SlotExit{SlotExit::Kind::Step, kNearSlot + 64});
  FakeMemory mem;
  Regs regs = hit_regs();
  StepState state;
  regs.words[kRip] = kNearSlot + 64 + 18;
  a.plan->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == kSite + 2 + 0x10);
  regs.words[kRip] = kNearSlot + 64 + 2;
  a.plan->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == kSite + 2);
}

TEST_CASE("x86_64 boost: with hardware single-step there is no stepped form", "[arch][x86_64][boost]") {
  auto plan = boost_plan({0x48, 0x89, 0xe5}, ModeRequest::Auto);
  CHECK(plan->slot_code().size() == 8);
  CHECK_FALSE(plan->slot_exit(kNearSlot));  // single-stepped out instead
  CHECK(plan->slot_exit(kNearSlot + 3) == SlotExit{SlotExit::Kind::Original, kSite + 3});
  CHECK_FALSE(plan->is_step_end_trap(RuntimeAddr(kNearSlot + 3)));
}
