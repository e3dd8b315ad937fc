#include "arch/ppc64le/ppc64le_isa.h"

#include <algorithm>
#include <array>
#include <cassert>

#include "arch/ppc64le/analyzer.h"
#include "arch/ppc64le/decoder.h"
#include "arch/ppc64le/encoding.h"
#include "arch/ppc64le/insn_table.h"
#include "arch/ppc64le/registers.h"
#include "common/error.h"

namespace uptrace::arch::ppc64le {
namespace {

// Stated here rather than taken from <elf.h>/<signal.h> so every ISA builds on every host.
constexpr uint16_t kEmPpc64 = 21;
constexpr int kTrapBrkpt = 1;  // a trap instruction: program_check_exception sends TRAP_BRKPT, pc at the trap
constexpr int kTrapTrace = 2;  // a completed single step (MSR_SE): TRAP_TRACE

// trap = tw 31,0,0. Unlike aarch64's brk there is no immediate to make it
// uptrace's own: a trap left at a site that is not a probe or a slot of
// uptrace's is someone else's, and its SIGTRAP goes to the program.
constexpr std::array<uint8_t, 4> kBreakpoint = {0x08, 0x00, 0xe0, 0x7f};
static_assert(kBreakpoint[0] == (kBreakpointWord & 0xff) && kBreakpoint[3] == kBreakpointWord >> 24);
constexpr std::array<uint8_t, 4> kSc = {0x02, 0x00, 0x00, 0x44};  // sc

// ELFv2: the first eight integer arguments are r3..r10. Every argument also
// has a doubleword in the caller's parameter save area, which starts 32
// bytes above the stack pointer at the entry (back chain, CR save, LR save,
// TOC save); the ninth argument is the first that lives only there.
constexpr unsigned kArgumentRegs = 8;
constexpr int64_t kParameterSaveArea = 32;
constexpr int64_t kLrSaveOffset = 16;
// Linux syscall ABI: number in r0, arguments in r3..r8, result in r3, and
// failure flagged by CR0.SO with the positive errno in r3.
constexpr unsigned kSyscallArgs = 6;

}  // namespace

Ppc64leIsa::Ppc64leIsa() = default;
Ppc64leIsa::~Ppc64leIsa() = default;

uint16_t Ppc64leIsa::elf_machine() const { return kEmPpc64; }

const Decoder& Ppc64leIsa::decoder() const {
  if (!decoder_) decoder_ = std::make_unique<Decoder>();
  return *decoder_;
}

std::vector<Instruction> Ppc64leIsa::decode(std::span<const uint8_t> code, RuntimeAddr start) const {
  return decoder().decode_all(code, start);
}

bool Ppc64leIsa::is_trap(const Instruction& insn) const {
  if (insn.length != kWordSize) return false;
  const auto word = read_word(insn.code());
  if (!word) return false;
  const InsnRow* row = classify(*word);
  return row && row->cls == InsnClass::Trap;
}

SiteAnalysis Ppc64leIsa::analyze(const SiteContext& ctx) const { return analyze_site(decoder(), ctx); }

std::span<const uint8_t> Ppc64leIsa::breakpoint() const { return kBreakpoint; }

std::optional<RuntimeAddr> Ppc64leIsa::breakpoint_address(uint64_t pc, int si_code) const {
  // Like aarch64's brk, a trap reports with pc at the trap itself.
  if (si_code != kTrapBrkpt) return std::nullopt;
  return RuntimeAddr(pc);
}

bool Ppc64leIsa::is_step_trap(int si_code) const { return si_code == kTrapTrace; }

bool Ppc64leIsa::is_syscall_step_trap(int si_code) const {
  // No step over sc ends right after it: the trace interrupt is not taken
  // for sc, and Linux 6.1 (Debian's, in the VM) does not report the step
  // from its syscall exit path, so the first stop is a TRAP_TRACE after the
  // instruction that follows sc. Hence syscall_step_mechanism() is
  // TrailingTrap, and this is never asked.
  (void)si_code;
  return false;
}

size_t Ppc64leIsa::regs_size() const { return kWordCount * sizeof(uint64_t); }
uint64_t Ppc64leIsa::pc(const Regs& r) const { return r.words[kNip]; }
void Ppc64leIsa::set_pc(Regs& r, uint64_t pc) const { r.words[kNip] = pc; }
uint64_t Ppc64leIsa::sp(const Regs& r) const { return r.words[kSp]; }

std::optional<RegisterRef> Ppc64leIsa::register_by_name(std::string_view name) const {
  return ppc64le::register_by_name(name);
}

std::vector<std::string> Ppc64leIsa::register_names() const { return ppc64le::register_names(); }

uint64_t Ppc64leIsa::thread_pointer(const Regs& r) const { return r.words[kThreadPointer]; }

ArgLocation Ppc64leIsa::argument(unsigned n) const {
  assert(n >= 1 && "arguments are numbered from 1");
  if (n <= kArgumentRegs) return {RegisterRef{static_cast<uint16_t>(kR3 + n - 1)}, 0};
  return {std::nullopt, kParameterSaveArea + static_cast<int64_t>(8 * (n - 1))};
}

RegisterRef Ppc64leIsa::return_value() const { return RegisterRef{kR3}; }

// r0-r31, LR 65 (the return address column), CTR 66, XER 76: the FPRs
// 32-63, CR 64 and the vector registers are not in NT_PRSTATUS.
std::string Ppc64leIsa::elf_refusal(uint8_t elf_class, uint8_t elf_data, uint32_t flags) const {
  if (elf_data == 2 && elf_class == 2) return "a big-endian ppc64 file";  // ELFDATA2MSB
  if (std::string why = elf64_lsb_refusal(*this, elf_class, elf_data); !why.empty()) return why;
  if ((flags & 3) == 2) return {};
  return (flags & 3) == 1 ? fmt::format("a ppc64 file for the ELFv1 ABI (e_flags {:#x}), not ELFv2", flags)
                          : fmt::format("a ppc64 file that does not say it is for the ELFv2 ABI (e_flags {:#x})", flags);
}

std::span<const DwarfRegister> Ppc64leIsa::dwarf_register_map() const { return ppc64le::dwarf_register_map(); }

// bl puts the return address in LR; nothing is on the stack at the first
// instruction. A prologue that saves it stores it (mflr r0; std r0,16(r1))
// in the LR save doubleword of the caller's frame header (back chain, CR
// save, LR save, TOC save). blr leaves r1 as it was at the entry.
ReturnAddressSlot Ppc64leIsa::return_address_slot(const Regs& r) const {
  (void)r;
  return {ReturnAddressSlot::Kind::Register, RuntimeAddr(0), RegisterRef{kLink}, kLrSaveOffset};
}

uint64_t Ppc64leIsa::sp_after_return(uint64_t entry_sp) const { return entry_sp; }

// Nothing signs return addresses on ppc64 (ROP protection, hashst/hashchk,
// stores a hash beside LR and checks the restored value: the real address
// is what is checked, so putting it back at detach keeps it valid).
std::string Ppc64leIsa::return_hijack_refusal(std::span<const Instruction> code) const {
  (void)code;
  return {};
}

std::span<const uint8_t> Ppc64leIsa::syscall_instruction() const { return kSc; }

long Ppc64leIsa::syscall_number(Syscall s) const {
  // arch/powerpc/kernel/syscalls/syscall.tbl.
  switch (s) {
    case Syscall::Close: return 6;
    case Syscall::Getpid: return 20;
    case Syscall::Mmap: return 90;
    case Syscall::Munmap: return 91;
    case Syscall::Ftruncate: return 93;
    case Syscall::Mprotect: return 125;
    case Syscall::Madvise: return 205;
    case Syscall::MemfdCreate: return 360;
  }
  throw_runtime("ppc64le: unknown syscall {}", static_cast<int>(s));
}

void Ppc64leIsa::prepare_syscall(Regs& r, RuntimeAddr insn_addr, long nr, std::span<const uint64_t> args) const {
  assert(args.size() <= kSyscallArgs);
  r.words[kR0] = static_cast<uint64_t>(nr);
  for (size_t i = 0; i < args.size(); ++i) r.words[kR3 + i] = args[i];
  r.words[kNip] = insn_addr.value;
  // A thread stopped inside a system call (trap 0xc00 or 0x3000 in pt_regs)
  // has its restart decided after the stop (do_signal ->
  // check_syscall_restart, which moves nip back 4 when r3 says
  // -ERESTART*): cleared, the injected instruction is not "restarted". The
  // saved registers the core puts back afterwards carry the restart again,
  // as x86's orig_rax does.
  r.words[kTrap] = 0;
}

int64_t Ppc64leIsa::syscall_result(const Regs& r) const {
  const auto value = static_cast<int64_t>(r.words[kR3]);
  return (r.words[kCcr] & kCr0So) ? -value : value;
}

const Isa& ppc64le_isa() {
  static const Ppc64leIsa isa;
  return isa;
}

}  // namespace uptrace::arch::ppc64le
