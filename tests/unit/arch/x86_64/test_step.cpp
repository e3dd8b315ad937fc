// Trap plans: the slot's bytes, and what begin_hit / finish_step /
// abort_step do around the single step. Each test plays the CPU's part by
// setting registers as the step would leave them.
#include <catch2/catch.hpp>

#include "arch/x86_64/analyzer.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::x86_64;
using namespace uptrace::arch::x86_64::test;

namespace {

std::unique_ptr<ProbePlan> step_plan(const Bytes& code, uint64_t slot = kNearSlot,
                                     ModeRequest request = ModeRequest::Trap) {
  SiteAnalysis a = analyze(code, kSite, slot, request);
  INFO(a.refusal);
  REQUIRE(a.plan != nullptr);
  REQUIRE(a.plan->mode() == ExecMode::Trap);
  return std::move(a.plan);
}

// begin_hit must send the thread into the slot for one step.
void begin(const ProbePlan& plan, Regs& regs, FakeMemory& mem, StepState& state, uint64_t slot = kNearSlot) {
  REQUIRE(plan.begin_hit(regs, mem, state) == HitAction::SingleStep);
  REQUIRE(regs.words[kRip] == slot);
}

}  // namespace

TEST_CASE("x86_64 step: an ordinary instruction runs in the slot, pc relocated", "[arch][x86_64]") {
  FakeMemory mem;
  // 48 89 e5            mov rbp, rsp       -> slot: 48 89 e5
  auto plan = step_plan({0x48, 0x89, 0xe5});
  CHECK(plan->slot_code() == Bytes{0x48, 0x89, 0xe5});
  CHECK(plan->describe() == "single-step out of line");
  Regs regs = hit_regs();
  StepState state;
  begin(*plan, regs, mem, state);
  regs.words[kRip] = kNearSlot + 3;
  regs.words[kRbp] = kStackTop;
  plan->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == kSite + 3);
  CHECK(regs.words[kRbp] == kStackTop);
}

TEST_CASE("x86_64 step: rip-relative operand, near slot: displacement re-encoded", "[arch][x86_64]") {
  FakeMemory mem;
  // 48 8b 05 e1 2e 00 00   mov rax, qword ptr [rip + 0x2ee1]  at 0x401000, slot 0x402000 (near)
  //                     -> 48 8b 05 e1 1e 00 00   mov rax, [rip + 0x1ee1]
  auto plan = step_plan({0x48, 0x8b, 0x05, 0xe1, 0x2e, 0x00, 0x00});
  CHECK(plan->slot_code() == Bytes{0x48, 0x8b, 0x05, 0xe1, 0x1e, 0x00, 0x00});
  CHECK(plan->describe() == "single-step out of line; rip-relative operand re-encoded for the slot");
  Regs regs = hit_regs();
  regs.words[kRsi] = 0x5151;
  StepState state;
  begin(*plan, regs, mem, state);
  CHECK(regs.words[kRsi] == 0x5151);  // no scratch register
  regs.words[kRip] = kNearSlot + 7;
  plan->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == kSite + 7);
  CHECK(regs.words[kRsi] == 0x5151);
}

TEST_CASE("x86_64 step: rip-relative operand, far slot: via a scratch register", "[arch][x86_64]") {
  FakeMemory mem;
  // 48 8b 05 e1 2e 00 00   mov rax, qword ptr [rip + 0x2ee1]  at 0x401000, slot 0x7f0000001000 (far)
  //                     -> 48 8b 86 e1 2e 00 00   mov rax, [rsi + 0x2ee1], rsi = 0x401007 during the step
  auto plan = step_plan({0x48, 0x8b, 0x05, 0xe1, 0x2e, 0x00, 0x00}, kFarSlot);
  CHECK(plan->slot_code() == Bytes{0x48, 0x8b, 0x86, 0xe1, 0x2e, 0x00, 0x00});
  CHECK(plan->describe() == "single-step out of line; rip-relative operand via scratch rsi");
  Regs regs = hit_regs();
  regs.words[kRsi] = 0x5151;
  StepState state;
  begin(*plan, regs, mem, state, kFarSlot);
  CHECK(regs.words[kRsi] == 0x401007);
  regs.words[kRip] = kFarSlot + 7;
  regs.words[kRax] = 42;
  plan->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == 0x401007);
  CHECK(regs.words[kRsi] == 0x5151);
  CHECK(regs.words[kRax] == 42);

  // A signal or fault with pc at the slot: back to the site, rsi restored.
  regs = hit_regs();
  regs.words[kRsi] = 0x6161;
  begin(*plan, regs, mem, state, kFarSlot);
  plan->abort_step(regs, state);
  CHECK(regs.words[kRip] == kSite);
  CHECK(regs.words[kRsi] == 0x6161);

  // 48 8b 35 e1 2e 00 00   mov rsi, qword ptr [rip + 0x2ee1]  far: rsi is the destination
  //                     -> 48 8b b7 e1 2e 00 00   mov rsi, [rdi + 0x2ee1]
  auto rsi_dest = step_plan({0x48, 0x8b, 0x35, 0xe1, 0x2e, 0x00, 0x00}, kFarSlot);
  CHECK(rsi_dest->slot_code() == Bytes{0x48, 0x8b, 0xb7, 0xe1, 0x2e, 0x00, 0x00});
  CHECK(rsi_dest->describe() == "single-step out of line; rip-relative operand via scratch rdi");
  regs = hit_regs();
  regs.words[kRdi] = 0x7171;
  begin(*rsi_dest, regs, mem, state, kFarSlot);
  CHECK(regs.words[kRdi] == 0x401007);
  regs.words[kRip] = kFarSlot + 7;
  regs.words[kRsi] = 0x99;  // what the copy loaded
  rsi_dest->finish_step(regs, mem, state);
  CHECK(regs.words[kRdi] == 0x7171);
  CHECK(regs.words[kRsi] == 0x99);

  // c5 fe 6f 05 10 00 00 00   vmovdqu ymm0, ymmword ptr [rip + 0x10]  far
  //                        -> c5 fe 6f 86 10 00 00 00   vmovdqu ymm0, [rsi + 0x10]
  auto vex = step_plan({0xc5, 0xfe, 0x6f, 0x05, 0x10, 0x00, 0x00, 0x00}, kFarSlot);
  CHECK(vex->slot_code() == Bytes{0xc5, 0xfe, 0x6f, 0x86, 0x10, 0x00, 0x00, 0x00});
  regs = hit_regs();
  begin(*vex, regs, mem, state, kFarSlot);
  CHECK(regs.words[kRsi] == 0x401008);
}

TEST_CASE("x86_64 step: lea rip-relative is emulated at any distance, stepped via scratch in trap mode",
          "[arch][x86_64]") {
  // 48 8d 05 e1 2e 00 00   lea rax, [rip + 0x2ee1]   slot 0x7f0000001000 (far)
  SiteAnalysis a = analyze({0x48, 0x8d, 0x05, 0xe1, 0x2e, 0x00, 0x00}, kSite, kFarSlot);
  REQUIRE(a.plan);
  CHECK(a.plan->mode() == ExecMode::Emulate);
  //                     -> 48 8d 86 e1 2e 00 00   lea rax, [rsi + 0x2ee1]   with --mode trap
  auto trap = step_plan({0x48, 0x8d, 0x05, 0xe1, 0x2e, 0x00, 0x00}, kFarSlot, ModeRequest::Trap);
  CHECK(trap->slot_code() == Bytes{0x48, 0x8d, 0x86, 0xe1, 0x2e, 0x00, 0x00});
}

TEST_CASE("x86_64 step: ret and indirect jmp keep the pc the step produced", "[arch][x86_64]") {
  FakeMemory mem;
  StepState state;
  // c3                  ret                (trap mode)   -> slot: c3
  auto ret = step_plan({0xc3}, kNearSlot, ModeRequest::Trap);
  CHECK(ret->slot_code() == Bytes{0xc3});
  CHECK(ret->describe() == "single-step out of line; pc comes from the instruction, not the slot");
  Regs regs = hit_regs();
  begin(*ret, regs, mem, state);
  regs.words[kRip] = 0x401234;
  regs.words[kRsp] = kStackTop + 8;
  ret->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == 0x401234);

  // ff e0               jmp rax            -> slot: ff e0
  auto jmp = step_plan({0xff, 0xe0});
  CHECK(jmp->slot_code() == Bytes{0xff, 0xe0});
  regs = hit_regs();
  begin(*jmp, regs, mem, state);
  regs.words[kRip] = 0x405000;
  jmp->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == 0x405000);

  // 3e ff e0            notrack jmp rax
  auto notrack = step_plan({0x3e, 0xff, 0xe0});
  regs = hit_regs();
  begin(*notrack, regs, mem, state);
  regs.words[kRip] = 0x405000;
  notrack->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == 0x405000);

  // ff 25 10 00 00 00   jmp qword ptr [rip + 0x10]   far -> ff a6 10 00 00 00   jmp [rsi + 0x10]
  auto plt = step_plan({0xff, 0x25, 0x10, 0x00, 0x00, 0x00}, kFarSlot);
  CHECK(plt->slot_code() == Bytes{0xff, 0xa6, 0x10, 0x00, 0x00, 0x00});
  regs = hit_regs();
  regs.words[kRsi] = 0x5151;
  begin(*plt, regs, mem, state, kFarSlot);
  CHECK(regs.words[kRsi] == 0x401006);
  regs.words[kRip] = 0x7fff12345678;
  plt->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == 0x7fff12345678);
  CHECK(regs.words[kRsi] == 0x5151);
}

TEST_CASE("x86_64 step: an indirect call's return address is rewritten to the site's", "[arch][x86_64]") {
  FakeMemory mem;
  StepState state;
  // ff d0               call rax           -> slot: ff d0
  auto call = step_plan({0xff, 0xd0});
  CHECK(call->slot_code() == Bytes{0xff, 0xd0});
  CHECK(call->describe() == "single-step out of line; the pushed return address is rewritten to 0x401002");
  Regs regs = hit_regs();
  begin(*call, regs, mem, state);
  regs.words[kRip] = 0x405000;
  regs.words[kRsp] = kStackTop - 8;
  mem.put_u64(kStackTop - 8, kNearSlot + 2);
  call->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == 0x405000);
  CHECK(regs.words[kRsp] == kStackTop - 8);
  CHECK(mem.u64(kStackTop - 8) == 0x401002);

  // ff 15 10 00 00 00   call qword ptr [rip + 0x10]   far -> ff 96 10 00 00 00   call [rsi + 0x10]
  auto got = step_plan({0xff, 0x15, 0x10, 0x00, 0x00, 0x00}, kFarSlot);
  CHECK(got->slot_code() == Bytes{0xff, 0x96, 0x10, 0x00, 0x00, 0x00});
  CHECK(got->describe() ==
        "single-step out of line; rip-relative operand via scratch rsi; the pushed return address is rewritten to "
        "0x401006");
  regs = hit_regs();
  regs.words[kRsi] = 0x5151;
  begin(*got, regs, mem, state, kFarSlot);
  regs.words[kRip] = 0x7fff00001000;
  regs.words[kRsp] = kStackTop - 8;
  mem.put_u64(kStackTop - 8, kFarSlot + 6);
  got->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == 0x7fff00001000);
  CHECK(mem.u64(kStackTop - 8) == 0x401006);
  CHECK(regs.words[kRsi] == 0x5151);
}

TEST_CASE("x86_64 step: relative branches in trap mode", "[arch][x86_64]") {
  FakeMemory mem;
  StepState state;
  // 75 f0               jne 0x400ff2       -> slot: 75 10 (lands at slot + 0x12 when taken)
  auto jne = step_plan({0x75, 0xf0}, kNearSlot, ModeRequest::Trap);
  CHECK(jne->slot_code() == Bytes{0x75, 0x10});
  CHECK(jne->describe() ==
        "single-step out of line; the copy branches inside the slot, then pc is set to 0x400ff2 if taken, else "
        "0x401002");
  Regs regs = hit_regs();
  begin(*jne, regs, mem, state);
  regs.words[kRip] = kNearSlot + 2;  // not taken
  jne->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == 0x401002);
  regs = hit_regs();
  begin(*jne, regs, mem, state);
  regs.words[kRip] = kNearSlot + 2 + kTakenOffsetInSlot;  // taken
  jne->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == 0x400ff2);

  // 0f 84 00 01 00 00   je 0x401106        -> slot: 0f 84 10 00 00 00
  auto je = step_plan({0x0f, 0x84, 0x00, 0x01, 0x00, 0x00}, kNearSlot, ModeRequest::Trap);
  CHECK(je->slot_code() == Bytes{0x0f, 0x84, 0x10, 0x00, 0x00, 0x00});
  regs = hit_regs();
  begin(*je, regs, mem, state);
  regs.words[kRip] = kNearSlot + 6 + kTakenOffsetInSlot;
  je->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == 0x401106);

  // e2 fe               loop 0x401000      -> slot: e2 10
  auto loop = step_plan({0xe2, 0xfe}, kNearSlot, ModeRequest::Trap);
  CHECK(loop->slot_code() == Bytes{0xe2, 0x10});
  regs = hit_regs();
  begin(*loop, regs, mem, state);
  regs.words[kRip] = kNearSlot + 2 + kTakenOffsetInSlot;
  loop->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == 0x401000);

  // eb 10               jmp 0x401012       -> slot: eb 00 (jumps to its own end)
  auto jmp = step_plan({0xeb, 0x10}, kNearSlot, ModeRequest::Trap);
  CHECK(jmp->slot_code() == Bytes{0xeb, 0x00});
  regs = hit_regs();
  begin(*jmp, regs, mem, state);
  regs.words[kRip] = kNearSlot + 2;
  jmp->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == 0x401012);

  // e8 fb 01 00 00      call 0x401200      -> slot: e8 00 00 00 00 (call +0)
  auto call = step_plan({0xe8, 0xfb, 0x01, 0x00, 0x00}, kNearSlot, ModeRequest::Trap);
  CHECK(call->slot_code() == Bytes{0xe8, 0x00, 0x00, 0x00, 0x00});
  CHECK(call->describe() ==
        "single-step out of line; stepped as call +0, then the return address is rewritten to 0x401005 and pc set "
        "to 0x401200");
  regs = hit_regs();
  begin(*call, regs, mem, state);
  regs.words[kRip] = kNearSlot + 5;
  regs.words[kRsp] = kStackTop - 8;
  mem.put_u64(kStackTop - 8, kNearSlot + 5);
  call->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == 0x401200);
  CHECK(mem.u64(kStackTop - 8) == 0x401005);

  // A far slot changes nothing: the copy never reaches out of the slot.
  auto far = step_plan({0x75, 0xf0}, kFarSlot, ModeRequest::Trap);
  CHECK(far->slot_code() == Bytes{0x75, 0x10});
}

TEST_CASE("x86_64 step: pushf does not leak the step's trap flag", "[arch][x86_64]") {
  FakeMemory mem;
  StepState state;
  // 9c                  pushfq (trap mode) -> slot: 9c
  auto pushf = step_plan({0x9c}, kNearSlot, ModeRequest::Trap);
  CHECK(pushf->slot_code() == Bytes{0x9c});
  Regs regs = hit_regs();
  regs.words[kEflags] = 0x246;
  begin(*pushf, regs, mem, state);
  regs.words[kRip] = kNearSlot + 1;
  regs.words[kRsp] = kStackTop - 8;
  mem.put_u64(kStackTop - 8, 0x346);  // TF set by PTRACE_SINGLESTEP
  pushf->finish_step(regs, mem, state);
  CHECK(mem.u64(kStackTop - 8) == 0x246);
  CHECK(regs.words[kRip] == 0x401001);

  // A thread that was single-stepping itself keeps its TF.
  regs = hit_regs();
  regs.words[kEflags] = 0x346;
  begin(*pushf, regs, mem, state);
  regs.words[kRip] = kNearSlot + 1;
  regs.words[kRsp] = kStackTop - 8;
  mem.put_u64(kStackTop - 8, 0x346);
  pushf->finish_step(regs, mem, state);
  CHECK(mem.u64(kStackTop - 8) == 0x346);

  // 66 48 9c            pushfq (data16 rex.w: 8 bytes) -> slot: 66 48 9c
  auto pushf_w = step_plan({0x66, 0x48, 0x9c}, kNearSlot, ModeRequest::Trap);
  CHECK(pushf_w->slot_code() == Bytes{0x66, 0x48, 0x9c});
  regs = hit_regs();
  regs.words[kEflags] = 0x246;
  begin(*pushf_w, regs, mem, state);
  regs.words[kRip] = kNearSlot + 3;
  regs.words[kRsp] = kStackTop - 8;
  mem.put_u64(kStackTop - 8, 0x346);
  pushf_w->finish_step(regs, mem, state);
  CHECK(mem.u64(kStackTop - 8) == 0x246);
  CHECK(regs.words[kRip] == 0x401003);
}

TEST_CASE("x86_64 step: abort puts the thread back at the site", "[arch][x86_64]") {
  FakeMemory mem;
  StepState state;
  // 55                  push rbp (trap mode)
  auto push = step_plan({0x55}, kNearSlot, ModeRequest::Trap);
  CHECK(push->slot_code() == Bytes{0x55});
  Regs regs = hit_regs();
  const Regs before = regs;
  begin(*push, regs, mem, state);
  push->abort_step(regs, state);
  CHECK(regs.words == before.words);

  // And a completed push lands after the site.
  begin(*push, regs, mem, state);
  regs.words[kRip] = kNearSlot + 1;
  regs.words[kRsp] = kStackTop - 8;
  push->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == 0x401001);
}

namespace {

SiteAnalysis analyze_trailing(const Bytes& code, ModeRequest request) {
  SiteContext ctx{RuntimeAddr(kSite), code, RuntimeAddr(kSite), RuntimeAddr(kNearSlot), request,
                  StepMechanism::TrailingTrap};
  return isa().analyze(ctx);
}

}  // namespace

TEST_CASE("x86_64 trailing trap: the copy is followed by an int3 that ends its step", "[arch][x86_64]") {
  // 48 89 e5   mov rbp, rsp   -> slot: 48 89 e5 cc
  SiteAnalysis a = analyze_trailing({0x48, 0x89, 0xe5}, ModeRequest::Trap);
  INFO(a.refusal);
  REQUIRE(a.plan);
  CHECK(a.plan->slot_code() == Bytes{0x48, 0x89, 0xe5, 0xcc});
  CHECK(a.plan->is_step_end_trap(RuntimeAddr(kNearSlot + 3)));
  CHECK_FALSE(a.plan->is_step_end_trap(RuntimeAddr(kNearSlot)));
  // The core hands finish_step pc at the trap, as a hardware step leaves it.
  FakeMemory mem;
  Regs regs = hit_regs();
  StepState state;
  REQUIRE(a.plan->begin_hit(regs, mem, state) == HitAction::SingleStep);
  regs.words[kRip] = kNearSlot + 3;
  a.plan->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == kSite + 3);
}

TEST_CASE("x86_64 trailing trap: a copied jcc gets a trap at both landing points", "[arch][x86_64]") {
  // 74 10   je +0x10  -> slot: 74 10 (taken lands at slot + 2 + 16), int3 at slot + 2 and slot + 18
  SiteAnalysis a = analyze_trailing({0x74, 0x10}, ModeRequest::Trap);
  REQUIRE(a.plan);
  const Bytes code = a.plan->slot_code();
  REQUIRE(code.size() == 2 + 16 + 1);
  CHECK(code[0] == 0x74);
  CHECK(code[1] == 0x10);
  for (size_t i = 2; i < code.size(); ++i) CHECK(code[i] == 0xcc);
  CHECK(a.plan->is_step_end_trap(RuntimeAddr(kNearSlot + 2)));
  CHECK(a.plan->is_step_end_trap(RuntimeAddr(kNearSlot + 18)));
  FakeMemory mem;
  Regs regs = hit_regs();
  StepState state;
  REQUIRE(a.plan->begin_hit(regs, mem, state) == HitAction::SingleStep);
  regs.words[kRip] = kNearSlot + 18;  // taken
  a.plan->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == kSite + 2 + 0x10);
}

TEST_CASE("x86_64 trailing trap: what leaves the slot is emulated, never stepped", "[arch][x86_64]") {
  // c3   ret: it would never reach a trap after it
  CHECK(analyze_trailing({0xc3}, ModeRequest::Trap).refusal ==
        "the ret leaves the slot, so it would never reach the trap after its copy (this ISA's copies run to a trap: "
        "there is no hardware single-step)");
  SiteAnalysis ret = analyze_trailing({0xc3}, ModeRequest::Auto);
  REQUIRE(ret.plan);
  CHECK(ret.plan->mode() == ExecMode::Emulate);
  // ff e0   jmp rax; ff 15 00 01 00 00   call [rip + 0x100]: emulated, and boost and jump never offered
  SiteAnalysis jmp = analyze_trailing({0xff, 0xe0}, ModeRequest::Auto);
  REQUIRE(jmp.plan);
  CHECK(jmp.plan->mode() == ExecMode::Emulate);
  CHECK(jmp.plan->describe() == "emulated: jmp (jump to rax)");
  SiteAnalysis call = analyze_trailing({0xff, 0x15, 0x00, 0x01, 0x00, 0x00}, ModeRequest::Auto);
  REQUIRE(call.plan);
  CHECK(call.plan->describe() == "emulated: call (push 0x401006, jump to the pointer at its operand)");
  // ... and never boosted either: a thread found at the slot's start could
  // not be run through a copy that leaves the slot to a trap after it.
  CHECK(analyze_trailing({0xc3}, ModeRequest::Boost).refusal ==
        "cannot boost: a thread a signal finds at the slot's start could not be run through the copy to a trap after "
        "it (there is no hardware single-step): the ret leaves the slot, so it would never reach the trap after its "
        "copy (this ISA's copies run to a trap: there is no hardware single-step)");
  CHECK(analyze_trailing({0x48, 0x89, 0xe5}, ModeRequest::Jump).refusal ==
        "cannot jump: a thread in a free-running slot could not be stepped out without hardware single-step");
}

TEST_CASE("x86_64 emulate: an indirect call reads its target through base, index, scale and fs", "[arch][x86_64]") {
  // 64 ff 14 c5 10 00 00 00   call fs:[rax * 8 + 0x10]
  SiteAnalysis a = analyze({0x64, 0xff, 0x14, 0xc5, 0x10, 0x00, 0x00, 0x00}, kSite, kNearSlot, ModeRequest::Emulate);
  INFO(a.refusal);
  REQUIRE(a.plan);
  FakeMemory mem;
  Regs regs = hit_regs();
  regs.words[kFsBase] = kStackBase;
  regs.words[kRax] = 2;
  mem.put_u64(kStackBase + 2 * 8 + 0x10, 0x405000);
  const uint64_t sp = regs.words[kRsp];
  StepState state;
  REQUIRE(a.plan->begin_hit(regs, mem, state) == HitAction::Resume);
  CHECK(regs.words[kRip] == 0x405000);
  CHECK(regs.words[kRsp] == sp - 8);
  CHECK(mem.u64(sp - 8) == kSite + 8);
  // Unreadable: stepped instead, where the CPU raises the fault.
  FakeMemory none;
  none.readable = false;
  Regs again = hit_regs();
  again.words[kFsBase] = kStackBase;
  CHECK(a.plan->begin_hit(again, none, state) == HitAction::SingleStep);
}
