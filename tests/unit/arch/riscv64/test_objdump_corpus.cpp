// The decoder against GNU objdump on every host: corpus/objdump.txt holds
// lines of riscv64-linux-gnu-objdump (binutils 2.40) over Debian 13's
// libc.so.6, every 16-bit parcel, random 32-bit words and the Zba/Zbb/Zbs
// instructions (made by tests/cross/riscv64-objdump-check.sh --corpus, which
// also checks the whole of each). Boundaries, lengths, classes and text must
// agree, except for the documented differences.
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "objdump_check.h"

using namespace uptrace::arch::riscv64::test;

TEST_CASE("riscv64 objdump corpus: uptrace decodes every line as objdump does", "[arch][riscv64]") {
  std::ifstream in(RISCV64_CORPUS_DIR "/objdump.txt");
  REQUIRE(in.good());
  const CheckReport r = check_objdump(in);
  INFO(summary(r));
  CHECK(r.objdump_insns == 1248);
  CHECK(r.uptrace_insns >= r.objdump_insns);
  CHECK(r.boundary_mismatches == 0);
  CHECK(r.class_mismatches == 0);
  CHECK(r.text_mismatches == 0);
  // Every class is represented.
  for (Category c : {Category::Branch, Category::Jump, Category::Auipc, Category::System, Category::Lr, Category::Sc,
                     Category::Other, Category::Unknown}) {
    INFO(to_string(c));
    CHECK(r.objdump_by_category.count(c) == 1);
  }
  // The sample holds one kind of documented difference (a CSR objdump
  // names); the others are rare in the listings it samples, and
  // tests/cross/riscv64-objdump-check.sh counts them over the whole listings.
  CHECK(r.documented.size() == 1);
}

TEST_CASE("riscv64 objdump check: a difference is found", "[arch][riscv64]") {
  // The checker itself must be able to fail: a wrong length, a wrong class
  // and a wrong text, made by editing objdump's lines.
  const std::string lines =
      "Disassembly of section .text:\n"
      "   27500:\t1141                \taddi\tsp,sp,-16\n"           // right
      "   27502:\te406                \tsd\tra,16(sp)\n"             // wrong text (8(sp))
      "   27504:\t00000097            \tlui\tra,0x0\n"               // auipc: wrong class and text
      "   27508:\t8082                \tret\n"                       // right
      "Disassembly of section .other:\n"
      "   1000:\t00000013          \tnop\n"
      "   1004:\t0001                \tnop\n";                      // right, 2 bytes after a 4-byte one
  std::istringstream in(lines);
  const CheckReport r = check_objdump(in);
  INFO(summary(r));
  CHECK(r.objdump_insns == 6);
  CHECK(r.runs == 2);
  CHECK(r.boundary_mismatches == 0);
  CHECK(r.class_mismatches == 1);
  CHECK(r.text_mismatches == 2);

  // objdump's bytes as two 2-byte instructions where uptrace sees one 4-byte one.
  std::istringstream split("   1000:\t0313                \tc.foo\n   1002:\t0000                \tunimp\n");
  const CheckReport s = check_objdump(split);
  CHECK(s.boundary_mismatches == 2);
}

TEST_CASE("riscv64 objdump check: binutils 2.40's spellings are normalised", "[arch][riscv64]") {
  ObjdumpLine l;
  REQUIRE(parse_objdump_line("   27a80:\t020b1713          \tsll\ta4,s6,0x20", l));
  CHECK(l.address == 0x27a80);
  CHECK(l.length == 4);
  CHECK(l.value == 0x020b1713);
  CHECK(normalise_objdump(l) == normalise_uptrace("slli a4, s6, 0x20"));
  REQUIRE(parse_objdump_line("   27a7e:\t3b7d                \taddw\ts6,s6,-1", l));
  CHECK(normalise_objdump(l) == normalise_uptrace("addiw s6, s6, -1"));
  REQUIRE(parse_objdump_line("   29d0c:\t2705                \taddw\ta4,a4,1 # 8001 <__h_errno@@GLIBC_PRIVATE+0x7fa5>", l));
  CHECK(normalise_objdump(l) == normalise_uptrace("addiw a4, a4, 1"));
  REQUIRE(parse_objdump_line("   2779c:\tc989                \tbeqz\ta1,277ae <abort@@GLIBC_2.27+0x98>", l));
  CHECK(normalise_objdump(l) == normalise_uptrace("beqz a1, 0x277ae"));
  REQUIRE(parse_objdump_line("   6fd9c:\t0100000f          \tfence\tw,unknown", l));
  CHECK(normalise_objdump(l) == normalise_uptrace("pause"));
  REQUIRE(parse_objdump_line("   f8fbe:\t00186073          \tcsrs\tfflags,16", l));
  CHECK(normalise_objdump(l) == normalise_uptrace("csrsi fflags, 16"));
  REQUIRE(parse_objdump_line("   27ac8:\t0000                \tunimp", l));
  CHECK(l.mnemonic == "unimp");
  CHECK(l.operands.empty());
  CHECK_FALSE(parse_objdump_line("0000000000027500 <__libc_start_main>:", l));
  CHECK_FALSE(parse_objdump_line("", l));
  CHECK(objdump_category("lr.w.aqrl") == Category::Lr);
  CHECK(objdump_category("sc.d") == Category::Sc);
  CHECK(objdump_category("frflags") == Category::System);
  CHECK(objdump_category("csrrci") == Category::System);
  CHECK(objdump_category("bleu") == Category::Branch);
  CHECK(objdump_category("ret") == Category::Jump);
  CHECK(objdump_category(".4byte") == Category::Unknown);
  CHECK(objdump_category("amoswap.w") == Category::Other);
}
