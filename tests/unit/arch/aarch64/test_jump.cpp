// Jump plans on aarch64: the word written over the site, the trampoline
// word by word beside its disassembly (each checked with
// aarch64-linux-gnu-objdump), where a thread found inside it stands, and
// what is declined with its reason.
#include <algorithm>

#include <catch2/catch.hpp>

#include "arch/aarch64/jump.h"
#include "common/ring_layout.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::aarch64;
using namespace uptrace::arch::aarch64::test;

namespace {

constexpr uint64_t kNearSlot = kSite + 0x100000;  // 1 MiB above the site: in reach of b
constexpr uint64_t kRing = 0x7f0000100000;

SiteAnalysis analyze_jump(const Bytes& code, std::vector<JumpRecordSpec> records, ModeRequest request = ModeRequest::Jump,
                          uint64_t slot = kNearSlot, uint64_t capacity = ring::kDefaultCapacity) {
  JumpContext jump{RuntimeAddr(kRing), capacity, std::move(records)};
  SiteContext ctx{RuntimeAddr(kSite), code, RuntimeAddr(kSite), RuntimeAddr(slot), request};
  ctx.jump = &jump;
  return isa().analyze(ctx);
}

std::vector<uint32_t> words_of(const std::vector<uint8_t>& bytes) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i + 4 <= bytes.size(); i += 4)
    out.push_back(uint32_t{bytes[i]} | uint32_t{bytes[i + 1]} << 8 | uint32_t{bytes[i + 2]} << 16 |
                  uint32_t{bytes[i + 3]} << 24);
  return out;
}

}  // namespace

TEST_CASE("aarch64 jump: one record with x0, x3, x19 and sp, word by word", "[arch][aarch64][jump]") {
  // 91000420            add x0, x1, #1
  SiteAnalysis a = analyze_jump(words({0x91000420}), {{7, {0, 3, 19, kSp}, std::nullopt}}, ModeRequest::Auto);
  REQUIRE(a.plan);
  CHECK(a.plan->mode() == ExecMode::Jump);
  CHECK(a.plan->site_patch() == words({0x14040000}));  // b #+0x100000 (to the trampoline)
  CHECK(words_of(a.plan->slot_code()) == std::vector<uint32_t>{
      0xa9bd07e0,  // stp x0, x1, [sp, #-48]!
      0xa9010fe2,  // stp x2, x3, [sp, #16]
      0xa90223e4,  // stp x4, x8, [sp, #32]
      0xd2800001,  // mov x1, #0x0 (the ring, 0x7f0000100000)
      0xf2a00201,  // movk x1, #0x10, lsl #16
      0xf2cfe001,  // movk x1, #0x7f00, lsl #32
      0x91010022,  // add x2, x1, #0x40
      0xc8dffc42,  // ldar x2, [x2]
      0xc85ffc23,  // ldaxr x3, [x1]
      0xcb020064,  // sub x4, x3, x2
      0xd352fc84,  // lsr x4, x4, #18
      0xb5000424,  // cbnz x4, 0x5010b0 (no room: to the brk)
      0x91000464,  // add x4, x3, #0x1
      0xc802fc24,  // stlxr w2, x4, [x1]
      0x35000402,  // cbnz w2, 0x5010b8 (stlxr failed: restore, back to the site)
      0xd53be042,  // mrs x2, cntvct_el0
      0xf9406020,  // ldr x0, [x1, #192] (the ring's thread id mode)
      0xb40000e0,  // cbz x0, 0x501060 (no thread ids yet: 0)
      0x37080060,  // tbnz w0, #1, 0x501054 (kKernelTid)
      0xd53bd040,  // mrs x0, tpidr_el0
      0xb5000080,  // cbnz x0, 0x501060 (named by it)
      0xd2801648,  // mov x8, #0xb2 (SYS_gettid)
      0xd4000001,  // svc #0x0
      0xb2410000,  // orr x0, x0, #0x8000000000000000
      0x91000064,  // add x4, x3, #0x0
      0x92404484,  // and x4, x4, #0x3ffff
      0x8b041824,  // add x4, x1, x4, lsl #6
      0x91400484,  // add x4, x4, #0x1, lsl #12
      0xf9000482,  // str x2, [x4, #8]
      0xf9000880,  // str x0, [x4, #16]
      0xd28000e8,  // mov x8, #0x7 (probe 7, 4 values)
      0xf2c00088,  // movk x8, #0x4, lsl #32
      0xf9000c88,  // str x8, [x4, #24]
      0xf94003e8,  // ldr x8, [sp]
      0xf9001088,  // str x8, [x4, #32]
      0xf9400fe8,  // ldr x8, [sp, #24]
      0xf9001488,  // str x8, [x4, #40]
      0xaa1303e8,  // mov x8, x19
      0xf9001888,  // str x8, [x4, #48]
      0x9100c3e8,  // add x8, sp, #0x30
      0xf9001c88,  // str x8, [x4, #56]
      0x91000468,  // add x8, x3, #0x1
      0xc89ffc88,  // stlr x8, [x4]
      0x14000007,  // b 0x5010c8 (recorded: restore)
      0xd420f4a0,  // brk #0x7a5 (ring full: uptrace drains, pc moves past)
      0x17ffffd9,  // b 0x501018 (try again)
      0xa94223e4,  // ldp x4, x8, [sp, #32]
      0xa9410fe2,  // ldp x2, x3, [sp, #16]
      0xa8c307e0,  // ldp x0, x1, [sp], #48
      0x17fbffcf,  // b 0x401000 (the site: enter again)
      0xa94223e4,  // ldp x4, x8, [sp, #32]
      0xa9410fe2,  // ldp x2, x3, [sp, #16]
      0xa8c307e0,  // ldp x0, x1, [sp], #48
      0x91000420,  // add x0, x1, #0x1 (displaced)
      0x17fbffcb,  // b 0x401004 (back to the site + 4)
                                          });
  CHECK(a.plan->describe() ==
        "the instruction at the site becomes a b to a trampoline that records the hit without stopping, runs the "
        "displaced instruction and branches back to 0x401004");
  CHECK(a.declined.empty());
  // Where a thread is as at the site: the start, the way back after a
  // failed stlxr, and the displaced instruction with everything restored.
  CHECK(a.plan->original_pc(kNearSlot) == kSite);
  CHECK(a.plan->original_pc(kNearSlot + 0xc4) == kSite);
  CHECK(a.plan->original_pc(kNearSlot + 0xd4) == kSite);
  CHECK_FALSE(a.plan->original_pc(kNearSlot + 0x24));
  CHECK(a.plan->is_ring_full_trap(RuntimeAddr(kNearSlot + 0xb0)));
  CHECK_FALSE(a.plan->is_ring_full_trap(RuntimeAddr(kNearSlot + 0xb4)));
  CHECK(a.plan->follows_syscall(kNearSlot + 0x5c));
  CHECK_FALSE(a.plan->follows_syscall(kNearSlot + 0x58));
  // A thread stopped at the site on another's trap goes into the trampoline.
  Regs regs = hit_regs();
  FakeMemory mem;
  StepState state;
  CHECK(a.plan->begin_hit(regs, mem, state) == HitAction::Resume);
  CHECK(regs.words[kPc] == kNearSlot);
}

TEST_CASE("aarch64 jump: two probes reserve their records with one stlxr", "[arch][aarch64][jump]") {
  // d503201f            nop
  SiteAnalysis a = analyze_jump(words({0xd503201f}), {{7, {}, std::nullopt}, {8, {kPc}, std::nullopt}});
  REQUIRE(a.plan);
  const std::vector<uint32_t> w = words_of(a.plan->slot_code());
  REQUIRE(w.size() > 16);
  CHECK(w[10] == 0x91000484);  // add x4, x4, #0x1 (room for both)
  CHECK(w[11] == 0xd352fc84);  // lsr x4, x4, #18
  CHECK(w[13] == 0x91000864);  // add x4, x3, #0x2 (head moves by two)
  // The second record: its index, the site's pc as its value, its commit.
  const std::vector<uint32_t> second{
      0x91000464,  // add x4, x3, #0x1
      0x92404484,  // and x4, x4, #0x3ffff
      0x8b041824,  // add x4, x1, x4, lsl #6
      0x91400484,  // add x4, x4, #0x1, lsl #12
      0xf9000482,  // str x2, [x4, #8]
      0xf9000880,  // str x0, [x4, #16]
      0xd2800108,  // mov x8, #0x8
      0xf2c00028,  // movk x8, #0x1, lsl #32
      0xf9000c88,  // str x8, [x4, #24]
      0xd2820008,  // mov x8, #0x1000
      0xf2a00808,  // movk x8, #0x40, lsl #16
      0xf9001088,  // str x8, [x4, #32]
      0x91000868,  // add x8, x3, #0x2
      0xc89ffc88,  // stlr x8, [x4]
  };
  CHECK(std::search(w.begin(), w.end(), second.begin(), second.end()) != w.end());
  CHECK(w[w.size() - 2] == 0xd503201f);  // nop, displaced
  CHECK(w.back() == 0x17fbffc5);         // b 0x401004
}

TEST_CASE("aarch64 jump: adrp sets the site's page in the trampoline", "[arch][aarch64][jump]") {
  // f0000001            adrp x1, #0x404000
  SiteAnalysis a = analyze_jump(words({0xf0000001}), {{7, {}, std::nullopt}}, ModeRequest::Auto);
  REQUIRE(a.plan);
  CHECK(a.plan->mode() == ExecMode::Jump);
  const std::vector<uint32_t> w = words_of(a.plan->slot_code());
  REQUIRE(w.size() > 3);
  CHECK(w[w.size() - 3] == 0xd2880001);  // mov x1, #0x4000
  CHECK(w[w.size() - 2] == 0xf2a00801);  // movk x1, #0x40, lsl #16
  CHECK(w.back() == 0x17fbffd3);         // b 0x401004
  CHECK(a.plan->original_pc(kNearSlot + 4 * (w.size() - 3)) == kSite);
  CHECK_FALSE(a.plan->original_pc(kNearSlot + 4 * (w.size() - 2)));
  CHECK(a.plan->describe() ==
        "the instruction at the site becomes a b to a trampoline that records the hit without stopping, sets x1 = "
        "0x404000 (the site's value) and branches back to 0x401004");
}

TEST_CASE("aarch64 jump: branches at the site are relocated into the trampoline", "[arch][aarch64][jump]") {
  // What follows the restored registers: the displaced branch, word by word
  // at its address in the trampoline (checked with aarch64-linux-gnu-objdump).
  struct Case {
    uint32_t site_word;
    std::vector<uint32_t> tail;
    const char* how;
  };
  const Case cases[] = {
      // b 0x401040: the same target from the trampoline.
      {0x14000010, {0x17fbffe4},  // 0x5010b0: b 0x401040
       "branches to 0x401040 (the displaced b)"},
      // bl 0x401040: the callee returns to the site's next instruction.
      {0x94000010,
       {0xd282009e,   // 0x5010b0: mov x30, #0x1004
        0xf2a0081e,   // movk x30, #0x40, lsl #16
        0x17fbffe2},  // b 0x401040
       "sets x30 = 0x401004 and branches to 0x401040 (the displaced bl)"},
      // cbz x0, 0x401040: taken 8 bytes on, to a b to the target; else back.
      {0xb4000200,
       {0xb4000040,   // 0x5010b0: cbz x0, 0x5010b8
        0x17fbffd4,   // b 0x401004
        0x17fbffe2},  // b 0x401040
       "branches to 0x401040 if the displaced branch is taken, else back to 0x401004"},
      // tbnz w0, #1, 0x401040
      {0x37080200,
       {0x37080040,   // 0x5010b0: tbnz w0, #1, 0x5010b8
        0x17fbffd4,   // b 0x401004
        0x17fbffe2},  // b 0x401040
       "branches to 0x401040 if the displaced branch is taken, else back to 0x401004"},
      // ret: the same anywhere.
      {0xd65f03c0, {0xd65f03c0}, "runs the displaced instruction, which leaves by its register"},
      // blr x1: x30 set to the site's next instruction, then br.
      {0xd63f0020,
       {0xd282009e,   // 0x5010b0: mov x30, #0x1004
        0xf2a0081e,   // movk x30, #0x40, lsl #16
        0xd61f0020},  // br x1
       "sets x30 = 0x401004 and branches to x1 (the displaced blr)"},
  };
  for (const Case& c : cases) {
    INFO(std::hex << c.site_word);
    SiteAnalysis a = analyze_jump(words({c.site_word}), {{7, {}, std::nullopt}});
    INFO(a.refusal);
    REQUIRE(a.plan);
    CHECK(a.plan->mode() == ExecMode::Jump);
    const std::vector<uint32_t> w = words_of(a.plan->slot_code());
    REQUIRE(w.size() > c.tail.size());
    CHECK(std::vector<uint32_t>(w.end() - static_cast<long>(c.tail.size()), w.end()) == c.tail);
    // A thread about to run the displaced branch is as at the site.
    CHECK(a.plan->original_pc(kNearSlot + 4 * (w.size() - c.tail.size())) == kSite);
    CHECK(a.plan->describe() == std::string("the instruction at the site becomes a b to a trampoline that records "
                                            "the hit without stopping, ") +
                                    c.how);
  }
}

TEST_CASE("aarch64 jump: declined with the reason, and auto falls back", "[arch][aarch64][jump]") {
  const std::vector<JumpRecordSpec> one{{7, {0}, std::nullopt}};
  struct Case {
    uint32_t word;
    const char* why;
  };
  const Case cases[] = {
      {0x58000040,  // ldr x0, 0x401008
       "a literal load depends on its pc: jump on aarch64 displaces instructions that run the same anywhere, "
       "adr/adrp and branches"},
      {0xd63f03c0,  // blr x30
       "an authenticated call, or blr x30, cannot be displaced: the return address it sets is its own pc's"},
      {0xd73f0822,  // blraa x1, x2
       "an authenticated call, or blr x30, cannot be displaced: the return address it sets is its own pc's"},
      {0xd503245f,  // bti c
       "a branch target landing pad (bti, paciasp, pacibsp) must stay at the site: on a guarded page an indirect "
       "branch to it faults on anything else"},
      {0xd503233f,  // paciasp
       "a branch target landing pad (bti, paciasp, pacibsp) must stay at the site: on a guarded page an indirect "
       "branch to it faults on anything else"},
  };
  for (const Case& c : cases) {
    INFO(std::hex << c.word);
    SiteAnalysis forced = analyze_jump(words({c.word}), one);
    CHECK_FALSE(forced.plan);
    CHECK(forced.refusal == std::string("cannot jump: ") + c.why);
    SiteAnalysis a = analyze_jump(words({c.word}), one, ModeRequest::Auto);
    REQUIRE(a.plan);
    CHECK(a.plan->mode() != ExecMode::Jump);
    REQUIRE_FALSE(a.declined.empty());
    CHECK(a.declined.back() == std::pair<ExecMode, std::string>{ExecMode::Jump, c.why});
  }
  // 91000420            add x0, x1, #1
  const Bytes add = words({0x91000420});
  CHECK(analyze_jump(add, one, ModeRequest::Jump, kSlot).refusal ==
        "cannot jump: the trampoline is out of reach of the site (b reaches +-128 MiB)");
  CHECK(analyze_jump(add, {{7, {kPstate}, std::nullopt}}).refusal ==
        "cannot jump: a fetch argument names a register a trampoline cannot record");
  CHECK(analyze_jump(add, {{7, {0, 1, 2, 3, 4}, std::nullopt}}).refusal ==
        "cannot jump: a probe records at most 4 values in jump mode, not 5");
  JumpFilter glob;
  glob.reg = RegisterRef{0};
  glob.op = CompareOp::Glob;
  CHECK(analyze_jump(add, {{7, {0}, glob}}).refusal ==
        "cannot jump: a glob match needs the string, which a trampoline cannot read");
  CHECK(analyze_jump(add, {{7, {}, std::nullopt}, {8, {}, std::nullopt}}, ModeRequest::Jump, kNearSlot, 1).refusal ==
        "cannot jump: a ring of 1 records cannot take 2 at once");
  // No ring offered: the core's reason.
  SiteAnalysis none = analyze(add, kSite, ModeRequest::Auto, kNearSlot);
  REQUIRE(none.plan);
  CHECK(none.plan->mode() == ExecMode::Boost);
  CHECK(none.declined.back() == std::pair<ExecMode, std::string>{ExecMode::Jump, "jump mode is not available"});
}

TEST_CASE("aarch64 jump: the slot holds four probes' records", "[arch][aarch64][jump]") {
  std::vector<JumpRecordSpec> four;
  for (uint32_t p = 0; p < 4; ++p) four.push_back({p, {0, 1, kSp, kPc}, std::nullopt});
  SiteAnalysis a = analyze_jump(words({0x91000420}), four);
  REQUIRE(a.plan);
  CHECK(a.plan->slot_code().size() <= isa().slot_size());
}

namespace {

// $arg1:s32 < -5
JumpFilter arg1_below_minus_5() {
  JumpFilter f;
  f.reg = RegisterRef{0, 64, 0};
  f.bytes = 4;
  f.is_signed = true;
  f.op = CompareOp::Lt;
  f.literal = static_cast<uint64_t>(-5);
  return f;
}

}  // namespace

TEST_CASE("aarch64 jump: a condition is compared before the reservation, NZCV kept", "[arch][aarch64][jump][filter]") {
  // 91000420            add x0, x1, #1, with `if $arg1:s32 < -5`
  SiteAnalysis a = analyze_jump(words({0x91000420}), {{7, {}, arg1_below_minus_5()}});
  REQUIRE(a.plan);
  const std::vector<uint32_t> w = words_of(a.plan->slot_code());
  REQUIRE(w.size() > 30);
  CHECK(std::vector<uint32_t>(w.begin(), w.begin() + 30) == std::vector<uint32_t>{
                                                                0xa9bb07e0,  // stp x0, x1, [sp, #-80]!
                                                                0xa9010fe2,  // stp x2, x3, [sp, #16]
                                                                0xa90223e4,  // stp x4, x8, [sp, #32]
                                                                0xa9031be5,  // stp x5, x6, [sp, #48]
                                                                0xd53b4200,  // mrs x0, nzcv
                                                                0xf90023e0,  // str x0, [sp, #64]
                                                                0xd2800005,  // mov x5, #0x0 (kept, by bit)
                                                                0xd2800006,  // mov x6, #0x0 (kept, how many)
                                                                0xf94003e8,  // ldr x8, [sp] (x0 at the site)
                                                                0xd3607d08,  // lsl x8, x8, #32
                                                                0x9360fd08,  // asr x8, x8, #32 (s32)
                                                                0xd29fff60,  // mov x0, #0xfffb
                                                                0xf2bfffe0,  // movk x0, #0xffff, lsl #16
                                                                0xf2dfffe0,  // movk x0, #0xffff, lsl #32
                                                                0xf2ffffe0,  // movk x0, #0xffff, lsl #48
                                                                0xeb00011f,  // cmp x8, x0
                                                                0x5400006a,  // b.ge 0x50104c (false: not kept)
                                                                0xb24000a5,  // orr x5, x5, #0x1
                                                                0x910004c6,  // add x6, x6, #0x1
                                                                0xb40005c6,  // cbz x6, 0x501104 (none kept: restore)
                                                                0xd2800001,  // mov x1, #0x0 (the ring)
                                                                0xf2a00201,  // movk x1, #0x10, lsl #16
                                                                0xf2cfe001,  // movk x1, #0x7f00, lsl #32
                                                                0x91010022,  // add x2, x1, #0x40
                                                                0xc8dffc42,  // ldar x2, [x2]
                                                                0xc85ffc23,  // ldaxr x3, [x1]
                                                                0xcb020064,  // sub x4, x3, x2
                                                                0x8b060084,  // add x4, x4, x6
                                                                0xd1000484,  // sub x4, x4, #0x1
                                                                0xd352fc84,  // lsr x4, x4, #18
                                                            });
  // Both ways out restore NZCV, x5, x6 and the 80-byte frame.
  CHECK(std::vector<uint32_t>(w.end() - 8, w.end()) == std::vector<uint32_t>{
                                                           0xf94023e0,  // ldr x0, [sp, #64]
                                                           0xd51b4200,  // msr nzcv, x0
                                                           0xa9431be5,  // ldp x5, x6, [sp, #48]
                                                           0xa94223e4,  // ldp x4, x8, [sp, #32]
                                                           0xa9410fe2,  // ldp x2, x3, [sp, #16]
                                                           0xa8c507e0,  // ldp x0, x1, [sp], #80
                                                           0x91000420,  // add x0, x1, #0x1
                                                           0x17fbffb9,  // b 0x401004
                                                       });
  CHECK(w[(0x501104 - 0x501000) / 4] == 0xf94023e0);  // the restore, where nothing kept goes
  CHECK(a.plan->describe().find("records the hit (when its condition holds) without stopping") != std::string::npos);
}

TEST_CASE("aarch64 jump: || and ! branch past the rest or to the restore", "[arch][aarch64][jump][filter]") {
  // `if $arg1:s32 < -5 || !(%w1:u64 == 7)`
  JumpFilter w1_is_7;
  w1_is_7.reg = RegisterRef{1, 32, 0};
  w1_is_7.bytes = 8;
  w1_is_7.is_signed = false;
  w1_is_7.literal = 7;
  JumpFilter negated;
  negated.kind = JumpFilter::Kind::Not;
  negated.children = {w1_is_7};
  JumpFilter any;
  any.kind = JumpFilter::Kind::Any;
  any.children = {arg1_below_minus_5(), negated};
  SiteAnalysis a = analyze_jump(words({0x91000420}), {{7, {}, any}});
  REQUIRE(a.plan);
  const std::vector<uint32_t> w = words_of(a.plan->slot_code());
  REQUIRE(w.size() > 28);
  CHECK(std::vector<uint32_t>(w.begin() + 15, w.begin() + 28) == std::vector<uint32_t>{
                                                                     0xeb00011f,  // cmp x8, x0
                                                                     0x5400004a,  // b.ge 0x501048 (the next)
                                                                     0x14000008,  // b 0x501064 (holds: kept)
                                                                     0xf94007e8,  // ldr x8, [sp, #8] (x1)
                                                                     0xd3607d08,  // lsl x8, x8, #32
                                                                     0xd360fd08,  // lsr x8, x8, #32 (w1, zero-extended)
                                                                     0xd28000e0,  // mov x0, #0x7
                                                                     0xeb00011f,  // cmp x8, x0
                                                                     0x54000041,  // b.ne 0x501064 (kept)
                                                                     0x14000003,  // b 0x50106c (w1 == 7: not kept)
                                                                     0xb24000a5,  // orr x5, x5, #0x1
                                                                     0x910004c6,  // add x6, x6, #0x1
                                                                     0xb40005c6,  // cbz x6, 0x501124
                                                                 });
}

TEST_CASE("aarch64 jump: two probes, one with a condition, reserve only the records kept", "[arch][aarch64][jump][filter]") {
  // 91000420            add x0, x1, #1: probe 7 records x5 if $arg1:s32 < -5, probe 8 records x6
  SiteAnalysis a = analyze_jump(words({0x91000420}), {{7, {5}, arg1_below_minus_5()}, {8, {6}, std::nullopt}});
  REQUIRE(a.plan);
  const std::vector<uint32_t> w = words_of(a.plan->slot_code());
  const std::vector<uint32_t> keep{
      0xb24000a5,  // orr x5, x5, #0x1 (probe 7 kept)
      0x910004c6,  // add x6, x6, #0x1
      0xb27f00a5,  // orr x5, x5, #0x2 (probe 8, no condition)
      0x910004c6,  // add x6, x6, #0x1
      0xb40007e6,  // cbz x6, 0x501150
  };
  CHECK(std::search(w.begin(), w.end(), keep.begin(), keep.end()) != w.end());
  const std::vector<uint32_t> reserve{
      0x8b060064,  // add x4, x3, x6 (head moves by the records kept)
      0xc802fc24,  // stlxr w2, x4, [x1]
  };
  CHECK(std::search(w.begin(), w.end(), reserve.begin(), reserve.end()) != w.end());
  const std::vector<uint32_t> second{
      0xaa0303e6,  // mov x6, x3 (the next sequence)
      0x360001c5,  // tbz w5, #0, 0x5010dc (probe 7 not kept: skip its record)
      0x924044c4,  // and x4, x6, #0x3ffff
  };
  CHECK(std::search(w.begin(), w.end(), second.begin(), second.end()) != w.end());
  const std::vector<uint32_t> values{
      0xf9401be8,  // ldr x8, [sp, #48] (x5 at the site)
      0xf9001088,  // str x8, [x4, #32]
      0x910004c8,  // add x8, x6, #0x1
      0xc89ffc88,  // stlr x8, [x4]
      0x910004c6,  // add x6, x6, #0x1
      0x360801c5,  // tbz w5, #1, 0x501114
  };
  CHECK(std::search(w.begin(), w.end(), values.begin(), values.end()) != w.end());
  CHECK(std::find(w.begin(), w.end(), 0xf9401fe8) != w.end());  // ldr x8, [sp, #56] (x6 at the site)
  CHECK(a.plan->describe().find("records 2 hits (each when its condition holds)") != std::string::npos);
}
