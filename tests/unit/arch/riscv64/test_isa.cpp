// Traps, registers, calling convention, DWARF numbers and syscalls of the
// riscv64 Isa.
#include <algorithm>
#include <array>

#include <catch2/catch.hpp>

#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::riscv64;
using namespace uptrace::arch::riscv64::test;

namespace {

Instruction first(const Bytes& code) {
  auto decoded = isa().decode(code, RuntimeAddr(kSite));
  REQUIRE_FALSE(decoded.empty());
  return decoded.front();
}

}  // namespace

TEST_CASE("riscv64: identity, sizes and the step mechanism", "[arch][riscv64]") {
  CHECK(isa().id() == IsaId::Riscv64);
  CHECK(isa().name() == "riscv64");
  CHECK(isa().elf_machine() == 243);  // EM_RISCV
  CHECK(isa().regs_size() == 256);    // struct user_regs_struct: pc, x1..x31
  CHECK(isa().slot_size() == 1024);  // a jump trampoline in its two forms (a boost needs 16)
  CHECK(isa().slot_reach() == 0x100000);  // jal's +-1 MiB
  CHECK(isa().step_mechanism() == StepMechanism::TrailingTrap);
  CHECK(isa_for_elf_machine(243) == &isa());
}

TEST_CASE("riscv64: the breakpoint is c.ebreak and reports pc at itself with TRAP_BRKPT", "[arch][riscv64]") {
  const auto bp = isa().breakpoint();
  // 9002                c.ebreak
  CHECK(Bytes(bp.begin(), bp.end()) == Bytes{0x02, 0x90});
  const Instruction insn = first(Bytes(bp.begin(), bp.end()));
  CHECK(insn.text == "ebreak");
  CHECK(insn.length == 2);
  CHECK(isa().is_trap(insn));

  CHECK(isa().breakpoint_address(0x401000, 1) == RuntimeAddr(0x401000));  // TRAP_BRKPT
  CHECK_FALSE(isa().breakpoint_address(0x401000, 2).has_value());         // TRAP_TRACE: never on riscv
  CHECK_FALSE(isa().breakpoint_address(0x401000, 0).has_value());         // SI_USER: kill(SIGTRAP)
  CHECK_FALSE(isa().breakpoint_address(0x401000, 0x80).has_value());      // SI_KERNEL
  // A step ends at the slot's trailing c.ebreak, a breakpoint like any other.
  CHECK(isa().is_step_trap(1));
  CHECK_FALSE(isa().is_step_trap(2));
  CHECK_FALSE(isa().is_step_trap(0));
  CHECK(isa().is_syscall_step_trap(1));
  CHECK_FALSE(isa().is_syscall_step_trap(0));
  CHECK_FALSE(isa().is_syscall_step_trap(2));
}

TEST_CASE("riscv64: every trap variant is a trap", "[arch][riscv64]") {
  const uint32_t traps[] = {
      0x00100073,  // ebreak
      0x9002,      // c.ebreak
      0xc0001073,  // unimp (csrrw zero, cycle, zero)
      0x0000,      // c.unimp: the all-zero parcel
  };
  for (uint32_t t : traps) {
    INFO(std::hex << t);
    CHECK(isa().is_trap(first(insns({t}))));
  }
  const uint32_t not_traps[] = {
      0x00000073,  // ecall
      0x00000013,  // nop
      0x0001,      // c.nop
      0x8082,      // ret
      0x00008067,  // ret
      0x00102573,  // frflags a0
      0x8000,      // .2byte 0x8000: unknown, not a trap
  };
  for (uint32_t t : not_traps) {
    INFO(std::hex << t);
    CHECK_FALSE(isa().is_trap(first(insns({t}))));
  }
}

TEST_CASE("riscv64: ret and c.jr ra are returns, other jumps are not", "[arch][riscv64]") {
  CHECK(isa().is_return(first(insns({0x8082}))));      // ret (c.jr ra)
  CHECK(isa().is_return(first(insns({0x00008067}))));  // ret (jalr zero, 0(ra))
  CHECK_FALSE(isa().is_return(first(insns({0x000780e7}))));  // jalr a5 (links ra)
  CHECK_FALSE(isa().is_return(first(insns({0x00078067}))));  // jr a5
  CHECK_FALSE(isa().is_return(first(insns({0x00408067}))));  // jalr zero, 4(ra)
  CHECK_FALSE(isa().is_return(first(insns({0x9002}))));      // c.ebreak
}

TEST_CASE("riscv64: registers by name", "[arch][riscv64]") {
  struct Case {
    const char* name;
    uint16_t word;
  };
  const Case cases[] = {
      {"pc", 0},   {"ra", 1},   {"sp", 2},   {"gp", 3},   {"tp", 4},   {"t0", 5},   {"t1", 6},   {"t2", 7},
      {"s0", 8},   {"fp", 8},   {"s1", 9},   {"a0", 10},  {"a1", 11},  {"a7", 17},  {"s2", 18},  {"s11", 27},
      {"t3", 28},  {"t6", 31},  {"x1", 1},   {"x2", 2},   {"x10", 10}, {"x31", 31}, {"A0", 10},  {"X5", 5},
      {"S10", 26},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    auto ref = isa().register_by_name(c.name);
    REQUIRE(ref.has_value());
    CHECK(ref->word == c.word);
    CHECK(ref->bits == 64);
    CHECK(ref->shift == 0);
  }
  // x0 always reads 0 and has no word; f registers are not in NT_PRSTATUS.
  for (const char* bad : {"x0", "zero", "x32", "x01", "x", "a8", "s12", "t7", "f0", "fa0", "rax", "x30a", ""}) {
    INFO(bad);
    CHECK_FALSE(isa().register_by_name(bad).has_value());
  }
  const auto names = isa().register_names();
  CHECK(names.size() == 31 + 31 + 2);
  for (const char* n : {"ra", "sp", "a0", "s11", "t6", "x1", "x31", "fp", "pc"}) {
    INFO(n);
    CHECK(std::find(names.begin(), names.end(), n) != names.end());
  }
  CHECK(isa().sp_word() == 2);
}

TEST_CASE("riscv64: pc, sp, thread pointer, arguments and return value", "[arch][riscv64]") {
  Regs regs;
  regs.words[0] = 0x401000;
  regs.words[2] = 0x3ffffff000;
  regs.words[4] = 0x3fd0001800;
  CHECK(isa().pc(regs) == 0x401000);
  CHECK(isa().sp(regs) == 0x3ffffff000);
  CHECK(isa().thread_pointer(regs) == 0x3fd0001800);
  isa().set_pc(regs, 0x402000);
  CHECK(regs.words[0] == 0x402000);

  // a0..a7 are x10..x17.
  for (unsigned n = 1; n <= 8; ++n) {
    INFO(n);
    const ArgLocation a = isa().argument(n);
    REQUIRE(a.reg.has_value());
    CHECK(a.reg->word == 9 + n);
    CHECK(a.reg->bits == 64);
  }
  // The ninth is at [sp] on entry (the return address is in ra).
  CHECK_FALSE(isa().argument(9).reg.has_value());
  CHECK(isa().argument(9).stack_offset == 0);
  CHECK(isa().argument(10).stack_offset == 8);
  CHECK(isa().argument(12).stack_offset == 24);

  CHECK(isa().return_value().word == 10);  // a0
  CHECK(isa().return_value().bits == 64);
}

TEST_CASE("riscv64: DWARF numbers x1..x31 are NT_PRSTATUS words 1..31", "[arch][riscv64]") {
  for (unsigned n = 1; n <= 31; ++n) {
    INFO(n);
    auto reg = isa().dwarf_register(n);
    REQUIRE(reg.has_value());
    CHECK(reg->word == n);
  }
  CHECK_FALSE(isa().dwarf_register(0).has_value());   // x0: the constant 0, no word
  CHECK_FALSE(isa().dwarf_register(32).has_value());  // f0: in NT_PRFPREG
  CHECK_FALSE(isa().dwarf_register(63).has_value());  // f31
  CHECK_FALSE(isa().dwarf_register(64).has_value());
  CHECK(isa().dwarf_register(1)->word == isa().register_by_name("ra")->word);

  // x1..x31, nothing else: the map is what CFI and location expressions
  // can name.
  CHECK(isa().dwarf_register_map().size() == 31);
}

TEST_CASE("riscv64: syscall injection is ecall alone (the core adds the trailing trap)", "[arch][riscv64]") {
  const auto sc = isa().syscall_instruction();
  // 00000073 ecall; core/remote_syscalls appends c.ebreak under TrailingTrap
  CHECK(Bytes(sc.begin(), sc.end()) == Bytes{0x73, 0x00, 0x00, 0x00});
  const auto decoded = isa().decode(Bytes(sc.begin(), sc.end()), RuntimeAddr(0x400080));
  REQUIRE(decoded.size() == 1);
  CHECK(decoded[0].text == "ecall");

  CHECK(isa().syscall_number(Syscall::Mmap) == 222);
  CHECK(isa().syscall_number(Syscall::Munmap) == 215);
  CHECK(isa().syscall_number(Syscall::Mprotect) == 226);
  CHECK(isa().syscall_number(Syscall::Madvise) == 233);
  CHECK(isa().syscall_number(Syscall::MemfdCreate) == 279);
  CHECK(isa().syscall_number(Syscall::Getpid) == 172);
  CHECK(isa().syscall_number(Syscall::Ftruncate) == 46);
  CHECK(isa().syscall_number(Syscall::Close) == 57);

  Regs regs = hit_regs(0x401234);
  const Regs before = regs;
  const uint64_t args[] = {0x10000, 0x4000, 5, 0x22, static_cast<uint64_t>(-1), 0};
  isa().prepare_syscall(regs, RuntimeAddr(0x400080), 222, args);
  CHECK(regs.words[17] == 222);  // a7
  for (size_t i = 0; i < 6; ++i) CHECK(regs.words[10 + i] == args[i]);
  CHECK(regs.words[16] == before.words[16]);  // a6 untouched
  CHECK(regs.words[1] == before.words[1]);    // ra
  CHECK(regs.words[2] == before.words[2]);    // sp
  CHECK(regs.words[0] == 0x400080);

  regs.words[10] = static_cast<uint64_t>(-12);  // -ENOMEM
  CHECK(isa().syscall_result(regs) == -12);
  regs.words[10] = 0x3ff0000000;
  CHECK(isa().syscall_result(regs) == 0x3ff0000000);
}

TEST_CASE("riscv64: decode through the Isa lists every instruction, known or not", "[arch][riscv64]") {
  // 1141 addi sp, sp, -16 | 8000 (.2byte: reserved) | 00000057 (OP-V, .4byte) | 8082 ret
  const auto decoded = isa().decode(insns({0x1141, 0x8000, 0x00000057, 0x8082}), RuntimeAddr(0x1000));
  REQUIRE(decoded.size() == 4);
  CHECK(decoded[0].text == "addi sp, sp, -16");
  CHECK(decoded[1].text == ".2byte 0x8000");
  CHECK(decoded[1].address == RuntimeAddr(0x1002));
  CHECK(decoded[2].text == ".4byte 0x57");
  CHECK(decoded[2].length == 4);
  CHECK(decoded[3].address == RuntimeAddr(0x1008));
  CHECK(decoded[3].text == "ret");
}

TEST_CASE("riscv64: only 64-bit little-endian lp64d ELF files are accepted", "[arch][riscv64]") {
  constexpr uint8_t k64 = 2, k32 = 1, kLsb = 1, kMsb = 2;
  // e_flags: 0x5 is RVC | double-float, what Debian's riscv64 files say.
  CHECK(isa().elf_refusal(k64, kLsb, 0x5).empty());
  CHECK(isa().elf_refusal(k64, kLsb, 0x4).empty());   // no RVC: still RV64GC code uptrace decodes
  CHECK(isa().elf_refusal(k64, kLsb, 0x15).empty());  // TSO
  CHECK(isa().elf_refusal(k32, kLsb, 0x5) == "a 32-bit riscv64 file (ELF class 1)");
  CHECK(isa().elf_refusal(k64, kMsb, 0x5) == "a big-endian file for riscv64's machine");
  CHECK(isa().elf_refusal(k64, kLsb, 0x1) == "a riscv64 file for the lp64 (soft-float) ABI (e_flags 0x1), not lp64d");
  CHECK(isa().elf_refusal(k64, kLsb, 0x3) == "a riscv64 file for the lp64f (single-float) ABI (e_flags 0x3), not lp64d");
  CHECK(isa().elf_refusal(k64, kLsb, 0x7) == "a riscv64 file for the lp64q (quad-float) ABI (e_flags 0x7), not lp64d");
  CHECK(isa().elf_refusal(k64, kLsb, 0xd) == "a riscv64 file for RV64E (16 registers, e_flags 0xd), not RV64GC");
}
