// Jump plans on ppc64le: the word written over the site, the trampoline
// word by word beside its disassembly (each checked with
// powerpc64le-linux-gnu-objdump), where a thread found inside it stands,
// and what is declined with its reason.
#include <algorithm>

#include <catch2/catch.hpp>

#include "arch/ppc64le/jump.h"
#include "common/ring_layout.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::ppc64le;
using namespace uptrace::arch::ppc64le::test;

namespace {

constexpr uint64_t kNearSlot = kSite + 0x100000;  // 1 MiB above the site: in reach of b
constexpr uint64_t kRing = 0x7fff80100000;

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

TEST_CASE("ppc64le jump: one record with r3, r1, r2 and r31, word by word", "[arch][ppc64le][jump]") {
  // 38630001            addi r3,r3,1
  SiteAnalysis a = analyze_jump(words({0x38630001}), {{7, {3, kSp, kToc, 31}, std::nullopt}}, ModeRequest::Auto);
  INFO(a.refusal);
  REQUIRE(a.plan);
  CHECK(a.plan->mode() == ExecMode::Jump);
  CHECK(a.plan->site_patch() == words({0x48100000}));  // b 0x10101000 (to the trampoline)
  // Disassembled at the slot, 0x10101000.
  CHECK(words_of(a.plan->slot_code()) == std::vector<uint32_t>{
      0x3821fe60,  // addi r1,r1,-416
      0xf8010000,  // std r0,0(r1)
      0xf8610008,  // std r3,8(r1)
      0xf8810010,  // std r4,16(r1)
      0xf8a10018,  // std r5,24(r1)
      0xf8c10020,  // std r6,32(r1)
      0xf8e10028,  // std r7,40(r1)
      0xf9010030,  // std r8,48(r1)
      0xf9210038,  // std r9,56(r1)
      0xf9410040,  // std r10,64(r1)
      0xf9610048,  // std r11,72(r1)
      0xf9810050,  // std r12,80(r1)
      0x7c600026,  // mfcr r3
      0xf8610058,  // std r3,88(r1)
      0x7c6902a6,  // mfctr r3
      0xf8610060,  // std r3,96(r1)
      0x7c6102a6,  // mfxer r3
      0xf8610068,  // std r3,104(r1)
      0x38807fff,  // li r4,32767 (the ring, 0x7fff80100000)
      0x788407c6,  // sldi r4,r4,32
      0x64848010,  // oris r4,r4,32784
      0xe86400c0,  // ld r3,192(r4) (the thread id mode, ring::ThreadIdMode)
      0x2c230000,  // cmpdi r3,0
      0x41820034,  // beq 0x10101090 (no thread ids yet: 0)
      0x2c230002,  // cmpdi r3,2
      0x4182000c,  // beq 0x10101070 (kernel thread ids)
      0x7da36b79,  // mr. r3,r13 (r13, the thread pointer)
      0x40820024,  // bne 0x10101090 (named by r13 unless it is 0)
      0x380000cf,  // li r0,207 (SYS_gettid)
      0x44000002,  // sc
      0x39200001,  // li r9,1
      0x7929f806,  // sldi r9,r9,63
      0x7c634b78,  // or r3,r3,r9 (the thread id, tagged)
      0x38807fff,  // li r4,32767 (the ring again: the sc may change r4)
      0x788407c6,  // sldi r4,r4,32
      0x64848010,  // oris r4,r4,32784
      0xe8a40040,  // ld r5,64(r4) (tail)
      0x7c2004ac,  // lwsync
      0x7cc020a8,  // ldarx r6,0,r4 (head)
      0x7ce53050,  // subf r7,r5,r6
      0x78e77483,  // srdi. r7,r7,18
      0x4082006c,  // bne 0x10101110 (no room: restore, wait at the trap)
      0x38e60001,  // addi r7,r6,1
      0x7ce021ad,  // stdcx. r7,0,r4
      0x408200b0,  // bne 0x10101160 (stdcx. failed: restore, back to the site)
      0x7d0c42a6,  // mftb r8
      0x38e60000,  // addi r7,r6,0
      0x78e73228,  // rldic r7,r7,6,40 ((head mod 2^18) * 64)
      0x7ce72214,  // add r7,r7,r4
      0x38e71000,  // addi r7,r7,4096
      0xf9070008,  // std r8,8(r7)
      0xf8670010,  // std r3,16(r7)
      0x39200004,  // li r9,4
      0x792907c6,  // sldi r9,r9,32
      0x61290007,  // ori r9,r9,7 (probe 7, 4 values)
      0xf9270018,  // std r9,24(r7)
      0xe9210008,  // ld r9,8(r1)
      0xf9270020,  // std r9,32(r7)
      0x392101a0,  // addi r9,r1,416
      0xf9270028,  // std r9,40(r7)
      0x7c491378,  // mr r9,r2
      0xf9270030,  // std r9,48(r7)
      0x7fe9fb78,  // mr r9,r31
      0xf9270038,  // std r9,56(r7)
      0x39260001,  // addi r9,r6,1
      0x7c2004ac,  // lwsync
      0xf9270000,  // std r9,0(r7)
      0x480000a0,  // b 0x101011ac (recorded: restore)
      0xe8610058,  // ld r3,88(r1)
      0x7c6ff120,  // mtcr r3
      0xe8610060,  // ld r3,96(r1)
      0x7c6903a6,  // mtctr r3
      0xe8610068,  // ld r3,104(r1)
      0x7c6103a6,  // mtxer r3
      0xe8010000,  // ld r0,0(r1)
      0xe8610008,  // ld r3,8(r1)
      0xe8810010,  // ld r4,16(r1)
      0xe8a10018,  // ld r5,24(r1)
      0xe8c10020,  // ld r6,32(r1)
      0xe8e10028,  // ld r7,40(r1)
      0xe9010030,  // ld r8,48(r1)
      0xe9210038,  // ld r9,56(r1)
      0xe9410040,  // ld r10,64(r1)
      0xe9610048,  // ld r11,72(r1)
      0xe9810050,  // ld r12,80(r1)
      0x382101a0,  // addi r1,r1,416
      0x7fe00008,  // trap (ring full: uptrace drains, pc moves past)
      0x4beffea4,  // b 0x10001000 (the site: enter again)
      0xe8610058,  // ld r3,88(r1)
      0x7c6ff120,  // mtcr r3
      0xe8610060,  // ld r3,96(r1)
      0x7c6903a6,  // mtctr r3
      0xe8610068,  // ld r3,104(r1)
      0x7c6103a6,  // mtxer r3
      0xe8010000,  // ld r0,0(r1)
      0xe8610008,  // ld r3,8(r1)
      0xe8810010,  // ld r4,16(r1)
      0xe8a10018,  // ld r5,24(r1)
      0xe8c10020,  // ld r6,32(r1)
      0xe8e10028,  // ld r7,40(r1)
      0xe9010030,  // ld r8,48(r1)
      0xe9210038,  // ld r9,56(r1)
      0xe9410040,  // ld r10,64(r1)
      0xe9610048,  // ld r11,72(r1)
      0xe9810050,  // ld r12,80(r1)
      0x382101a0,  // addi r1,r1,416
      0x4beffe58,  // b 0x10001000 (the site: enter again)
      0xe8610058,  // ld r3,88(r1)
      0x7c6ff120,  // mtcr r3
      0xe8610060,  // ld r3,96(r1)
      0x7c6903a6,  // mtctr r3
      0xe8610068,  // ld r3,104(r1)
      0x7c6103a6,  // mtxer r3
      0xe8010000,  // ld r0,0(r1)
      0xe8610008,  // ld r3,8(r1)
      0xe8810010,  // ld r4,16(r1)
      0xe8a10018,  // ld r5,24(r1)
      0xe8c10020,  // ld r6,32(r1)
      0xe8e10028,  // ld r7,40(r1)
      0xe9010030,  // ld r8,48(r1)
      0xe9210038,  // ld r9,56(r1)
      0xe9410040,  // ld r10,64(r1)
      0xe9610048,  // ld r11,72(r1)
      0xe9810050,  // ld r12,80(r1)
      0x382101a0,  // addi r1,r1,416
      0x38630001,  // addi r3,r3,1 (displaced)
      0x4beffe0c,  // b 0x10001004 (back to the site + 4)
                                          });
  CHECK(a.plan->describe() ==
        "the instruction at the site becomes a b to a trampoline that records the hit without stopping (thread "
        "named by r13, or gettid), runs the displaced instruction and branches back to 0x10001004");
  CHECK(a.declined.empty());
  // Where a thread is as at the site: the start, waiting for room (and
  // the way back from there), the way back after a failed stdcx., and the
  // displaced instruction with everything restored.
  CHECK(a.plan->original_pc(kNearSlot) == kSite);
  CHECK(a.plan->original_pc(kNearSlot + 0x158) == kSite);
  CHECK(a.plan->original_pc(kNearSlot + 0x15c) == kSite);
  CHECK(a.plan->original_pc(kNearSlot + 0x1a8) == kSite);
  CHECK(a.plan->original_pc(kNearSlot + 0x1f4) == kSite);
  CHECK_FALSE(a.plan->original_pc(kNearSlot + 0x4));
  CHECK_FALSE(a.plan->original_pc(kNearSlot + 0x154));
  CHECK_FALSE(a.plan->original_pc(kNearSlot + 0x1f8));
  CHECK(a.plan->is_ring_full_trap(RuntimeAddr(kNearSlot + 0x158)));
  CHECK_FALSE(a.plan->is_ring_full_trap(RuntimeAddr(kNearSlot + 0x15c)));
  // A thread stopped at the site on another's trap goes into the trampoline.
  Regs regs = hit_regs();
  FakeMemory mem;
  StepState state;
  CHECK(a.plan->begin_hit(regs, mem, state) == HitAction::Resume);
  CHECK(regs.words[kNip] == kNearSlot);
  a.plan->abort_step(regs, state);
  CHECK(regs.words[kNip] == kSite);
}

TEST_CASE("ppc64le jump: two probes reserve their records with one stdcx., special registers from the frame",
          "[arch][ppc64le][jump]") {
  // 38630001            addi r3,r3,1
  SiteAnalysis a = analyze_jump(words({0x38630001}),
                                {{1, {3}, std::nullopt}, {2, {kNip, kLink, kCtr, kCcr}, std::nullopt}});
  INFO(a.refusal);
  REQUIRE(a.plan);
  const std::vector<uint32_t> w = words_of(a.plan->slot_code());
  auto at = [&](uint64_t offset) { return w.at(offset / 4); };
  // Disassembled at the slot, 0x10101000.
  CHECK(at(0xa0) == 0x38e70001);  // addi r7,r7,1 (room for both)
  CHECK(at(0xac) == 0x38e60002);  // addi r7,r6,2 (head += 2)
  CHECK(at(0xb0) == 0x7ce021ad);  // stdcx. r7,0,r4
  CHECK(at(0xf8) == 0x38e60001);  // addi r7,r6,1 (the second record)
  CHECK(at(0x120) == 0x3d201000);  // lis r9,4096 (the site, 0x10001000)
  CHECK(at(0x124) == 0x61291000);  // ori r9,r9,4096
  CHECK(at(0x12c) == 0x7d2802a6);  // mflr r9
  CHECK(at(0x134) == 0xe9210060);  // ld r9,96(r1) (ctr, saved)
  CHECK(at(0x13c) == 0xe9210058);  // ld r9,88(r1) (cr, saved)
  CHECK(at(0x144) == 0x39260002);  // addi r9,r6,2 (the second commit)
  CHECK(a.plan->describe().find("records 2 hits") != std::string::npos);
}

TEST_CASE("ppc64le jump: addpcis and pla set the site's value in the trampoline", "[arch][ppc64le][jump]") {
  // 4c7f0004            addpcis r3,62
  SiteAnalysis a = analyze_jump(words({0x4c7f0004}), {{1, {}, std::nullopt}});
  INFO(a.refusal);
  REQUIRE(a.plan);
  std::vector<uint32_t> w = words_of(a.plan->slot_code());
  CHECK(std::vector<uint32_t>(w.end() - 3, w.end()) == std::vector<uint32_t>{
                                                           0x3c60103e,  // lis r3,4158
                                                           0x60631004,  // ori r3,r3,4100
                                                           0x4beffe30,  // b 0x10001004
                                                       });
  CHECK(a.plan->describe().ends_with("sets r3 = 0x103e1004 (the site's value) and branches back to 0x10001004"));

  // 06100000 38600000   pla r3,0 (0x10001000): only the prefix becomes the b; back past the suffix.
  SiteAnalysis p = analyze_jump(words({0x06100000, 0x38600000}), {{1, {}, std::nullopt}});
  INFO(p.refusal);
  REQUIRE(p.plan);
  CHECK(p.plan->site_patch() == words({0x48100000}));
  w = words_of(p.plan->slot_code());
  CHECK(std::vector<uint32_t>(w.end() - 3, w.end()) == std::vector<uint32_t>{
                                                           0x3c601000,  // lis r3,4096
                                                           0x60631000,  // ori r3,r3,4096
                                                           0x4beffe34,  // b 0x10001008
                                                       });
}

TEST_CASE("ppc64le jump: a prefixed instruction is copied whole, never across a 64-byte boundary",
          "[arch][ppc64le][jump]") {
  // 06000000 38640001   paddi r3,r4,1 (not pc-relative)
  const Bytes paddi = words({0x06000000, 0x38640001});
  // One record with no value: the displaced pair starts at 0x1cc, in line.
  SiteAnalysis a = analyze_jump(paddi, {{1, {}, std::nullopt}});
  INFO(a.refusal);
  REQUIRE(a.plan);
  std::vector<uint32_t> w = words_of(a.plan->slot_code());
  REQUIRE(w.size() == 0x1d8 / 4);
  CHECK(std::vector<uint32_t>(w.end() - 3, w.end()) == std::vector<uint32_t>{
                                                           0x06000000,  // paddi r3,r4,1
                                                           0x38640001,
                                                           0x4beffe34,  // b 0x10001008
                                                       });
  // A second record (eleven words more, with its commit) would put the
  // prefix at 0x1fc, the last word of a 64-byte block: a nop first.
  SiteAnalysis b = analyze_jump(paddi, {{1, {}, std::nullopt}, {2, {}, std::nullopt}});
  REQUIRE(b.plan);
  w = words_of(b.plan->slot_code());
  REQUIRE(w.size() == 0x20c / 4);
  CHECK(std::vector<uint32_t>(w.end() - 4, w.end()) == std::vector<uint32_t>{
                                                           0x60000000,  // nop
                                                           0x06000000,  // paddi r3,r4,1
                                                           0x38640001,
                                                           0x4beffe00,  // b 0x10001008
                                                       });
  CHECK(b.plan->original_pc(kNearSlot + 0x1fc) == kSite);  // the nop
}

TEST_CASE("ppc64le jump: branches at the site are relocated into the trampoline", "[arch][ppc64le][jump]") {
  // One record of no value: the restore starts at 0x184 in the slot,
  // 0x10101000; a call's LR is set before it (three words, so what follows
  // it starts at 0x1d8 instead of 0x1cc). Disassembled at the slot.
  constexpr uint64_t kRestore = 0x184;
  const std::vector<uint32_t> set_link = {
      0x3c601000,  // lis r3,4096
      0x60631004,  // ori r3,r3,4100 (0x10001004, the site + 4)
      0x7c6803a6,  // mtlr r3
  };
  struct Row {
    uint32_t word;  // at the site, 0x10001000
    bool links;
    std::vector<uint32_t> relocated;  // after the restore, to the end
    std::string how;
  };
  const std::vector<Row> rows = {
      // 48000100            b 0x10001100
      {0x48000100, false, {0x4befff34 /* b 0x10001100 */}, "branches to 0x10001100 (the displaced b)"},
      // 48000101            bl 0x10001100
      {0x48000101, true, {0x4befff28 /* b 0x10001100 */},
       "sets LR = 0x10001004 and branches to 0x10001100 (the displaced bl)"},
      // 48000102            ba 0x100: out of b's reach from the slot, an absolute target still
      {0x48000102, false, {0x48000102 /* ba 0x100 */}, "branches to 0x100 (the displaced b)"},
      // 41820040            beq 0x10001040
      {0x41820040, false,
       {
           0x41820008,  // beq 0x101011d4
           0x4beffe34,  // b 0x10001004 (not taken: back)
           0x4beffe6c,  // b 0x10001040 (taken: the target)
       },
       "branches to 0x10001040 if the displaced bc is taken, else back to 0x10001004"},
      // 4200fff0            bdnz 0x10000ff0: CTR decremented by the copy itself
      {0x4200fff0, false,
       {
           0x42000008,  // bdnz 0x101011d4
           0x4beffe34,  // b 0x10001004
           0x4beffe1c,  // b 0x10000ff0
       },
       "branches to 0x10000ff0 if the displaced bc is taken, else back to 0x10001004"},
      // 429f0005            bcl 20,4*cr7+so,0x10001004 (the pc-read idiom)
      {0x429f0005, true,
       {
           0x429f0008,  // bc 20,4*cr7+so,0x101011e0
           0x4beffe28,  // b 0x10001004
           0x4beffe24,  // b 0x10001004
       },
       "sets LR = 0x10001004 and branches to 0x10001004 if the displaced bc is taken, else back to 0x10001004"},
      // 4e800020            blr
      {0x4e800020, false, {0x4e800020 /* blr */}, "runs the displaced branch to a register"},
      // 4d820020            beqlr
      {0x4d820020, false,
       {
           0x4d820020,  // beqlr
           0x4beffe34,  // b 0x10001004
       },
       "runs the displaced branch to a register if taken, else branches back to 0x10001004"},
      // 4e800420            bctr
      {0x4e800420, false, {0x4e800420 /* bctr */}, "runs the displaced branch to a register"},
      // 4e800421            bctrl: LR set first, then bctr
      {0x4e800421, true, {0x4e800420 /* bctr */}, "sets LR = 0x10001004 and runs the displaced branch to a register"},
      // 4c820421            bnectrl
      {0x4c820421, true,
       {
           0x4c820420,  // bnectr
           0x4beffe28,  // b 0x10001004
       },
       "sets LR = 0x10001004 and runs the displaced branch to a register if taken, else branches back to 0x10001004"},
      // 4c800460            bgetar
      {0x4c800460, false,
       {
           0x4c800460,  // bgetar
           0x4beffe34,  // b 0x10001004
       },
       "runs the displaced branch to a register if taken, else branches back to 0x10001004"},
  };
  for (const Row& row : rows) {
    INFO(std::hex << row.word);
    const SiteAnalysis a = analyze_jump(words({row.word}), {{1, {}, std::nullopt}}, ModeRequest::Auto);
    INFO(a.refusal);
    REQUIRE(a.plan);
    CHECK(a.plan->mode() == ExecMode::Jump);
    const std::vector<uint32_t> w = words_of(a.plan->slot_code());
    const uint64_t after = kRestore + (row.links ? 0x54 : 0x48);
    REQUIRE(w.size() == after / 4 + row.relocated.size());
    CHECK(std::vector<uint32_t>(w.begin() + after / 4, w.end()) == row.relocated);
    if (row.links) CHECK(std::vector<uint32_t>(w.begin() + kRestore / 4, w.begin() + kRestore / 4 + 3) == set_link);
    CHECK(w.at(kRestore / 4 + (row.links ? 3 : 0)) == 0xe8610058);  // ld r3,88(r1): the restore
    CHECK(a.plan->describe().ends_with("without stopping (thread named by r13, or gettid), " + row.how));
    // Restored, the thread is as at the site, unless LR is set already:
    // then it is as past the call, at no address of its own.
    if (row.links) CHECK_FALSE(a.plan->original_pc(kNearSlot + after));
    else CHECK(a.plan->original_pc(kNearSlot + after) == kSite);
    CHECK(a.plan->original_pc(kNearSlot) == kSite);
  }
}

TEST_CASE("ppc64le jump: declined with the reason, and auto falls back", "[arch][ppc64le][jump]") {
  const Bytes addi = words({0x38630001});  // addi r3,r3,1
  const std::vector<JumpRecordSpec> one = {{1, {3}, std::nullopt}};
  struct Row {
    Bytes code;
    std::vector<JumpRecordSpec> records;
    uint64_t slot;
    std::string why;
  };
  JumpFilter glob{JumpFilter::Kind::Compare, RegisterRef{3}, 8, true, CompareOp::Glob, 0, {}};
  JumpFilter msr{JumpFilter::Kind::Compare, RegisterRef{kMsr}, 8, true, CompareOp::Eq, 0, {}};
  const std::vector<Row> rows = {
      // 4e800021            blrl
      {words({0x4e800021}), one, kNearSlot,
       "blrl branches to LR and sets it: from the trampoline that needs a register the program does not see, and "
       "it has none"},
      // 4a000004            b 0xe001004: 32 MiB - 4 below the site, beyond b's reach from the slot 1 MiB above
      {words({0x4a000004}), one, kNearSlot, "a branch from the trampoline is out of reach (b reaches +-32 MiB)"},
      // 04100000 e4600010   pld r3,0x10001010
      {words({0x04100000, 0xe4600010}), one, kNearSlot,
       "pld accesses memory relative to its own address: jump on ppc64le displaces only instructions that run the "
       "same anywhere, addpcis/pla and branches"},
      {addi, one, kSite + (uint64_t{32} << 20), "the trampoline is out of reach of the site (b reaches +-32 MiB)"},
      {addi, {{1, {3}, glob}}, kNearSlot, "a glob match needs the string, which a trampoline cannot read"},
      {addi, {{1, {3}, msr}}, kNearSlot, "a condition names a register a trampoline cannot read"},
      {addi, {{1, {kMsr}, std::nullopt}}, kNearSlot, "a fetch argument names a register a trampoline cannot record"},
      {addi, {{1, {3, 4, 5, 6, 7}, std::nullopt}}, kNearSlot, "a probe records at most 4 values in jump mode, not 5"},
  };
  for (const Row& row : rows) {
    INFO(row.why);
    const SiteAnalysis forced = analyze_jump(row.code, row.records, ModeRequest::Jump, row.slot);
    CHECK(forced.plan == nullptr);
    CHECK(forced.refusal == "cannot jump: " + row.why);
    const SiteAnalysis a = analyze_jump(row.code, row.records, ModeRequest::Auto, row.slot);
    REQUIRE(a.plan);
    CHECK(a.plan->mode() != ExecMode::Jump);
    CHECK(std::find(a.declined.begin(), a.declined.end(), std::pair<ExecMode, std::string>{ExecMode::Jump, row.why}) !=
          a.declined.end());
  }
  // bcctr with BO bit 2 clear is an invalid form: neither jumped nor emulated.
  // 4c000420            bcctr 0,lt
  CHECK(analyze_jump(words({0x4c000420}), one).refusal ==
        "cannot jump: bcctr with BO bit 2 clear (decrement CTR) is an invalid form");
  // A ring too small for the records of one site.
  CHECK(analyze_jump(addi, one, ModeRequest::Jump, kNearSlot, 1).refusal ==
        "cannot jump: a ring of 1 records cannot take 1 at once");
  // Without a ring, the core's reason.
  SiteContext ctx{RuntimeAddr(kSite), addi, RuntimeAddr(kSite), RuntimeAddr(kNearSlot), ModeRequest::Jump};
  ctx.jump_unavailable = "--stack unwinds the thread's stack at a stop";
  CHECK(isa().analyze(ctx).refusal == "cannot jump: --stack unwinds the thread's stack at a stop");
}

TEST_CASE("ppc64le jump: the slot holds four probes' records of four values", "[arch][ppc64le][jump]") {
  std::vector<JumpRecordSpec> records;
  for (uint32_t p = 0; p < 4; ++p) records.push_back({p, {kNip, 3, kSp, kLink}, std::nullopt});
  // The ring high, so that its address takes the most words.
  JumpContext jump{RuntimeAddr(0xfffff7ff8765a000), ring::kDefaultCapacity, records};
  const Bytes addi = words({0x38630001});
  SiteContext ctx{RuntimeAddr(kSite), addi, RuntimeAddr(kSite), RuntimeAddr(kNearSlot), ModeRequest::Jump};
  ctx.jump = &jump;
  const SiteAnalysis a = isa().analyze(ctx);
  INFO(a.refusal);
  REQUIRE(a.plan);
  CHECK(a.plan->slot_code().size() <= isa().slot_size());
  CHECK(isa().slot_size() % 64 == 0);  // a prefixed copy never crosses a 64-byte boundary
}

TEST_CASE("ppc64le jump: a condition is compared before the thread is named and the reservation, word by word",
          "[arch][ppc64le][jump][filter]") {
  // 38630001            addi r3,r3,1; the probe records r3 if r3 < -5 (signed).
  JumpFilter lt{JumpFilter::Kind::Compare, RegisterRef{3}, 8, true, CompareOp::Lt, uint64_t(-5), {}};
  SiteAnalysis a = analyze_jump(words({0x38630001}), {{1, {3}, lt}});
  INFO(a.refusal);
  REQUIRE(a.plan);
  // Disassembled at the slot, 0x10101000.
  CHECK(words_of(a.plan->slot_code()) == std::vector<uint32_t>{
      0x3821fe60,  // addi r1,r1,-416
      0xf8010000,  // std r0,0(r1)
      0xf8610008,  // std r3,8(r1)
      0xf8810010,  // std r4,16(r1)
      0xf8a10018,  // std r5,24(r1)
      0xf8c10020,  // std r6,32(r1)
      0xf8e10028,  // std r7,40(r1)
      0xf9010030,  // std r8,48(r1)
      0xf9210038,  // std r9,56(r1)
      0xf9410040,  // std r10,64(r1)
      0xf9610048,  // std r11,72(r1)
      0xf9810050,  // std r12,80(r1)
      0x7c600026,  // mfcr r3
      0xf8610058,  // std r3,88(r1)
      0x7c6902a6,  // mfctr r3
      0xf8610060,  // std r3,96(r1)
      0x7c6102a6,  // mfxer r3
      0xf8610068,  // std r3,104(r1)
      0x39600000,  // li r11,0 (the kept records, by bit)
      0x39800000,  // li r12,0 (how many)
      0xe9210008,  // ld r9,8(r1) (r3 as at the site)
      0x3940fffb,  // li r10,-5
      0x7c295000,  // cmpd r9,r10
      0x4080000c,  // bge 0x10101068 (r3 < -5 does not hold: filtered out)
      0x616b0001,  // ori r11,r11,1
      0x398c0001,  // addi r12,r12,1
      0x2c2c0000,  // cmpdi r12,0
      0x41820178,  // beq 0x101011e4 (none kept: restore, run the displaced instruction)
      0x38807fff,  // li r4,32767 (the ring)
      0x788407c6,  // sldi r4,r4,32
      0x64848010,  // oris r4,r4,32784
      0xe86400c0,  // ld r3,192(r4) (the thread id mode)
      0x2c230000,  // cmpdi r3,0
      0x41820044,  // beq 0x101010c8 (no thread ids yet: 0)
      0x2c230002,  // cmpdi r3,2
      0x4182000c,  // beq 0x10101098 (kernel thread ids)
      0x7da36b79,  // mr. r3,r13 (r13, the thread pointer)
      0x40820034,  // bne 0x101010c8 (named by r13 unless it is 0)
      0xf9610070,  // std r11,112(r1) (the kept records, across the sc)
      0xf9810078,  // std r12,120(r1)
      0x380000cf,  // li r0,207 (SYS_gettid)
      0x44000002,  // sc
      0x39200001,  // li r9,1
      0x7929f806,  // sldi r9,r9,63
      0x7c634b78,  // or r3,r3,r9 (the thread id, tagged)
      0xe9610070,  // ld r11,112(r1)
      0xe9810078,  // ld r12,120(r1)
      0x38807fff,  // li r4,32767 (the ring again)
      0x788407c6,  // sldi r4,r4,32
      0x64848010,  // oris r4,r4,32784
      0xe8a40040,  // ld r5,64(r4)
      0x7c2004ac,  // lwsync
      0x7cc020a8,  // ldarx r6,0,r4
      0x7ce53050,  // subf r7,r5,r6
      0x7ce76214,  // add r7,r7,r12 (room for the kept records)
      0x38e7ffff,  // addi r7,r7,-1
      0x78e77483,  // srdi. r7,r7,18
      0x40820064,  // bne 0x10101148
      0x7ce66214,  // add r7,r6,r12
      0x7ce021ad,  // stdcx. r7,0,r4
      0x408200a8,  // bne 0x10101198
      0x7d0c42a6,  // mftb r8
      0x7ccc3378,  // mr r12,r6 (the next kept record's sequence)
      0x796007e1,  // clrldi. r0,r11,63 (record 0 kept?)
      0x41820044,  // beq 0x10101144
      0x38ec0000,  // addi r7,r12,0
      0x78e73228,  // rldic r7,r7,6,40
      0x7ce72214,  // add r7,r7,r4
      0x38e71000,  // addi r7,r7,4096
      0xf9070008,  // std r8,8(r7)
      0xf8670010,  // std r3,16(r7)
      0x39200001,  // li r9,1
      0x792907c6,  // sldi r9,r9,32
      0x61290001,  // ori r9,r9,1
      0xf9270018,  // std r9,24(r7)
      0xe9210008,  // ld r9,8(r1) (r3 as at the site)
      0xf9270020,  // std r9,32(r7)
      0x392c0001,  // addi r9,r12,1 (its commit word)
      0x7c2004ac,  // lwsync
      0xf9270000,  // std r9,0(r7)
      0x398c0001,  // addi r12,r12,1
      0x480000a0,  // b 0x101011e4
      0xe8610058,  // ld r3,88(r1)
      0x7c6ff120,  // mtcr r3
      0xe8610060,  // ld r3,96(r1)
      0x7c6903a6,  // mtctr r3
      0xe8610068,  // ld r3,104(r1)
      0x7c6103a6,  // mtxer r3
      0xe8010000,  // ld r0,0(r1)
      0xe8610008,  // ld r3,8(r1)
      0xe8810010,  // ld r4,16(r1)
      0xe8a10018,  // ld r5,24(r1)
      0xe8c10020,  // ld r6,32(r1)
      0xe8e10028,  // ld r7,40(r1)
      0xe9010030,  // ld r8,48(r1)
      0xe9210038,  // ld r9,56(r1)
      0xe9410040,  // ld r10,64(r1)
      0xe9610048,  // ld r11,72(r1)
      0xe9810050,  // ld r12,80(r1)
      0x382101a0,  // addi r1,r1,416
      0x7fe00008,  // trap (ring full)
      0x4beffe6c,  // b 0x10001000
      0xe8610058,  // ld r3,88(r1)
      0x7c6ff120,  // mtcr r3
      0xe8610060,  // ld r3,96(r1)
      0x7c6903a6,  // mtctr r3
      0xe8610068,  // ld r3,104(r1)
      0x7c6103a6,  // mtxer r3
      0xe8010000,  // ld r0,0(r1)
      0xe8610008,  // ld r3,8(r1)
      0xe8810010,  // ld r4,16(r1)
      0xe8a10018,  // ld r5,24(r1)
      0xe8c10020,  // ld r6,32(r1)
      0xe8e10028,  // ld r7,40(r1)
      0xe9010030,  // ld r8,48(r1)
      0xe9210038,  // ld r9,56(r1)
      0xe9410040,  // ld r10,64(r1)
      0xe9610048,  // ld r11,72(r1)
      0xe9810050,  // ld r12,80(r1)
      0x382101a0,  // addi r1,r1,416
      0x4beffe20,  // b 0x10001000
      0xe8610058,  // ld r3,88(r1)
      0x7c6ff120,  // mtcr r3
      0xe8610060,  // ld r3,96(r1)
      0x7c6903a6,  // mtctr r3
      0xe8610068,  // ld r3,104(r1)
      0x7c6103a6,  // mtxer r3
      0xe8010000,  // ld r0,0(r1)
      0xe8610008,  // ld r3,8(r1)
      0xe8810010,  // ld r4,16(r1)
      0xe8a10018,  // ld r5,24(r1)
      0xe8c10020,  // ld r6,32(r1)
      0xe8e10028,  // ld r7,40(r1)
      0xe9010030,  // ld r8,48(r1)
      0xe9210038,  // ld r9,56(r1)
      0xe9410040,  // ld r10,64(r1)
      0xe9610048,  // ld r11,72(r1)
      0xe9810050,  // ld r12,80(r1)
      0x382101a0,  // addi r1,r1,416
      0x38630001,  // addi r3,r3,1
      0x4beffdd4,  // b 0x10001004
                                          });
  CHECK(a.plan->describe().find("records the hit (when its condition holds)") != std::string::npos);
  // Filtered out, the thread restores and runs the displaced instruction:
  // as at the site there.
  CHECK(a.plan->original_pc(kNearSlot + 0x22c) == kSite);
  CHECK(a.plan->is_ring_full_trap(RuntimeAddr(kNearSlot + 0x190)));
}

TEST_CASE("ppc64le jump: narrow types, ||, ! and probes without a condition at one site",
          "[arch][ppc64le][jump][filter]") {
  // $arg2:u8 >= 200 || $arg3:s16 != 7; always; !($arg1 < -5)
  JumpFilter b8{JumpFilter::Kind::Compare, RegisterRef{4}, 1, false, CompareOp::Ge, 200, {}};
  JumpFilter s16{JumpFilter::Kind::Compare, RegisterRef{5}, 2, true, CompareOp::Ne, 7, {}};
  JumpFilter lt{JumpFilter::Kind::Compare, RegisterRef{3}, 8, true, CompareOp::Lt, uint64_t(-5), {}};
  JumpFilter any{JumpFilter::Kind::Any, std::nullopt, 8, true, CompareOp::Eq, 0, {b8, s16}};
  JumpFilter not_lt{JumpFilter::Kind::Not, std::nullopt, 8, true, CompareOp::Eq, 0, {lt}};
  SiteAnalysis a = analyze_jump(words({0x38630001}), {{1, {}, any}, {2, {4}, std::nullopt}, {3, {}, not_lt}});
  INFO(a.refusal);
  REQUIRE(a.plan);
  const std::vector<uint32_t> w = words_of(a.plan->slot_code());
  // Disassembled at the slot, 0x10101000: from the first compare to the
  // test of the count.
  CHECK(std::vector<uint32_t>(w.begin() + 0x50 / 4, w.begin() + 0xb8 / 4) == std::vector<uint32_t>{
      0xe9210010,  // ld r9,16(r1) (r4 as at the site)
      0x7929c1c6,  // sldi r9,r9,56
      0x79294620,  // srdi r9,r9,56 (its low byte, unsigned)
      0x394000c8,  // li r10,200
      0x7c295040,  // cmpld r9,r10
      0x41800008,  // blt 0x1010106c (false: the next alternative)
      0x4800001c,  // b 0x10101084 (true: record 0 kept)
      0xe9210018,  // ld r9,24(r1)
      0x792983c6,  // sldi r9,r9,48
      0x7d298676,  // sradi r9,r9,48 (r5's low half, signed)
      0x39400007,  // li r10,7
      0x7c295000,  // cmpd r9,r10
      0x4182000c,  // beq 0x1010108c (false: record 0 filtered out)
      0x616b0001,  // ori r11,r11,1
      0x398c0001,  // addi r12,r12,1
      0x616b0002,  // ori r11,r11,2 (record 1 always kept)
      0x398c0001,  // addi r12,r12,1
      0xe9210008,  // ld r9,8(r1)
      0x3940fffb,  // li r10,-5
      0x7c295000,  // cmpd r9,r10
      0x40800008,  // bge 0x101010a8
      0x4800000c,  // b 0x101010b0 (r3 < -5: record 2 filtered out)
      0x616b0004,  // ori r11,r11,4
      0x398c0001,  // addi r12,r12,1
      0x2c2c0000,  // cmpdi r12,0
      0x418201e8,  // beq 0x1010129c (none kept)
                                                                            });
  // Each record written only when its bit is set.
  CHECK(w.at(0x144 / 4) == 0x796007e1);  // clrldi. r0,r11,63 (record 0)
  CHECK(w.at(0x17c / 4) == 0x7960ffe3);  // rldicl. r0,r11,63,63 (record 1)
  CHECK(w.at(0x1c4 / 4) == 0x7960f7e3);  // rldicl. r0,r11,62,63 (record 2)
  CHECK(a.plan->describe().find("records 3 hits (each when its condition holds)") != std::string::npos);
}
