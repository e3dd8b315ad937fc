#include "arch/aarch64/aarch64_isa.h"

#include <algorithm>
#include <array>
#include <cassert>

#include <fmt/format.h>

#include "arch/aarch64/analyzer.h"
#include "arch/aarch64/decoder.h"
#include "arch/aarch64/encoding.h"
#include "arch/aarch64/insn_table.h"
#include "arch/aarch64/pointer_auth.h"
#include "arch/aarch64/registers.h"
#include "common/error.h"

namespace uptrace::arch::aarch64 {
namespace {

// Stated here rather than taken from <elf.h>/<signal.h> so every ISA builds on every host.
constexpr uint16_t kEmAArch64 = 183;
constexpr int kSiUser = 0;
constexpr int kTrapBrkpt = 1;  // brk: arch/arm64/kernel/debug-monitors.c sends TRAP_BRKPT, pc at the brk
constexpr int kTrapTrace = 2;  // a completed hardware single step: TRAP_TRACE

// brk #0x7a5. Its immediate is uptrace's own, so a trap left in memory can be
// told apart from everyone else's:
//   #0       gdb's and lldb's breakpoint
//   #1       clang's __builtin_trap;  #0x3e8 GCC's
//   #5       the kernel's uprobes (its handler claims it before ptrace sees it)
//   #4, #0x400-#0x7ff, #0x800, #0x9xx, #0x8xxx   kprobes, kgdb, BUG, KASAN, CFI,
//            all only at EL1, so an EL0 brk in that range reaches ptrace
//   #0x55xx  clang's -fsanitize-trap;  #0xf000 Windows' __debugbreak
constexpr uint32_t kBrk = kBreakpointWord;
static_assert(kBrk == (0xd4200000u | (0x7a5u << 5)), "brk #imm16 is 0xd4200000 | imm16 << 5");
constexpr std::array<uint8_t, 4> kBreakpoint = {0xa0, 0xf4, 0x20, 0xd4};
constexpr std::array<uint8_t, 4> kSvc0 = {0x01, 0x00, 0x00, 0xd4};  // svc #0

// AAPCS64: the first eight integer arguments are x0..x7.
constexpr unsigned kArgumentRegs = 8;
// Linux syscall ABI: number in x8, arguments in x0..x5, result in x0.
constexpr unsigned kSyscallArgs = 6;
constexpr uint16_t kSyscallNumberReg = 8;

}  // namespace

AArch64Isa::AArch64Isa() = default;
AArch64Isa::~AArch64Isa() = default;

uint16_t AArch64Isa::elf_machine() const { return kEmAArch64; }

const Decoder& AArch64Isa::decoder() const {
  if (!decoder_) decoder_ = std::make_unique<Decoder>();
  return *decoder_;
}

std::vector<Instruction> AArch64Isa::decode(std::span<const uint8_t> code, RuntimeAddr start) const {
  return decoder().decode_all(code, start);
}

bool AArch64Isa::is_trap(const Instruction& insn) const {
  const auto word = read_word(insn.code());
  if (!word) return false;
  const InsnRow* row = classify(*word);
  return row && row->cls == InsnClass::Trap;
}

bool AArch64Isa::is_return(const Instruction& insn) const {
  const auto word = read_word(insn.code());
  if (!word) return false;
  constexpr uint32_t kRetaa = 0xd65f0bff, kRetab = 0xd65f0fff;
  const InsnRow* row = classify(*word);
  return (row && row->cls == InsnClass::Ret) || *word == kRetaa || *word == kRetab;
}

SiteAnalysis AArch64Isa::analyze(const SiteContext& ctx) const { return analyze_site(decoder(), ctx); }

std::span<const uint8_t> AArch64Isa::breakpoint() const { return kBreakpoint; }

std::optional<RuntimeAddr> AArch64Isa::breakpoint_address(uint64_t pc, int si_code) const {
  // Unlike x86's int3, a brk reports with pc at the brk itself.
  if (si_code != kTrapBrkpt) return std::nullopt;
  return RuntimeAddr(pc);
}

bool AArch64Isa::is_step_trap(int si_code) const { return si_code == kTrapTrace; }

bool AArch64Isa::is_syscall_step_trap(int si_code) const {
  // arm64 reports a single step over svc from the syscall exit path as a
  // "pseudo-step" through the generic user_single_step_report(), which
  // sends SIGTRAP with si_code SI_USER (arm64 does not define
  // ARCH_HAS_USER_SINGLE_STEP_REPORT; see report_syscall_exit in
  // arch/arm64/kernel/ptrace.c). A hardware step trap is also accepted.
  return si_code == kSiUser || si_code == kTrapTrace;
}

size_t AArch64Isa::regs_size() const { return kWordCount * sizeof(uint64_t); }
uint64_t AArch64Isa::pc(const Regs& r) const { return r.words[kPc]; }
void AArch64Isa::set_pc(Regs& r, uint64_t pc) const { r.words[kPc] = pc; }
uint64_t AArch64Isa::sp(const Regs& r) const { return r.words[kSp]; }

std::optional<RegisterRef> AArch64Isa::register_by_name(std::string_view name) const {
  return aarch64::register_by_name(name);
}

std::vector<std::string> AArch64Isa::register_names() const { return aarch64::register_names(); }

ArgLocation AArch64Isa::argument(unsigned n) const {
  assert(n >= 1 && "arguments are numbered from 1");
  if (n <= kArgumentRegs) return {RegisterRef{static_cast<uint16_t>(n - 1)}, 0};
  // The return address is in x30, not on the stack: stacked arguments start at [sp].
  return {std::nullopt, static_cast<int64_t>(8 * (n - kArgumentRegs - 1))};
}

RegisterRef AArch64Isa::return_value() const { return RegisterRef{kX0}; }

// bl/blr put the return address in the link register; nothing is on the
// stack at the first instruction. sp_after_return keeps the default: ret
// leaves sp as it was at the entry.
ReturnAddressSlot AArch64Isa::return_address_slot(const Regs& r) const {
  (void)r;
  // Each prologue saves x30 in its own frame, wherever it chooses (its CFI says where).
  return {ReturnAddressSlot::Kind::Register, RuntimeAddr(0), RegisterRef{kLr}, std::nullopt};
}

std::string AArch64Isa::return_hijack_refusal(std::span<const Instruction> code) const {
  if (code.empty()) return {};
  for (const Instruction& insn : code) {
    const auto word = read_word(insn.code());
    if (!word || !uses_return_address_auth(*word)) continue;
    return fmt::format("signs its return address with pointer authentication ({} at +{:#x}), so the trampoline's "
                       "address would be saved signed, and uptrace cannot sign the real one in its place when it "
                       "detaches",
                       insn.text, insn.address.value - code.front().address.value);
  }
  return {};
}

// "DWARF for the Arm 64-bit Architecture": 0-30 are x0-x30 and 31 is sp, the
// same order as NT_PRSTATUS; 32 (pc) is not used for variables, and 64 and
// up are the vector registers, which NT_PRSTATUS does not hold.
// AAPCS64's DWARF numbers 0-30 are x0-x30 (x30 the return address column)
// and 31 is sp: the NT_PRSTATUS order.
std::span<const DwarfRegister> AArch64Isa::dwarf_register_map() const {
  static constexpr auto kMap = [] {
    std::array<DwarfRegister, kSp + 1> map{};
    for (uint16_t i = 0; i <= kSp; ++i) map[i] = {i, {i}};
    return map;
  }();
  return kMap;
}

std::span<const uint8_t> AArch64Isa::syscall_instruction() const { return kSvc0; }

long AArch64Isa::syscall_number(Syscall s) const {
  // include/uapi/asm-generic/unistd.h, which arm64 uses.
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
  throw_runtime("aarch64: unknown syscall {}", static_cast<int>(s));
}

void AArch64Isa::prepare_syscall(Regs& r, RuntimeAddr insn_addr, long nr, std::span<const uint64_t> args) const {
  assert(args.size() <= kSyscallArgs);
  r.words[kSyscallNumberReg] = static_cast<uint64_t>(nr);
  for (size_t i = 0; i < args.size(); ++i) r.words[i] = args[i];
  r.words[kPc] = insn_addr.value;
  // No restart to cancel here, unlike x86's orig_rax: arm64's do_signal()
  // decides a restart before the thread stops for the tracer (rewinding pc
  // and restoring x0 from orig_x0, "so that a debugger will see the already
  // changed PC") and forgets the syscall; the new pc is not the restart
  // address, so nothing acts on it. The registers the core puts back carry
  // the rewound call; that a handler delivered before it would have made it
  // return EINTR is lost with that stop (decides_restart_before_stop).
  //
  // The thread may have stopped between an indirect branch and its landing
  // pad, with PSTATE.BTYPE set: the svc at insn_addr (on a guarded page when
  // the program uses BTI) would then raise a branch target exception.
  r.words[kPstate] &= ~pstate::kBtype;
}

int64_t AArch64Isa::syscall_result(const Regs& r) const { return static_cast<int64_t>(r.words[kX0]); }

const Isa& aarch64_isa() {
  static const AArch64Isa isa;
  return isa;
}

}  // namespace uptrace::arch::aarch64
