#include "arch/riscv64/riscv64_isa.h"

#include <algorithm>
#include <array>
#include <cassert>

#include <fmt/format.h>

#include "arch/riscv64/analyzer.h"
#include "arch/riscv64/decoder.h"
#include "arch/riscv64/encoding.h"
#include "arch/riscv64/insn_table.h"
#include "arch/riscv64/plans.h"
#include "arch/riscv64/registers.h"
#include "common/error.h"

namespace uptrace::arch::riscv64 {
namespace {

// Stated here rather than taken from <elf.h>/<signal.h> so every ISA builds on every host.
constexpr uint16_t kEmRiscv = 243;
// arch/riscv/kernel/traps.c: an ebreak in user mode is SIGTRAP with
// TRAP_BRKPT and pc at the ebreak (measured: shared/crossarch, kernel 6.12).
constexpr int kTrapBrkpt = 1;

// c.ebreak, over every probed instruction, 2- or 4-byte:
// - it never writes past the probed instruction, whatever its length, so a
//   2-byte instruction's neighbour is never touched;
// - an aligned 2-byte store is single-copy atomic, so a thread running while
//   the trap is written sees the old instruction or the trap, never a torn
//   mix (a 4-byte ebreak over a 4-byte instruction at an address that is 2
//   mod 4 could straddle a cache line or page);
// - it is what the kernel's own uprobes write when the kernel has RVC, as
//   every Linux distribution's does (RV64GC is Debian's baseline).
// The bytes after it, the rest of a 4-byte instruction, are never executed:
// the trap comes first, and only a branch to the middle of an instruction
// could reach them, which does not exist.
constexpr std::array<uint8_t, 2> kBreakpoint = {0x02, 0x90};
// ecall alone: the core appends the breakpoint and runs the thread to it
// (StepMechanism::TrailingTrap, core/remote_syscalls).
constexpr std::array<uint8_t, 4> kSyscall = {0x73, 0x00, 0x00, 0x00};

// The psABI's integer calling convention: a0..a7 (x10..x17), then the stack.
constexpr unsigned kArgumentRegs = 8;
// Linux syscall ABI: number in a7, arguments in a0..a5, result in a0.
constexpr unsigned kSyscallArgs = 6;

// The RISC-V psABI's DWARF numbering: 0..31 are x0..x31 and 32..63 are
// f0..f31. NT_PRSTATUS holds x1..x31 at words 1..31; x0 has no word (it is
// the constant 0) and the f registers are in NT_PRFPREG, so neither is
// listed (Isa::dwarf_register_map).
constexpr auto kDwarfRegisters = [] {
  std::array<DwarfRegister, 31> table{};
  for (uint16_t n = 1; n <= 31; ++n) table[n - 1] = DwarfRegister{n, RegisterRef{n}};
  return table;
}();

}  // namespace

uint16_t Riscv64Isa::elf_machine() const { return kEmRiscv; }

// A phrase after "FILE is" (Isa::elf_refusal).
std::string Riscv64Isa::elf_refusal(uint8_t elf_class, uint8_t elf_data, uint32_t flags) const {
  if (std::string why = elf64_lsb_refusal(*this, elf_class, elf_data); !why.empty()) return why;
  // The RISC-V ELF psABI's e_flags: bit 0 RVC, bits 2:1 the float ABI, bit 3
  // RVE, bit 4 TSO. RVC and TSO change nothing uptrace does (it decodes RVC
  // whether the file says so or not).
  constexpr uint32_t kFloatAbiMask = 0x6, kFloatAbiDouble = 0x4, kRve = 0x8;
  if (flags & kRve) return fmt::format("a riscv64 file for RV64E (16 registers, e_flags {:#x}), not RV64GC", flags);
  if ((flags & kFloatAbiMask) != kFloatAbiDouble) {
    static constexpr const char* kAbi[4] = {"lp64 (soft-float)", "lp64f (single-float)", "lp64d", "lp64q (quad-float)"};
    return fmt::format("a riscv64 file for the {} ABI (e_flags {:#x}), not lp64d", kAbi[(flags & kFloatAbiMask) >> 1],
                       flags);
  }
  return {};
}

std::vector<Instruction> Riscv64Isa::decode(std::span<const uint8_t> code, RuntimeAddr start) const {
  std::vector<Instruction> out;
  for (Decoded& d : decode_all(code, start)) out.push_back(std::move(d.insn));
  return out;
}

bool Riscv64Isa::is_trap(const Instruction& insn) const {
  const auto d = decode_one(insn.code(), insn.address);
  return d && d->known() && d->row->cls == InsnClass::Trap;
}

bool Riscv64Isa::is_return(const Instruction& insn) const {
  const auto d = decode_one(insn.code(), insn.address);
  // c.jr ra is decoded as its expansion, jalr zero, 0(ra).
  return d && d->known() && d->row->cls == InsnClass::Jalr && rd(d->word) == 0 && rs1(d->word) == kRa &&
         imm_i(d->word) == 0;
}

SiteAnalysis Riscv64Isa::analyze(const SiteContext& ctx) const { return analyze_site(ctx); }

std::span<const uint8_t> Riscv64Isa::breakpoint() const { return kBreakpoint; }

std::optional<RuntimeAddr> Riscv64Isa::breakpoint_address(uint64_t pc, int si_code) const {
  // Like aarch64's brk, and unlike x86's int3, pc stays at the trap.
  if (si_code != kTrapBrkpt) return std::nullopt;
  return RuntimeAddr(pc);
}

// There is no hardware step to end (StepMechanism::TrailingTrap): the end of
// a step is the c.ebreak after the copy, or after an injected ecall, which
// the core finds by breakpoint_address() and its address
// (ProbePlan::is_step_end_trap, core/remote_syscalls). Should anything ask,
// that trap's si_code is a breakpoint's.
bool Riscv64Isa::is_step_trap(int si_code) const { return si_code == kTrapBrkpt; }
bool Riscv64Isa::is_syscall_step_trap(int si_code) const { return si_code == kTrapBrkpt; }

size_t Riscv64Isa::regs_size() const { return kWordCount * sizeof(uint64_t); }
uint64_t Riscv64Isa::pc(const Regs& r) const { return r.words[kPc]; }
void Riscv64Isa::set_pc(Regs& r, uint64_t pc) const { r.words[kPc] = pc; }
uint64_t Riscv64Isa::sp(const Regs& r) const { return r.words[kSp]; }

std::optional<RegisterRef> Riscv64Isa::register_by_name(std::string_view name) const {
  return riscv64::register_by_name(name);
}

std::vector<std::string> Riscv64Isa::register_names() const { return riscv64::register_names(); }

// tp holds the thread pointer (the TLS block of the thread), as fs_base does on x86-64.
uint64_t Riscv64Isa::thread_pointer(const Regs& r) const { return r.words[kTp]; }

ArgLocation Riscv64Isa::argument(unsigned n) const {
  assert(n >= 1 && "arguments are numbered from 1");
  if (n <= kArgumentRegs) return {RegisterRef{static_cast<uint16_t>(kA0 + n - 1)}, 0};
  // The return address is in ra, not on the stack: stacked arguments start at [sp].
  return {std::nullopt, static_cast<int64_t>(8 * (n - kArgumentRegs - 1))};
}

RegisterRef Riscv64Isa::return_value() const { return RegisterRef{kA0}; }

std::span<const DwarfRegister> Riscv64Isa::dwarf_register_map() const { return kDwarfRegisters; }

// jal/jalr put the return address in ra; nothing is on the stack at the
// first instruction. Each prologue saves ra in its own frame, wherever it
// chooses (its CFI says where): the psABI fixes no save slot.
ReturnAddressSlot Riscv64Isa::return_address_slot(const Regs& r) const {
  (void)r;
  return {ReturnAddressSlot::Kind::Register, RuntimeAddr(0), RegisterRef{kRa}, std::nullopt};
}

// ret (jalr zero, 0(ra)) pops nothing: sp is as it was at the entry.
uint64_t Riscv64Isa::sp_after_return(uint64_t entry_sp) const { return entry_sp; }

// Nothing in RV64GC protects the return address (no pointer authentication;
// the Zicfiss shadow stack is not enabled by Debian's toolchain or kernel),
// so any function's may be replaced.
std::string Riscv64Isa::return_hijack_refusal(std::span<const Instruction> code) const {
  (void)code;
  return {};
}

std::span<const uint8_t> Riscv64Isa::syscall_instruction() const { return kSyscall; }

long Riscv64Isa::syscall_number(Syscall s) const {
  // include/uapi/asm-generic/unistd.h, which riscv uses.
  switch (s) {
    case Syscall::Getpid: return 172;
    case Syscall::Munmap: return 215;
    case Syscall::Mmap: return 222;
    case Syscall::Mprotect: return 226;
    case Syscall::Madvise: return 233;
    case Syscall::MemfdCreate: return 279;
    case Syscall::Ftruncate: return 46;
    case Syscall::Close: return 57;
  }
  throw_runtime("riscv64: unknown syscall {}", static_cast<int>(s));
}

void Riscv64Isa::prepare_syscall(Regs& r, RuntimeAddr insn_addr, long nr, std::span<const uint64_t> args) const {
  assert(args.size() <= kSyscallArgs);
  r.words[kA7] = static_cast<uint64_t>(nr);
  for (size_t i = 0; i < args.size(); ++i) r.words[kA0 + i] = args[i];
  r.words[kPc] = insn_addr.value;
  // No restart to cancel (riscv has no orig_a0 or cause in NT_PRSTATUS to
  // clear): riscv's arch_do_signal_or_restart() decides a restart before the
  // thread stops for the tracer, rewinding pc and restoring a0 from orig_a0
  // "so that a debugger will see the already changed PC", and clears the
  // syscall cause so it is not decided again; the new pc is not the restart
  // address, so nothing acts on it. The registers the core puts back carry
  // the rewound call; that a handler delivered before it would have made it
  // return EINTR is lost with that stop (decides_restart_before_stop).
}

int64_t Riscv64Isa::syscall_result(const Regs& r) const { return static_cast<int64_t>(r.words[kA0]); }

const Isa& riscv64_isa() {
  static const Riscv64Isa isa;
  return isa;
}

}  // namespace uptrace::arch::riscv64
