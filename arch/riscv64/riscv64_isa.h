#pragma once
// The riscv64 instruction set behind the Isa interface: RV64GC, the lp64d
// ABI, Linux. Every virtual of Isa is implemented here, defaults included,
// so nothing riscv64 does is an accident of another ISA's default.
#include "arch/isa.h"

namespace uptrace::arch::riscv64 {

class Riscv64Isa final : public Isa {
 public:
  IsaId id() const override { return IsaId::Riscv64; }
  std::string_view name() const override { return "riscv64"; }
  uint16_t elf_machine() const override;
  // A 64-bit little-endian file of the lp64d ABI (e_flags' float ABI
  // "double"), not RV64E.
  std::string elf_refusal(uint8_t elf_class, uint8_t elf_data, uint32_t flags) const override;

  std::vector<Instruction> decode(std::span<const uint8_t> code, RuntimeAddr start) const override;
  bool is_trap(const Instruction& insn) const override;
  // ret (jalr zero, 0(ra)) and c.jr ra, which is the same instruction.
  bool is_return(const Instruction& insn) const override;
  SiteAnalysis analyze(const SiteContext& ctx) const override;
  // A jump trampoline, in its two forms (riscv64/jump.h): up to three
  // probes' records at one site with 4 values each. A boost slot
  // (riscv64/boost.h) needs 16 bytes: a copy of at most 4 bytes, the 4-byte
  // jal back, then the stepped form (the copy again and its 2-byte trailing
  // c.ebreak); a step plan's slot its first 6 bytes' worth.
  static constexpr size_t kSlotSize = 1024;
  size_t slot_size() const override { return kSlotSize; }
  // jal's reach: a boost's jal back and a jump's jal to the trampoline.
  uint64_t slot_reach() const override { return uint64_t{1} << 20; }

  std::span<const uint8_t> breakpoint() const override;
  std::optional<RuntimeAddr> breakpoint_address(uint64_t pc, int si_code) const override;
  bool is_step_trap(int si_code) const override;
  bool is_syscall_step_trap(int si_code) const override;
  StepMechanism step_mechanism() const override { return StepMechanism::TrailingTrap; }
  // No single step at all (PTRACE_SINGLESTEP fails with EIO), so a borrowed
  // ecall is run to the breakpoint written after it, as every copy is.
  StepMechanism syscall_step_mechanism() const override { return StepMechanism::TrailingTrap; }

  size_t regs_size() const override;
  uint64_t pc(const Regs& r) const override;
  void set_pc(Regs& r, uint64_t pc) const override;
  uint64_t sp(const Regs& r) const override;
  std::optional<RegisterRef> register_by_name(std::string_view name) const override;
  std::vector<std::string> register_names() const override;
  // tp (x4): glibc's thread pointer, one per thread; trampolines record it
  // as it is (jump.h), so it names the thread with no system call.
  uint64_t thread_pointer(const Regs& r) const override;
  bool jump_records_thread_pointer() const override { return true; }
  ArgLocation argument(unsigned n) const override;
  RegisterRef return_value() const override;
  std::span<const DwarfRegister> dwarf_register_map() const override;

  // %return: jal/jalr leave the return address in ra; the prologue (if any)
  // saves it where the function's CFI says.
  std::string_view return_address_name() const override { return "ra"; }
  ReturnAddressSlot return_address_slot(const Regs& r) const override;
  uint64_t sp_after_return(uint64_t entry_sp) const override;
  std::string return_hijack_refusal(std::span<const Instruction> code) const override;

  std::span<const uint8_t> syscall_instruction() const override;
  long syscall_number(Syscall s) const override;
  void prepare_syscall(Regs& r, RuntimeAddr insn_addr, long nr, std::span<const uint64_t> args) const override;
  int64_t syscall_result(const Regs& r) const override;
  bool decides_restart_before_stop() const override { return true; }
};

// The registry entry (see arch/isa_list.inc).
const Isa& riscv64_isa();

}  // namespace uptrace::arch::riscv64
