// Traps, registers, calling convention, syscalls and decoding of the aarch64 Isa.
#include <array>

#include <catch2/catch.hpp>

#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::aarch64;
using namespace uptrace::arch::aarch64::test;

namespace {

Instruction first(const Bytes& code) {
  auto insns = isa().decode(code, RuntimeAddr(kSite));
  REQUIRE_FALSE(insns.empty());
  return insns.front();
}

}  // namespace

TEST_CASE("aarch64: identity and sizes", "[arch][aarch64]") {
  CHECK(isa().id() == IsaId::AArch64);
  CHECK(isa().name() == "aarch64");
  CHECK(isa().elf_machine() == 183);  // EM_AARCH64
  CHECK(isa().regs_size() == 272);    // struct user_pt_regs: x0..x30, sp, pc, pstate
  CHECK(isa().slot_size() == 512);  // a jump trampoline (jump.h)
  CHECK(isa().step_mechanism() == StepMechanism::HardwareStep);
  CHECK(isa().syscall_step_mechanism() == StepMechanism::HardwareStep);
}

TEST_CASE("aarch64: the breakpoint is brk #0x7a5 and reports pc at itself", "[arch][aarch64]") {
  const auto bp = isa().breakpoint();
  // a0 f4 20 d4         brk #0x7a5
  CHECK(Bytes(bp.begin(), bp.end()) == Bytes{0xa0, 0xf4, 0x20, 0xd4});
  CHECK(first(Bytes(bp.begin(), bp.end())).text == "brk #0x7a5");
  CHECK(isa().is_trap(first(Bytes(bp.begin(), bp.end()))));

  CHECK(isa().breakpoint_address(0x401000, 1) == RuntimeAddr(0x401000));  // TRAP_BRKPT
  CHECK_FALSE(isa().breakpoint_address(0x401000, 2).has_value());         // TRAP_TRACE: a step
  CHECK_FALSE(isa().breakpoint_address(0x401000, 0).has_value());         // SI_USER: kill(SIGTRAP)
  CHECK_FALSE(isa().breakpoint_address(0x401000, 0x80).has_value());      // SI_KERNEL

  CHECK(isa().is_step_trap(2));
  CHECK_FALSE(isa().is_step_trap(1));
  CHECK_FALSE(isa().is_step_trap(0));
  // A step over svc reports from the syscall exit path with SI_USER.
  CHECK(isa().is_syscall_step_trap(0));
  CHECK(isa().is_syscall_step_trap(2));
  CHECK_FALSE(isa().is_syscall_step_trap(1));
}

TEST_CASE("aarch64: the x86 default of is_syscall_step_trap is unchanged", "[arch][aarch64]") {
  const Isa* x86 = isa_for_elf_machine(62);
  REQUIRE(x86 != nullptr);
  CHECK(x86->is_syscall_step_trap(1));  // TRAP_BRKPT, x86's user_single_step_report
  CHECK(x86->is_syscall_step_trap(2));
  CHECK_FALSE(x86->is_syscall_step_trap(0));
}

TEST_CASE("aarch64: returns are told apart (for hints that name where a function returns)", "[arch][aarch64]") {
  for (uint32_t w : {0xd65f03c0u /* ret */, 0xd65f0200u /* ret x16 */, 0xd65f0bffu /* retaa */, 0xd65f0fffu /* retab */}) {
    INFO(std::hex << w);
    CHECK(isa().is_return(first(words({w}))));
  }
  for (uint32_t w : {0xd61f0200u /* br x16 */, 0x14000000u /* b */, 0xd503201fu /* nop */}) {
    INFO(std::hex << w);
    CHECK_FALSE(isa().is_return(first(words({w}))));
  }
}

TEST_CASE("aarch64: every trap variant is a trap", "[arch][aarch64]") {
  const uint32_t traps[] = {
      0xd4200000,  // brk #0 (gdb)
      0xd42000a0,  // brk #0x5 (the kernel's uprobes)
      0xd4207d00,  // brk #0x3e8 (GCC's __builtin_trap)
      0xd4200020,  // brk #0x1 (clang's __builtin_trap)
      0xd4400000,  // hlt #0
      0x00000000,  // udf #0
      0x00001234,  // udf #0x1234
  };
  for (uint32_t w : traps) {
    INFO(std::hex << w);
    CHECK(isa().is_trap(first(words({w}))));
  }
  const uint32_t not_traps[] = {
      0xd4000001,  // svc #0
      0xd503201f,  // nop
      0xd65f03c0,  // ret
      0x00010000,  // not udf: bits 31:16 are not zero (unallocated)
  };
  for (uint32_t w : not_traps) {
    INFO(std::hex << w);
    CHECK_FALSE(isa().is_trap(first(words({w}))));
  }
}

TEST_CASE("aarch64: decode lists every word, also those Capstone does not know", "[arch][aarch64]") {
  // a9bf7bfd    stp x29, x30, [sp, #-0x10]!
  // 910003fd    mov x29, sp
  // d65f0bff    retaa (Capstone 4 cannot decode it)
  // d65f03c0    ret
  // 00          a trailing partial word: not an instruction
  Bytes code = words({0xa9bf7bfd, 0x910003fd, 0xd65f0bff, 0xd65f03c0});
  code.push_back(0x00);
  const auto insns = isa().decode(code, RuntimeAddr(0x1000));
  REQUIRE(insns.size() == 4);
  CHECK(insns[0].address == RuntimeAddr(0x1000));
  CHECK(insns[0].length == 4);
  CHECK(insns[0].text == "stp x29, x30, [sp, #-0x10]!");
  CHECK(insns[1].text == "mov x29, sp");
  CHECK(insns[2].address == RuntimeAddr(0x1008));
  CHECK(insns[2].text == ".inst 0xd65f0bff (retaa/retab)");
  CHECK(Bytes(insns[2].code().begin(), insns[2].code().end()) == Bytes{0xff, 0x0b, 0x5f, 0xd6});
  CHECK(insns[3].text == "ret");

  // Hints Capstone 4 prints as "hint #N" get their names.
  CHECK(first(words({0xd503233f})).text == "paciasp");
  CHECK(first(words({0xd50323bf})).text == "autiasp");
  CHECK(first(words({0xd503245f})).text == "bti c");
  CHECK(first(words({0xd50324df})).text == "bti jc");
  CHECK(first(words({0xd503201f})).text == "nop");

  CHECK(isa().decode(Bytes{}, RuntimeAddr(0x1000)).empty());
  CHECK(isa().decode(Bytes{0x1f, 0x20, 0x03}, RuntimeAddr(0x1000)).empty());
}

TEST_CASE("aarch64: registers by name", "[arch][aarch64]") {
  struct Case {
    const char* name;
    uint16_t word;
    uint8_t bits;
  };
  const Case cases[] = {
      {"x0", 0, 64},  {"x7", 7, 64},   {"x30", 30, 64}, {"w0", 0, 32},      {"w30", 30, 32},
      {"sp", 31, 64}, {"pc", 32, 64},  {"lr", 30, 64},  {"fp", 29, 64},     {"pstate", 33, 64},
      {"X19", 19, 64}, {"W19", 19, 32},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    auto ref = isa().register_by_name(c.name);
    REQUIRE(ref.has_value());
    CHECK(ref->word == c.word);
    CHECK(ref->bits == c.bits);
    CHECK(ref->shift == 0);
  }
  for (const char* bad : {"x31", "w31", "x", "x01", "x-1", "rax", "", "xzr", "x3a"}) {
    INFO(bad);
    CHECK_FALSE(isa().register_by_name(bad).has_value());
  }

  Regs regs;
  regs.words[5] = 0xdeadbeefcafe1234;
  CHECK(read_register(regs, *isa().register_by_name("w5")) == 0xcafe1234);
  CHECK(read_register(regs, *isa().register_by_name("x5")) == 0xdeadbeefcafe1234);

  const auto names = isa().register_names();
  CHECK(names.size() == 31 + 31 + 5);
  CHECK(std::find(names.begin(), names.end(), "x30") != names.end());
  CHECK(std::find(names.begin(), names.end(), "w0") != names.end());
  CHECK(std::find(names.begin(), names.end(), "sp") != names.end());
}

TEST_CASE("aarch64: pc, sp, arguments and return value", "[arch][aarch64]") {
  Regs regs;
  regs.words[31] = 0x7ffff000;
  regs.words[32] = 0x401000;
  CHECK(isa().pc(regs) == 0x401000);
  CHECK(isa().sp(regs) == 0x7ffff000);
  isa().set_pc(regs, 0x402000);
  CHECK(regs.words[32] == 0x402000);

  for (unsigned n = 1; n <= 8; ++n) {
    INFO(n);
    const ArgLocation a = isa().argument(n);
    REQUIRE(a.reg.has_value());
    CHECK(a.reg->word == n - 1);
    CHECK(a.reg->bits == 64);
  }
  // AAPCS64: the ninth argument is at [sp] on entry (no return address on the stack).
  CHECK_FALSE(isa().argument(9).reg.has_value());
  CHECK(isa().argument(9).stack_offset == 0);
  CHECK(isa().argument(10).stack_offset == 8);
  CHECK(isa().argument(12).stack_offset == 24);

  CHECK(isa().return_value().word == 0);
  CHECK(isa().return_value().bits == 64);
}

TEST_CASE("aarch64: DWARF register numbers are x0-x30 and sp, as NT_PRSTATUS orders them", "[arch][aarch64]") {
  for (unsigned n = 0; n <= 31; ++n) {
    INFO(n);
    auto reg = isa().dwarf_register(n);
    REQUIRE(reg.has_value());
    CHECK(reg->word == n);
  }
  CHECK_FALSE(isa().dwarf_register(32).has_value());  // pc: never a variable's home
  CHECK_FALSE(isa().dwarf_register(64).has_value());  // v0: not in NT_PRSTATUS

  // The map CFI unwinding starts from: x0-x30 (x30 the return address
  // column) and sp, by number.
  const auto map = isa().dwarf_register_map();
  REQUIRE(map.size() == 32);
  CHECK(map[30].number == 30);
  CHECK(map[30].reg.word == 30);
  CHECK(map[31].number == 31);
  CHECK(map[31].reg.word == isa().register_by_name("sp")->word);
}

TEST_CASE("aarch64: syscall injection", "[arch][aarch64]") {
  const auto svc = isa().syscall_instruction();
  // 01 00 00 d4         svc #0
  CHECK(Bytes(svc.begin(), svc.end()) == Bytes{0x01, 0x00, 0x00, 0xd4});
  CHECK(first(Bytes(svc.begin(), svc.end())).text == "svc #0");

  CHECK(isa().syscall_number(Syscall::Mmap) == 222);
  CHECK(isa().syscall_number(Syscall::Munmap) == 215);
  CHECK(isa().syscall_number(Syscall::Mprotect) == 226);
  CHECK(isa().syscall_number(Syscall::Madvise) == 233);
  CHECK(isa().syscall_number(Syscall::MemfdCreate) == 279);
  CHECK(isa().syscall_number(Syscall::Getpid) == 172);

  Regs regs = hit_regs(0x401234);
  const Regs before = regs;
  const uint64_t args[] = {0x10000, 0x4000, 5, 0x22, static_cast<uint64_t>(-1), 0};
  isa().prepare_syscall(regs, RuntimeAddr(0x400080), 222, args);
  CHECK(regs.words[8] == 222);
  for (size_t i = 0; i < 6; ++i) CHECK(regs.words[i] == args[i]);
  CHECK(regs.words[6] == before.words[6]);
  CHECK(regs.words[30] == before.words[30]);
  CHECK(regs.words[32] == 0x400080);
  CHECK(regs.words[31] == before.words[31]);
  CHECK((regs.words[33] & pstate::kBtype) == 0);  // no branch target check on the svc

  regs.words[0] = static_cast<uint64_t>(-12);  // -ENOMEM
  CHECK(isa().syscall_result(regs) == -12);
  regs.words[0] = 0x7f0000000000;
  CHECK(isa().syscall_result(regs) == 0x7f0000000000);
}

TEST_CASE("aarch64: conditions over NZCV", "[arch][aarch64]") {
  using namespace pstate;
  struct Case {
    unsigned cond;
    uint64_t flags;
    bool holds;
  };
  const Case cases[] = {
      {0, kZ, true},       {0, 0, false},             // eq
      {1, 0, true},        {1, kZ, false},            // ne
      {2, kC, true},       {2, 0, false},             // hs
      {3, 0, true},        {3, kC, false},            // lo
      {4, kN, true},       {4, 0, false},             // mi
      {5, 0, true},        {5, kN, false},            // pl
      {6, kV, true},       {6, 0, false},             // vs
      {7, 0, true},        {7, kV, false},            // vc
      {8, kC, true},       {8, kC | kZ, false},  {8, 0, false},  // hi
      {9, kZ, true},       {9, 0, true},         {9, kC, false}, // ls
      {10, kN | kV, true}, {10, 0, true},        {10, kN, false},  // ge
      {11, kN, true},      {11, kV, true},       {11, kN | kV, false},  // lt
      {12, 0, true},       {12, kZ, false},      {12, kN, false},  // gt
      {13, kZ, true},      {13, kN, true},       {13, 0, false},  // le
      {14, 0, true},       {14, kN | kZ | kC | kV, true},  // al
      {15, 0, true},       {15, kZ, true},                // nv also always holds in A64
  };
  for (const Case& c : cases) {
    INFO("cond " << c.cond << " flags " << std::hex << c.flags);
    CHECK(condition_holds(c.cond, c.flags) == c.holds);
  }
}
