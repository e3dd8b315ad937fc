// Traps, registers, calling convention, syscalls and decoding of the x86-64 Isa.
#include <catch2/catch.hpp>

#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::x86_64;
using namespace uptrace::arch::x86_64::test;

TEST_CASE("x86_64: identity and sizes", "[arch][x86_64]") {
  CHECK(isa().id() == IsaId::X86_64);
  CHECK(isa().name() == "x86_64");
  CHECK(isa().elf_machine() == 62);
  CHECK(isa().regs_size() == 27 * 8);  // sizeof(struct user_regs_struct)
  CHECK(isa().slot_size() == 512);
  CHECK(isa().step_mechanism() == StepMechanism::HardwareStep);
}

TEST_CASE("x86_64: the breakpoint is int3 and reports pc past it", "[arch][x86_64]") {
  const auto bp = isa().breakpoint();
  CHECK(Bytes(bp.begin(), bp.end()) == Bytes{0xcc});

  CHECK(isa().breakpoint_address(0x401001, 0x80) == RuntimeAddr(0x401000));  // SI_KERNEL
  CHECK_FALSE(isa().breakpoint_address(0x401001, 2).has_value());             // TRAP_TRACE: a step
  CHECK_FALSE(isa().breakpoint_address(0x401001, 1).has_value());             // TRAP_BRKPT
  CHECK_FALSE(isa().breakpoint_address(0x401001, 0).has_value());             // SI_USER: kill(SIGTRAP)

  CHECK(isa().is_step_trap(2));
  CHECK_FALSE(isa().is_step_trap(0x80));
  CHECK_FALSE(isa().is_step_trap(1));
}

TEST_CASE("x86_64: returns are told apart (for hints that name where a function returns)", "[arch][x86_64]") {
  auto first = [](const Bytes& code) {
    auto insns = isa().decode(code, RuntimeAddr(kSite));
    REQUIRE_FALSE(insns.empty());
    return insns.front();
  };
  CHECK(isa().is_return(first({0xc3})));              // ret
  CHECK(isa().is_return(first({0xc2, 0x08, 0x00})));  // ret 8
  CHECK(isa().is_return(first({0xf3, 0xc3})));        // rep ret
  CHECK(isa().is_return(first({0xf2, 0xc3})));        // bnd ret
  CHECK_FALSE(isa().is_return(first({0xe9, 0, 0, 0, 0})));  // jmp rel32 (a tail call)
  CHECK_FALSE(isa().is_return(first({0xff, 0xe0})));        // jmp rax
  CHECK_FALSE(isa().is_return(first({0xcc})));              // int3
}

TEST_CASE("x86_64: every trap variant is a trap, with or without prefixes", "[arch][x86_64]") {
  auto first = [](const Bytes& code) {
    auto insns = isa().decode(code, RuntimeAddr(kSite));
    REQUIRE_FALSE(insns.empty());
    return insns.front();
  };
  // cc                int3
  CHECK(isa().is_trap(first({0xcc})));
  // cd 03             int 3
  CHECK(isa().is_trap(first({0xcd, 0x03})));
  // f1                int1
  CHECK(isa().is_trap(first({0xf1})));
  // f3 cc             rep int3
  CHECK(isa().is_trap(first({0xf3, 0xcc})));
  // 66 cd 03          data16 int 3
  CHECK(isa().is_trap(first({0x66, 0xcd, 0x03})));
  // 2e f1             cs int1
  CHECK(isa().is_trap(first({0x2e, 0xf1})));

  // cd 80             int 0x80: a system call, not a breakpoint
  CHECK_FALSE(isa().is_trap(first({0xcd, 0x80})));
  // 90                nop
  CHECK_FALSE(isa().is_trap(first({0x90})));
  // c4 e2 79 18 05 00 00 00 00   vbroadcastss: VEX bytes are not legacy opcodes
  CHECK_FALSE(isa().is_trap(first({0xc4, 0xe2, 0x79, 0x18, 0x05, 0x00, 0x00, 0x00, 0x00})));
}

TEST_CASE("x86_64: decode is linear and stops at an undecodable byte", "[arch][x86_64]") {
  // 55          push rbp
  // 48 89 e5    mov rbp, rsp
  // 06          (invalid in 64-bit mode)
  // c3          ret
  const Bytes code{0x55, 0x48, 0x89, 0xe5, 0x06, 0xc3};
  const auto insns = isa().decode(code, RuntimeAddr(0x1000));
  REQUIRE(insns.size() == 2);
  CHECK(insns[0].address == RuntimeAddr(0x1000));
  CHECK(insns[0].length == 1);
  CHECK(insns[0].text == "push rbp");
  CHECK(insns[1].address == RuntimeAddr(0x1001));
  CHECK(insns[1].length == 3);
  CHECK(insns[1].text == "mov rbp, rsp");
  CHECK(Bytes(insns[1].code().begin(), insns[1].code().end()) == Bytes{0x48, 0x89, 0xe5});

  // 48 8b 05 e1 2e 00 00    mov rax, qword ptr [rip + 0x2ee1]
  // c3                      ret
  const auto two = isa().decode(Bytes{0x48, 0x8b, 0x05, 0xe1, 0x2e, 0x00, 0x00, 0xc3}, RuntimeAddr(0x2000));
  REQUIRE(two.size() == 2);
  CHECK(two[0].text == "mov rax, qword ptr [rip + 0x2ee1]");
  CHECK(two[1].text == "ret");
  CHECK(two[1].address == RuntimeAddr(0x2007));

  CHECK(isa().decode(Bytes{}, RuntimeAddr(0x1000)).empty());
  CHECK(isa().decode(Bytes{0x06}, RuntimeAddr(0x1000)).empty());
}

TEST_CASE("x86_64: DWARF register numbers map to the psABI registers", "[arch][x86_64]") {
  // psABI order, which is neither the encoding order nor user_regs_struct's.
  const char* names[] = {"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", "r8",
                         "r9",  "r10", "r11", "r12", "r13", "r14", "r15", "rip"};
  for (unsigned n = 0; n < 17; ++n) {
    INFO(n);
    auto ref = isa().dwarf_register(n);
    REQUIRE(ref.has_value());
    CHECK(ref->word == isa().register_by_name(names[n])->word);
    CHECK(ref->bits == 64);
  }
  CHECK_FALSE(isa().dwarf_register(17).has_value());  // xmm0: not in NT_PRSTATUS
  CHECK_FALSE(isa().dwarf_register(1000).has_value());
}

TEST_CASE("x86_64: registers by name, including parts", "[arch][x86_64]") {
  struct Case {
    const char* name;
    uint16_t word;
    uint8_t bits;
    uint8_t shift;
  };
  const Case cases[] = {
      {"rax", 10, 64, 0}, {"eax", 10, 32, 0}, {"ax", 10, 16, 0}, {"al", 10, 8, 0}, {"ah", 10, 8, 8},
      {"bh", 5, 8, 8},    {"rsi", 13, 64, 0}, {"sil", 13, 8, 0}, {"r8", 9, 64, 0}, {"r8d", 9, 32, 0},
      {"r8w", 9, 16, 0},  {"r8b", 9, 8, 0},   {"r15", 0, 64, 0}, {"rip", 16, 64, 0}, {"eflags", 18, 64, 0},
      {"rsp", 19, 64, 0}, {"orig_rax", 15, 64, 0}, {"fs_base", 21, 64, 0}, {"gs", 26, 16, 0},
      {"RDI", 14, 64, 0},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    auto ref = isa().register_by_name(c.name);
    REQUIRE(ref.has_value());
    CHECK(ref->word == c.word);
    CHECK(ref->bits == c.bits);
    CHECK(ref->shift == c.shift);
  }
  CHECK_FALSE(isa().register_by_name("x0").has_value());
  CHECK_FALSE(isa().register_by_name("").has_value());

  Regs regs;
  regs.words[kRax] = 0xdeadbeefcafe1234;
  regs.words[kR8] = 0x1111222233334444;
  CHECK(read_register(regs, *isa().register_by_name("ah")) == 0x12);
  CHECK(read_register(regs, *isa().register_by_name("r8d")) == 0x33334444);

  const auto names = isa().register_names();
  CHECK(std::find(names.begin(), names.end(), "r8d") != names.end());
  CHECK(std::find(names.begin(), names.end(), "eflags") != names.end());
}

TEST_CASE("x86_64: register writes follow x86 semantics", "[arch][x86_64]") {
  Regs regs;
  regs.words[kRax] = 0xffffffffffffffff;
  write_register(regs, *register_by_name("eax"), 0x12345678);
  CHECK(regs.words[kRax] == 0x12345678);  // a 32-bit write clears the upper half
  regs.words[kRax] = 0xffffffffffffffff;
  write_register(regs, *register_by_name("ax"), 0x1234);
  CHECK(regs.words[kRax] == 0xffffffffffff1234);
  write_register(regs, *register_by_name("ah"), 0x56);
  CHECK(regs.words[kRax] == 0xffffffffffff5634);
}

TEST_CASE("x86_64: pc, sp, arguments and return value", "[arch][x86_64]") {
  Regs regs;
  isa().set_pc(regs, 0x401234);
  CHECK(regs.words[kRip] == 0x401234);
  CHECK(isa().pc(regs) == 0x401234);
  regs.words[kRsp] = 0x7ffc0000;
  CHECK(isa().sp(regs) == 0x7ffc0000);

  const uint16_t expected[] = {kRdi, kRsi, kRdx, kRcx, kR8, kR9};
  for (unsigned n = 1; n <= 6; ++n) {
    INFO("arg" << n);
    const ArgLocation at = isa().argument(n);
    REQUIRE(at.reg.has_value());
    CHECK(at.reg->word == expected[n - 1]);
    CHECK(at.reg->bits == 64);
  }
  // [sp] holds the return address at entry: arg7 is the next word.
  const ArgLocation arg7 = isa().argument(7);
  CHECK_FALSE(arg7.reg.has_value());
  CHECK(arg7.stack_offset == 8);
  CHECK(isa().argument(9).stack_offset == 24);

  CHECK(isa().return_value().word == kRax);
  CHECK(isa().return_value().bits == 64);
}

TEST_CASE("x86_64: syscall injection", "[arch][x86_64]") {
  const auto insn = isa().syscall_instruction();
  CHECK(Bytes(insn.begin(), insn.end()) == Bytes{0x0f, 0x05});
  CHECK(isa().syscall_number(Syscall::Mmap) == 9);
  CHECK(isa().syscall_number(Syscall::Mprotect) == 10);
  CHECK(isa().syscall_number(Syscall::Munmap) == 11);
  CHECK(isa().syscall_number(Syscall::Madvise) == 28);
  CHECK(isa().syscall_number(Syscall::Getpid) == 39);
  CHECK(isa().syscall_number(Syscall::MemfdCreate) == 319);

  Regs regs;
  regs.words[kOrigRax] = 7;  // stopped inside an interrupted read(2), say
  regs.words[kRcx] = 0x5555;
  regs.words[kRbx] = 0x6666;
  const uint64_t args[] = {0x10000, 0x2000, 5, 0x22, 0xffffffffffffffff, 0};
  isa().prepare_syscall(regs, RuntimeAddr(0x401000), 9, args);
  CHECK(regs.words[kRax] == 9);
  CHECK(regs.words[kRdi] == 0x10000);
  CHECK(regs.words[kRsi] == 0x2000);
  CHECK(regs.words[kRdx] == 5);
  CHECK(regs.words[kR10] == 0x22);
  CHECK(regs.words[kR8] == 0xffffffffffffffff);
  CHECK(regs.words[kR9] == 0);
  CHECK(regs.words[kRip] == 0x401000);
  CHECK(regs.words[kOrigRax] == 0xffffffffffffffff);
  CHECK(regs.words[kRcx] == 0x5555);  // not an argument register for syscalls
  CHECK(regs.words[kRbx] == 0x6666);

  regs.words[kRax] = static_cast<uint64_t>(-12);  // -ENOMEM
  CHECK(isa().syscall_result(regs) == -12);
  regs.words[kRax] = 0x7f0000000000;
  CHECK(isa().syscall_result(regs) == 0x7f0000000000);
}

TEST_CASE("x86_64: the return address is the word at rsp at the entry, and ret pops it", "[arch][x86_64][return]") {
  CHECK(isa().return_address_name() == "[rsp]");
  Regs regs;
  regs.words[kRsp] = 0x7ffc0008;
  const ReturnAddressSlot slot = isa().return_address_slot(regs);
  CHECK(slot.kind == ReturnAddressSlot::Kind::Memory);
  CHECK(slot.addr == RuntimeAddr(0x7ffc0008));
  CHECK(isa().sp_after_return(0x7ffc0008) == 0x7ffc0010);
  // Nothing in x86-64 code makes uptrace refuse to replace it.
  const Bytes code = {0x55, 0x48, 0x89, 0xe5, 0x5d, 0xc3};  // push rbp; mov rbp, rsp; pop rbp; ret
  CHECK(isa().return_hijack_refusal(isa().decode(code, RuntimeAddr(0x401000))).empty());
}
