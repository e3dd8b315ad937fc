#include "arch/x86_64/insn_table.h"

#include <algorithm>

namespace uptrace::arch::x86_64 {
namespace {

using C = InsnClass;
using P = PrefixRule;

constexpr Pattern one(uint8_t first, uint8_t last) { return {OpcodeMap::OneByte, first, last}; }
constexpr Pattern one(uint8_t op) { return one(op, op); }
constexpr Pattern two(uint8_t first, uint8_t last) { return {OpcodeMap::TwoByte, first, last}; }
constexpr Pattern two(uint8_t op) { return two(op, op); }
constexpr Pattern three38(uint8_t first, uint8_t last) { return {OpcodeMap::ThreeByte38, first, last}; }

constexpr std::string_view kSyscall =
    "syscall cannot run out of line: it may block with the thread inside the slot and its "
    "restart/clone/sigreturn see the slot address";
constexpr std::string_view kUndefined = "undefined instruction (ud0/ud1/ud2)";
constexpr std::string_view kPortIoAndPrivileged = "in/out/ins/outs/hlt/cli/sti are privileged";
constexpr std::string_view kFar = "far call/jmp/ret change the code segment";
constexpr std::string_view kBranch66 = "branch with an operand-size (0x66) prefix: Intel and AMD differ";
constexpr std::string_view kRepString =
    "rep string instruction: a single step runs one iteration, so the probe would fire once per iteration";
constexpr std::string_view kUserModeSystem = "a user-mode instruction of the 0f 01 group: stepped";
constexpr std::string_view kSkip = "has no effect: execution continues after it";
constexpr std::string_view kPush =
    "writes the stack: emulated like the kernel's push emulation, stepped when the stack cannot be written";

constexpr InsnRow kRows[] = {
    // Traps of every variant: another tool's breakpoint, or the program's own.
    {"int3", one(0xcc), C::Trap, "int3 is already a breakpoint instruction"},
    {"int 3", one(0xcd).next(0x03), C::Trap, "int 3 is already a breakpoint instruction"},
    {"int1", one(0xf1), C::Trap, "int1 (icebp) is already a breakpoint instruction"},

    // Into or out of the kernel.
    {"int N", one(0xcd), C::Refused,
     "int N enters the kernel (int 0x80 is the 32-bit system call); its signal and restart paths would see the "
     "slot address"},
    {"iret", one(0xcf), C::Refused, "iret loads cs, ss and flags from the stack"},
    {"syscall", two(0x05), C::Refused, kSyscall},
    {"sysenter/sysexit", two(0x34, 0x35), C::Refused, "sysenter/sysexit enter or leave the kernel"},
    {"sysret", two(0x07), C::Refused, "sysret is privileged"},

    // Undefined on purpose.
    {"ud2", two(0x0b), C::Refused, kUndefined},
    {"ud1", two(0xb9), C::Refused, kUndefined},
    {"ud0", two(0xff), C::Refused, kUndefined},

    // Privileged: they only fault in user mode.
    {"ins/outs", one(0x6c, 0x6f), C::Refused, kPortIoAndPrivileged},
    {"in/out imm8", one(0xe4, 0xe7), C::Refused, kPortIoAndPrivileged},
    {"in/out dx", one(0xec, 0xef), C::Refused, kPortIoAndPrivileged},
    {"hlt", one(0xf4), C::Refused, kPortIoAndPrivileged},
    {"cli/sti", one(0xfa, 0xfb), C::Refused, kPortIoAndPrivileged},
    {"lldt", two(0x00).reg(2), C::Refused, "lldt is privileged"},
    {"ltr", two(0x00).reg(3), C::Refused, "ltr is privileged"},
    {"lgdt", two(0x01).reg(2).memory(), C::Refused, "lgdt is privileged"},
    {"lidt", two(0x01).reg(3).memory(), C::Refused, "lidt is privileged"},
    {"lmsw", two(0x01).reg(6), C::Refused, "lmsw is privileged"},
    {"invlpg", two(0x01).reg(7).memory(), C::Refused, "invlpg is privileged"},
    {"xgetbv", two(0x01).next(0xd0).with(P::None), C::Plain, kUserModeSystem},
    {"xend", two(0x01).next(0xd5).with(P::None), C::Plain, kUserModeSystem},
    {"xtest", two(0x01).next(0xd6).with(P::None), C::Plain, kUserModeSystem},
    {"serialize", two(0x01).next(0xe8).with(P::None), C::Plain, kUserModeSystem},
    {"rdpkru", two(0x01).next(0xee).with(P::None), C::Plain, kUserModeSystem},
    {"wrpkru", two(0x01).next(0xef).with(P::None), C::Plain, kUserModeSystem},
    {"rdtscp", two(0x01).next(0xf9).with(P::None), C::Plain, kUserModeSystem},
    {"smsw r", two(0x01).reg(4).register_form(), C::Plain, kUserModeSystem},
    {"0f 01 register forms", two(0x01).register_form(), C::Refused,
     "system instruction of the 0f 01 group: privileged, or changes virtualization or enclave state"},
    {"clts", two(0x06), C::Refused, "clts is privileged"},
    {"invd/wbinvd", two(0x08, 0x09), C::Refused, "invd/wbinvd are privileged"},
    {"mov cr/dr", two(0x20, 0x23), C::Refused, "mov to or from a control or debug register is privileged"},
    {"wrmsr", two(0x30), C::Refused, "wrmsr is privileged"},
    {"rdmsr", two(0x32), C::Refused, "rdmsr is privileged"},
    {"getsec", two(0x37), C::Refused, "getsec is privileged"},
    {"rsm", two(0xaa), C::Refused, "rsm is privileged"},
    // Found by xol-diff: in a virtual machine cpuid exits to the hypervisor,
    // which emulates it, and some hypervisors then drop the single-step trap:
    // the CPU runs on past the copy into whatever follows the slot.
    {"cpuid", two(0xa2), C::Refused,
     "cpuid exits to the hypervisor in a virtual machine, and some drop the single-step trap after it: the copy "
     "would run on past its slot"},
    {"vmread/vmwrite", two(0x78, 0x79).with(P::None), C::Refused, "vmread/vmwrite are privileged"},
    {"vmptrld/vmclear/vmxon", two(0xc7).reg(6).memory(), C::Refused, "vmptrld/vmclear/vmxon are privileged"},
    {"vmptrst", two(0xc7).reg(7).memory().with(P::None), C::Refused, "vmptrst is privileged"},
    {"invept/invvpid/invpcid", three38(0x80, 0x82).with(P::P66), C::Refused, "invept/invvpid/invpcid are privileged"},

    // Segment and mode changes.
    {"far ret", one(0xca, 0xcb), C::Refused, kFar},
    {"far call", one(0xff).reg(3), C::Refused, kFar},
    {"far jmp", one(0xff).reg(5), C::Refused, kFar},
    {"mov ss", one(0x8e).reg(2), C::Refused, "mov/pop ss inhibit the single-step trap"},
    {"xbegin", one(0xc7).next(0xf8), C::Refused,
     "xbegin: its abort address is pc-relative and a transaction aborts on single-step"},

    // Invalid in 64-bit mode. Capstone does not decode them either; they are
    // listed so a refusal says why.
    {"push/pop es", one(0x06, 0x07), C::Refused, "push/pop es are invalid in 64-bit mode"},
    {"push cs", one(0x0e), C::Refused, "push cs is invalid in 64-bit mode"},
    {"push/pop ss", one(0x16, 0x17), C::Refused, "push/pop ss are invalid in 64-bit mode"},
    {"push/pop ds", one(0x1e, 0x1f), C::Refused, "push/pop ds are invalid in 64-bit mode"},
    {"daa", one(0x27), C::Refused, "daa is invalid in 64-bit mode"},
    {"das", one(0x2f), C::Refused, "das is invalid in 64-bit mode"},
    {"aaa", one(0x37), C::Refused, "aaa is invalid in 64-bit mode"},
    {"aas", one(0x3f), C::Refused, "aas is invalid in 64-bit mode"},
    {"pusha/popa", one(0x60, 0x61), C::Refused, "pusha/popa are invalid in 64-bit mode"},
    {"82 (group 1 alias)", one(0x82), C::Refused, "opcode 82 is invalid in 64-bit mode"},
    {"call far absolute", one(0x9a), C::Refused, "call far absolute (9a) is invalid in 64-bit mode"},
    {"into", one(0xce), C::Refused, "into is invalid in 64-bit mode"},
    {"aam/aad/salc", one(0xd4, 0xd6), C::Refused, "aam/aad/salc are invalid in 64-bit mode"},
    {"jmp far absolute", one(0xea), C::Refused, "jmp far absolute (ea) is invalid in 64-bit mode"},

    // Repeated string instructions (ins/outs are refused above).
    {"rep movs/cmps", one(0xa4, 0xa7).with(P::Rep), C::Refused, kRepString},
    {"rep stos/lods/scas", one(0xaa, 0xaf).with(P::Rep), C::Refused, kRepString},

    // Near branches with 66: AMD truncates the target (and a call's return
    // address) to 16 bits, Intel ignores the prefix. REX.W overrides 66 on
    // both, so with it they are ordinary branches (the TLS general-dynamic
    // sequence's "66 66 48 e8" call is one; found by xol-diff in libstdc++).
    // ret keeps the refusal: Capstone 4 decodes "66 48 c2 iw" two bytes too long.
    {"jcc rel8 with 66", one(0x70, 0x7f).opsize().rex_w_clear(), C::Refused, kBranch66},
    {"jcc rel32 with 66", two(0x80, 0x8f).opsize().rex_w_clear(), C::Refused, kBranch66},
    {"loop/jrcxz with 66", one(0xe0, 0xe3).opsize().rex_w_clear(), C::Refused, kBranch66},
    {"call/jmp rel with 66", one(0xe8, 0xe9).opsize().rex_w_clear(), C::Refused, kBranch66},
    {"jmp rel8 with 66", one(0xeb).opsize().rex_w_clear(), C::Refused, kBranch66},
    {"ret with 66", one(0xc2, 0xc3).opsize(), C::Refused, kBranch66},
    {"indirect call with 66", one(0xff).reg(2).opsize().rex_w_clear(), C::Refused, kBranch66},
    {"indirect jmp with 66", one(0xff).reg(4).opsize().rex_w_clear(), C::Refused, kBranch66},

    // Relative branches: the target is relative to the site, not the slot.
    {"jmp rel8", one(0xeb), C::JmpRel, "relative jump: emulated, the target is computed from the site"},
    {"jmp rel32", one(0xe9), C::JmpRel, "relative jump: emulated, the target is computed from the site"},
    {"call rel32", one(0xe8), C::CallRel,
     "relative call: emulated, the site's return address is pushed and pc set to the target"},
    {"jcc rel8", one(0x70, 0x7f), C::Jcc, "conditional jump: emulated, taken or not is decided from EFLAGS"},
    {"jcc rel32", two(0x80, 0x8f), C::Jcc, "conditional jump: emulated, taken or not is decided from EFLAGS"},
    {"loop/loope/loopne", one(0xe0, 0xe2), C::Loop,
     "loop: emulated, rcx (ecx with 0x67) is decremented and the target computed from the site"},
    {"jrcxz/jecxz", one(0xe3), C::Jrcxz,
     "jrcxz: emulated, jumps relative to the site when rcx (ecx with 0x67) is zero"},

    // No-ops. With REX.B, 90 is xchg with r8.
    {"xchg r8, rax", one(0x90).rex_b_set(), C::Plain, "with REX.B, 90 is xchg with r8, not a nop: stepped"},
    {"nop", one(0x90), C::Nop, kSkip},
    {"nop r/m", two(0x1f).reg(0), C::Nop, kSkip},
    {"endbr64", two(0x1e).next(0xfa).with(P::PF3), C::Endbr, kSkip},
    {"endbr32", two(0x1e).next(0xfb).with(P::PF3), C::Endbr, kSkip},

    // Stack writes.
    {"push r64", one(0x50, 0x57), C::PushReg, kPush},
    {"push imm32", one(0x68), C::PushImm, kPush},
    {"push imm8", one(0x6a), C::PushImm, kPush},
    {"pushf", one(0x9c), C::Pushf,
     "the single step's TF would leak into the pushed flags: emulated, or TF corrected after the step"},

    // pc comes from the instruction, not from where it ran.
    {"ret", one(0xc3), C::Ret, "pc comes from the stack: emulated, or stepped with no pc fixup"},
    {"ret imm16", one(0xc2), C::Ret, "pc comes from the stack: emulated, or stepped with no pc fixup"},
    {"jmp r/m64", one(0xff).reg(4), C::JmpIndirect, "pc comes from the operand: stepped with no pc fixup"},
    {"call r/m64", one(0xff).reg(2), C::CallIndirect,
     "pushes the slot's return address: stepped, then the return address is rewritten to the site's"},

    {"lea rip-relative", one(0x8d).rip_relative(), C::LeaRip,
     "computes a rip-relative address: emulated, or re-encoded for the slot"},
};

bool prefix_matches(PrefixRule rule, SimdPrefix actual) {
  switch (rule) {
    case PrefixRule::Any: return true;
    case PrefixRule::None: return actual == SimdPrefix::None;
    case PrefixRule::P66: return actual == SimdPrefix::P66;
    case PrefixRule::PF2: return actual == SimdPrefix::PF2;
    case PrefixRule::PF3: return actual == SimdPrefix::PF3;
    case PrefixRule::Rep: return actual == SimdPrefix::PF2 || actual == SimdPrefix::PF3;
  }
  return false;
}

}  // namespace

bool Pattern::matches(const Encoding& enc, std::span<const uint8_t> bytes) const {
  // Every row describes a legacy encoding; VEX/EVEX/XOP reuse the opcode bytes for other instructions.
  if (enc.vex != VexKind::None || enc.map != map) return false;
  if (enc.opcode < first || enc.opcode > last) return false;
  if (!prefix_matches(prefix, enc.simd_prefix())) return false;
  if (needs_opsize && !enc.opsize) return false;
  if (rex_w != kAny && enc.rex_w() != (rex_w == 1)) return false;
  if (rex_b != kAny && enc.rex_b() != (rex_b == 1)) return false;
  if (next_byte == kAny && modrm_reg == kAny && mod == Mod::Any) return true;

  if (enc.modrm_offset >= bytes.size()) return false;
  const uint8_t modrm = bytes[enc.modrm_offset];
  if (next_byte != kAny && modrm != next_byte) return false;
  if (modrm_reg != kAny && ((modrm >> 3) & 7) != modrm_reg) return false;
  switch (mod) {
    case Mod::Any: return true;
    case Mod::Memory: return (modrm >> 6) != 3;
    case Mod::Register: return (modrm >> 6) == 3;
    case Mod::RipRelative: return (modrm & 0xc7) == 0x05;
  }
  return false;
}

std::span<const InsnRow> insn_rows() { return kRows; }

const InsnRow* classify(const Encoding& enc, std::span<const uint8_t> bytes) {
  const auto* row = std::find_if(std::begin(kRows), std::end(kRows),
                                 [&](const InsnRow& r) { return r.pattern.matches(enc, bytes); });
  return row == std::end(kRows) ? nullptr : row;
}

}  // namespace uptrace::arch::x86_64
