// Analysis: for each class of the instruction table, what analyze decides
// (refused with its reason, emulated or stepped), the mode requests, the
// boundary checks, and the load-reserved/store-conditional sequence scan.
#include <catch2/catch.hpp>

#include "arch/riscv64/decoder.h"
#include "arch/riscv64/reservation.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::riscv64;
using namespace uptrace::arch::riscv64::test;

namespace {

using Declined = std::vector<std::pair<ExecMode, std::string>>;

}  // namespace

TEST_CASE("riscv64 analyze: refused instructions, each with its reason", "[arch][riscv64]") {
  struct Refusal {
    uint32_t raw;
    const char* text;    // the disassembly analyze reports
    const char* reason;  // the start of the refusal
  };
  const Refusal cases[] = {
      {0x00100073, "ebreak", "ebreak is already a breakpoint instruction"},
      {0x9002, "ebreak", "c.ebreak is already a breakpoint instruction"},
      {0xc0001073, "unimp", "unimp is the defined illegal instruction, used as a trap"},
      {0x0000, "unimp", "c.unimp is the defined illegal instruction, used as a trap"},
      {0x00000073, "ecall", "ecall is a system call"},
      {0x00102573, "frflags a0", "frflags reads or writes a control and status register"},
      {0x00159073, "fsflags a1", "fsflags reads or writes a control and status register"},
      {0xc0002573, "rdcycle a0", "rdcycle reads or writes a control and status register"},
      {0xc2002573, "csrr a0, vl", "csrr reads or writes a control and status register"},
      {0x0000100f, "fence.i", "fence.i makes this hart's earlier stores visible to its own instruction fetch"},
      {0x10200073, "sret", "sret is privileged"},
      {0x30200073, "mret", "mret is privileged"},
      {0x10500073, "wfi", "wfi is privileged"},
      {0x12050073, "sfence.vma a0", "sfence.vma is privileged"},
      {0x140627af, "lr.w.aq a5, (a2)", "lr.w is a load-reserved"},
      {0x100536af, "lr.d a3, (a0)", "lr.d is a load-reserved"},
      {0x18e626af, "sc.w a3, a4, (a2)", "sc.w is a store-conditional"},
      {0x1cc5382f, "sc.d.aq a6, a2, (a0)", "sc.d is a store-conditional"},
      {0x00000057, ".4byte 0x57", "undecodable instruction: uptrace decodes RV64GC"},  // a vector instruction
      {0x8000, ".2byte 0x8000", "undecodable instruction"},                             // reserved compressed
      {0x6101, ".2byte 0x6101", "undecodable instruction"},                             // c.addi16sp sp, 0
  };
  for (const Refusal& c : cases) {
    INFO(std::hex << c.raw << " " << c.text);
    const SiteAnalysis a = analyze(insns({c.raw}));
    CHECK(a.plan == nullptr);
    CHECK_THAT(a.refusal, Catch::StartsWith(c.reason));
    CHECK(a.insn.text == c.text);
    CHECK(a.insn.address == RuntimeAddr(kSite));
    CHECK(a.insn.length == ((c.raw & 3) == 3 ? 4 : 2));
    // A refusal holds for every requested mode.
    for (ModeRequest m : {ModeRequest::Trap, ModeRequest::Emulate, ModeRequest::Boost, ModeRequest::Jump}) {
      const SiteAnalysis forced = analyze(insns({c.raw}), m);
      CHECK(forced.plan == nullptr);
      CHECK(forced.refusal == a.refusal);
    }
  }
}

TEST_CASE("riscv64 analyze: what auto picks, class by class, 2- and 4-byte", "[arch][riscv64]") {
  struct Case {
    uint32_t raw;
    const char* text;
    ExecMode mode;
  };
  const Case cases[] = {
      // Emulated: control transfers, auipc and the no-ops.
      {0x100000ef, "jal 0x401100", ExecMode::Emulate},
      {0xfe1ff06f, "j 0x400fe0", ExecMode::Emulate},
      {0x008002ef, "jal t0, 0x401008", ExecMode::Emulate},
      {0xa081, "j 0x401040", ExecMode::Emulate},  // c.j
      {0x010780e7, "jalr 16(a5)", ExecMode::Emulate},
      {0x00008067, "ret", ExecMode::Emulate},
      {0x8082, "ret", ExecMode::Emulate},        // c.jr ra
      {0x8782, "jr a5", ExecMode::Emulate},      // c.jr
      {0x9782, "jalr a5", ExecMode::Emulate},    // c.jalr
      {0x04b50063, "beq a0, a1, 0x401040", ExecMode::Emulate},
      {0xfcb510e3, "bne a0, a1, 0x400fc0", ExecMode::Emulate},
      {0x04b54063, "blt a0, a1, 0x401040", ExecMode::Emulate},
      {0x04b55063, "bge a0, a1, 0x401040", ExecMode::Emulate},
      {0x04b56063, "bltu a0, a1, 0x401040", ExecMode::Emulate},
      {0x04b57063, "bgeu a0, a1, 0x401040", ExecMode::Emulate},
      {0xc005, "beqz s0, 0x401020", ExecMode::Emulate},  // c.beqz
      {0xf3e5, "bnez a5, 0x400fe0", ExecMode::Emulate},  // c.bnez
      {0x12345517, "auipc a0, 0x12345", ExecMode::Emulate},
      {0x00000013, "nop", ExecMode::Emulate},
      {0x0001, "nop", ExecMode::Emulate},  // c.nop
      // Stepped: everything else.
      {0x00158513, "addi a0, a1, 1", ExecMode::Trap},
      {0x0505, "addi a0, a0, 1", ExecMode::Trap},  // c.addi
      {0x60a2, "ld ra, 8(sp)", ExecMode::Trap},    // c.ldsp
      {0x00113423, "sd ra, 8(sp)", ExecMode::Trap},
      {0x00b6252f, "amoadd.w a0, a1, (a2)", ExecMode::Trap},
      {0x0330000f, "fence rw, rw", ExecMode::Trap},
      {0x8330000f, "fence.tso", ExecMode::Trap},
      {0x0100000f, "pause", ExecMode::Trap},
      {0x02c5f553, "fadd.d fa0, fa1, fa2", ExecMode::Trap},
      {0x12345537, "lui a0, 0x12345", ExecMode::Trap},
      {0x6505, "lui a0, 0x1", ExecMode::Trap},  // c.lui
      {0x02c58533, "mul a0, a1, a2", ExecMode::Trap},
      {0x60059513, "clz a0, a1", ExecMode::Trap},
      {0x0005, "c.nop 1", ExecMode::Trap},  // a HINT: stepped as it is
  };
  for (const Case& c : cases) {
    INFO(std::hex << c.raw << " " << c.text);
    const SiteAnalysis a = analyze(insns({c.raw}));
    INFO(a.refusal);
    REQUIRE(a.plan != nullptr);
    CHECK(a.refusal.empty());
    CHECK(a.insn.text == c.text);
    CHECK(a.plan->mode() == c.mode);
    if (c.mode == ExecMode::Emulate) {
      CHECK(a.declined == Declined{{ExecMode::Jump, "jump mode is not available"}});
      CHECK(a.plan->slot_code().empty());
      CHECK_FALSE(a.plan->is_step_end_trap(RuntimeAddr(kSlot + a.insn.length)));
    } else {
      REQUIRE(a.declined.size() == 3);
      CHECK(a.declined[0].first == ExecMode::Emulate);
      CHECK_THAT(a.declined[0].second, Catch::EndsWith("cannot be emulated"));
      // kSlot is far from the site: a boost's jal back would not reach (test_boost.cpp boosts them near).
      CHECK(a.declined[1] ==
            std::pair<ExecMode, std::string>{ExecMode::Boost, "the slot is 258044 MiB away; jal reaches 1 MiB"});
      CHECK(a.declined[2] == std::pair<ExecMode, std::string>{ExecMode::Jump, "jump mode is not available"});
      CHECK(a.plan->is_step_end_trap(RuntimeAddr(kSlot + a.insn.length)));
      CHECK_FALSE(a.plan->is_step_end_trap(RuntimeAddr(kSlot)));
    }
    CHECK(a.plan->site_patch().empty());
  }
}

TEST_CASE("riscv64 analyze: emulations say what they compute", "[arch][riscv64]") {
  struct Case {
    uint32_t raw;
    const char* describe;
  };
  const Case cases[] = {
      {0x100000ef, "emulated: jal (ra = 0x401004, jump to 0x401100)"},
      {0xfe1ff06f, "emulated: j (jump to 0x400fe0)"},
      {0xa081, "emulated: c.j (jump to 0x401040)"},
      {0x010780e7, "emulated: jalr (ra = 0x401004, jump to a5+16)"},
      {0xff830367, "emulated: jalr (t1 = 0x401004, jump to t1-8)"},
      {0x8082, "emulated: c.jr (jump to ra)"},
      {0x9782, "emulated: c.jalr (ra = 0x401002, jump to a5)"},
      {0x04b50063, "emulated: beq (jump to 0x401040 if taken, else continue at 0x401004)"},
      {0xc005, "emulated: c.beqz (jump to 0x401020 if taken, else continue at 0x401002)"},
      {0x12345517, "emulated: auipc a0, 0x12746000"},
      {0x0001, "emulated: c.nop (continue at 0x401002)"},
  };
  for (const Case& c : cases) {
    INFO(std::hex << c.raw);
    const SiteAnalysis a = analyze(insns({c.raw}));
    REQUIRE(a.plan != nullptr);
    CHECK(a.plan->describe() == c.describe);
  }
}

TEST_CASE("riscv64 analyze: a requested mode is used or refused with the reason", "[arch][riscv64]") {
  // --mode trap: a control transfer cannot be stepped without a hardware step.
  for (uint32_t raw : {0x100000efu, 0xa081u, 0x8082u, 0x9782u, 0x04b50063u, 0xc005u}) {
    INFO(std::hex << raw);
    const SiteAnalysis a = analyze(insns({raw}), ModeRequest::Trap);
    CHECK(a.plan == nullptr);
    CHECK_THAT(a.refusal, Catch::Contains("transfers control: with no hardware single step its copy would leave the "
                                          "slot before reaching the trap after it, so it is only emulated"));
  }
  // auipc and nop are stepped when asked.
  SiteAnalysis auipc = analyze(insns({0x12345517}), ModeRequest::Trap);
  REQUIRE(auipc.plan);
  CHECK(auipc.plan->mode() == ExecMode::Trap);
  CHECK(auipc.plan->describe() ==
        "single-step out of line (the copy, then c.ebreak); then a0 is moved from the slot's address to the site's");
  CHECK(auipc.declined.at(0) == std::pair<ExecMode, std::string>{ExecMode::Emulate, "trap mode was requested"});
  SiteAnalysis nop = analyze(insns({0x0001}), ModeRequest::Trap);
  REQUIRE(nop.plan);
  CHECK(nop.plan->mode() == ExecMode::Trap);

  // --mode emulate: only what can be emulated.
  SiteAnalysis bne = analyze(insns({0xfcb510e3}), ModeRequest::Emulate);
  REQUIRE(bne.plan);
  CHECK(bne.plan->mode() == ExecMode::Emulate);
  SiteAnalysis addi = analyze(insns({0x00158513}), ModeRequest::Emulate);
  CHECK(addi.plan == nullptr);
  CHECK(addi.refusal == "addi cannot be emulated");
  SiteAnalysis c_addi = analyze(insns({0x0505}), ModeRequest::Emulate);
  CHECK(c_addi.refusal == "c.addi cannot be emulated");

  // --mode boost / --mode jump.
  SiteAnalysis boost = analyze(insns({0x00158513}), ModeRequest::Boost);
  CHECK(boost.plan == nullptr);
  CHECK(boost.refusal == "cannot boost: the slot is 258044 MiB away; jal reaches 1 MiB");
  SiteAnalysis near = analyze(insns({0x00158513}), ModeRequest::Boost, kSite, kSite, kNearSlot);
  REQUIRE(near.plan);
  CHECK(near.plan->mode() == ExecMode::Boost);
  SiteAnalysis jump = analyze(insns({0x00158513}), ModeRequest::Jump);
  CHECK(jump.plan == nullptr);
  CHECK(jump.refusal == "cannot jump: jump mode is not available");  // no ring offered
}

TEST_CASE("riscv64 analyze: the site is found by decoding forward from the function's start", "[arch][riscv64]") {
  // +0  1141      addi sp, sp, -16
  // +2  e406      sd ra, 8(sp)
  // +4  00158513  addi a0, a1, 1
  // +8  60a2      ld ra, 8(sp)
  // +a  8082      ret
  const Bytes function = insns({0x1141, 0xe406, 0x00158513, 0x60a2, 0x8082});
  SiteAnalysis a = analyze(function, ModeRequest::Auto, kSite + 4);
  REQUIRE(a.plan);
  CHECK(a.insn.address == RuntimeAddr(kSite + 4));
  CHECK(a.insn.text == "addi a0, a1, 1");
  CHECK(a.plan->slot_code() == Bytes{0x13, 0x85, 0x15, 0x00, 0x02, 0x90});

  a = analyze(function, ModeRequest::Auto, kSite + 10);
  REQUIRE(a.plan);
  CHECK(a.insn.text == "ret");
  CHECK(a.plan->mode() == ExecMode::Emulate);

  // Inside the 4-byte addi.
  a = analyze(function, ModeRequest::Auto, kSite + 6);
  CHECK(a.plan == nullptr);
  CHECK(a.refusal == "the probe address is inside the instruction at +0x4 (addi a0, a1, 1, 4 bytes)");
  // Odd: never an instruction.
  a = analyze(function, ModeRequest::Auto, kSite + 3);
  CHECK(a.plan == nullptr);
  CHECK(a.refusal == "the probe address is not 2-byte aligned: riscv64 instructions are");
  // Outside.
  a = analyze(function, ModeRequest::Auto, kSite + 12);
  CHECK(a.refusal == "the probe address is outside the function's code");
  a = analyze(function, ModeRequest::Auto, kSite - 2);
  CHECK(a.refusal == "the probe address is outside the function's code");
  // The function's bytes end inside the instruction at the site.
  // 1141 addi sp, sp, -16, then the first half of 00158513.
  a = analyze(Bytes{0x41, 0x11, 0x13, 0x85}, ModeRequest::Auto, kSite + 2);
  CHECK(a.refusal == "the function's code ends inside the instruction at the probe address");
}

TEST_CASE("riscv64 analyze: sites inside an lr/sc sequence are refused", "[arch][riscv64]") {
  // glibc 2.41's lll_lock (libc.so.6 +0x28bac), a 32-bit compare-and-swap:
  // +0  4705      li a4, 1
  // +2  01848613  addi a2, s1, 24
  // +6  140627af  lr.w.aq a5, (a2)       <- opens
  // +a  e781      bnez a5, +0x12
  // +c  18e626af  sc.w a3, a4, (a2)      <- closes
  // +10 fafd      bnez a3, +0x6
  // +12 2781      sext.w a5, a5
  const Bytes cas = insns({0x4705, 0x01848613, 0x140627af, 0xe781, 0x18e626af, 0xfafd, 0x2781});
  struct Case {
    uint64_t offset;
    const char* refusal;  // empty: allowed
  };
  const Case cases[] = {
      {0x0, ""},
      {0x2, ""},
      {0x6, "lr.w is a load-reserved"},
      {0xa, "inside a load-reserved/store-conditional sequence (opened by the lr.w at +0x6): a trap here goes "
            "through the kernel, which clears the reservation, so its store-conditional would fail every time and "
            "the retry loop never end"},
      {0xc, "sc.w is a store-conditional"},
      {0x10, ""},
      {0x12, ""},
  };
  for (const Case& c : cases) {
    INFO("+" << std::hex << c.offset);
    const SiteAnalysis a = analyze(cas, ModeRequest::Auto, kSite + c.offset);
    if (*c.refusal) {
      CHECK(a.plan == nullptr);
      CHECK_THAT(a.refusal, Catch::StartsWith(c.refusal));
    } else {
      CHECK(a.plan != nullptr);
      CHECK(a.refusal.empty());
    }
  }

  // A 64-bit one (pthread_create's, +0x6e0ec): lr.d.aq; bne; sc.d; bnez.
  const Bytes cas64 = insns({0x1408362f, 0x00f61563, 0x18a835af, 0xf9f5, 0xf2c78ce3});
  CHECK_THAT(analyze(cas64, ModeRequest::Auto, kSite + 4).refusal,
             Catch::StartsWith("inside a load-reserved/store-conditional sequence (opened by the lr.d at +0x0)"));
  CHECK(analyze(cas64, ModeRequest::Auto, kSite + 12).plan != nullptr);
}

TEST_CASE("riscv64 reservation scan: the window, and an sc that closes", "[arch][riscv64]") {
  // lr.w a5, (a2); then 16 c.nops; the 15 after the lr are inside (lr + 15 =
  // the 16 instructions a constrained sequence may have), the 16th is not.
  std::vector<uint32_t> raws = {0x100627af};
  for (int i = 0; i < 16; ++i) raws.push_back(0x0001);
  Bytes code;
  for (uint32_t r : raws) {
    const Bytes b = insns({r});
    code.insert(code.end(), b.begin(), b.end());
  }
  const auto decoded = decode_all(code, RuntimeAddr(kSite));
  REQUIRE(decoded.size() == 17);
  for (size_t i = 1; i <= 15; ++i) {
    INFO(i);
    CHECK(reservation_sequence_start(code, RuntimeAddr(kSite), decoded[i].insn.address) == RuntimeAddr(kSite));
  }
  CHECK_FALSE(reservation_sequence_start(code, RuntimeAddr(kSite), decoded[16].insn.address).has_value());
  CHECK_FALSE(reservation_sequence_start(code, RuntimeAddr(kSite), decoded[0].insn.address).has_value());

  // A second lr reopens; an sc closes.
  const Bytes two_code = insns({0x100627af, 0x18e626af, 0x0001, 0x100627af, 0x0001});
  const auto two = decode_all(two_code, RuntimeAddr(kSite));
  REQUIRE(two.size() == 5);
  CHECK(reservation_sequence_start(two_code, RuntimeAddr(kSite), two[1].insn.address) == RuntimeAddr(kSite));
  CHECK_FALSE(reservation_sequence_start(two_code, RuntimeAddr(kSite), two[2].insn.address).has_value());
  CHECK(reservation_sequence_start(two_code, RuntimeAddr(kSite), two[4].insn.address) == two[3].insn.address);
}
