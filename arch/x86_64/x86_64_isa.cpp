#include "arch/x86_64/x86_64_isa.h"

#include <algorithm>
#include <array>
#include <cassert>

#include "arch/x86_64/analyzer.h"
#include "arch/x86_64/decoder.h"
#include "arch/x86_64/insn_table.h"
#include "arch/x86_64/registers.h"
#include "common/error.h"

namespace uptrace::arch::x86_64 {
namespace {

// Stated here rather than taken from <elf.h>/<signal.h> so every ISA builds on every host.
constexpr uint16_t kEmX86_64 = 62;
constexpr int kSiKernel = 0x80;  // int3 reports SIGTRAP with si_code SI_KERNEL
constexpr int kTrapTrace = 2;    // TRAP_TRACE: a completed single step

constexpr std::array<uint8_t, 1> kInt3 = {0xcc};
constexpr std::array<uint8_t, 2> kSyscall = {0x0f, 0x05};

// SysV AMD64: the first six integer arguments.
constexpr std::array<Word, 6> kArgumentRegs = {kRdi, kRsi, kRdx, kRcx, kR8, kR9};
// Linux syscall arguments: r10 instead of rcx, which `syscall` clobbers.
constexpr std::array<Word, 6> kSyscallArgRegs = {kRdi, kRsi, kRdx, kR10, kR8, kR9};

}  // namespace

X86_64Isa::X86_64Isa() = default;
X86_64Isa::~X86_64Isa() = default;

uint16_t X86_64Isa::elf_machine() const { return kEmX86_64; }

const Decoder& X86_64Isa::decoder() const {
  if (!decoder_) decoder_ = std::make_unique<Decoder>();
  return *decoder_;
}

std::vector<Instruction> X86_64Isa::decode(std::span<const uint8_t> code, RuntimeAddr start) const {
  return decoder().decode_all(code, start);
}

bool X86_64Isa::is_trap(const Instruction& insn) const {
  const auto enc = parse_encoding(insn.code());
  if (!enc) return false;
  const InsnRow* row = classify(*enc, insn.code());
  return row && row->cls == InsnClass::Trap;
}

// Go's internal ABI on amd64 (go.dev/s/regabi); the C convention is rdi,
// rsi, rdx, rcx, r8, r9.
std::string X86_64Isa::go_argument_registers() const { return "rax, rbx, rcx, rdi, rsi, r8, r9, r10, r11"; }

bool X86_64Isa::is_return(const Instruction& insn) const {
  const auto enc = parse_encoding(insn.code());
  if (!enc) return false;
  const InsnRow* row = classify(*enc, insn.code());
  return row && row->cls == InsnClass::Ret;
}

SiteAnalysis X86_64Isa::analyze(const SiteContext& ctx) const { return analyze_site(decoder(), ctx); }

size_t X86_64Isa::slot_size() const { return kSlotSize; }

std::span<const uint8_t> X86_64Isa::breakpoint() const { return kInt3; }

std::optional<RuntimeAddr> X86_64Isa::breakpoint_address(uint64_t pc, int si_code) const {
  // pc is past the int3 when it reports.
  if (si_code != kSiKernel) return std::nullopt;
  return RuntimeAddr(pc - kInt3.size());
}

bool X86_64Isa::is_step_trap(int si_code) const { return si_code == kTrapTrace; }

size_t X86_64Isa::regs_size() const { return kWordCount * sizeof(uint64_t); }
uint64_t X86_64Isa::pc(const Regs& r) const { return r.words[kRip]; }
void X86_64Isa::set_pc(Regs& r, uint64_t pc) const { r.words[kRip] = pc; }
uint64_t X86_64Isa::sp(const Regs& r) const { return r.words[kRsp]; }

std::optional<RegisterRef> X86_64Isa::register_by_name(std::string_view name) const {
  return x86_64::register_by_name(name);
}

std::vector<std::string> X86_64Isa::register_names() const { return x86_64::register_names(); }

ArgLocation X86_64Isa::argument(unsigned n) const {
  assert(n >= 1 && "arguments are numbered from 1");
  if (n <= kArgumentRegs.size()) return {RegisterRef{kArgumentRegs[n - 1]}, 0};
  // At function entry [sp] is the return address; stack arguments follow it.
  return {std::nullopt, static_cast<int64_t>(8 * (n - kArgumentRegs.size()))};
}

RegisterRef X86_64Isa::return_value() const { return RegisterRef{kRax}; }

uint64_t X86_64Isa::thread_pointer(const Regs& r) const { return r.words[kFsBase]; }

// The SysV AMD64 psABI numbering (figure 3.36), not the encoding order: 0-15
// the general registers, 16 the return address column, which is rip for the
// innermost frame. 17 and up are xmm/st/mm/segment registers, which
// NT_PRSTATUS does not hold (the segment selectors 50-55 and fs/gs base
// 58-59 are there, but no compiler puts a variable in them).
std::span<const DwarfRegister> X86_64Isa::dwarf_register_map() const {
  static constexpr DwarfRegister kMap[] = {
      {0, {kRax}},  {1, {kRdx}},  {2, {kRcx}},  {3, {kRbx}},  {4, {kRsi}},  {5, {kRdi}},
      {6, {kRbp}},  {7, {kRsp}},  {8, {kR8}},   {9, {kR9}},   {10, {kR10}}, {11, {kR11}},
      {12, {kR12}}, {13, {kR13}}, {14, {kR14}}, {15, {kR15}}, {16, {kRip}},
  };
  return kMap;
}

// `call` pushed it: at the first instruction it is the word at rsp.
ReturnAddressSlot X86_64Isa::return_address_slot(const Regs& r) const {
  return {ReturnAddressSlot::Kind::Memory, RuntimeAddr(r.words[kRsp]), {}};
}

std::span<const uint8_t> X86_64Isa::syscall_instruction() const { return kSyscall; }

long X86_64Isa::syscall_number(Syscall s) const {
  switch (s) {
    case Syscall::Mmap: return 9;
    case Syscall::Mprotect: return 10;
    case Syscall::Munmap: return 11;
    case Syscall::Madvise: return 28;
    case Syscall::Getpid: return 39;
    case Syscall::MemfdCreate: return 319;
    case Syscall::Ftruncate: return 77;
    case Syscall::Close: return 3;
  }
  throw_runtime("x86_64: unknown syscall {}", static_cast<int>(s));
}

void X86_64Isa::prepare_syscall(Regs& r, RuntimeAddr insn_addr, long nr, std::span<const uint64_t> args) const {
  assert(args.size() <= kSyscallArgRegs.size());
  r.words[kRax] = static_cast<uint64_t>(nr);
  for (size_t i = 0; i < args.size(); ++i) r.words[kSyscallArgRegs[i]] = args[i];
  r.words[kRip] = insn_addr.value;
  // A thread stopped inside an interrupted syscall has orig_rax >= 0, and on
  // resume the kernel's restart logic would rewind rip by 2 and retry it.
  r.words[kOrigRax] = static_cast<uint64_t>(-1);
}

int64_t X86_64Isa::syscall_result(const Regs& r) const { return static_cast<int64_t>(r.words[kRax]); }

const Isa& x86_64_isa() {
  static const X86_64Isa isa;
  return isa;
}

}  // namespace uptrace::arch::x86_64
