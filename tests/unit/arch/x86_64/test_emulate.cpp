// Emulated instructions: one stop, the tracer computes the effect.
#include <catch2/catch.hpp>

#include "arch/x86_64/plans.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::x86_64;
using namespace uptrace::arch::x86_64::test;

namespace {

std::unique_ptr<ProbePlan> emulation(const Bytes& code) {
  SiteAnalysis a = analyze(code);
  INFO(a.refusal);
  REQUIRE(a.plan != nullptr);
  REQUIRE(a.plan->mode() == ExecMode::Emulate);
  return std::move(a.plan);
}

// Runs one hit; the emulation must complete without a step.
void hit(const ProbePlan& plan, Regs& regs, FakeMemory& mem) {
  StepState state;
  REQUIRE(plan.begin_hit(regs, mem, state) == HitAction::Resume);
}

}  // namespace

TEST_CASE("x86_64 emulate: jmp rel8 and rel32", "[arch][x86_64]") {
  FakeMemory mem;
  // eb 10               jmp 0x401012
  auto plan = emulation({0xeb, 0x10});
  CHECK(plan->describe() == "emulated: jmp rel8 (jump to 0x401012)");
  CHECK(plan->slot_code().empty());
  Regs regs = hit_regs();
  hit(*plan, regs, mem);
  CHECK(regs.words[kRip] == 0x401012);
  CHECK(regs.words[kRsp] == kStackTop);

  // e9 fb ef ff ff      jmp 0x400000 (backwards)
  plan = emulation({0xe9, 0xfb, 0xef, 0xff, 0xff});
  regs = hit_regs();
  hit(*plan, regs, mem);
  CHECK(regs.words[kRip] == 0x400000);

  // f2 eb 10            bnd jmp 0x401013
  plan = emulation({0xf2, 0xeb, 0x10});
  regs = hit_regs();
  hit(*plan, regs, mem);
  CHECK(regs.words[kRip] == 0x401013);
}

TEST_CASE("x86_64 emulate: call rel32 pushes the site's return address", "[arch][x86_64]") {
  FakeMemory mem;
  // e8 fb 01 00 00      call 0x401200
  auto plan = emulation({0xe8, 0xfb, 0x01, 0x00, 0x00});
  CHECK(plan->describe() == "emulated: call rel32 (push return address, jump to 0x401200)");
  Regs regs = hit_regs();
  hit(*plan, regs, mem);
  CHECK(regs.words[kRip] == 0x401200);
  CHECK(regs.words[kRsp] == kStackTop - 8);
  CHECK(mem.u64(kStackTop - 8) == 0x401005);
}

TEST_CASE("x86_64 emulate: jcc conditions from EFLAGS", "[arch][x86_64]") {
  using namespace flags;
  struct Case {
    uint8_t cc;
    uint64_t eflags;
    bool taken;
  };
  const Case cases[] = {
      {0x0, kOF, true},        {0x0, 0, false},          // jo
      {0x1, 0, true},          {0x1, kOF, false},        // jno
      {0x2, kCF, true},        {0x2, kZF, false},        // jb
      {0x3, 0, true},          {0x3, kCF, false},        // jae
      {0x4, kZF, true},        {0x4, kCF, false},        // je
      {0x5, 0, true},          {0x5, kZF, false},        // jne
      {0x6, kCF, true},        {0x6, kZF, true},       {0x6, kSF, false},  // jbe
      {0x7, kSF, true},        {0x7, kCF, false},      {0x7, kZF, false},  // ja
      {0x8, kSF, true},        {0x8, kOF, false},        // js
      {0x9, kOF, true},        {0x9, kSF, false},        // jns
      {0xa, kPF, true},        {0xa, kZF, false},        // jp
      {0xb, kZF, true},        {0xb, kPF, false},        // jnp
      {0xc, kSF, true},        {0xc, kOF, true},       {0xc, kSF | kOF, false},  // jl
      {0xd, kSF | kOF, true},  {0xd, 0, true},         {0xd, kOF, false},        // jge
      {0xe, kZF, true},        {0xe, kSF, true},       {0xe, kSF | kOF, false},  // jle
      {0xf, kSF | kOF, true},  {0xf, kZF, false},      {0xf, kOF, false},        // jg
  };
  for (const Case& c : cases) {
    INFO("cc " << int(c.cc) << " eflags " << c.eflags);
    CHECK(jcc_taken(c.cc, c.eflags | 0x202) == c.taken);
  }

  FakeMemory mem;
  // 74 10               je 0x401012
  auto je = emulation({0x74, 0x10});
  CHECK(je->describe() == "emulated: je (jump to 0x401012 if taken, else continue at 0x401002)");
  Regs regs = hit_regs();
  regs.words[kEflags] |= kZF;
  hit(*je, regs, mem);
  CHECK(regs.words[kRip] == 0x401012);
  regs = hit_regs();
  hit(*je, regs, mem);
  CHECK(regs.words[kRip] == 0x401002);

  // 0f 8c fa 00 00 00   jl 0x401100
  auto jl = emulation({0x0f, 0x8c, 0xfa, 0x00, 0x00, 0x00});
  regs = hit_regs();
  regs.words[kEflags] |= kSF;
  hit(*jl, regs, mem);
  CHECK(regs.words[kRip] == 0x401100);
  regs = hit_regs();
  regs.words[kEflags] |= kSF | kOF;
  hit(*jl, regs, mem);
  CHECK(regs.words[kRip] == 0x401006);

  // 76 f0               jbe 0x400ff2
  auto jbe = emulation({0x76, 0xf0});
  regs = hit_regs();
  regs.words[kEflags] |= kCF;
  hit(*jbe, regs, mem);
  CHECK(regs.words[kRip] == 0x400ff2);
}

TEST_CASE("x86_64 emulate: loop, loope, loopne, jrcxz", "[arch][x86_64]") {
  FakeMemory mem;
  // e2 fe               loop 0x401000 (to itself)
  auto loop = emulation({0xe2, 0xfe});
  Regs regs = hit_regs();
  regs.words[kRcx] = 2;
  hit(*loop, regs, mem);
  CHECK(regs.words[kRcx] == 1);
  CHECK(regs.words[kRip] == 0x401000);
  hit(*loop, regs, mem);
  CHECK(regs.words[kRcx] == 0);
  CHECK(regs.words[kRip] == 0x401002);
  regs = hit_regs();
  regs.words[kRcx] = 0;  // wraps: 2^64 - 1 iterations to go
  hit(*loop, regs, mem);
  CHECK(regs.words[kRcx] == 0xffffffffffffffff);
  CHECK(regs.words[kRip] == 0x401000);

  // 67 e2 10            loop with ecx: the upper half of rcx is cleared
  auto loop32 = emulation({0x67, 0xe2, 0x10});
  regs = hit_regs();
  regs.words[kRcx] = 0x100000005;
  hit(*loop32, regs, mem);
  CHECK(regs.words[kRcx] == 4);
  CHECK(regs.words[kRip] == 0x401013);
  regs = hit_regs();
  regs.words[kRcx] = 0x100000001;
  hit(*loop32, regs, mem);
  CHECK(regs.words[kRcx] == 0);
  CHECK(regs.words[kRip] == 0x401003);

  // e1 10               loope 0x401012
  auto loope = emulation({0xe1, 0x10});
  regs = hit_regs();
  regs.words[kRcx] = 5;
  hit(*loope, regs, mem);  // ZF clear: falls through
  CHECK(regs.words[kRcx] == 4);
  CHECK(regs.words[kRip] == 0x401002);
  regs = hit_regs();
  regs.words[kRcx] = 5;
  regs.words[kEflags] |= flags::kZF;
  hit(*loope, regs, mem);
  CHECK(regs.words[kRip] == 0x401012);

  // e0 10               loopne 0x401012
  auto loopne = emulation({0xe0, 0x10});
  regs = hit_regs();
  regs.words[kRcx] = 5;
  regs.words[kEflags] |= flags::kZF;
  hit(*loopne, regs, mem);
  CHECK(regs.words[kRip] == 0x401002);
  regs = hit_regs();
  regs.words[kRcx] = 5;
  hit(*loopne, regs, mem);
  CHECK(regs.words[kRip] == 0x401012);

  // e3 10               jrcxz 0x401012: tests, does not decrement
  auto jrcxz = emulation({0xe3, 0x10});
  regs = hit_regs();
  regs.words[kRcx] = 0;
  hit(*jrcxz, regs, mem);
  CHECK(regs.words[kRip] == 0x401012);
  regs = hit_regs();
  regs.words[kRcx] = 0x100000000;
  hit(*jrcxz, regs, mem);
  CHECK(regs.words[kRip] == 0x401002);
  CHECK(regs.words[kRcx] == 0x100000000);

  // 67 e3 10            jecxz 0x401013: only ecx counts
  auto jecxz = emulation({0x67, 0xe3, 0x10});
  regs = hit_regs();
  regs.words[kRcx] = 0x100000000;
  hit(*jecxz, regs, mem);
  CHECK(regs.words[kRip] == 0x401013);
}

TEST_CASE("x86_64 emulate: nops and endbr move pc past them", "[arch][x86_64]") {
  FakeMemory mem;
  const Bytes nops[] = {
      {0x90},                                                     // nop
      {0x66, 0x90},                                               // xchg ax, ax
      {0xf3, 0x90},                                               // pause
      {0x0f, 0x1f, 0x44, 0x00, 0x00},                             // nop dword ptr [rax + rax]
      {0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},  // nop word ptr cs:[rax + rax]
      {0x0f, 0x1f, 0x05, 0x00, 0x00, 0x00, 0x80},                 // nop dword ptr [rip - 0x80000000]: not accessed
      {0xf3, 0x0f, 0x1e, 0xfa},                                   // endbr64
      {0xf3, 0x0f, 0x1e, 0xfb},                                   // endbr32
  };
  for (const Bytes& code : nops) {
    INFO(hex_bytes(code));
    auto plan = emulation(code);
    Regs regs = hit_regs();
    const Regs before = regs;
    hit(*plan, regs, mem);
    CHECK(regs.words[kRip] == kSite + code.size());
    regs.words[kRip] = before.words[kRip];
    CHECK(regs.words == before.words);
  }
  CHECK(emulation({0xf3, 0x0f, 0x1e, 0xfa})->describe() == "emulated: endbr64 (continue at 0x401004)");
  CHECK(emulation({0x90})->describe() == "emulated: nop (continue at 0x401001)");
}

TEST_CASE("x86_64 emulate: push reg, push imm, pushf", "[arch][x86_64]") {
  FakeMemory mem;
  // 55                  push rbp
  auto push_rbp = emulation({0x55});
  CHECK(push_rbp->describe() == "emulated: push rbp");
  Regs regs = hit_regs();
  regs.words[kRbp] = 0x1122334455667788;
  hit(*push_rbp, regs, mem);
  CHECK(regs.words[kRsp] == kStackTop - 8);
  CHECK(mem.u64(kStackTop - 8) == 0x1122334455667788);
  CHECK(regs.words[kRip] == 0x401001);

  // 41 57               push r15
  auto push_r15 = emulation({0x41, 0x57});
  regs = hit_regs();
  regs.words[kR15] = 0xabcdef;
  hit(*push_r15, regs, mem);
  CHECK(mem.u64(kStackTop - 8) == 0xabcdef);
  CHECK(regs.words[kRip] == 0x401002);

  // 54                  push rsp: pushes the value before the decrement
  auto push_rsp = emulation({0x54});
  regs = hit_regs();
  hit(*push_rsp, regs, mem);
  CHECK(mem.u64(kStackTop - 8) == kStackTop);

  // 6a f0               push -0x10 (sign-extended)
  auto push_imm8 = emulation({0x6a, 0xf0});
  regs = hit_regs();
  hit(*push_imm8, regs, mem);
  CHECK(mem.u64(kStackTop - 8) == 0xfffffffffffffff0);
  CHECK(regs.words[kRip] == 0x401002);

  // 68 00 00 00 80      push -0x80000000
  auto push_imm32 = emulation({0x68, 0x00, 0x00, 0x00, 0x80});
  CHECK(push_imm32->describe() == "emulated: push 0xffffffff80000000");
  regs = hit_regs();
  hit(*push_imm32, regs, mem);
  CHECK(mem.u64(kStackTop - 8) == 0xffffffff80000000);
  CHECK(regs.words[kRip] == 0x401005);

  // 9c                  pushfq: RF and VM are not pushed
  auto pushf = emulation({0x9c});
  regs = hit_regs();
  regs.words[kEflags] = 0x10246;  // RF | ZF | PF | bit 1
  hit(*pushf, regs, mem);
  CHECK(mem.u64(kStackTop - 8) == 0x246);
  CHECK(regs.words[kRsp] == kStackTop - 8);
  CHECK(regs.words[kRip] == 0x401001);

  // 66 9c               pushfw: 2 bytes
  auto pushfw = emulation({0x66, 0x9c});
  regs = hit_regs();
  regs.words[kEflags] = 0x10a87;
  mem.put_u64(kStackTop - 8, 0);
  hit(*pushfw, regs, mem);
  CHECK(regs.words[kRsp] == kStackTop - 2);
  CHECK(mem.u16(kStackTop - 2) == 0x0a87);
}

TEST_CASE("x86_64 emulate: pushf with 66 and REX.W pushes 8 bytes", "[arch][x86_64]") {
  // Found by xol-diff: REX.W overrides 66, so 66 48 9c pushes all of RFLAGS;
  // the emulation used to push 2 bytes.
  FakeMemory mem;
  // 66 48 9c            pushfq (data16 rex.w)
  auto pushf = emulation({0x66, 0x48, 0x9c});
  Regs regs = hit_regs();
  regs.words[kEflags] = 0x10a87;
  mem.put_u64(kStackTop - 8, 0xffffffffffffffff);
  hit(*pushf, regs, mem);
  CHECK(regs.words[kRsp] == kStackTop - 8);
  CHECK(mem.u64(kStackTop - 8) == 0x0a87);
  CHECK(regs.words[kRip] == kSite + 3);
}

TEST_CASE("x86_64 emulate: the TLS general-dynamic call (66 66 48 e8) is an ordinary call", "[arch][x86_64]") {
  // Found by xol-diff in libstdc++ (__once_proxy): REX.W overrides the 66
  // prefixes on Intel and AMD alike, so the call is not refused.
  FakeMemory mem;
  // 66 66 48 e8 f8 01 00 00   data16 data16 rex.w call 0x401200
  auto call = emulation({0x66, 0x66, 0x48, 0xe8, 0xf8, 0x01, 0x00, 0x00});
  CHECK(call->describe() == "emulated: call rel32 (push return address, jump to 0x401200)");
  Regs regs = hit_regs();
  hit(*call, regs, mem);
  CHECK(regs.words[kRip] == 0x401200);
  CHECK(regs.words[kRsp] == kStackTop - 8);
  CHECK(mem.u64(kStackTop - 8) == 0x401008);

  // 66 48 74 10         je +0x10 (data16 rex.w): emulated like je
  auto je = emulation({0x66, 0x48, 0x74, 0x10});
  regs = hit_regs();
  regs.words[kEflags] = 0x246;  // ZF
  hit(*je, regs, mem);
  CHECK(regs.words[kRip] == kSite + 4 + 0x10);
}

TEST_CASE("x86_64 emulate: ret and ret imm16 pop the return address", "[arch][x86_64]") {
  FakeMemory mem;
  mem.put_u64(kStackTop, 0x401234);
  // c3                  ret
  auto ret = emulation({0xc3});
  CHECK(ret->describe() == "emulated: ret (pop the return address)");
  Regs regs = hit_regs();
  hit(*ret, regs, mem);
  CHECK(regs.words[kRip] == 0x401234);
  CHECK(regs.words[kRsp] == kStackTop + 8);

  // c2 10 00            ret 0x10
  auto ret16 = emulation({0xc2, 0x10, 0x00});
  CHECK(ret16->describe() == "emulated: ret 16 (pop the return address and 16 bytes)");
  regs = hit_regs();
  hit(*ret16, regs, mem);
  CHECK(regs.words[kRip] == 0x401234);
  CHECK(regs.words[kRsp] == kStackTop + 8 + 0x10);

  // f3 c3               rep ret
  auto rep_ret = emulation({0xf3, 0xc3});
  regs = hit_regs();
  hit(*rep_ret, regs, mem);
  CHECK(regs.words[kRip] == 0x401234);
}

TEST_CASE("x86_64 emulate: ret to a non-canonical address is stepped, so it faults at the site", "[arch][x86_64]") {
  // Found by xol-diff: in place, ret with [rsp] = 0xee3929207c440164 raises
  // #GP (SIGSEGV, si_code SI_KERNEL) with pc at the ret and rsp unchanged;
  // the emulation used to pop it and resume at the non-canonical address.
  FakeMemory mem;
  StepState state;
  // c3                  ret        -> slot: c3
  auto ret = emulation({0xc3});
  CHECK(ret->slot_code() == Bytes{0xc3});
  mem.put_u64(kStackTop, 0xee3929207c440164);
  Regs regs = hit_regs();
  REQUIRE(ret->begin_hit(regs, mem, state) == HitAction::SingleStep);
  CHECK(regs.words[kRip] == kNearSlot);
  CHECK(regs.words[kRsp] == kStackTop);
  // The copy faulted at the slot: the program sees the fault at the site.
  ret->abort_step(regs, state);
  CHECK(regs.words[kRip] == kSite);
  CHECK(regs.words[kRsp] == kStackTop);

  // c2 10 00            ret 0x10   -> slot: c2 10 00
  auto ret16 = emulation({0xc2, 0x10, 0x00});
  CHECK(ret16->slot_code() == Bytes{0xc2, 0x10, 0x00});
  mem.put_u64(kStackTop, 0x0000800000000000);  // the first address past the lower half
  regs = hit_regs();
  REQUIRE(ret16->begin_hit(regs, mem, state) == HitAction::SingleStep);
  CHECK(regs.words[kRsp] == kStackTop);

  // The highest lower-half and lowest upper-half addresses are canonical: emulated.
  mem.put_u64(kStackTop, 0x00007ffffffff000);
  regs = hit_regs();
  hit(*ret, regs, mem);
  CHECK(regs.words[kRip] == 0x00007ffffffff000);
  mem.put_u64(kStackTop, 0xffff800000000000);
  regs = hit_regs();
  hit(*ret, regs, mem);
  CHECK(regs.words[kRip] == 0xffff800000000000);
}

TEST_CASE("x86_64 emulate: lea reg, [rip + disp]", "[arch][x86_64]") {
  FakeMemory mem;
  // 48 8d 05 e1 2e 00 00   lea rax, [rip + 0x2ee1]   at 0x401000
  auto lea = emulation({0x48, 0x8d, 0x05, 0xe1, 0x2e, 0x00, 0x00});
  CHECK(lea->describe() == "emulated: lea rax, 0x403ee8");
  Regs regs = hit_regs();
  regs.words[kRax] = 0xffffffffffffffff;
  hit(*lea, regs, mem);
  CHECK(regs.words[kRax] == 0x403ee8);
  CHECK(regs.words[kRip] == 0x401007);

  // 4c 8d 3d 00 f0 ff ff   lea r15, [rip - 0x1000]
  auto lea_r15 = emulation({0x4c, 0x8d, 0x3d, 0x00, 0xf0, 0xff, 0xff});
  regs = hit_regs();
  hit(*lea_r15, regs, mem);
  CHECK(regs.words[kR15] == 0x400007);

  // 8d 05 e1 2e 00 00      lea eax, [rip + 0x2ee1]: a 32-bit result, zero-extended
  regs = hit_regs(0x7f0000401000);
  regs.words[kRax] = 0xffffffffffffffff;
  SiteAnalysis a = analyze({0x8d, 0x05, 0xe1, 0x2e, 0x00, 0x00}, 0x7f0000401000, 0x7f0000402000);
  REQUIRE(a.plan);
  hit(*a.plan, regs, mem);
  CHECK(regs.words[kRax] == 0x00403ee7);
  CHECK(regs.words[kRip] == 0x7f0000401006);

  // 66 8d 05 e1 2e 00 00   lea ax, [rip + 0x2ee1]: only the low 16 bits change
  auto lea16 = emulation({0x66, 0x8d, 0x05, 0xe1, 0x2e, 0x00, 0x00});
  regs = hit_regs();
  regs.words[kRax] = 0x1111111111111111;
  hit(*lea16, regs, mem);
  CHECK(regs.words[kRax] == 0x1111111111113ee8);
}

TEST_CASE("x86_64 emulate: when the stack is not accessible the instruction is stepped", "[arch][x86_64]") {
  // The kernel does the same: the CPU then raises the fault with the proper siginfo.
  FakeMemory mem;
  mem.writable = false;
  mem.readable = false;

  // e8 fb 01 00 00      call 0x401200   -> slot: e8 00 00 00 00 (call +0)
  auto call = emulation({0xe8, 0xfb, 0x01, 0x00, 0x00});
  CHECK(call->slot_code() == Bytes{0xe8, 0x00, 0x00, 0x00, 0x00});
  Regs regs = hit_regs();
  StepState state;
  REQUIRE(call->begin_hit(regs, mem, state) == HitAction::SingleStep);
  CHECK(regs.words[kRip] == kNearSlot);
  CHECK(regs.words[kRsp] == kStackTop);
  // The step faulted at the slot: back to the site, as if never trapped.
  call->abort_step(regs, state);
  CHECK(regs.words[kRip] == kSite);
  // Again, and this time the step completes: another thread grew the stack meanwhile.
  regs = hit_regs();
  REQUIRE(call->begin_hit(regs, mem, state) == HitAction::SingleStep);
  mem.writable = mem.readable = true;
  regs.words[kRip] = kNearSlot + 5;  // as the CPU leaves it after "call +0"
  regs.words[kRsp] = kStackTop - 8;
  mem.put_u64(kStackTop - 8, kNearSlot + 5);
  call->finish_step(regs, mem, state);
  CHECK(regs.words[kRip] == 0x401200);
  CHECK(regs.words[kRsp] == kStackTop - 8);
  CHECK(mem.u64(kStackTop - 8) == 0x401005);

  // 55                  push rbp   -> slot: 55
  mem.writable = mem.readable = false;
  auto push = emulation({0x55});
  CHECK(push->slot_code() == Bytes{0x55});
  regs = hit_regs();
  REQUIRE(push->begin_hit(regs, mem, state) == HitAction::SingleStep);
  CHECK(regs.words[kRip] == kNearSlot);
  CHECK(regs.words[kRsp] == kStackTop);

  // c3                  ret        -> slot: c3
  mem.readable = false;
  auto ret = emulation({0xc3});
  CHECK(ret->slot_code() == Bytes{0xc3});
  regs = hit_regs();
  REQUIRE(ret->begin_hit(regs, mem, state) == HitAction::SingleStep);
  CHECK(regs.words[kRip] == kNearSlot);
  CHECK(regs.words[kRsp] == kStackTop);
}
