// The argument specs of USDT notes, as GCC writes them on x86-64 (AT&T
// operands), aarch64 and riscv64: registers, memory through a base register,
// constants, and the forms uptrace refuses with a reason.
#include <elf.h>

#include <catch2/catch.hpp>

#include "elf/sdt_marker.h"

using uptrace::elf::parse_sdt_arg;
using uptrace::elf::parse_sdt_args;
using uptrace::elf::SdtArg;
using Kind = uptrace::elf::SdtArg::Kind;

TEST_CASE("sdt args: x86-64 registers, memory and constants with their size and sign", "[elf][usdt]") {
  SdtArg a = parse_sdt_arg("-4@%edi", EM_X86_64);
  CHECK(a.kind == Kind::Register);
  CHECK(a.reg == "edi");
  CHECK(a.size == 4);
  CHECK(a.is_signed);
  CHECK(a.text == "-4@%edi");

  a = parse_sdt_arg("1@%cl", EM_X86_64);
  CHECK(a.kind == Kind::Register);
  CHECK(a.reg == "cl");
  CHECK(a.size == 1);
  CHECK_FALSE(a.is_signed);

  a = parse_sdt_arg("8@-16(%rbp)", EM_X86_64);
  CHECK(a.kind == Kind::Memory);
  CHECK(a.reg == "rbp");
  CHECK(a.offset == -16);
  CHECK(a.size == 8);

  a = parse_sdt_arg("-8@(%rdi)", EM_X86_64);
  CHECK(a.kind == Kind::Memory);
  CHECK(a.reg == "rdi");
  CHECK(a.offset == 0);

  a = parse_sdt_arg("2@0x10(%r12)", EM_X86_64);
  CHECK(a.kind == Kind::Memory);
  CHECK(a.offset == 16);
  CHECK(a.size == 2);

  a = parse_sdt_arg("-4@$42", EM_X86_64);
  CHECK(a.kind == Kind::Constant);
  CHECK(a.value == 42);
  a = parse_sdt_arg("-8@$-1", EM_X86_64);
  CHECK(a.kind == Kind::Constant);
  CHECK(a.value == -1);

  // Notes before sizes: 8 bytes, signed.
  a = parse_sdt_arg("%rax", EM_X86_64);
  CHECK(a.kind == Kind::Register);
  CHECK(a.size == 8);
  CHECK(a.is_signed);
}

TEST_CASE("sdt args: x86-64 forms uptrace does not read say why", "[elf][usdt]") {
  auto why = [](const char* text) {
    SdtArg a = parse_sdt_arg(text, EM_X86_64);
    CHECK(a.kind == Kind::Unsupported);
    return a.why;
  };
  CHECK(why("8@counter(%rip)") == "the address names the symbol 'counter'");
  CHECK(why("8@counter+8(%rip)") == "the address names the symbol 'counter'");
  CHECK(why("8@16(%rip)") == "an address relative to the instruction pointer");
  CHECK(why("4@(%rax,%rbx,4)") == "an address with an index register");
  CHECK(why("8@%fs:0x28") == "a segment-relative address (thread-local data)");
  CHECK(why("8@$sym") == "the immediate '$sym' is not a number (a symbol's address)");
  CHECK(why("3@%rax") == "'3' is not a size of 1, 2, 4 or 8 bytes");
  CHECK(why("8@4096") == "an absolute address");
}

TEST_CASE("sdt args: aarch64 registers, [base, offset] and constants", "[elf][usdt]") {
  SdtArg a = parse_sdt_arg("-4@x0", EM_AARCH64);
  CHECK(a.kind == Kind::Register);
  CHECK(a.reg == "x0");
  CHECK(a.is_signed);
  a = parse_sdt_arg("4@w19", EM_AARCH64);
  CHECK(a.kind == Kind::Register);
  CHECK(a.reg == "w19");
  a = parse_sdt_arg("8@[sp, 16]", EM_AARCH64);
  CHECK(a.kind == Kind::Memory);
  CHECK(a.reg == "sp");
  CHECK(a.offset == 16);
  a = parse_sdt_arg("-8@[x29, -8]", EM_AARCH64);
  CHECK(a.kind == Kind::Memory);
  CHECK(a.reg == "x29");
  CHECK(a.offset == -8);
  a = parse_sdt_arg("8@[x1]", EM_AARCH64);
  CHECK(a.kind == Kind::Memory);
  CHECK(a.offset == 0);
  a = parse_sdt_arg("8@[x2, #0x20]", EM_AARCH64);
  CHECK(a.offset == 32);
  a = parse_sdt_arg("-4@42", EM_AARCH64);
  CHECK(a.kind == Kind::Constant);
  CHECK(a.value == 42);
  a = parse_sdt_arg("-4@#-3", EM_AARCH64);
  CHECK(a.kind == Kind::Constant);
  CHECK(a.value == -3);
  a = parse_sdt_arg("8@xzr", EM_AARCH64);
  CHECK(a.kind == Kind::Constant);
  CHECK(a.value == 0);
  a = parse_sdt_arg("8@[x1, x2]", EM_AARCH64);
  CHECK(a.kind == Kind::Unsupported);
  CHECK(a.why == "an address with an index register");
  a = parse_sdt_arg("8@%rdi", EM_PPC64);
  CHECK(a.kind == Kind::Unsupported);
  a = parse_sdt_arg("8@%rdi", EM_386);
  CHECK(a.kind == Kind::Unsupported);
  CHECK(a.why == "uptrace reads USDT arguments on x86-64, aarch64, ppc64le and riscv64 only");
}

TEST_CASE("sdt args: ppc64le register numbers, offset(base) and i-constants", "[elf][usdt]") {
  // As Debian 12's powerpc64le GCC writes target-sdt's notes.
  auto args = parse_sdt_args("-4@4 -8@9 1@10 8@8 -8@0(3)", EM_PPC64);
  REQUIRE(args.size() == 5);
  CHECK(args[0].kind == Kind::Register);
  CHECK(args[0].reg == "r4");
  CHECK(args[0].size == 4);
  CHECK(args[0].is_signed);
  CHECK(args[2].reg == "r10");
  CHECK_FALSE(args[2].is_signed);
  CHECK(args[4].kind == Kind::Memory);
  CHECK(args[4].reg == "r3");
  CHECK(args[4].offset == 0);
  SdtArg a = parse_sdt_arg("-4@i42", EM_PPC64);
  CHECK(a.kind == Kind::Constant);
  CHECK(a.value == 42);
  a = parse_sdt_arg("-8@i-1", EM_PPC64);
  CHECK(a.kind == Kind::Constant);
  CHECK(a.value == -1);
  a = parse_sdt_arg("-4@-60(31)", EM_PPC64);
  CHECK(a.kind == Kind::Memory);
  CHECK(a.reg == "r31");
  CHECK(a.offset == -60);
  a = parse_sdt_arg("8@%r5", EM_PPC64);  // -mregnames
  CHECK(a.kind == Kind::Register);
  CHECK(a.reg == "r5");
  a = parse_sdt_arg("8@16(%r1)", EM_PPC64);
  CHECK(a.kind == Kind::Memory);
  CHECK(a.reg == "r1");
  CHECK(a.offset == 16);
  a = parse_sdt_arg("8@32", EM_PPC64);
  CHECK(a.kind == Kind::Unsupported);
  CHECK(a.why == "'32' is not an operand uptrace knows");
  a = parse_sdt_arg("8@16(0)", EM_PPC64);
  CHECK(a.kind == Kind::Unsupported);
  CHECK(a.why == "an absolute address");
  a = parse_sdt_arg("8@ilabel", EM_PPC64);
  CHECK(a.kind == Kind::Unsupported);
}

TEST_CASE("sdt args: riscv64 registers, offset(base) and constants", "[elf][usdt]") {
  // As riscv64's GCC 14 writes target-sdt's notes: -O2, then -O0.
  auto args = parse_sdt_args("-4@a1 -8@a5 1@a4 8@a3 -8@0(a0)", EM_RISCV);
  REQUIRE(args.size() == 5);
  CHECK(args[0].kind == Kind::Register);
  CHECK(args[0].reg == "a1");
  CHECK(args[0].size == 4);
  CHECK(args[0].is_signed);
  CHECK(args[2].reg == "a4");
  CHECK_FALSE(args[2].is_signed);
  CHECK(args[4].kind == Kind::Memory);
  CHECK(args[4].reg == "a0");
  CHECK(args[4].offset == 0);
  SdtArg a = parse_sdt_arg("-4@-60(s0)", EM_RISCV);
  CHECK(a.kind == Kind::Memory);
  CHECK(a.reg == "s0");
  CHECK(a.offset == -60);
  a = parse_sdt_arg("8@16(sp)", EM_RISCV);
  CHECK(a.kind == Kind::Memory);
  CHECK(a.reg == "sp");
  CHECK(a.offset == 16);
  a = parse_sdt_arg("-4@42", EM_RISCV);
  CHECK(a.kind == Kind::Constant);
  CHECK(a.value == 42);
  a = parse_sdt_arg("-8@-1", EM_RISCV);
  CHECK(a.kind == Kind::Constant);
  CHECK(a.value == -1);
  a = parse_sdt_arg("8@zero", EM_RISCV);
  CHECK(a.kind == Kind::Constant);
  CHECK(a.value == 0);
  a = parse_sdt_arg("8@%lo(counter)(a5)", EM_RISCV);
  CHECK(a.kind == Kind::Unsupported);
  CHECK(a.why == "the offset '%lo(counter)' is not a number");
  a = parse_sdt_arg("8@8(0x10)", EM_RISCV);
  CHECK(a.kind == Kind::Unsupported);
}

TEST_CASE("sdt args: a note's list, split at spaces outside brackets", "[elf][usdt]") {
  auto args = parse_sdt_args("-4@x0 8@[sp, 16] 8@[x29, -8]  -4@5", EM_AARCH64);
  REQUIRE(args.size() == 4);
  CHECK(args[1].text == "8@[sp, 16]");
  CHECK(args[1].kind == Kind::Memory);
  CHECK(args[2].offset == -8);
  CHECK(args[3].value == 5);
  CHECK(parse_sdt_args("", EM_X86_64).empty());
  CHECK(parse_sdt_args("-4@%esi -8@%rdx 1@%cl 8@%r8 -8@(%rdi)", EM_X86_64).size() == 5);
}
