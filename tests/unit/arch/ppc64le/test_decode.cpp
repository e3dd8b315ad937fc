// Decoding: lengths, instruction boundaries and texts, and the cross-check
// against binutils' objdump over a checked-in corpus.
#include <fstream>

#include <catch2/catch.hpp>

#include "arch/ppc64le/decoder.h"
#include "arch/ppc64le/insn_table.h"
#include "listing.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::ppc64le;
using namespace uptrace::arch::ppc64le::test;
namespace check = uptrace::tools::ppc64le_check;

namespace {

Instruction first(const Bytes& code, uint64_t at = kSite) {
  auto insns = isa().decode(code, RuntimeAddr(at));
  REQUIRE_FALSE(insns.empty());
  return insns.front();
}

}  // namespace

TEST_CASE("ppc64le decode: agrees with objdump over the corpus", "[arch][ppc64le]") {
  std::ifstream in(PPC64LE_CORPUS);
  REQUIRE(in.good());
  const auto listing = check::parse_listing(in);
  REQUIRE(listing.size() > 800);
  const check::Report r = check::compare(listing);
  for (const check::Mismatch& m : r.mismatches) UNSCOPED_INFO(std::hex << m.address << ": " << m.what);
  CHECK(r.mismatch_count == 0);
  CHECK(r.boundaries_agreed == r.instructions);
  CHECK(r.prefixed >= 8);
  // Every kind the check distinguishes is in the corpus.
  for (check::Kind k : {check::Kind::Branch, check::Kind::BranchCond, check::Kind::BranchLr, check::Kind::BranchCtr,
                        check::Kind::BranchTar, check::Kind::Trap, check::Kind::LoadReserve,
                        check::Kind::StoreConditional, check::Kind::Syscall}) {
    INFO(check::to_string(k));
    CHECK(r.kinds_agreed.count(k) == 1);
  }
}

TEST_CASE("ppc64le decode: the comparison fails on a wrong length or class", "[arch][ppc64le]") {
  // The check itself must be able to fail: objdump's line for a pld made
  // 4 bytes long, and a b listed as an add.
  std::istringstream bad(
      "   0:\t00 00 10 04 \tpld     r3,16\n"
      "   4:\t10 00 60 e4 \taddi    r3,r3,1\n"
      "   8:\t00 01 00 48 \taddi    r3,r3,1\n");
  const check::Report r = check::compare(check::parse_listing(bad));
  CHECK(r.mismatch_count >= 2);
}

TEST_CASE("ppc64le decode: a prefixed instruction is one 8-byte boundary", "[arch][ppc64le]") {
  // 04100000 e4600010    pld r3,0x10001010 (R=1: pc-relative)
  // 06100000 38800064    pla r4,0x1000106c
  // 60000000             nop
  const auto insns = isa().decode(words({0x04100000, 0xe4600010, 0x06100000, 0x38800064, 0x60000000}), RuntimeAddr(kSite));
  REQUIRE(insns.size() == 3);
  CHECK(insns[0].length == 8);
  CHECK(insns[0].text == "pld r3,0x10001010");
  CHECK(insns[1].address == RuntimeAddr(kSite + 8));
  CHECK(insns[1].length == 8);
  CHECK(insns[1].text == "pla r4,0x1000106c");
  CHECK(insns[2].address == RuntimeAddr(kSite + 16));
  CHECK(insns[2].text == "nop");

  // 04000000 60000000    a prefix with no valid suffix: one undecodable word, then the nop
  const auto bad = isa().decode(words({0x04000000, 0x60000000}), RuntimeAddr(kSite));
  REQUIRE(bad.size() == 2);
  CHECK(bad[0].length == 4);
  CHECK(bad[0].text == ".long 0x04000000");
  CHECK(bad[1].text == "nop");

  // A prefix that is the last word of a 64-byte block: the pair crosses the
  // boundary. Still 8 bytes (objdump agrees), but no valid instruction.
  Classified c;
  Decoder d;
  auto crossing = d.decode_one(words({0x04100000, 0xe4600010}), RuntimeAddr(kSite + 60), &c);
  REQUIRE(crossing);
  CHECK(crossing->length == 8);
  CHECK(c.cls == InsnClass::Undecodable);
  CHECK(crossing->text == "pld r3,0x1000104c (crosses a 64-byte boundary)");

  // A prefix whose suffix is past the end of the code: one undecodable word
  // (as objdump lists it at the end of a section).
  const auto cut = isa().decode(words({0x04100000}), RuntimeAddr(kSite));
  REQUIRE(cut.size() == 1);
  CHECK(cut[0].length == 4);
  CHECK(cut[0].text == ".long 0x04100000");
  CHECK(isa().decode(Bytes{0x00, 0x00, 0x10}, RuntimeAddr(kSite)).empty());
}

TEST_CASE("ppc64le decode: branch texts are uptrace's own, with absolute targets", "[arch][ppc64le]") {
  struct Case {
    uint32_t word;
    const char* text;
  };
  const Case cases[] = {
      {0x48000100, "b 0x10001100"},       // b .+0x100
      {0x48000201, "bl 0x10001200"},      // bl .+0x200
      {0x48001002, "ba 0x1000"},          // ba 0x1000
      {0x48002003, "bla 0x2000"},         // bla 0x2000
      {0x4bfff000, "b 0x10000000"},       // b .-0x1000
      {0x41820040, "beq 0x10001040"},     // beq .+0x40
      {0x409e0040, "bne cr7,0x10001040"}, // bne cr7,.+0x40
      {0x4200fff0, "bdnz 0x10000ff0"},    // bdnz .-0x10
      {0x42400020, "bdz 0x10001020"},     // bdz .+0x20
      {0x41e10008, "bgt+ 0x10001008"},    // bgt+ .+8
      {0x41c00008, "blt- 0x10001008"},    // blt- .+8
      {0x42800010, "bc 20,0,0x10001010"}, // bc 20,lt,.+0x10
      {0x429f0005, "bcl 20,31,$+4"},      // bcl 20,4*cr7+so,.+4 (Capstone 4: "bdnzl")
      {0x41820011, "beql 0x10001010"},    // beql .+0x10
      {0x4e800020, "blr"},
      {0x4e800021, "blrl"},
      {0x4d820020, "beqlr"},
      {0x4e000020, "bdnzlr"},
      {0x4e800420, "bctr"},
      {0x4e800421, "bctrl"},
      {0x4c860420, "bnectr cr1"},
      {0x4e800460, "btar"},
      {0x4e800461, "btarl"},
      {0x4c600005, "addpcis r3,1"},
      {0x4ca00004, "lnia r5"},
      {0x4c9fffc5, "addpcis r4,-1"},       // subpcis r4,1
      {0x44000001, "scv 0"},
  };
  for (const Case& c : cases) {
    INFO(std::hex << c.word);
    CHECK(first(words({c.word})).text == c.text);
  }
}

TEST_CASE("ppc64le decode: Capstone's text elsewhere, the row's name where it has none", "[arch][ppc64le]") {
  CHECK(first(words({0xf821ffe1})).text == "stdu r1, -0x20(r1)");  // stdu r1,-32(r1)
  CHECK(first(words({0x7c0802a6})).text == "mflr r0");
  CHECK(first(words({0x7c602028})).text == "lwarx r3, 0, r4");
  CHECK(first(words({0x7c602068})).text == ".long 0x7c602068 (lbarx)");   // lbarx r3,0,r4
  CHECK(first(words({0x7c00051d})).text == ".long 0x7c00051d (tbegin.)");  // tbegin.
  CHECK(first(words({0x00000000})).text == ".long 0x00000000 (opcode 0)");
}
