// Analysis: for each row of the instruction table, what analyze decides
// (refused with its reason, emulated or stepped), the mode requests, and
// the exclusive-sequence scan.
#include <catch2/catch.hpp>

#include "arch/aarch64/exclusive.h"
#include "arch/aarch64/insn_table.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::aarch64;
using namespace uptrace::arch::aarch64::test;

namespace {

using Declined = std::vector<std::pair<ExecMode, std::string>>;

struct Refusal {
  uint32_t word;
  const char* text;    // the disassembly analyze reports
  const char* reason;  // the start of the refusal
};

}  // namespace

TEST_CASE("aarch64 analyze: refused instructions, each with its reason", "[arch][aarch64]") {
  const Refusal cases[] = {
      {0xd4200000, "brk #0", "brk is already a breakpoint instruction"},
      {0xd420f4a0, "brk #0x7a5", "brk is already a breakpoint instruction"},
      {0xd42000a0, "brk #0x5", "brk is already a breakpoint instruction"},
      {0xd4400000, "hlt #0", "hlt is already a (halting-debug) breakpoint instruction"},
      {0x00000000, ".inst 0x00000000 (udf)", "udf is a permanently undefined instruction, used as a trap"},
      {0xd4000001, "svc #0", "svc is a system call"},
      {0xd4000002, "hvc #0", "is privileged: it only faults at EL0"},
      {0xd4000003, "smc #0", "is privileged: it only faults at EL0"},
      {0xd4a00001, "dcps1", "is privileged: it only faults at EL0"},
      {0xd4600000, ".inst 0xd4600000 (exception generation)", "generates an exception on purpose"},
      {0xd69f03e0, "eret", "is privileged: it only faults at EL0"},
      {0xd69f0bff, ".inst 0xd69f0bff (eretaa/eretab)", "is privileged: it only faults at EL0"},
      {0xd6bf03e0, "drps", "is privileged: it only faults at EL0"},
      {0xd50342df, "msr daifset, #2", "msr (immediate) writes PSTATE fields"},
      {0xd51b4200, "msr nzcv, x0", "msr nzcv writes PSTATE's condition flags directly"},
      {0xd51b4220, "msr daif, x0", "msr daif writes PSTATE's interrupt masks"},
      {0xd51bd060, "msr tpidrro_el0, x0", "msr writes a system register; only fpcr, fpsr and tpidr_el0"},
      {0xd53b4220, "mrs x0, daif", "mrs daif reads the interrupt masks"},
      {0x885ffc20, "ldaxr w0, [x1]", "an exclusive load/store"},
      {0x8802fc83, "stlxr w2, w3, [x4]", "an exclusive load/store"},
      {0xc87f0440, "ldxp x0, x1, [x2]", "an exclusive load/store"},
      {0xc8200861, "stxp w0, x1, x2, [x3]", "an exclusive load/store"},
      {0x085f7c20, "ldxrb w0, [x1]", "an exclusive load/store"},
      {0xd503221f, "hint #0x10", "a hint not known to be harmless out of line"},  // esb
      {0x00010000, ".inst 0x00010000", "undecodable instruction"},
      {0xffffffff, ".inst 0xffffffff", "undecodable instruction"},
  };
  for (const Refusal& c : cases) {
    INFO(std::hex << c.word << " " << c.text);
    const SiteAnalysis a = analyze(words({c.word}));
    CHECK(a.plan == nullptr);
    CHECK_THAT(a.refusal, Catch::StartsWith(c.reason));
    CHECK(a.insn.text == c.text);
    CHECK(a.insn.address == RuntimeAddr(kSite));
    CHECK(a.insn.length == 4);
    // A refusal holds for every requested mode.
    for (ModeRequest m : {ModeRequest::Trap, ModeRequest::Emulate}) {
      const SiteAnalysis forced = analyze(words({c.word}), kSite, m);
      CHECK(forced.plan == nullptr);
      CHECK(forced.refusal == a.refusal);
    }
  }
}

TEST_CASE("aarch64 analyze: what auto picks, row by row", "[arch][aarch64]") {
  struct Case {
    uint32_t word;
    const char* text;
    ExecMode mode;
  };
  const Case cases[] = {
      // Emulated: pc-relative control flow and data, and the no-ops.
      {0x14000040, "b #0x401100", ExecMode::Emulate},
      {0x94000080, "bl #0x401200", ExecMode::Emulate},
      {0x54000200, "b.eq #0x401040", ExecMode::Emulate},
      {0x34000103, "cbz w3, #0x401020", ExecMode::Emulate},
      {0xb5000809, "cbnz x9, #0x401100", ExecMode::Emulate},
      {0x37280083, "tbnz w3, #5, #0x401010", ExecMode::Emulate},
      {0x30000080, "adr x0, #0x401011", ExecMode::Emulate},
      {0xf0000001, "adrp x1, #0x404000", ExecMode::Emulate},
      {0x58000103, "ldr x3, #0x401020", ExecMode::Emulate},
      {0x18000043, "ldr w3, #0x401008", ExecMode::Emulate},
      {0x98000063, "ldrsw x3, #0x40100c", ExecMode::Emulate},
      {0xd8000040, "prfm pldl1keep, #0x401008", ExecMode::Emulate},
      {0xd61f0200, "br x16", ExecMode::Emulate},
      {0xd63f03c0, "blr x30", ExecMode::Emulate},
      {0xd65f03c0, "ret", ExecMode::Emulate},
      {0xd65f00a0, "ret x5", ExecMode::Emulate},
      {0xd503201f, "nop", ExecMode::Emulate},
      {0xd503245f, "bti c", ExecMode::Emulate},
      // Stepped.
      {0x91000420, "add x0, x1, #1", ExecMode::Trap},
      {0xa9bf7bfd, "stp x29, x30, [sp, #-0x10]!", ExecMode::Trap},
      {0xd503233f, "paciasp", ExecMode::Trap},
      {0xd50323bf, "autiasp", ExecMode::Trap},
      {0xd50320ff, "xpaclri", ExecMode::Trap},
      {0xd503203f, "yield", ExecMode::Trap},
      {0xd503205f, "wfe", ExecMode::Trap},
      {0xd503229f, "csdb", ExecMode::Trap},
      {0xd51b4400, "msr fpcr, x0", ExecMode::Trap},
      {0xd51bd041, "msr tpidr_el0, x1", ExecMode::Trap},
      {0xd53b4200, "mrs x0, nzcv", ExecMode::Trap},
      {0xd53bd041, "mrs x1, tpidr_el0", ExecMode::Trap},
      {0x48207c82, ".inst 0x48207c82 (casp family)", ExecMode::Trap},
      {0xc8dffc20, "ldar x0, [x1]", ExecMode::Trap},
      {0x88a07c41, ".inst 0x88a07c41 (cas family)", ExecMode::Trap},
      {0xc8e0fc41, ".inst 0xc8e0fc41 (cas family)", ExecMode::Trap},  // casal x0, x1, [x2]
      {0xb8200041, ".inst 0xb8200041 (ldadd/ldclr/ldeor/ldset/ldmax/ldmin/swp family)", ExecMode::Trap},  // ldadd w0, w1, [x2]
      {0xf8e08041, ".inst 0xf8e08041 (ldadd/ldclr/ldeor/ldset/ldmax/ldmin/swp family)", ExecMode::Trap},  // swpal x0, x1, [x2]
      {0x9c000080, "ldr q0, #0x401010", ExecMode::Trap},
      // Boosted even with the slot out of a b's reach: pc comes from the
      // instruction, no branch back.
      {0xd71f0864, ".inst 0xd71f0864 (braa/brab)", ExecMode::Boost},
      {0xd61f087f, ".inst 0xd61f087f (braaz/brabz)", ExecMode::Boost},
      {0xd65f0bff, ".inst 0xd65f0bff (retaa/retab)", ExecMode::Boost},
      {0xd73f0864, ".inst 0xd73f0864 (blraa/blrab)", ExecMode::Trap},
      {0xd63f087f, ".inst 0xd63f087f (blraaz/blrabz)", ExecMode::Trap},
      {0xd50b7e20, "dc civac, x0", ExecMode::Trap},
  };
  for (const Case& c : cases) {
    INFO(std::hex << c.word << " " << c.text);
    const SiteAnalysis a = analyze(words({c.word}));
    INFO(a.refusal);
    REQUIRE(a.plan != nullptr);
    CHECK(a.refusal.empty());
    CHECK(a.insn.text == c.text);
    CHECK(a.plan->mode() == c.mode);
    if (c.mode == ExecMode::Emulate) {
      CHECK(a.declined == Declined{{ExecMode::Jump, "jump mode is not available"}});
    } else if (c.mode == ExecMode::Boost) {
      REQUIRE(a.declined.size() == 2);
      CHECK(a.declined[0].first == ExecMode::Emulate);
      CHECK(a.declined[1] == std::pair<ExecMode, std::string>{ExecMode::Jump, "jump mode is not available"});
    } else {
      REQUIRE(a.declined.size() == 3);
      CHECK(a.declined[0].first == ExecMode::Emulate);
      CHECK(a.declined[1].first == ExecMode::Boost);
      CHECK(a.declined[2] == std::pair<ExecMode, std::string>{ExecMode::Jump, "jump mode is not available"});
    }
  }
}

TEST_CASE("aarch64 analyze: why a stepped instruction is not emulated", "[arch][aarch64]") {
  // 91000420            add x0, x1, #1
  CHECK(analyze(words({0x91000420})).declined.at(0).second == "add cannot be emulated");
  // 9c000080            ldr q0, #0x401010
  CHECK(analyze(words({0x9c000080})).declined.at(0).second ==
        "a SIMD&FP literal load cannot be emulated: the SIMD&FP registers are not in NT_PRSTATUS");
  // d65f0bff            retaa
  CHECK(analyze(words({0xd65f0bff})).declined.at(0).second ==
        "a pointer-authenticated branch cannot be emulated: the tracer has no keys");
}

TEST_CASE("aarch64 analyze: a requested mode is used or refused with the reason", "[arch][aarch64]") {
  // 94000080            bl #0x401200, --mode trap: stepped although it could be emulated
  SiteAnalysis bl = analyze(words({0x94000080}), kSite, ModeRequest::Trap);
  REQUIRE(bl.plan);
  CHECK(bl.plan->mode() == ExecMode::Trap);
  CHECK(bl.declined.at(0) == std::pair<ExecMode, std::string>{ExecMode::Emulate, "trap mode was requested"});

  // 54000201            b.ne, --mode emulate
  SiteAnalysis bne = analyze(words({0x54000201}), kSite, ModeRequest::Emulate);
  REQUIRE(bne.plan);
  CHECK(bne.plan->mode() == ExecMode::Emulate);

  // 91000420            add x0, x1, #1, --mode emulate
  SiteAnalysis add = analyze(words({0x91000420}), kSite, ModeRequest::Emulate);
  CHECK(add.plan == nullptr);
  CHECK(add.refusal == "add cannot be emulated");

  // d65f0bff            retaa, --mode emulate
  SiteAnalysis retaa = analyze(words({0xd65f0bff}), kSite, ModeRequest::Emulate);
  CHECK(retaa.plan == nullptr);
  CHECK(retaa.refusal == "a pointer-authenticated branch cannot be emulated: the tracer has no keys");

  // d503201f            nop, --mode boost: the slot out of reach of a b back
  SiteAnalysis boost = analyze(words({0xd503201f}), kSite, ModeRequest::Boost);
  CHECK(boost.plan == nullptr);
  CHECK(boost.refusal == "cannot boost: the branch back is out of reach of the slot (b reaches +-128 MiB)");
  // d503201f            nop, --mode jump
  SiteAnalysis jump = analyze(words({0xd503201f}), kSite, ModeRequest::Jump);
  CHECK(jump.plan == nullptr);
  CHECK(jump.refusal == "cannot jump: jump mode is not available");
}

TEST_CASE("aarch64 analyze: the site is found inside the function, on a word boundary", "[arch][aarch64]") {
  // +0  a9bf7bfd    stp x29, x30, [sp, #-0x10]!
  // +4  910003fd    mov x29, sp        <- site
  // +8  d65f03c0    ret
  const Bytes function = words({0xa9bf7bfd, 0x910003fd, 0xd65f03c0});
  SiteContext ctx{RuntimeAddr(0x401000), function, RuntimeAddr(0x401004), RuntimeAddr(kSlot), ModeRequest::Auto};
  SiteAnalysis a = isa().analyze(ctx);
  REQUIRE(a.plan);
  CHECK(a.insn.address == RuntimeAddr(0x401004));
  CHECK(a.insn.text == "mov x29, sp");
  CHECK(a.plan->slot_code() == Bytes{0xfd, 0x03, 0x00, 0x91});

  ctx.site = RuntimeAddr(0x401006);
  a = isa().analyze(ctx);
  CHECK(a.plan == nullptr);
  CHECK(a.refusal == "the probe address is not 4-byte aligned: aarch64 instructions are");

  ctx.site = RuntimeAddr(0x40100c);  // one past the end
  a = isa().analyze(ctx);
  CHECK(a.plan == nullptr);
  CHECK(a.refusal == "the probe address is outside the function's code");

  // A function whose size is not a multiple of 4 ends inside its last word.
  const Bytes cut(function.begin(), function.end() - 2);
  SiteContext short_ctx{RuntimeAddr(0x401000), cut, RuntimeAddr(0x401008), RuntimeAddr(kSlot), ModeRequest::Auto};
  a = isa().analyze(short_ctx);
  CHECK(a.plan == nullptr);
  CHECK(a.refusal == "the function's code ends inside the instruction at the probe address");
}

TEST_CASE("aarch64 analyze: no probe inside an exclusive load/store sequence", "[arch][aarch64]") {
  // +0x00  885ffc20   ldaxr w0, [x1]
  // +0x04  6b02001f   cmp w0, w2
  // +0x08  54000061   b.ne +0x14
  // +0x0c  8803fc24   stlxr w3, w4, [x1]
  // +0x10  35ffff83   cbnz w3, +0x0
  // +0x14  d65f03c0   ret
  const Bytes function = words({0x885ffc20, 0x6b02001f, 0x54000061, 0x8803fc24, 0x35ffff83, 0xd65f03c0});
  auto at = [&](uint64_t off) {
    SiteContext ctx{RuntimeAddr(0x401000), function, RuntimeAddr(0x401000 + off), RuntimeAddr(kSlot),
                    ModeRequest::Auto};
    return isa().analyze(ctx);
  };
  const std::string inside =
      "inside an exclusive load/store sequence (opened by the load-exclusive at +0x0): a trap here clears the "
      "exclusive monitor, so its store-exclusive would fail every time and the retry loop never end";
  CHECK_THAT(at(0x0).refusal, Catch::StartsWith("an exclusive load/store"));
  CHECK(at(0x4).refusal == inside);
  CHECK(at(0x8).refusal == inside);
  CHECK_THAT(at(0xc).refusal, Catch::StartsWith("an exclusive load/store"));
  CHECK(at(0x10).plan != nullptr);  // after the store-exclusive
  CHECK(at(0x14).plan != nullptr);
}

TEST_CASE("aarch64 exclusive scan: window, function start and a closed sequence", "[arch][aarch64]") {
  constexpr uint32_t kLdaxr = 0x885ffc20, kStlxr = 0x8803fc24, kNop = 0xd503201f, kCasp = 0x48207c82,
                     kLdar = 0xc8dffc20;
  const RuntimeAddr start(0x1000);

  // ldaxr, then 40 nops: the site 32 instructions after the ldaxr is in the
  // window, 33 is past it (ARM recommends at most 128 bytes between the pair).
  std::vector<uint32_t> ws{kLdaxr};
  ws.insert(ws.end(), 40, kNop);
  Bytes code;
  for (uint32_t w : ws) {
    const Bytes b = words({w});
    code.insert(code.end(), b.begin(), b.end());
  }
  CHECK(exclusive_sequence_start(code, start, start + 4) == start);
  CHECK(exclusive_sequence_start(code, start, start + 32 * 4) == start);
  CHECK_FALSE(exclusive_sequence_start(code, start, start + 33 * 4).has_value());
  CHECK_FALSE(exclusive_sequence_start(code, start, start).has_value());  // the ldaxr itself: its own row refuses it

  // A completed sequence before the site.
  const Bytes closed = words({kLdaxr, kStlxr, kNop, kNop});
  CHECK_FALSE(exclusive_sequence_start(closed, start, start + 12).has_value());
  CHECK(exclusive_sequence_start(closed, start, start + 4) == start);

  // casp and ldar share the encoding group but open no sequence.
  const Bytes atomics = words({kCasp, kLdar, kNop});
  CHECK_FALSE(exclusive_sequence_start(atomics, start, start + 8).has_value());
  CHECK(is_load_exclusive(kLdaxr));
  CHECK_FALSE(is_store_exclusive(kLdaxr));
  CHECK(is_store_exclusive(kStlxr));
  CHECK_FALSE(is_load_exclusive(kStlxr));
  CHECK_FALSE(is_load_exclusive(kCasp));
  CHECK_FALSE(is_store_exclusive(kCasp));
  CHECK_FALSE(is_load_exclusive(kLdar));
  CHECK(is_store_exclusive(0xc8200861));  // stxp w0, x1, x2, [x3]
  CHECK(is_load_exclusive(0xc87f0440));   // ldxp x0, x1, [x2]
}

TEST_CASE("aarch64 insn table: every row's value matches its own mask", "[arch][aarch64]") {
  for (const InsnRow& row : insn_rows()) {
    INFO(row.name);
    CHECK((row.value & row.mask) == row.value);
    CHECK_FALSE(row.reason.empty());
  }
}

TEST_CASE("aarch64 insn table: no row is hidden behind an earlier one", "[arch][aarch64]") {
  // The catch-all rows come after the specific ones on purpose; every other
  // row must be the one its own value classifies as.
  const std::vector<std::string_view> catch_alls = {"hint"};
  for (const InsnRow& row : insn_rows()) {
    if (std::find(catch_alls.begin(), catch_alls.end(), row.name) != catch_alls.end()) continue;
    INFO(row.name);
    const InsnRow* found = classify(row.value);
    REQUIRE(found != nullptr);
    CHECK(found->name == row.name);
  }
}
