#include <catch2/catch.hpp>

#include "arch/isa.h"

using namespace uptrace;
using namespace uptrace::arch;

TEST_CASE("exec modes and mode requests print and parse", "[arch]") {
  CHECK(to_string(ExecMode::Trap) == "trap");
  CHECK(to_string(ExecMode::Boost) == "boost");
  CHECK(to_string(ExecMode::Emulate) == "emulate");
  CHECK(to_string(ExecMode::Jump) == "jump");

  for (ModeRequest m : {ModeRequest::Auto, ModeRequest::Trap, ModeRequest::Boost, ModeRequest::Emulate,
                        ModeRequest::Jump}) {
    CHECK(parse_mode_request(to_string(m)) == m);
  }
  CHECK(to_string(ModeRequest::Auto) == "auto");
  CHECK(parse_mode_request("emulate") == ModeRequest::Emulate);
  CHECK_FALSE(parse_mode_request("Trap").has_value());
  CHECK_FALSE(parse_mode_request("").has_value());
  CHECK_FALSE(parse_mode_request("fast").has_value());
}

TEST_CASE("the registry knows x86_64, aarch64 and ppc64le and finds them by ELF machine", "[arch]") {
  REQUIRE(all_isas().size() == 3);
  CHECK(all_isas()[0]->id() == IsaId::X86_64);
  CHECK(all_isas()[0]->name() == "x86_64");
  CHECK(all_isas()[1]->id() == IsaId::AArch64);
  CHECK(all_isas()[1]->name() == "aarch64");

  const Isa* by_machine = isa_for_elf_machine(62);  // EM_X86_64
  REQUIRE(by_machine != nullptr);
  CHECK(by_machine == all_isas()[0]);
  CHECK(isa_for_elf_machine(183) == all_isas()[1]);  // EM_AARCH64
  CHECK(all_isas()[2]->id() == IsaId::Ppc64le);
  CHECK(all_isas()[2]->name() == "ppc64le");
  CHECK(isa_for_elf_machine(21) == all_isas()[2]);  // EM_PPC64
  CHECK(isa_for_elf_machine(243) == nullptr);       // EM_RISCV: not yet
  CHECK(isa_for_elf_machine(0) == nullptr);
}

#if defined(__x86_64__)
TEST_CASE("the native ISA of an x86-64 host is x86_64", "[arch]") {
  CHECK(native_isa().id() == IsaId::X86_64);
  CHECK(&native_isa() == all_isas()[0]);
}
#endif

TEST_CASE("read_register extracts a register part", "[arch]") {
  Regs regs;
  regs.words[3] = 0x1122334455667788;
  CHECK(read_register(regs, {3, 64, 0}) == 0x1122334455667788);
  CHECK(read_register(regs, {3, 32, 0}) == 0x55667788);
  CHECK(read_register(regs, {3, 16, 0}) == 0x7788);
  CHECK(read_register(regs, {3, 8, 0}) == 0x88);
  CHECK(read_register(regs, {3, 8, 8}) == 0x77);
}

TEST_CASE("each ISA says which ELF files of its machine it runs: class, byte order, ABI flags", "[arch]") {
  const Isa& x86 = *isa_for_elf_machine(62);
  CHECK(x86.elf_refusal(2, 1, 0).empty());
  CHECK(x86.elf_refusal(1, 1, 0) == "a 32-bit x86_64 file (ELF class 1)");  // x32 or i386 under EM_X86_64
  const Isa& a64 = *isa_for_elf_machine(183);
  CHECK(a64.elf_refusal(2, 1, 0).empty());
  CHECK(a64.elf_refusal(2, 2, 0) == "a big-endian file for aarch64's machine");
  const Isa& ppc = *isa_for_elf_machine(21);
  CHECK(ppc.elf_refusal(2, 1, 2).empty());  // ELFv2
  CHECK(ppc.elf_refusal(2, 2, 1) == "a big-endian ppc64 file");
  CHECK(ppc.elf_refusal(2, 1, 1) == "a ppc64 file for the ELFv1 ABI (e_flags 0x1), not ELFv2");
  CHECK(ppc.elf_refusal(2, 1, 0) == "a ppc64 file that does not say it is for the ELFv2 ABI (e_flags 0x0)");
}
