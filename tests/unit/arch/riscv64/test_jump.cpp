// Jump plans on riscv64: the jal written over the site, the trampoline
// instruction by instruction beside its disassembly (riscv64-linux-gnu-objdump,
// binutils 2.40, of these very bytes at the slot's address), its stepped
// form, where a thread found inside it goes (slot_exit), and what is refused
// with its reason.
#include <map>

#include <catch2/catch.hpp>

#include "arch/riscv64/jump.h"
#include "arch/riscv64/jump_code.h"
#include "common/ring_layout.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::riscv64;
using namespace uptrace::arch::riscv64::test;

namespace {

SiteAnalysis analyze_jump(const Bytes& code, std::vector<JumpRecordSpec> records, ModeRequest request = ModeRequest::Jump,
                          uint64_t slot = kNearSlot, uint64_t site = kSite) {
  JumpContext jump{RuntimeAddr(kRing), ring::kDefaultCapacity, std::move(records)};
  SiteContext ctx{RuntimeAddr(kSite), code, RuntimeAddr(site), RuntimeAddr(slot), request, StepMechanism::TrailingTrap};
  ctx.jump = &jump;
  return isa().analyze(ctx);
}

const JumpPlan& jump_plan(const SiteAnalysis& a) {
  INFO(a.refusal);
  REQUIRE(a.plan);
  REQUIRE(a.plan->mode() == ExecMode::Jump);
  return dynamic_cast<const JumpPlan&>(*a.plan);
}

}  // namespace

TEST_CASE("riscv64 jump: one record with a0, a1, sp and t0, instruction by instruction", "[arch][riscv64][jump]") {
  // site 0x401000: 00158513  addi a0, a1, 1; the slot at 0x481000
  SiteAnalysis a = analyze_jump(insns({0x00158513}), {{7, {kA0, 11, kSp, 5}, std::nullopt}}, ModeRequest::Auto);
  const JumpPlan& plan = jump_plan(a);
  CHECK(plan.site_patch() == insns({0x0008006f}));  // 401000: j 0x481000
  const std::vector<uint8_t> code = plan.slot_code();
  REQUIRE(code.size() == 2 * 0x148);  // the free-running form, then the stepped form
  CHECK(listing(code, kNearSlot, 0, 0x148) == std::vector<std::pair<uint64_t, uint32_t>>{
      {0x481000, 0xfa513823},  // sd t0,-80(sp)
      {0x481004, 0xfa613c23},  // sd t1,-72(sp)
      {0x481008, 0xfc713023},  // sd t2,-64(sp)
      {0x48100c, 0xfdc13423},  // sd t3,-56(sp)
      {0x481010, 0xfdd13823},  // sd t4,-48(sp)
      {0x481014, 0xfde13c23},  // sd t5,-40(sp)
      {0x481018, 0xfff13023},  // sd t6,-32(sp)
      {0x48101c, 0xfea13423},  // sd a0,-24(sp)
      {0x481020, 0xff113823},  // sd a7,-16(sp)
      {0x481024, 0xfb010113},  // add sp,sp,-80
      {0x481028, 0x0003f2b7},  // lui t0,0x3f
      {0x48102c, 0x0012829b},  // addw t0,t0,1 # 0x3f001
      {0x481030, 0x01429293},  // sll t0,t0,0x14
      {0x481034, 0x0402b303},  // ld t1,64(t0)
      {0x481038, 0x0230000f},  // fence r,rw
      {0x48103c, 0x1002b3af},  // lr.d t2,(t0)
      {0x481040, 0x40638e33},  // sub t3,t2,t1
      {0x481044, 0x012e5e13},  // srl t3,t3,0x12
      {0x481048, 0x080e1e63},  // bnez t3,0x4810e4
      {0x48104c, 0x00138e13},  // add t3,t2,1
      {0x481050, 0x19c2beaf},  // sc.d t4,t3,(t0)
      {0x481054, 0x080e9b63},  // bnez t4,0x4810ea
      {0x481058, 0xc0102f73},  // rdtime t5
      {0x48105c, 0x0c02be03},  // ld t3,192(t0)
      {0x481060, 0x00000f93},  // li t6,0
      {0x481064, 0x020e0263},  // beqz t3,0x481088
      {0x481068, 0x00020f93},  // mv t6,tp
      {0x48106c, 0xfffe0e13},  // add t3,t3,-1
      {0x481070, 0x000e0c63},  // beqz t3,0x481088
      {0x481074, 0x0b200893},  // li a7,178
      {0x481078, 0x00000073},  // ecall 
      {0x48107c, 0xfff00f93},  // li t6,-1
      {0x481080, 0x03ff9f93},  // sll t6,t6,0x3f
      {0x481084, 0x01f56fb3},  // or t6,a0,t6
      {0x481088, 0x00001337},  // lui t1,0x1
      {0x48108c, 0x00530333},  // add t1,t1,t0
      {0x481090, 0x00038e93},  // mv t4,t2
      {0x481094, 0x02ee9e93},  // sll t4,t4,0x2e
      {0x481098, 0x028ede93},  // srl t4,t4,0x28
      {0x48109c, 0x006e8eb3},  // add t4,t4,t1
      {0x4810a0, 0x01eeb423},  // sd t5,8(t4)
      {0x4810a4, 0x01feb823},  // sd t6,16(t4)
      {0x4810a8, 0x00100e13},  // li t3,1
      {0x4810ac, 0x022e1e13},  // sll t3,t3,0x22
      {0x4810b0, 0x007e0e13},  // add t3,t3,7
      {0x4810b4, 0x01cebc23},  // sd t3,24(t4)
      {0x4810b8, 0x03813e03},  // ld t3,56(sp)
      {0x4810bc, 0x03ceb023},  // sd t3,32(t4)
      {0x4810c0, 0x02beb423},  // sd a1,40(t4)
      {0x4810c4, 0x05010e13},  // add t3,sp,80
      {0x4810c8, 0x03ceb823},  // sd t3,48(t4)
      {0x4810cc, 0x00013e03},  // ld t3,0(sp)
      {0x4810d0, 0x03cebc23},  // sd t3,56(t4)
      {0x4810d4, 0x00138e13},  // add t3,t2,1
      {0x4810d8, 0x0310000f},  // fence rw,w
      {0x4810dc, 0x01ceb023},  // sd t3,0(t4)
      {0x4810e0, 0x0360006f},  // j 0x481116
      {0x4810e4, 0x9002},  // ebreak 
      {0x4810e6, 0xf4fff06f},  // j 0x481034
      {0x4810ea, 0x00013283},  // ld t0,0(sp)
      {0x4810ee, 0x00813303},  // ld t1,8(sp)
      {0x4810f2, 0x01013383},  // ld t2,16(sp)
      {0x4810f6, 0x01813e03},  // ld t3,24(sp)
      {0x4810fa, 0x02013e83},  // ld t4,32(sp)
      {0x4810fe, 0x02813f03},  // ld t5,40(sp)
      {0x481102, 0x03013f83},  // ld t6,48(sp)
      {0x481106, 0x03813503},  // ld a0,56(sp)
      {0x48110a, 0x04013883},  // ld a7,64(sp)
      {0x48110e, 0x05010113},  // add sp,sp,80
      {0x481112, 0xeef7f06f},  // j 0x401000
      {0x481116, 0x00013283},  // ld t0,0(sp)
      {0x48111a, 0x00813303},  // ld t1,8(sp)
      {0x48111e, 0x01013383},  // ld t2,16(sp)
      {0x481122, 0x01813e03},  // ld t3,24(sp)
      {0x481126, 0x02013e83},  // ld t4,32(sp)
      {0x48112a, 0x02813f03},  // ld t5,40(sp)
      {0x48112e, 0x03013f83},  // ld t6,48(sp)
      {0x481132, 0x03813503},  // ld a0,56(sp)
      {0x481136, 0x04013883},  // ld a7,64(sp)
      {0x48113a, 0x05010113},  // add sp,sp,80
      {0x48113e, 0x00158513},  // add a0,a1,1
      {0x481142, 0xec37f06f},  // j 0x401004
      {0x481146, 0x0001},  // nop 
  });
  CHECK(a.plan->describe() ==
        "the instruction at the site becomes a jal to a trampoline that records the hit without stopping (thread "
        "named by tp, or by gettid), runs the displaced instruction and jumps back to 0x401004");
}

TEST_CASE("riscv64 jump: the stepped form is the same code but for its exits", "[arch][riscv64][jump]") {
  SiteAnalysis a = analyze_jump(insns({0x00158513}), {{7, {kA0}, std::nullopt}});
  const JumpPlan& plan = jump_plan(a);
  const JumpPlan::Layout& l = plan.layout();
  const std::vector<uint8_t> code = plan.slot_code();
  const uint64_t half = l.stepped - kNearSlot;
  REQUIRE(code.size() == 2 * half);
  const auto free_running = listing(code, 0, 0, half);
  std::map<uint64_t, uint32_t> stepped;  // by offset
  for (auto [at, w] : listing(code, 0, half)) stepped[at - half] = w;
  std::vector<std::pair<uint64_t, uint32_t>> differ;
  for (auto [at, w] : free_running) {
    REQUIRE(stepped.count(at));  // every instruction starts at the same offset in both
    if (stepped[at] != w) differ.push_back({at, w});
  }
  // Only: the ring-full c.ebreak (a c.j to the way back to the site
  // there), and the two jumps back (a c.ebreak and a c.nop there).
  REQUIRE(differ.size() == 3);
  CHECK(differ[0] == std::pair<uint64_t, uint32_t>{l.full_trap - kNearSlot, 0x9002});  // ebreak
  CHECK(listing(code, 0, l.full_trap - kNearSlot + half, l.full_trap - kNearSlot + half + 2)[0].second == 0xa019);  // c.j +6
  CHECK(differ[1].first == l.back_to_site - kNearSlot);
  CHECK(differ[2].first == l.back_after - kNearSlot);
  CHECK(l.stepped_to_site == l.back_to_site + half);
  CHECK(l.stepped_after == l.back_after + half);
  CHECK(listing(code, 0, l.stepped_to_site - kNearSlot)[0].second == 0x9002);  // c.ebreak
  CHECK(listing(code, 0, l.stepped_after - kNearSlot)[0].second == 0x9002);
  CHECK(plan.is_ring_full_trap(RuntimeAddr(l.full_trap)));
  CHECK_FALSE(plan.is_ring_full_trap(RuntimeAddr(l.full_trap + half)));
  CHECK(plan.is_step_end_trap(RuntimeAddr(l.stepped_to_site)));
  CHECK(plan.is_step_end_trap(RuntimeAddr(l.stepped_after)));
  CHECK_FALSE(plan.is_step_end_trap(RuntimeAddr(l.back_after)));
}

TEST_CASE("riscv64 jump: every pc in the trampoline has a way out without a single step", "[arch][riscv64][jump]") {
  SiteAnalysis a = analyze_jump(insns({0x00158513}), {{7, {kA0}, std::nullopt}});
  const JumpPlan& plan = jump_plan(a);
  const JumpPlan::Layout& l = plan.layout();
  const uint64_t half = l.stepped - kNearSlot;
  using K = SlotExit::Kind;
  // Before sp moves, nothing has changed: back to the site, which records then.
  CHECK(plan.slot_exit(kNearSlot) == SlotExit{K::Original, kSite});
  CHECK(plan.slot_exit(l.saved_end) == SlotExit{K::Original, kSite});
  CHECK(plan.original_pc(l.saved_end) == kSite);
  // Anywhere after, the same place in the stepped form, run to its end trap.
  CHECK(plan.slot_exit(l.saved_end + 4) == SlotExit{K::Step, l.saved_end + 4 + half});
  CHECK(plan.slot_exit(l.full_trap + 2) == SlotExit{K::Step, l.full_trap + 2 + half});
  CHECK(plan.slot_exit(l.first_relocated) == SlotExit{K::Step, l.first_relocated + half});
  CHECK(plan.slot_exit(l.back_to_site) == SlotExit{K::Original, kSite});
  CHECK(plan.slot_exit(l.back_after) == SlotExit{K::Original, kSite + 4});
  CHECK_FALSE(plan.slot_exit(l.end));
  for (uint64_t pc = kNearSlot; pc < l.end; pc += 2) {
    INFO(std::hex << pc);
    CHECK(plan.slot_exit(pc).has_value());
  }
  // Its end traps: to the site (nothing recorded) or after it (recorded, the
  // instruction run).
  Regs r = hit_regs();
  NoMemory mem;
  StepState st;
  r.words[kPc] = l.stepped_to_site;
  plan.finish_step(r, mem, st);
  CHECK(r.words[kPc] == kSite);
  r.words[kPc] = l.stepped_after;
  plan.finish_step(r, mem, st);
  CHECK(r.words[kPc] == kSite + 4);
  // A fault in the displaced instruction, in either form, is the site's.
  CHECK(plan.original_pc(l.first_relocated) == kSite);
  CHECK(plan.original_pc(l.first_relocated + half) == kSite);
  CHECK(plan.original_pc(l.back_after) == kSite + 4);
  CHECK_FALSE(plan.original_pc(l.saved_end + 4));
  plan.abort_step(r, st);
  CHECK(r.words[kPc] == kSite);
  CHECK(mem.reads == 0);
  CHECK(mem.writes == 0);
}

TEST_CASE("riscv64 jump: auipc is rebuilt with its value at the site", "[arch][riscv64][jump]") {
  // 00001517  auipc a0, 0x1: a0 = 0x402000 at the site
  SiteAnalysis a = analyze_jump(insns({0x00001517}), {{3, {}, std::nullopt}});
  const JumpPlan& plan = jump_plan(a);
  const JumpPlan::Layout& l = plan.layout();
  const std::vector<uint8_t> code = plan.slot_code();
  REQUIRE(l.first_relocated == 0x48111a);
  CHECK(listing(code, kNearSlot, l.first_relocated - kNearSlot, l.back_after + 4 - kNearSlot) ==
        std::vector<std::pair<uint64_t, uint32_t>>{
            {0x48111a, 0x00402537},  // lui a0,0x402
            {0x48111e, 0xee77f06f},  // j 0x401004
        });
  CHECK(a.plan->describe().find("sets a0 = 0x402000 (the site's value) and jumps back to 0x401004") !=
        std::string::npos);
}

TEST_CASE("riscv64 jump: li builds every value in the fewest steps this way finds", "[arch][riscv64][jump]") {
  struct Case {
    int64_t value;
    std::vector<uint32_t> words;
  };
  const Case cases[] = {
      {0x7ffff800, {0x80000e37, 0x800e0e1b}},                  // lui t3,0x80000; addw t3,t3,-2048
      {-1, {0xfff00e13}},                                      // li t3,-1
      {0x80000000, {0x00100e13, 0x01fe1e13}},                  // li t3,1; sll t3,t3,0x1f
      {-2048, {0x80000e13}},                                   // li t3,-2048
      {0x123456789abcdef0,
       {0x00247e37, 0x8ade0e1b, 0x00ee1e13, 0xc4de0e13, 0x00ce1e13, 0x5e7e0e13, 0x00de1e13,
        0xef0e0e13}},  // lui t3,0x247; addw t3,t3,-1875; sll t3,t3,0xe; add t3,t3,-947; sll t3,t3,0xc;
                       // add t3,t3,1511; sll t3,t3,0xd; add t3,t3,-272
      {-0x80000000LL, {0x80000e37}},                           // lui t3,0x80000
      {0x800, {0x00001e37, 0x800e0e1b}},                       // lui t3,0x1; addw t3,t3,-2048
  };
  for (const Case& c : cases) {
    INFO(std::hex << c.value);
    rv::Code code(0x1000);
    code.li(rv::kT3, c.value);
    std::vector<uint32_t> words;
    for (auto [at, w] : listing(code.bytes(), 0x1000)) words.push_back(w);
    CHECK(words == c.words);
  }
}

TEST_CASE("riscv64 jump: what cannot be jumped is refused with the reason, and auto falls back", "[arch][riscv64][jump]") {
  // 1141  addi sp, sp, -16: a compressed site, the function's last
  // instruction (test_jump_compressed.cpp has the others)
  SiteAnalysis c = analyze_jump(insns({0x1141}), {{1, {}, std::nullopt}});
  CHECK_FALSE(c.plan);
  CHECK(c.refusal == "cannot jump: a 2-byte (compressed) instruction at the function's end: the 4-byte jal would cover "
                     "what follows the function");
  SiteAnalysis auto_c = analyze_jump(insns({0x1141}), {{1, {}, std::nullopt}}, ModeRequest::Auto);
  REQUIRE(auto_c.plan);
  CHECK(auto_c.plan->mode() == ExecMode::Boost);
  REQUIRE_FALSE(auto_c.declined.empty());
  CHECK(auto_c.declined.back().first == ExecMode::Jump);
  // 00b50463  beq a0, a1, +8
  SiteAnalysis b = analyze_jump(insns({0x00b50463}), {{1, {}, std::nullopt}});
  CHECK(b.refusal == "cannot jump: beq transfers control: jump on riscv64 displaces only instructions that run the same "
                     "anywhere, and auipc");
  // The slot out of jal's reach.
  SiteAnalysis far = analyze_jump(insns({0x00158513}), {{1, {}, std::nullopt}}, ModeRequest::Jump, kSlot);
  INFO(far.refusal);
  CHECK(far.refusal.find("cannot jump: the trampoline is 0x3effc00000 bytes from the site, out of reach of jal") == 0);
  SiteAnalysis edge = analyze_jump(insns({0x00158513}), {{1, {}, std::nullopt}}, ModeRequest::Jump, kSite + 0x100000);
  CHECK_FALSE(edge.plan);
  SiteAnalysis below = analyze_jump(insns({0x00158513}), {{1, {}, std::nullopt}}, ModeRequest::Jump, kSite - 0x100000);
  CHECK(below.plan);
  // A condition is evaluated at a stop.
  JumpFilter f;
  f.reg = RegisterRef{kA0};
  SiteAnalysis cond = analyze_jump(insns({0x00158513}), {{1, {kA0}, f}});
  CHECK(cond.refusal == "cannot jump: the probe has a condition, which riscv64 trampolines do not evaluate yet "
                        "(uptrace evaluates it at a stop)");
  // Three probes' records with 4 values each fit a slot; four do not.
  SiteAnalysis three = analyze_jump(insns({0x00158513}),
                                    {{1, {10, 11, 12, 13}, {}}, {2, {10, 11, 12, 13}, {}}, {3, {10, 11, 12, 13}, {}}});
  CHECK(three.plan);
  SiteAnalysis four = analyze_jump(insns({0x00158513}), {{1, {10, 11, 12, 13}, {}},
                                                          {2, {10, 11, 12, 13}, {}},
                                                          {3, {10, 11, 12, 13}, {}},
                                                          {4, {10, 11, 12, 13}, {}}});
  INFO(four.refusal);
  CHECK(four.refusal.find("more than a slot's 1024") != std::string::npos);
}
