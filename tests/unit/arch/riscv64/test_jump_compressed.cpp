// Jump plans on riscv64 at a 2-byte (compressed) site: the jal covers the
// next instruction too, which the trampoline runs after the site's (its
// bytes beside riscv64-linux-gnu-objdump's disassembly, binutils 2.40, of
// these very bytes at their addresses); where a thread found between the
// two goes; and every refusal of jump_targets.h with its reason.
#include <map>

#include <catch2/catch.hpp>

#include "arch/riscv64/jump.h"
#include "common/ring_layout.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::riscv64;
using namespace uptrace::arch::riscv64::test;

namespace {

// The module as a jump analysis reads it: its functions, and what its
// symbol table and .eh_frame say.
class FakeImage final : public ImageReader {
 public:
  bool read(RuntimeAddr, std::span<uint8_t>) const override { return false; }
  std::optional<bool> pointer_into(RuntimeAddr lo, RuntimeAddr hi) const override {
    for (uint64_t p : pointers)
      if (p > lo.value && p < hi.value) return true;
    return false;
  }
  std::optional<bool> landing_pads_in(RuntimeAddr, RuntimeAddr) const override { return landing_pads; }
  std::optional<bool> frame_starts_in(RuntimeAddr lo, RuntimeAddr hi) const override {
    for (uint64_t f : frame_starts)
      if (f > lo.value && f < hi.value) return true;
    return false;
  }
  std::vector<CodePart> functions() const override {
    std::vector<CodePart> out;
    for (const auto& [at, code] : parts) out.push_back({RuntimeAddr(at), code});
    return out;
  }
  bool functions_complete() const override { return symtab; }

  std::map<uint64_t, Bytes> parts;
  std::vector<uint64_t> pointers, frame_starts;
  std::optional<bool> landing_pads = false;
  bool symtab = true;
};

// `code` as the function at kSite (also the module's only function, but
// for `others`), probed at its start.
SiteAnalysis analyze_at(const Bytes& code, FakeImage& image, ModeRequest request = ModeRequest::Jump,
                        bool with_image = true) {
  static const JumpContext jump{RuntimeAddr(kRing), ring::kDefaultCapacity, {{7, {kA0}, std::nullopt}}};
  image.parts[kSite] = code;
  SiteContext ctx{RuntimeAddr(kSite), code, RuntimeAddr(kSite), RuntimeAddr(kNearSlot), request,
                  StepMechanism::TrailingTrap};
  ctx.jump = &jump;
  if (with_image) ctx.image = &image;
  return isa().analyze(ctx);
}

const JumpPlan& jump_plan(const SiteAnalysis& a) {
  INFO(a.refusal);
  REQUIRE(a.plan);
  REQUIRE(a.plan->mode() == ExecMode::Jump);
  return dynamic_cast<const JumpPlan&>(*a.plan);
}

// 401000: 1141  addi sp,sp,-16; e406  sd ra,8(sp); 8082  ret
const Bytes kPrologue = insns({0x1141, 0xe406, 0x8082});

}  // namespace

TEST_CASE("riscv64 jump at a 2-byte site: a thread between the two displaced instructions", "[arch][riscv64][jump]") {
  FakeImage image;
  SiteAnalysis a = analyze_at(kPrologue, image);
  const JumpPlan& plan = jump_plan(a);
  const JumpPlan::Layout& l = plan.layout();
  const uint64_t half = l.stepped - kNearSlot;
  const uint64_t second = l.second_relocated;
  REQUIRE(second == l.first_relocated + 2);
  using K = SlotExit::Kind;
  // Before the first: as at the site. After the second: as after both.
  CHECK(plan.original_pc(l.first_relocated) == kSite);
  CHECK(plan.original_pc(l.back_after) == kSite + 4);
  // Between them the thread has run addi sp,sp,-16 and not sd ra,8(sp): it
  // is as at 0x401002, which is inside the jal, so it has no original pc
  // and leaves through the stepped form's copy of the second instruction.
  CHECK_FALSE(plan.original_pc(second));
  CHECK_FALSE(plan.original_pc(second + half));
  CHECK(plan.slot_exit(second) == SlotExit{K::Step, second + half});
  CHECK(plan.slot_exit(l.first_relocated) == SlotExit{K::Step, l.first_relocated + half});
  CHECK(plan.slot_exit(l.back_after) == SlotExit{K::Original, kSite + 4});
  for (uint64_t pc = kNearSlot; pc < l.end; pc += 2) {
    INFO(std::hex << pc);
    CHECK(plan.slot_exit(pc).has_value());
  }
  // A fault in either copy is the copy's (run on, it would fault again).
  CHECK(plan.is_displaced_copy(second + half));
  CHECK(plan.is_displaced_copy(l.first_relocated + half));
  CHECK_FALSE(plan.is_displaced_copy(l.first_relocated - 4 + half));
  Regs r = hit_regs();
  NoMemory mem;
  StepState st;
  r.words[kPc] = l.stepped_after;
  plan.finish_step(r, mem, st);
  CHECK(r.words[kPc] == kSite + 4);
  // The sd faulted (the stack's guard page): nothing of it ran, and the
  // addi is undone, so the fault is delivered at the site as it was.
  const uint64_t sp = r.words[kSp];
  r.words[kPc] = second + half;
  plan.abort_step(r, st);
  CHECK(r.words[kPc] == kSite);
  CHECK(r.words[kSp] == sp + 16);
  // The addi cannot fault; a fault at its copy changes nothing.
  r.words[kPc] = l.first_relocated + half;
  plan.abort_step(r, st);
  CHECK(r.words[kPc] == kSite);
  CHECK(r.words[kSp] == sp + 16);
  CHECK(mem.reads == 0);
  CHECK(mem.writes == 0);
}

TEST_CASE("riscv64 jump at a 2-byte site: what may land inside the jal is refused with the reason",
          "[arch][riscv64][jump]") {
  auto refusal = [](const Bytes& code, FakeImage& image, bool with_image = true) {
    SiteAnalysis a = analyze_at(code, image, ModeRequest::Jump, with_image);
    CHECK_FALSE(a.plan);
    return a.refusal;
  };
  const std::string prefix = "cannot jump: a 2-byte (compressed) instruction, so the 4-byte jal would cover the next one "
                             "too, and ";
  {
    // 401000: 1141 addi sp,sp,-16; e406 sd ra,8(sp); fd7d bnez a0,0x401002; 8082 ret
    FakeImage image;
    CHECK(refusal(insns({0x1141, 0xe406, 0xfd7d, 0x8082}), image) ==
          prefix + "the c.bnez at +0x4 lands inside the bytes the jal covers");
  }
  {
    // Another function, 402000: 802ff06f j 0x401002
    FakeImage image;
    image.parts[0x402000] = insns({0x802ff06f});
    CHECK(refusal(kPrologue, image) == prefix +
                                           "the code at 0x402000, elsewhere in the module, branches to or takes the "
                                           "address 0x401002, inside the bytes the jal covers");
  }
  {
    // 401000: 1141 addi sp,sp,-16; e406 sd ra,8(sp); 8782 jr a5
    FakeImage image;
    CHECK(refusal(insns({0x1141, 0xe406, 0x8782}), image) ==
          prefix + "the function has an indirect jump at +0x4 (jr a5) whose targets are unknown (a switch's jump table "
                   "or a computed goto, which riscv64 does not read yet, may land inside the bytes the jal covers)");
  }
  {
    FakeImage image;
    image.symtab = false;
    CHECK(refusal(kPrologue, image) == prefix +
                                           "the module has no symbol table (.symtab), so not every branch into the "
                                           "bytes the jal covers can be seen");
  }
  {
    FakeImage image;
    CHECK(refusal(kPrologue, image, false) ==
          prefix + "the module's code is not known, so branches from elsewhere into the bytes the jal covers cannot be "
                   "ruled out");
  }
  {
    FakeImage image;
    image.landing_pads = true;
    CHECK(refusal(kPrologue, image) ==
          prefix + "the function has landing pads (its unwind entry names a language-specific data area), which the "
                   "unwinder may enter inside the bytes the jal covers");
    image.landing_pads = std::nullopt;
    CHECK(refusal(kPrologue, image) ==
          prefix + "whether the function has landing pads is not known (.eh_frame cannot be read)");
  }
  {
    FakeImage image;
    image.frame_starts = {0x401002};
    CHECK(refusal(kPrologue, image) == prefix + "an unwind entry (FDE) starts inside the bytes the jal covers");
  }
  {
    FakeImage image;
    image.parts[0x401002] = insns({0xe406});
    CHECK(refusal(kPrologue, image) == prefix + "a symbol starts at 0x401002, inside the bytes the jal covers");
  }
  {
    FakeImage image;
    image.pointers = {0x401002};
    CHECK(refusal(kPrologue, image) ==
          prefix + "the module stores an address inside the bytes the jal covers (a relocation's value)");
  }
  {
    // 401000: 1141 addi sp,sp,-16; e406 sd ra,8(sp); 00000797 auipc a5,0x0; 17f9 addi a5,a5,-2; 8082 ret
    FakeImage image;
    CHECK(refusal(insns({0x1141, 0xe406, 0x00000797, 0x17f9, 0x8082}), image) ==
          prefix + "the c.addi at +0x8 takes the address of a place inside the bytes the jal covers");
  }
  {
    // 401000: 1141 addi sp,sp,-16; e406 sd ra,8(sp); 0000000b .word 0x0000000b; 8082 ret
    FakeImage image;
    CHECK(refusal(insns({0x1141, 0xe406, 0x0000000b, 0x8082}), image) ==
          prefix + "the function has an instruction uptrace does not know at +0x4 (.4byte 0xb), which may be a branch "
                   "into the bytes the jal covers");
  }
  {
    // 401000: 4505 li a0,1; e406 sd ra,8(sp): the sd may fault, and li cannot be undone.
    FakeImage image;
    CHECK(refusal(insns({0x4505, 0xe406, 0x8082}), image) ==
          "cannot jump: a 2-byte (compressed) instruction, so the 4-byte jal would cover the next one too, the c.sdsp "
          "at +0x2, which may fault; the fault would have to be delivered at the site with the c.li undone, which "
          "uptrace cannot do for it");
  }
  {
    // 401000: 0505 addi a0,a0,1; 8082 ret
    FakeImage image;
    CHECK(refusal(insns({0x0505, 0x8082}), image) ==
          "cannot jump: a 2-byte (compressed) instruction, so the 4-byte jal would cover the next one too, which "
          "cannot be displaced: c.jr transfers control: jump on riscv64 displaces only instructions that run the same "
          "anywhere, and auipc");
  }
  {
    // 401000: 0505 addi a0,a0,1 alone
    FakeImage image;
    CHECK(refusal(insns({0x0505}), image) ==
          "cannot jump: a 2-byte (compressed) instruction at the function's end: the 4-byte jal would cover what "
          "follows the function");
  }
  {
    // Auto falls back to a boost, and says why not jump.
    FakeImage image;
    SiteAnalysis a = analyze_at(insns({0x1141, 0xe406, 0x8782}), image, ModeRequest::Auto);
    REQUIRE(a.plan);
    CHECK(a.plan->mode() == ExecMode::Boost);
    REQUIRE_FALSE(a.declined.empty());
    CHECK(a.declined.back().first == ExecMode::Jump);
    CHECK(a.declined.back().second.find("indirect jump at +0x4") != std::string::npos);
  }
}

TEST_CASE("riscv64 jump at a 2-byte site: returns and tail calls are no indirect jumps", "[arch][riscv64][jump]") {
  // 401000: 1141 addi sp,sp,-16; e406 sd ra,8(sp); 00000317 auipc t1,0x0; 10030067 jr 256(t1)
  FakeImage image;
  SiteAnalysis a = analyze_at(insns({0x1141, 0xe406, 0x00000317, 0x10030067}), image);
  INFO(a.refusal);
  CHECK(a.plan);
  // The same tail call to 0x401002 lands inside.
  // 401000: 1141; e406; 00000317 auipc t1,0x0; ffe30067 jr -2(t1)
  FakeImage image2;
  SiteAnalysis b = analyze_at(insns({0x1141, 0xe406, 0x00000317, 0xffe30067}), image2);
  CHECK(b.refusal.find("the jr at +0x8 lands inside the bytes the jal covers") != std::string::npos);
}

TEST_CASE("riscv64 jump at a 2-byte site: two 2-byte instructions displaced", "[arch][riscv64][jump]") {
  FakeImage image;
  SiteAnalysis a = analyze_at(kPrologue, image);
  const JumpPlan& plan = jump_plan(a);
  const JumpPlan::Layout& l = plan.layout();
  CHECK(plan.site_patch() == insns({0x0008006f}));  // 401000: j 0x481000, over both
  const std::vector<uint8_t> code = plan.slot_code();
  REQUIRE(l.first_relocated == 0x48112a);
  REQUIRE(l.stepped == 0x481134);
  // The end of each form: the registers restored, both instructions, the way back.
  CHECK(listing(code, kNearSlot, 0x126, 0x134) == std::vector<std::pair<uint64_t, uint32_t>>{
                                                      {0x481126, 0x05010113},  // add sp,sp,80
                                                      {0x48112a, 0x1141},      // add sp,sp,-16
                                                      {0x48112c, 0xe406},      // sd ra,8(sp)
                                                      {0x48112e, 0xed77f06f},  // j 0x401004
                                                      {0x481132, 0x0001},      // nop
                                                  });
  CHECK(listing(code, kNearSlot, 0x25a, 0x268) == std::vector<std::pair<uint64_t, uint32_t>>{
                                                      {0x48125a, 0x05010113},  // add sp,sp,80
                                                      {0x48125e, 0x1141},      // add sp,sp,-16
                                                      {0x481260, 0xe406},      // sd ra,8(sp)
                                                      {0x481262, 0x9002},      // ebreak
                                                      {0x481264, 0x0001},      // nop
                                                      {0x481266, 0x0001},      // nop
                                                  });
  CHECK(l.second_relocated == 0x48112c);
  CHECK(l.back_after == 0x48112e);
  CHECK(l.stepped_after == 0x481262);
  CHECK(a.plan->describe() ==
        "the 2-byte instruction at the site and the c.sdsp after it become a jal to a trampoline that records the hit "
        "without stopping (thread named by tp, or by gettid), runs both and jumps back to 0x401004 (no branch, symbol, "
        "unwind entry or landing pad lands at 0x401002); a fault in the c.sdsp is delivered at the site, with the "
        "c.addi undone (sp +16)");
}

TEST_CASE("riscv64 jump at a 2-byte site: a 4-byte second instruction, its last 2 bytes a c.nop",
          "[arch][riscv64][jump]") {
  // 401000: 0505  addi a0,a0,1; 00250513  addi a0,a0,2; 8082  ret
  FakeImage image;
  SiteAnalysis a = analyze_at(insns({0x0505, 0x00250513, 0x8082}), image);
  const JumpPlan& plan = jump_plan(a);
  const JumpPlan::Layout& l = plan.layout();
  CHECK(plan.site_patch() == insns({0x0008006f, 0x0001}));  // 401000: j 0x481000; 401004: nop
  const std::vector<uint8_t> code = plan.slot_code();
  CHECK(listing(code, kNearSlot, 0x12a, 0x134) == std::vector<std::pair<uint64_t, uint32_t>>{
                                                      {0x48112a, 0x0505},      // add a0,a0,1
                                                      {0x48112c, 0x00250513},  // add a0,a0,2
                                                      {0x481130, 0xed77f06f},  // j 0x401006
                                                  });
  CHECK(listing(code, kNearSlot, 0x25e, 0x268) == std::vector<std::pair<uint64_t, uint32_t>>{
                                                      {0x48125e, 0x0505},      // add a0,a0,1
                                                      {0x481260, 0x00250513},  // add a0,a0,2
                                                      {0x481264, 0x9002},      // ebreak
                                                      {0x481266, 0x0001},      // nop
                                                  });
  Regs r = hit_regs();
  NoMemory mem;
  StepState st;
  r.words[kPc] = l.stepped_after;
  plan.finish_step(r, mem, st);
  CHECK(r.words[kPc] == kSite + 6);
  CHECK(plan.original_pc(l.back_after) == kSite + 6);
  CHECK(a.plan->describe().find("the 2-byte instruction at the site and the addi after it become a jal and a c.nop "
                                "to a trampoline") == 0);
  // The addi cannot fault: nothing to undo is said.
  CHECK(a.plan->describe().find("undone") == std::string::npos);
}

TEST_CASE("riscv64 jump at a 2-byte site: a second auipc is rebuilt with its own address's value",
          "[arch][riscv64][jump]") {
  // 401000: 1141  addi sp,sp,-16; 401002: 00001517  auipc a0,0x1 (a0 = 0x402002); 8082  ret
  FakeImage image;
  SiteAnalysis a = analyze_at(insns({0x1141, 0x00001517, 0x8082}), image);
  const JumpPlan& plan = jump_plan(a);
  CHECK(plan.site_patch() == insns({0x0008006f, 0x0001}));
  CHECK(listing(plan.slot_code(), kNearSlot, 0x12a, 0x138) == std::vector<std::pair<uint64_t, uint32_t>>{
                                                                  {0x48112a, 0x1141},      // add sp,sp,-16
                                                                  {0x48112c, 0x00402537},  // lui a0,0x402
                                                                  {0x481130, 0x0025051b},  // addw a0,a0,2
                                                                  {0x481134, 0xed37f06f},  // j 0x401006
                                                              });
}
