#pragma once
// The aarch64 (A64, little-endian) instruction set behind the Isa interface
// (Linux, AAPCS64).
#include <memory>

#include "arch/isa.h"

namespace uptrace::arch::aarch64 {

class Decoder;

class AArch64Isa final : public Isa {
 public:
  AArch64Isa();
  ~AArch64Isa() override;

  IsaId id() const override { return IsaId::AArch64; }
  std::string_view name() const override { return "aarch64"; }
  uint16_t elf_machine() const override;
  std::string elf_refusal(uint8_t elf_class, uint8_t elf_data, uint32_t) const override {
    return elf64_lsb_refusal(*this, elf_class, elf_data);
  }

  std::vector<Instruction> decode(std::span<const uint8_t> code, RuntimeAddr start) const override;
  bool is_trap(const Instruction& insn) const override;
  bool is_return(const Instruction& insn) const override;
  SiteAnalysis analyze(const SiteContext& ctx) const override;
  // A jump trampoline (jump.h): up to 4 probes' records at one site with
  // 4 values each; every other plan needs 16 bytes (one instruction and a
  // copied branch's in-slot landing point, analyzer.h kTakenOffsetInSlot).
  static constexpr size_t kSlotSize = 512;
  size_t slot_size() const override { return kSlotSize; }

  std::span<const uint8_t> breakpoint() const override;
  std::optional<RuntimeAddr> breakpoint_address(uint64_t pc, int si_code) const override;
  bool is_step_trap(int si_code) const override;
  bool is_syscall_step_trap(int si_code) const override;
  std::span<const DwarfRegister> dwarf_register_map() const override;
  StepMechanism step_mechanism() const override { return StepMechanism::HardwareStep; }
  // The step over svc is reported from the syscall exit path (is_syscall_step_trap).
  StepMechanism syscall_step_mechanism() const override { return StepMechanism::HardwareStep; }

  size_t regs_size() const override;
  uint64_t pc(const Regs& r) const override;
  void set_pc(Regs& r, uint64_t pc) const override;
  uint64_t sp(const Regs& r) const override;
  std::optional<RegisterRef> register_by_name(std::string_view name) const override;
  std::vector<std::string> register_names() const override;
  ArgLocation argument(unsigned n) const override;
  RegisterRef return_value() const override;
  // Trampolines name their thread by tpidr_el0 (jump.h), which is not in
  // NT_PRSTATUS but in NT_ARM_TLS (0x401, the value <elf.h> gives it, here
  // so that every host builds it).
  uint64_t thread_pointer(const Regs&) const override { return 0; }
  std::optional<unsigned> thread_pointer_regset() const override { return 0x401; }
  bool jump_records_thread_pointer() const override { return true; }

  // %return: bl leaves the return address in x30; the prologue (if any)
  // saves it where the function's CFI says.
  std::string_view return_address_name() const override { return "x30"; }
  // ret leaves sp as it was at the entry (the return address was never on
  // the stack).
  uint64_t sp_after_return(uint64_t entry_sp) const override { return entry_sp; }
  ReturnAddressSlot return_address_slot(const Regs& r) const override;
  std::string return_hijack_refusal(std::span<const Instruction> code) const override;

  std::span<const uint8_t> syscall_instruction() const override;
  long syscall_number(Syscall s) const override;
  void prepare_syscall(Regs& r, RuntimeAddr insn_addr, long nr, std::span<const uint64_t> args) const override;
  int64_t syscall_result(const Regs& r) const override;
  bool decides_restart_before_stop() const override { return true; }

 private:
  const Decoder& decoder() const;
  // Capstone handles are not thread-safe; uptrace is single-threaded, so one
  // lazily opened handle per Isa is enough.
  mutable std::unique_ptr<Decoder> decoder_;
};

// The registry entry (see arch/isa_list.inc).
const Isa& aarch64_isa();

// uptrace's own breakpoint: brk #0x7a5 (see aarch64_isa.cpp for the choice).
constexpr uint32_t kBreakpointWord = 0xd420f4a0;

}  // namespace uptrace::arch::aarch64
