#pragma once
// The x86-64 instruction set behind the Isa interface (Linux, SysV ABI).
#include <memory>

#include "arch/isa.h"

namespace uptrace::arch::x86_64 {

class Decoder;

class X86_64Isa final : public Isa {
 public:
  X86_64Isa();
  ~X86_64Isa() override;

  IsaId id() const override { return IsaId::X86_64; }
  std::string_view name() const override { return "x86_64"; }
  uint16_t elf_machine() const override;
  std::string elf_refusal(uint8_t elf_class, uint8_t elf_data, uint32_t) const override {
    return elf64_lsb_refusal(*this, elf_class, elf_data);
  }

  std::vector<Instruction> decode(std::span<const uint8_t> code, RuntimeAddr start) const override;
  bool is_trap(const Instruction& insn) const override;
  bool is_return(const Instruction& insn) const override;
  std::string go_argument_registers() const override;
  SiteAnalysis analyze(const SiteContext& ctx) const override;
  size_t slot_size() const override;

  std::span<const uint8_t> breakpoint() const override;
  std::optional<RuntimeAddr> breakpoint_address(uint64_t pc, int si_code) const override;
  bool is_step_trap(int si_code) const override;
  // x86 reports the step over a syscall with its own TRAP_BRKPT: any
  // kernel-sent si_code.
  bool is_syscall_step_trap(int si_code) const override { return si_code > 0; }
  StepMechanism step_mechanism() const override { return StepMechanism::HardwareStep; }

  size_t regs_size() const override;
  uint64_t pc(const Regs& r) const override;
  void set_pc(Regs& r, uint64_t pc) const override;
  uint64_t sp(const Regs& r) const override;
  std::optional<RegisterRef> register_by_name(std::string_view name) const override;
  std::vector<std::string> register_names() const override;
  ArgLocation argument(unsigned n) const override;
  RegisterRef return_value() const override;
  uint64_t thread_pointer(const Regs& r) const override;
  std::span<const DwarfRegister> dwarf_register_map() const override;
  std::string_view return_address_name() const override { return "[rsp]"; }
  ReturnAddressSlot return_address_slot(const Regs& r) const override;
  uint64_t sp_after_return(uint64_t entry_sp) const override { return entry_sp + 8; }
  // No x86-64 function signs or hides its return address.
  std::string return_hijack_refusal(std::span<const Instruction>) const override { return {}; }

  std::span<const uint8_t> syscall_instruction() const override;
  long syscall_number(Syscall s) const override;
  void prepare_syscall(Regs& r, RuntimeAddr insn_addr, long nr, std::span<const uint64_t> args) const override;
  int64_t syscall_result(const Regs& r) const override;

 private:
  const Decoder& decoder() const;
  // Capstone handles are not thread-safe; uptrace is single-threaded, so one
  // lazily opened handle per Isa is enough.
  mutable std::unique_ptr<Decoder> decoder_;
};

// The registry entry (see arch/isa_list.inc).
const Isa& x86_64_isa();

}  // namespace uptrace::arch::x86_64
