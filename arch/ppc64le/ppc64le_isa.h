#pragma once
// The ppc64le instruction set (Power ISA 3.1, little-endian, ELFv2 ABI)
// behind the Isa interface (Linux).
#include <memory>

#include "arch/isa.h"

namespace uptrace::arch::ppc64le {

class Decoder;

class Ppc64leIsa final : public Isa {
 public:
  Ppc64leIsa();
  ~Ppc64leIsa() override;

  IsaId id() const override { return IsaId::Ppc64le; }
  std::string_view name() const override { return "ppc64le"; }
  uint16_t elf_machine() const override;
  // 64-bit little-endian, and ELFv2 (EF_PPC64_ABI, e_flags bits 1:0, is 2):
  // ELFv1 has function descriptors and no local entry points.
  std::string elf_refusal(uint8_t elf_class, uint8_t elf_data, uint32_t flags) const override;

  std::vector<Instruction> decode(std::span<const uint8_t> code, RuntimeAddr start) const override;
  bool is_trap(const Instruction& insn) const override;
  SiteAnalysis analyze(const SiteContext& ctx) const override;
  // A jump trampoline (jump.h): up to 4 probes' records at one site with 4
  // values each; every other plan needs one instruction of up to 8 bytes.
  // A multiple of 64 keeps a prefixed copy at a slot's start from crossing
  // a 64-byte boundary.
  static constexpr size_t kSlotSize = 1024;
  size_t slot_size() const override { return kSlotSize; }

  std::span<const uint8_t> breakpoint() const override;
  std::optional<RuntimeAddr> breakpoint_address(uint64_t pc, int si_code) const override;
  bool is_step_trap(int si_code) const override;
  bool is_syscall_step_trap(int si_code) const override;
  StepMechanism step_mechanism() const override { return StepMechanism::HardwareStep; }
  StepMechanism syscall_step_mechanism() const override { return StepMechanism::TrailingTrap; }

  size_t regs_size() const override;
  uint64_t pc(const Regs& r) const override;
  void set_pc(Regs& r, uint64_t pc) const override;
  uint64_t sp(const Regs& r) const override;
  std::optional<RegisterRef> register_by_name(std::string_view name) const override;
  std::vector<std::string> register_names() const override;
  // r13, the ELFv2 thread pointer, a GPR (so in NT_PRSTATUS): trampolines
  // record it itself (jump.h), as glibc's points past its TCB, at no self
  // pointer.
  uint64_t thread_pointer(const Regs& r) const override;
  bool jump_records_thread_pointer() const override { return true; }
  ArgLocation argument(unsigned n) const override;
  RegisterRef return_value() const override;
  std::span<const DwarfRegister> dwarf_register_map() const override;

  // %return: bl leaves the return address in LR; the prologue (if any)
  // saves it where the function's CFI says (ELFv2: the caller's frame, at
  // entry sp + 16).
  std::string_view return_address_name() const override { return "lr"; }
  ReturnAddressSlot return_address_slot(const Regs& r) const override;
  uint64_t sp_after_return(uint64_t entry_sp) const override;
  std::string return_hijack_refusal(std::span<const Instruction> code) const override;

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
const Isa& ppc64le_isa();

// uptrace's own breakpoint: trap (tw 31,0,0), the one gdb and the kernel's
// uprobes use too; every other trap variant is recognised as someone else's.
constexpr uint32_t kBreakpointWord = 0x7fe00008;

}  // namespace uptrace::arch::ppc64le
