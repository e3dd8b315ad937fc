// Analysis: for each row of the instruction table, what analyze decides
// (refused with its reason, emulated or stepped), the mode requests, and
// the load-reserve/store-conditional window.
#include <catch2/catch.hpp>

#include "arch/ppc64le/insn_table.h"
#include "arch/ppc64le/reservation.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::ppc64le;
using namespace uptrace::arch::ppc64le::test;

namespace {

using Declined = std::vector<std::pair<ExecMode, std::string>>;

struct Refusal {
  uint32_t word;
  const char* text;    // the disassembly analyze reports
  const char* reason;  // the start of the refusal
};

}  // namespace

TEST_CASE("ppc64le analyze: refused instructions, each with its reason", "[arch][ppc64le]") {
  const char* kTrap = "is already a trap instruction";
  const char* kReserve = "opens or closes a load-reserve/store-conditional sequence";
  const char* kPriv = "is privileged";
  const Refusal cases[] = {
      {0x7fe00008, "trap", kTrap},                 // trap (uptrace's own, gdb's)
      {0x7c832008, "tweq r3, r4", kTrap},          // tweq r3,r4
      {0x7fe00088, "tdu r0, r0", kTrap},           // td 31,0,0
      {0x0fe00007, "twui r0, 7", kTrap},           // twi 31,0,7
      {0x08030000, "tdi 0, r3, 0", kTrap},         // tdi 0,r3,0: never fires, still a trap
      {0x0b030000, "tdnei r3, 0", kTrap},          // tdnei r3,0
      {0x0ca9ffff, "twi 5, r9, 0xffff", kTrap},    // twlgei r9,-1
      {0x44000002, "sc", "is a system call"},
      {0x44000001, "scv 0", "is a system call"},
      {0x7c602028, "lwarx r3, 0, r4", kReserve},
      {0x7ca030a9, ".long 0x7ca030a9 (ldarx)", kReserve},  // ldarx r5,0,r6,1
      {0x7c602068, ".long 0x7c602068 (lbarx)", kReserve},
      {0x7c6020e8, ".long 0x7c6020e8 (lharx)", kReserve},
      {0x7cc02228, ".long 0x7cc02228 (lqarx)", kReserve},
      {0x7c60212d, "stwcx. r3, 0, r4", kReserve},
      {0x7ca031ad, "stdcx. r5, 0, r6", kReserve},
      {0x7c60256d, ".long 0x7c60256d (stbcx.)", kReserve},
      {0x7c6025ad, ".long 0x7c6025ad (sthcx.)", kReserve},
      {0x7cc0216d, ".long 0x7cc0216d (stqcx.)", kReserve},
      {0x4c000024, "rfid", kPriv},
      {0x4c000224, ".long 0x4c000224 (hrfid)", kPriv},
      {0x4c0002e4, ".long 0x4c0002e4 (stop)", kPriv},
      {0x4c000924, ".long 0x4c000924 (rfebb)", "returns from an event-based branch handler"},
      {0x7c600164, "mtmsrd r3", kPriv},
      {0x7c600124, "mtmsr r3", kPriv},
      {0x7c6000a6, "mfmsr r3", kPriv},
      {0x7c7a03a6, "mtspr 0x1a, r3", kPriv},  // mtsrr0 r3
      {0x7c7a02a6, "mfspr r3, 0x1a", kPriv},  // mfsrr0 r3
      {0x7c801a64, "tlbie r3,r4", kPriv},
      {0x7c001b64, "slbie r3", kPriv},
      {0x7c00051d, ".long 0x7c00051d (tbegin.)", "begins a transaction"},
      {0x00000000, ".long 0x00000000 (opcode 0)", "undecodable instruction"},
      {0x58000000, ".long 0x58000000 (opcode 22)", "undecodable instruction"},
  };
  for (const Refusal& c : cases) {
    INFO(std::hex << c.word << " " << c.text);
    const SiteAnalysis a = analyze(words({c.word}));
    CHECK(a.plan == nullptr);
    CHECK_THAT(a.refusal, Catch::Contains(c.reason));
    CHECK(a.insn.text == c.text);
    CHECK(a.insn.address == RuntimeAddr(kSite));
    CHECK(a.insn.length == 4);
    for (ModeRequest m : {ModeRequest::Trap, ModeRequest::Emulate}) {
      const SiteAnalysis forced = analyze(words({c.word}), kSite, m);
      CHECK(forced.plan == nullptr);
      CHECK(forced.refusal == a.refusal);
    }
  }
}

TEST_CASE("ppc64le analyze: what auto picks, row by row", "[arch][ppc64le]") {
  struct Case {
    std::vector<uint32_t> code;
    const char* text;
    ExecMode mode;
  };
  const Case cases[] = {
      // Emulated: everything that depends on its own address.
      {{0x48000100}, "b 0x10001100", ExecMode::Emulate},
      {{0x48000201}, "bl 0x10001200", ExecMode::Emulate},
      {{0x48001002}, "ba 0x1000", ExecMode::Emulate},
      {{0x41820040}, "beq 0x10001040", ExecMode::Emulate},
      {{0x4200fff0}, "bdnz 0x10000ff0", ExecMode::Emulate},
      {{0x429f0005}, "bcl 20,31,$+4", ExecMode::Emulate},
      {{0x4e800020}, "blr", ExecMode::Emulate},
      {{0x4d820020}, "beqlr", ExecMode::Emulate},
      {{0x4e800421}, "bctrl", ExecMode::Emulate},
      {{0x4c600005}, "addpcis r3,1", ExecMode::Emulate},
      {{0x4ca00004}, "lnia r5", ExecMode::Emulate},
      {{0x04100000, 0xe4600010}, "pld r3,0x10001010", ExecMode::Emulate},
      {{0x06100000, 0x38800064}, "pla r4,0x10001064", ExecMode::Emulate},
      // Stepped.
      {{0x4e800460}, "btar", ExecMode::Trap},
      {{0xf821ffe1}, "stdu r1, -0x20(r1)", ExecMode::Trap},
      {{0x7c0802a6}, "mflr r0", ExecMode::Trap},
      {{0x7c6102a6}, "mfxer r3", ExecMode::Trap},       // a user SPR
      {{0x7c6c42a6}, "mfspr r3, 0x10c", ExecMode::Trap},  // mftb r3
      {{0x60000000}, "nop", ExecMode::Trap},
      {{0x7c2004ac}, "lwsync", ExecMode::Trap},
      {{0xf4430019}, ".long 0xf4430019", ExecMode::Trap},  // lxv vs34,16(r3): Capstone 4 does not know it
      {{0x04000000, 0x60000000}, ".long 0x04000000", ExecMode::Trap},  // no: refused below
      {{0x06000000, 0x38800064}, "pli r4,100", ExecMode::Trap},        // paddi with R=0
      {{0x04000000, 0xe4640010}, "pld r3,16(r4)", ExecMode::Trap},     // R=0
      {{0x04100000, 0xf4600020}, "pstd r3,0x10001020", ExecMode::Trap},  // R=1, rewritten
      {{0x04100000, 0xcc400000}, "plxv vs34,0x10001000", ExecMode::Trap},  // plxv vs34,0 (R=1), rewritten
  };
  for (const Case& c : cases) {
    INFO(c.text);
    const SiteAnalysis a = analyze(words(c.code));
    if (std::string(c.text) == ".long 0x04000000") {
      CHECK(a.plan == nullptr);
      CHECK_THAT(a.refusal, Catch::StartsWith("a prefix without a valid suffix"));
      continue;
    }
    INFO(a.refusal);
    REQUIRE(a.plan != nullptr);
    CHECK(a.insn.text == c.text);
    CHECK(a.insn.length == 4 * c.code.size());
    CHECK(a.plan->mode() == c.mode);
    if (c.mode == ExecMode::Emulate) {
      CHECK(a.declined == Declined{{ExecMode::Jump, "jump mode is not available"}});
    } else {
      REQUIRE(a.declined.size() == 3);
      CHECK(a.declined[0].first == ExecMode::Emulate);
      // The slot is far from the site here (test_boost.cpp has it near).
      CHECK(a.declined[1].first == ExecMode::Boost);
      CHECK(a.declined[2] == std::pair<ExecMode, std::string>{ExecMode::Jump, "jump mode is not available"});
    }
  }
}

TEST_CASE("ppc64le analyze: why a stepped instruction is not emulated, and the reverse", "[arch][ppc64le]") {
  // 38630001            addi r3,r3,1
  CHECK(analyze(words({0x38630001})).declined.at(0).second == "addi cannot be emulated");
  // 4e800460            btar
  CHECK(analyze(words({0x4e800460})).declined.at(0).second ==
        "a branch to TAR cannot be emulated: TAR is not in the registers ptrace gives (NT_PRSTATUS)");
  // 04100000 f4600020   pstd r3,0x10001020
  CHECK(analyze(words({0x04100000, 0xf4600020})).declined.at(0).second ==
        "pstd cannot be emulated: it stores, or loads into registers outside NT_PRSTATUS");

  // Branches and pc reads are never stepped: --mode trap is refused.
  for (uint32_t w : {0x48000100u, 0x41820040u, 0x429f0005u, 0x4e800020u, 0x4e800420u, 0x4c600005u}) {
    INFO(std::hex << w);
    const SiteAnalysis a = analyze(words({w}), kSite, ModeRequest::Trap);
    CHECK(a.plan == nullptr);
    CHECK_THAT(a.refusal, Catch::EndsWith("depends on its own address: it is emulated, never stepped"));
  }
  // A pc-relative load may be stepped on request: rewritten through its destination.
  const SiteAnalysis pld = analyze(words({0x04100000, 0xe4600010}), kSite, ModeRequest::Trap);
  REQUIRE(pld.plan);
  CHECK(pld.plan->mode() == ExecMode::Trap);
  CHECK(pld.declined.at(0) == std::pair<ExecMode, std::string>{ExecMode::Emulate, "trap mode was requested"});

  // 38630001            addi r3,r3,1, --mode emulate / boost / jump
  CHECK(analyze(words({0x38630001}), kSite, ModeRequest::Emulate).refusal == "addi cannot be emulated");
  CHECK(analyze(words({0x38630001}), kSite, ModeRequest::Boost).refusal ==
        "cannot boost: the branch back is out of reach of the slot (b reaches +-32 MiB)");
  CHECK(analyze(words({0x38630001}), kSite, ModeRequest::Jump).refusal == "cannot jump: jump mode is not available");
  // bcctr with BO bit 2 clear is an invalid form: 4c000420 bdnzctr (objdump)
  CHECK(analyze(words({0x4c000420})).refusal == "bcctr with BO bit 2 clear (decrement CTR) is an invalid form");
}

TEST_CASE("ppc64le analyze: the site is an aligned boundary inside the function", "[arch][ppc64le]") {
  // +0  f821ffe1         stdu r1,-32(r1)
  // +4  04100000 e4600010 pld r3,... (R=1)
  // +12 4e800020         blr
  const Bytes function = words({0xf821ffe1, 0x04100000, 0xe4600010, 0x4e800020});
  SiteContext ctx{RuntimeAddr(kSite), function, RuntimeAddr(kSite + 12), RuntimeAddr(kSlot), ModeRequest::Auto};
  SiteAnalysis a = isa().analyze(ctx);
  REQUIRE(a.plan);
  CHECK(a.insn.text == "blr");

  ctx.site = RuntimeAddr(kSite + 2);
  CHECK(isa().analyze(ctx).refusal == "the probe address is not 4-byte aligned: ppc64 instructions are");
  ctx.site = RuntimeAddr(kSite + 16);
  CHECK(isa().analyze(ctx).refusal == "the probe address is outside the function's code");

  // A prefixed instruction whose prefix is the last word of a 64-byte block.
  const Bytes crossing = words({0x04100000, 0xe4600010});
  SiteContext at60{RuntimeAddr(kSite + 60), crossing, RuntimeAddr(kSite + 60), RuntimeAddr(kSlot), ModeRequest::Auto};
  CHECK_THAT(isa().analyze(at60).refusal, Catch::StartsWith("a prefixed instruction that crosses a 64-byte boundary"));
}

TEST_CASE("ppc64le analyze: sites inside a lwarx..stwcx. sequence are refused", "[arch][ppc64le]") {
  // +0  7c0802a6  mflr r0
  // +4  7d201828  lwarx r9,0,r3
  // +8  7d292214  add r9,r9,r4
  // +12 7d20192d  stwcx. r9,0,r3
  // +16 40c2fff4  bne- +4 (the retry)
  // +20 4e800020  blr
  const Bytes function = words({0x7c0802a6, 0x7d201828, 0x7d292214, 0x7d20192d, 0x40c2fff4, 0x4e800020});
  auto at = [&](uint64_t off) {
    SiteContext ctx{RuntimeAddr(kSite), function, RuntimeAddr(kSite + off), RuntimeAddr(kSlot), ModeRequest::Auto};
    return isa().analyze(ctx);
  };
  CHECK(at(0).plan != nullptr);
  CHECK_THAT(at(4).refusal, Catch::StartsWith("lwarx opens or closes a load-reserve/store-conditional sequence"));
  CHECK_THAT(at(8).refusal, Catch::StartsWith("inside a load-reserve/store-conditional sequence (opened by the "
                                             "load-reserve at +0x4)"));
  CHECK_THAT(at(12).refusal, Catch::StartsWith("stwcx. opens or closes"));
  CHECK(at(16).plan != nullptr);  // after the stwcx.: the window is closed
  CHECK(at(20).plan != nullptr);

  CHECK(reservation_start(function, RuntimeAddr(kSite), RuntimeAddr(kSite + 8)) == RuntimeAddr(kSite + 4));
  CHECK(reservation_start(function, RuntimeAddr(kSite), RuntimeAddr(kSite + 12)) == RuntimeAddr(kSite + 4));
  CHECK_FALSE(reservation_start(function, RuntimeAddr(kSite), RuntimeAddr(kSite + 16)).has_value());

  // A load-reserve whose window never closes ends after kReserveWindow instructions.
  std::vector<uint32_t> long_code = {0x7d201828};
  for (size_t i = 0; i < kReserveWindow + 2; ++i) long_code.push_back(0x60000000);
  const Bytes code = words(long_code);
  CHECK(reservation_start(code, RuntimeAddr(kSite), RuntimeAddr(kSite + 4 * kReserveWindow)).has_value());
  CHECK_FALSE(reservation_start(code, RuntimeAddr(kSite), RuntimeAddr(kSite + 4 * (kReserveWindow + 2))).has_value());
}
