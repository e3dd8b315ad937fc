// Traps, registers, calling convention, DWARF numbers and syscalls of the ppc64le Isa.
#include <algorithm>
#include <array>

#include <catch2/catch.hpp>

#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::ppc64le;
using namespace uptrace::arch::ppc64le::test;

namespace {

Instruction first(const Bytes& code) {
  auto insns = isa().decode(code, RuntimeAddr(kSite));
  REQUIRE_FALSE(insns.empty());
  return insns.front();
}

}  // namespace

TEST_CASE("ppc64le: identity and sizes", "[arch][ppc64le]") {
  CHECK(isa().id() == IsaId::Ppc64le);
  CHECK(isa().name() == "ppc64le");
  CHECK(isa().elf_machine() == 21);  // EM_PPC64
  CHECK(isa().regs_size() == 384);   // ELF_NGREG (48) words: pt_regs padded
  CHECK(isa().slot_size() == 1024);
  CHECK(isa().step_mechanism() == StepMechanism::HardwareStep);
  // sc is not traced: injected syscalls run to a trap after it.
  CHECK(isa().syscall_step_mechanism() == StepMechanism::TrailingTrap);
  // r13, a GPR, recorded by trampolines as it is (no regset, no self pointer).
  CHECK(isa().thread_pointer(hit_regs()) == 0x0d0d0d0d0d0d0d0dull);
  CHECK_FALSE(isa().thread_pointer_regset());
  CHECK(isa().jump_records_thread_pointer());
}

TEST_CASE("ppc64le: the breakpoint is trap and reports pc at itself", "[arch][ppc64le]") {
  const auto bp = isa().breakpoint();
  // 08 00 e0 7f         trap (tw 31,0,0)
  CHECK(Bytes(bp.begin(), bp.end()) == Bytes{0x08, 0x00, 0xe0, 0x7f});
  CHECK(first(Bytes(bp.begin(), bp.end())).text == "trap");
  CHECK(isa().is_trap(first(Bytes(bp.begin(), bp.end()))));

  CHECK(isa().breakpoint_address(0x10001000, 1) == RuntimeAddr(0x10001000));  // TRAP_BRKPT
  CHECK_FALSE(isa().breakpoint_address(0x10001000, 2).has_value());           // TRAP_TRACE: a step
  CHECK_FALSE(isa().breakpoint_address(0x10001000, 0).has_value());           // SI_USER: kill(SIGTRAP)
  CHECK_FALSE(isa().breakpoint_address(0x10001000, 0x80).has_value());        // SI_KERNEL

  CHECK(isa().is_step_trap(2));
  CHECK_FALSE(isa().is_step_trap(1));
  CHECK_FALSE(isa().is_step_trap(0));
  // Never asked (syscall_step_mechanism is TrailingTrap): no step over sc ends right after it.
  CHECK_FALSE(isa().is_syscall_step_trap(0));
  CHECK_FALSE(isa().is_syscall_step_trap(2));
}

TEST_CASE("ppc64le: every trap variant is a trap, whatever its TO field", "[arch][ppc64le]") {
  const uint32_t traps[] = {
      0x7fe00008,  // trap
      0x7c832008,  // tweq r3,r4
      0x7fe00088,  // tdu r0,r0
      0x7c032088,  // td 0,r3,r4: TO 0 never fires
      0x0fe00007,  // twui r0,7
      0x08030000,  // tdi 0,r3,0
      0x0b030000,  // tdnei r3,0
      0x0ca9ffff,  // twlgei r9,-1
  };
  for (uint32_t w : traps) {
    INFO(std::hex << w);
    CHECK(isa().is_trap(first(words({w}))));
  }
  const uint32_t not_traps[] = {
      0x44000002,  // sc
      0x60000000,  // nop
      0x4e800020,  // blr
      0x7c0802a6,  // mflr r0
  };
  for (uint32_t w : not_traps) {
    INFO(std::hex << w);
    CHECK_FALSE(isa().is_trap(first(words({w}))));
  }
  // A prefixed instruction is never a trap, whatever its suffix looks like.
  CHECK_FALSE(isa().is_trap(first(words({0x04000000, 0xe4640010}))));
}

TEST_CASE("ppc64le: registers by name", "[arch][ppc64le]") {
  struct Case {
    const char* name;
    uint16_t word;
  };
  const Case cases[] = {
      {"r0", 0},    {"r3", 3},    {"r31", 31},  {"sp", 1},     {"toc", 2},  {"pc", 32}, {"nip", 32},
      {"msr", 33},  {"ctr", 35},  {"lr", 36},   {"xer", 37},   {"cr", 38},  {"R10", 10}, {"LR", 36},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    auto ref = isa().register_by_name(c.name);
    REQUIRE(ref.has_value());
    CHECK(ref->word == c.word);
    CHECK(ref->bits == 64);
  }
  for (const char* bad : {"r32", "r", "r01", "r-1", "x0", "", "rax", "f0", "r3a"}) {
    INFO(bad);
    CHECK_FALSE(isa().register_by_name(bad).has_value());
  }
  const auto names = isa().register_names();
  CHECK(names.size() == 32 + 9);
  CHECK(std::find(names.begin(), names.end(), "r31") != names.end());
  CHECK(std::find(names.begin(), names.end(), "lr") != names.end());
  CHECK(std::find(names.begin(), names.end(), "ctr") != names.end());
  CHECK(isa().sp_word() == 1);
}

TEST_CASE("ppc64le: pc, sp, arguments and return value", "[arch][ppc64le]") {
  Regs regs;
  regs.words[1] = 0x7ffff000;
  regs.words[32] = 0x10001000;
  CHECK(isa().pc(regs) == 0x10001000);
  CHECK(isa().sp(regs) == 0x7ffff000);
  isa().set_pc(regs, 0x10002000);
  CHECK(regs.words[32] == 0x10002000);

  // ELFv2: r3..r10, then the parameter save area at sp+32 (one doubleword per argument).
  for (unsigned n = 1; n <= 8; ++n) {
    INFO(n);
    const ArgLocation a = isa().argument(n);
    REQUIRE(a.reg.has_value());
    CHECK(a.reg->word == n + 2);
  }
  CHECK_FALSE(isa().argument(9).reg.has_value());
  CHECK(isa().argument(9).stack_offset == 96);
  CHECK(isa().argument(10).stack_offset == 104);
  CHECK(isa().return_value().word == 3);
}

TEST_CASE("ppc64le: DWARF register numbers", "[arch][ppc64le]") {
  for (unsigned n = 0; n <= 31; ++n) {
    INFO(n);
    auto reg = isa().dwarf_register(n);
    REQUIRE(reg.has_value());
    CHECK(reg->word == n);
  }
  CHECK(isa().dwarf_register(65)->word == 36);  // LR
  CHECK(isa().dwarf_register(66)->word == 35);  // CTR
  CHECK(isa().dwarf_register(76)->word == 37);  // XER
  CHECK_FALSE(isa().dwarf_register(32).has_value());  // f0: not in NT_PRSTATUS
  CHECK_FALSE(isa().dwarf_register(64).has_value());  // CR
  CHECK_FALSE(isa().dwarf_register(77).has_value());  // vr0

  // The map CFI unwinding starts from: r0-r31, LR (the return address
  // column), CTR and XER, with the gap between 31 and 65.
  const auto map = isa().dwarf_register_map();
  REQUIRE(map.size() == 35);
  CHECK(map[1].number == 1);  // r1, the CFA's register
  CHECK(map[1].reg.word == 1);
  CHECK(map[32].number == 65);
  CHECK(map[32].reg.word == 36);
  Regs regs;

  // %return: the link register, and ret leaves r1 as at the entry.
  CHECK(isa().return_address_name() == "lr");
  const ReturnAddressSlot slot = isa().return_address_slot(regs);
  CHECK(slot.kind == ReturnAddressSlot::Kind::Register);
  CHECK(slot.reg.word == 36);
  CHECK(isa().sp_after_return(0x7ffff000) == 0x7ffff000);
  CHECK(isa().return_hijack_refusal({}).empty());
}

TEST_CASE("ppc64le: syscall injection", "[arch][ppc64le]") {
  const auto sc = isa().syscall_instruction();
  // 02 00 00 44         sc
  CHECK(Bytes(sc.begin(), sc.end()) == Bytes{0x02, 0x00, 0x00, 0x44});
  CHECK(first(Bytes(sc.begin(), sc.end())).text == "sc");

  CHECK(isa().syscall_number(Syscall::Mmap) == 90);
  CHECK(isa().syscall_number(Syscall::Munmap) == 91);
  CHECK(isa().syscall_number(Syscall::Mprotect) == 125);
  CHECK(isa().syscall_number(Syscall::Madvise) == 205);
  CHECK(isa().syscall_number(Syscall::MemfdCreate) == 360);
  CHECK(isa().syscall_number(Syscall::Getpid) == 20);
  CHECK(isa().syscall_number(Syscall::Ftruncate) == 93);
  CHECK(isa().syscall_number(Syscall::Close) == 6);

  Regs regs = hit_regs(0x10001234);
  regs.words[kTrap] = 0xc00;  // stopped inside a system call
  const Regs before = regs;
  const uint64_t args[] = {0x10000, 0x10000, 5, 0x22, static_cast<uint64_t>(-1), 0};
  isa().prepare_syscall(regs, RuntimeAddr(0x10000080), 90, args);
  CHECK(regs.words[0] == 90);
  for (size_t i = 0; i < 6; ++i) CHECK(regs.words[3 + i] == args[i]);
  CHECK(regs.words[9] == before.words[9]);
  CHECK(regs.words[kNip] == 0x10000080);
  CHECK(regs.words[kSp] == before.words[kSp]);
  CHECK(regs.words[kToc] == before.words[kToc]);
  CHECK(regs.words[kTrap] == 0);  // no restart of the interrupted call onto the sc

  // Failure: CR0.SO set and the positive errno in r3.
  regs.words[3] = 12;  // ENOMEM
  regs.words[kCcr] = kCr0So;
  CHECK(isa().syscall_result(regs) == -12);
  regs.words[3] = 0x7fff00000000;
  regs.words[kCcr] = 0x20000000;  // CR0.EQ only
  CHECK(isa().syscall_result(regs) == 0x7fff00000000);
}
