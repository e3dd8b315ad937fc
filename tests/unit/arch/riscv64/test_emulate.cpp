// Emulations: jal, jalr, the branches, their compressed forms and auipc,
// computed from the registers at the hit (pc = the site). x0 reads as zero
// and writes to it vanish.
#include <catch2/catch.hpp>

#include "arch/riscv64/plans.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::riscv64;
using namespace uptrace::arch::riscv64::test;

namespace {

// Emulates the instruction at the site with `regs`; returns the registers after.
Regs emulate(uint32_t raw, Regs regs) {
  SiteAnalysis a = analyze(insns({raw}));
  INFO(a.refusal);
  REQUIRE(a.plan != nullptr);
  REQUIRE(a.plan->mode() == ExecMode::Emulate);
  NoMemory mem;
  StepState state;
  REQUIRE(a.plan->begin_hit(regs, mem, state) == HitAction::Resume);
  CHECK(mem.reads == 0);
  CHECK(mem.writes == 0);
  return regs;
}

// Every register but the listed words is as before.
void only_changed(const Regs& before, const Regs& after, std::initializer_list<unsigned> words) {
  for (unsigned i = 1; i < 32; ++i) {
    if (std::find(words.begin(), words.end(), i) != words.end()) continue;
    INFO("x" << i);
    CHECK(after.words[i] == before.words[i]);
  }
}

}  // namespace

TEST_CASE("riscv64 emulate: jal and c.j link and jump", "[arch][riscv64]") {
  const Regs before = hit_regs();
  // 100000ef  jal ra, +0x100
  Regs r = emulate(0x100000ef, before);
  CHECK(r.words[kPc] == kSite + 0x100);
  CHECK(r.words[kRa] == kSite + 4);
  only_changed(before, r, {kRa});
  // fe1ff06f  j -0x20 (jal zero: the link vanishes)
  r = emulate(0xfe1ff06f, before);
  CHECK(r.words[kPc] == kSite - 0x20);
  only_changed(before, r, {});
  // 008002ef  jal t0, +8
  r = emulate(0x008002ef, before);
  CHECK(r.words[kPc] == kSite + 8);
  CHECK(r.words[5] == kSite + 4);
  only_changed(before, r, {5});
  // a081      c.j +0x40
  r = emulate(0xa081, before);
  CHECK(r.words[kPc] == kSite + 0x40);
  only_changed(before, r, {});
}

TEST_CASE("riscv64 emulate: jalr, c.jr and c.jalr read rs1 before writing rd", "[arch][riscv64]") {
  Regs before = hit_regs();
  before.words[15] = 0x402000;  // a5
  before.words[kRa] = 0x400abc;
  before.words[6] = 0x403009;   // t1, odd: the target's bit 0 is cleared
  // 010780e7  jalr ra, 16(a5)
  Regs r = emulate(0x010780e7, before);
  CHECK(r.words[kPc] == 0x402010);
  CHECK(r.words[kRa] == kSite + 4);
  only_changed(before, r, {kRa});
  // 00008067  ret (jalr zero, 0(ra))
  r = emulate(0x00008067, before);
  CHECK(r.words[kPc] == 0x400abc);
  only_changed(before, r, {});
  // 000080e7  jalr ra, 0(ra): jumps to the old ra
  r = emulate(0x000080e7, before);
  CHECK(r.words[kPc] == 0x400abc);
  CHECK(r.words[kRa] == kSite + 4);
  // ff830367  jalr t1, -8(t1): (0x403009 - 8) & ~1, then t1 = the link
  r = emulate(0xff830367, before);
  CHECK(r.words[kPc] == 0x403000);
  CHECK(r.words[6] == kSite + 4);
  // 010000e7  jalr ra, 16(zero): x0 reads as zero
  r = emulate(0x010000e7, before);
  CHECK(r.words[kPc] == 16);
  // 8082      c.jr ra (ret)
  r = emulate(0x8082, before);
  CHECK(r.words[kPc] == 0x400abc);
  only_changed(before, r, {});
  // 8782      c.jr a5
  r = emulate(0x8782, before);
  CHECK(r.words[kPc] == 0x402000);
  // 9782      c.jalr a5: the link is the site + 2
  r = emulate(0x9782, before);
  CHECK(r.words[kPc] == 0x402000);
  CHECK(r.words[kRa] == kSite + 2);
  only_changed(before, r, {kRa});
  // 9082      c.jalr ra: jumps to the old ra
  r = emulate(0x9082, before);
  CHECK(r.words[kPc] == 0x400abc);
  CHECK(r.words[kRa] == kSite + 2);
}

TEST_CASE("riscv64 emulate: the six comparisons, signed and unsigned, taken and not", "[arch][riscv64]") {
  struct Case {
    uint32_t raw;  // <op> a0, a1, +0x40
    uint64_t a0, a1;
    bool taken;
  };
  const uint64_t minus1 = ~uint64_t{0};
  const Case cases[] = {
      {0x04b50063, 5, 5, true},        {0x04b50063, 5, 6, false},       // beq
      {0x04b51063, 5, 6, true},        {0x04b51063, 5, 5, false},       // bne
      {0x04b54063, minus1, 1, true},   {0x04b54063, 1, minus1, false},  // blt: signed
      {0x04b54063, 3, 3, false},
      {0x04b55063, 1, minus1, true},   {0x04b55063, 3, 3, true},        // bge: signed
      {0x04b55063, minus1, 1, false},
      {0x04b56063, 1, minus1, true},   {0x04b56063, minus1, 1, false},  // bltu: unsigned
      {0x04b57063, minus1, 1, true},   {0x04b57063, 1, minus1, false},  // bgeu: unsigned
      {0x04b57063, 7, 7, true},
  };
  for (const Case& c : cases) {
    INFO(std::hex << c.raw << " a0=" << c.a0 << " a1=" << c.a1);
    Regs before = hit_regs();
    before.words[10] = c.a0;
    before.words[11] = c.a1;
    const Regs r = emulate(c.raw, before);
    CHECK(r.words[kPc] == (c.taken ? kSite + 0x40 : kSite + 4));
    only_changed(before, r, {});
  }
  // 00000463  beqz zero, +8: x0 == x0 always.
  CHECK(emulate(0x00000463, hit_regs()).words[kPc] == kSite + 8);
}

TEST_CASE("riscv64 emulate: c.beqz and c.bnez test x8..x15 and fall through by 2", "[arch][riscv64]") {
  Regs zero = hit_regs(), nonzero = hit_regs();
  zero.words[8] = 0;    // s0
  zero.words[15] = 0;   // a5
  nonzero.words[8] = 1;
  nonzero.words[15] = 0x8000000000000000;
  // c005  c.beqz s0, +0x20
  CHECK(emulate(0xc005, zero).words[kPc] == kSite + 0x20);
  CHECK(emulate(0xc005, nonzero).words[kPc] == kSite + 2);
  // f3e5  c.bnez a5, -0x20
  CHECK(emulate(0xf3e5, nonzero).words[kPc] == kSite - 0x20);
  CHECK(emulate(0xf3e5, zero).words[kPc] == kSite + 2);
}

TEST_CASE("riscv64 emulate: auipc and the no-ops", "[arch][riscv64]") {
  const Regs before = hit_regs();
  // 12345517  auipc a0, 0x12345
  Regs r = emulate(0x12345517, before);
  CHECK(r.words[10] == kSite + 0x12345000);
  CHECK(r.words[kPc] == kSite + 4);
  only_changed(before, r, {10});
  // fffff317  auipc t1, 0xfffff: the immediate is sign-extended
  r = emulate(0xfffff317, before);
  CHECK(r.words[6] == kSite - 0x1000);
  // 00001017  auipc zero, 0x1: the write vanishes
  r = emulate(0x00001017, before);
  CHECK(r.words[kPc] == kSite + 4);
  only_changed(before, r, {});
  // 00000013  nop, 0001 c.nop
  r = emulate(0x00000013, before);
  CHECK(r.words[kPc] == kSite + 4);
  only_changed(before, r, {});
  r = emulate(0x0001, before);
  CHECK(r.words[kPc] == kSite + 2);
  only_changed(before, r, {});
}

TEST_CASE("riscv64 emulate: an emulation never steps (no slot code, no step-end trap)", "[arch][riscv64]") {
  SiteAnalysis a = analyze(insns({0x100000ef}));
  REQUIRE(a.plan != nullptr);
  CHECK(a.plan->slot_code().empty());
  CHECK_FALSE(a.plan->is_step_end_trap(RuntimeAddr(kSlot)));
  CHECK_FALSE(a.plan->original_pc(kSlot).has_value());
}

TEST_CASE("riscv64 registers: x0 reads as zero and writes to it vanish", "[arch][riscv64]") {
  Regs regs = hit_regs();
  regs.words[0] = 0x401000;  // word 0 is pc, not x0
  CHECK(read_x(regs, 0) == 0);
  write_x(regs, 0, 0x1234);
  CHECK(regs.words[0] == 0x401000);
  write_x(regs, 31, 0x1234);
  CHECK(read_x(regs, 31) == 0x1234);
}
