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

TEST_CASE("the registry knows x86_64, aarch64 and riscv64 and finds them by ELF machine", "[arch]") {
  REQUIRE(all_isas().size() == 3);
  CHECK(all_isas()[0]->id() == IsaId::X86_64);
  CHECK(all_isas()[0]->name() == "x86_64");
  CHECK(all_isas()[1]->id() == IsaId::AArch64);
  CHECK(all_isas()[1]->name() == "aarch64");
  CHECK(all_isas()[2]->id() == IsaId::Riscv64);
  CHECK(all_isas()[2]->name() == "riscv64");

  const Isa* by_machine = isa_for_elf_machine(62);  // EM_X86_64
  REQUIRE(by_machine != nullptr);
  CHECK(by_machine == all_isas()[0]);
  CHECK(isa_for_elf_machine(183) == all_isas()[1]);  // EM_AARCH64
  CHECK(isa_for_elf_machine(243) == all_isas()[2]);  // EM_RISCV
  CHECK(isa_for_elf_machine(21) == nullptr);         // EM_PPC64: not yet
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

TEST_CASE("x86_64 and aarch64 step with the hardware, and their plans have no trailing trap", "[arch]") {
  for (uint16_t machine : {62, 183}) {  // EM_X86_64, EM_AARCH64
    const Isa* isa = isa_for_elf_machine(machine);
    REQUIRE(isa != nullptr);
    INFO(isa->name());
    CHECK(isa->has_hardware_single_step());
    CHECK(isa->step_mechanism() == StepMechanism::HardwareStep);
  }
  // A stepped plan on each: add rax, 1 (48 83 c0 01) and add x0, x1, #1.
  const std::vector<std::pair<uint16_t, std::vector<uint8_t>>> sites = {
      {62, {0x48, 0x83, 0xc0, 0x01}}, {183, {0x20, 0x04, 0x00, 0x91}}};
  for (const auto& [machine, code] : sites) {
    const Isa* isa = isa_for_elf_machine(machine);
    SiteContext ctx{RuntimeAddr(0x401000), code, RuntimeAddr(0x401000), RuntimeAddr(0x7f0000001000), ModeRequest::Trap};
    const SiteAnalysis a = isa->analyze(ctx);
    INFO(isa->name() << ": " << a.refusal);
    REQUIRE(a.plan != nullptr);
    CHECK(a.plan->mode() == ExecMode::Trap);
    CHECK_FALSE(a.plan->trailing_trap().has_value());
  }
}

TEST_CASE("x86_64 and aarch64 read 64-bit little-endian ELF files, whatever their e_flags", "[arch]") {
  constexpr uint8_t k64 = 2, k32 = 1, kLsb = 1, kMsb = 2;
  for (uint16_t machine : {62, 183}) {  // EM_X86_64, EM_AARCH64
    const Isa* isa = isa_for_elf_machine(machine);
    REQUIRE(isa != nullptr);
    INFO(isa->name());
    CHECK(isa->elf_refusal(k64, kLsb, 0).empty());
    CHECK(isa->elf_refusal(k64, kLsb, 0xffffffff).empty());
    CHECK(isa->elf_refusal(k32, kLsb, 0) == "is not a 64-bit ELF file (EI_CLASS 1): uptrace probes 64-bit code only");
    CHECK(isa->elf_refusal(k64, kMsb, 0) ==
          "is not a little-endian ELF file (EI_DATA 2): uptrace probes little-endian code only");
  }
  CHECK(elf_header_refusal(k64, kLsb).empty());
  CHECK_FALSE(elf_header_refusal(0, kLsb).empty());
  CHECK_FALSE(elf_header_refusal(k64, 0).empty());
}
