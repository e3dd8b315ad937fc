#include "arch/ppc64le/insn_table.h"

#include <algorithm>

#include "arch/ppc64le/encoding.h"

namespace uptrace::arch::ppc64le {
namespace {

using C = InsnClass;

constexpr uint32_t kExact = 0xffffffff;
// Primary opcode and the X/XL-form extended opcode (bits 10:1).
constexpr uint32_t kXo = 0xfc0007fe;
// The same with Rc (bit 0): the store-conditional forms always have it set.
constexpr uint32_t kXoRc = 0xfc0007ff;

constexpr std::string_view kTrap =
    "is already a trap instruction (tw/td/twi/tdi: a breakpoint, an assertion or a conditional trap of the program)";
constexpr std::string_view kPrivileged = "is privileged: it only faults in user mode";
constexpr std::string_view kReserve =
    "opens or closes a load-reserve/store-conditional sequence: the trap and the single step between the pair go "
    "through the kernel, which clears the reservation, so the store-conditional would fail every time and its retry "
    "loop never end";
constexpr std::string_view kSyscall =
    "is a system call: it may block with the thread in the slot, and its restart, clone and sigreturn paths would "
    "see the slot address";
constexpr std::string_view kBranch = "a relative branch: emulated, the target is computed from the site";
constexpr std::string_view kBranchCond =
    "a conditional branch: emulated, CTR is decremented and CR tested as BO and BI say, LR set if LK";

constexpr InsnRow kRows[] = {
    // Traps of every variant, whatever TO says (kernel: is_trap()): a
    // conditional trap that would not fire here is still someone's trap.
    {"tw", kXo, 0x7c000008, C::Trap, kTrap},
    {"td", kXo, 0x7c000088, C::Trap, kTrap},
    {"twi", 0xfc000000, 0x0c000000, C::Trap, kTrap},
    {"tdi", 0xfc000000, 0x08000000, C::Trap, kTrap},

    // System calls.
    {"sc", 0xfc000003, 0x44000002, C::Syscall, kSyscall},
    {"scv", 0xfc000003, 0x44000001, C::Syscall, kSyscall},
    {"opcode 17", 0xfc000000, 0x44000000, C::Undecodable, "undecodable instruction"},

    // Load-reserve and store-conditional (EH, bit 0, is a hint on the loads).
    {"lbarx", kXo, 0x7c000068, C::LoadReserve, kReserve},
    {"lharx", kXo, 0x7c0000e8, C::LoadReserve, kReserve},
    {"lwarx", kXo, 0x7c000028, C::LoadReserve, kReserve},
    {"ldarx", kXo, 0x7c0000a8, C::LoadReserve, kReserve},
    {"lqarx", kXo, 0x7c000228, C::LoadReserve, kReserve},
    {"stbcx.", kXoRc, 0x7c00056d, C::StoreConditional, kReserve},
    {"sthcx.", kXoRc, 0x7c0005ad, C::StoreConditional, kReserve},
    {"stwcx.", kXoRc, 0x7c00012d, C::StoreConditional, kReserve},
    {"stdcx.", kXoRc, 0x7c0001ad, C::StoreConditional, kReserve},
    {"stqcx.", kXoRc, 0x7c00016d, C::StoreConditional, kReserve},

    // Branches: every one depends on its own address (the target, LR's
    // value), so all are emulated; bctar's TAR is not in NT_PRSTATUS.
    {"bcl 20,31,$+4", kExact, 0x429f0005, C::BranchCond,
     "reads its own address (the pc-read idiom: LR = the next instruction's address): emulated"},
    {"b", 0xfc000000, 0x48000000, C::Branch, kBranch},
    {"bc", 0xfc000000, 0x40000000, C::BranchCond, kBranchCond},
    {"bclr", kXo, 0x4c000020, C::BranchLr, "a branch to LR: emulated (CTR and CR as BO and BI say, LR set if LK)"},
    {"bcctr", kXo, 0x4c000420, C::BranchCtr, "a branch to CTR: emulated (CR as BO and BI say, LR set if LK)"},
    {"bctar", kXo, 0x4c000460, C::BranchTar,
     "a branch to TAR, which is not in the registers ptrace gives: stepped, then LR (if set) moved from the slot to "
     "the site, and pc moved if the branch was not taken"},
    {"addpcis", 0xfc00003e, 0x4c000004, C::Addpcis, "computes a pc-relative address: emulated"},

    // Returns from interrupts and other mode changes, into the kernel or the hypervisor.
    {"rfid", kXo, 0x4c000024, C::Refused, kPrivileged},
    {"hrfid", kXo, 0x4c000224, C::Refused, kPrivileged},
    {"urfid", kXo, 0x4c000264, C::Refused, kPrivileged},
    {"rfscv", kXo, 0x4c0000a4, C::Refused, kPrivileged},
    {"stop", kXo, 0x4c0002e4, C::Refused, kPrivileged},
    {"rfebb", kXo, 0x4c000124, C::Refused,
     "returns from an event-based branch handler to EBBRR, which is not in the registers ptrace gives"},
    {"mtmsr", kXo, 0x7c000124, C::Refused, kPrivileged},
    {"mtmsrd", kXo, 0x7c000164, C::Refused, kPrivileged},
    {"mfmsr", kXo, 0x7c0000a6, C::Refused, kPrivileged},
    {"mtspr (privileged SPR)", 0xfc1007fe, 0x7c1003a6, C::Refused, kPrivileged},
    {"mfspr (privileged SPR)", 0xfc1007fe, 0x7c1002a6, C::Refused, kPrivileged},
    {"tlbie", kXo, 0x7c000264, C::Refused, kPrivileged},
    {"tlbiel", kXo, 0x7c000224, C::Refused, kPrivileged},
    {"tlbsync", kXo, 0x7c00046c, C::Refused, kPrivileged},
    {"slbie", kXo, 0x7c000364, C::Refused, kPrivileged},
    {"slbia", kXo, 0x7c0003e4, C::Refused, kPrivileged},
    {"slbmte", kXo, 0x7c000324, C::Refused, kPrivileged},
    {"tbegin.", kXoRc, 0x7c00051d, C::Refused,
     "begins a transaction: begun in the slot, its failure handler would resume in the slot, and the single step's "
     "trap aborts it anyway"},

    // Primary opcodes no 64-bit ISA allocates (0 also holds attn, a
    // hypervisor instruction, and the zero padding of traceback tables).
    {"opcode 0", 0xfc000000, 0x00000000, C::Undecodable, "undecodable instruction"},
    {"opcode 5", 0xfc000000, 0x14000000, C::Undecodable, "undecodable instruction"},
    {"opcode 9", 0xfc000000, 0x24000000, C::Undecodable, "undecodable instruction"},
    {"opcode 22", 0xfc000000, 0x58000000, C::Undecodable, "undecodable instruction"},
};

// Prefix words: opcode 1, the type, and bits that must be zero for the
// form (ST and the reserved bits 22:21 and 19:18 of 8LS/MLS).
constexpr uint32_t kLsPrefixMask = 0xffec0000;
constexpr uint32_t kLs8 = 0x04000000;
constexpr uint32_t kMls = 0x06000000;
constexpr uint32_t kOpMask = 0xfc000000;
constexpr uint32_t op(uint32_t primary) { return primary << 26; }

constexpr PrefixedRow kPrefixedRows[] = {
    // 8LS: 8-byte load/store with a 34-bit displacement.
    {"plwa", kLsPrefixMask, kLs8, kOpMask, op(41), true, C::PcRelLoad},
    {"plxsd", kLsPrefixMask, kLs8, kOpMask, op(42), true, C::PcRelOther},
    {"plxssp", kLsPrefixMask, kLs8, kOpMask, op(43), true, C::PcRelOther},
    {"pstxsd", kLsPrefixMask, kLs8, kOpMask, op(46), true, C::PcRelOther},
    {"pstxssp", kLsPrefixMask, kLs8, kOpMask, op(47), true, C::PcRelOther},
    {"plxv", kLsPrefixMask, kLs8, 0xf8000000, op(50), true, C::PcRelOther},
    {"pstxv", kLsPrefixMask, kLs8, 0xf8000000, op(54), true, C::PcRelOther},
    {"plq", kLsPrefixMask, kLs8, kOpMask, op(56), true, C::PcRelOther},
    {"pld", kLsPrefixMask, kLs8, kOpMask, op(57), true, C::PcRelLoad},
    {"plxvp", kLsPrefixMask, kLs8, kOpMask, op(58), true, C::PcRelOther},
    {"pstq", kLsPrefixMask, kLs8, kOpMask, op(60), true, C::PcRelOther},
    {"pstd", kLsPrefixMask, kLs8, kOpMask, op(61), true, C::PcRelOther},
    {"pstxvp", kLsPrefixMask, kLs8, kOpMask, op(62), true, C::PcRelOther},
    // MLS: modified load/store and paddi, with a 34-bit displacement.
    {"paddi", kLsPrefixMask, kMls, kOpMask, op(14), true, C::PcRelAddi},
    {"plwz", kLsPrefixMask, kMls, kOpMask, op(32), true, C::PcRelLoad},
    {"plbz", kLsPrefixMask, kMls, kOpMask, op(34), true, C::PcRelLoad},
    {"pstw", kLsPrefixMask, kMls, kOpMask, op(36), true, C::PcRelOther},
    {"pstb", kLsPrefixMask, kMls, kOpMask, op(38), true, C::PcRelOther},
    {"plhz", kLsPrefixMask, kMls, kOpMask, op(40), true, C::PcRelLoad},
    {"plha", kLsPrefixMask, kMls, kOpMask, op(42), true, C::PcRelLoad},
    {"psth", kLsPrefixMask, kMls, kOpMask, op(44), true, C::PcRelOther},
    {"plfs", kLsPrefixMask, kMls, kOpMask, op(48), true, C::PcRelOther},
    {"plfd", kLsPrefixMask, kMls, kOpMask, op(50), true, C::PcRelOther},
    {"pstfs", kLsPrefixMask, kMls, kOpMask, op(52), true, C::PcRelOther},
    {"pstfd", kLsPrefixMask, kMls, kOpMask, op(54), true, C::PcRelOther},
    // 8RR: VSX with a 32-bit immediate (xxsplti32dx, xxspltidp, xxspltiw;
    // xxblendv*, xxpermx, xxeval). No pc dependence.
    // The prefix's bits 23:16 are zero; the suffix's bits 20:18 say which
    // of the splat forms it is (000 xxsplti32dx, 001x xxspltidp/xxspltiw).
    {"xxsplti32dx", 0xffff0000, 0x05000000, 0xfc1c0000, op(32), false, C::Plain},
    {"xxspltidp/xxspltiw", 0xffff0000, 0x05000000, 0xfc1c0000, op(32) | 0x00040000, false, C::Plain},
    {"8RR (xxblendv*, xxpermx, xxeval)", 0xffff0000, 0x05000000, 0xf8000000, op(32) | 0x08000000, false, C::Plain},
    // MMIRR: masked outer products (pmxv*ger*), and pnop.
    {"MMIRR (pmxv*ger*)", 0xfff00000, 0x07900000, kOpMask, op(59), false, C::Plain},
    {"pnop", kExact, 0x07000000, kExact, 0, false, C::Plain},
};

}  // namespace

std::span<const InsnRow> insn_rows() { return kRows; }
std::span<const PrefixedRow> prefixed_rows() { return kPrefixedRows; }

const InsnRow* classify(uint32_t word) {
  const auto* row = std::find_if(std::begin(kRows), std::end(kRows), [&](const InsnRow& r) { return r.matches(word); });
  return row == std::end(kRows) ? nullptr : row;
}

const PrefixedRow* classify_prefixed(uint32_t prefix, uint32_t suffix) {
  if (!is_prefix(prefix)) return nullptr;
  const auto* row = std::find_if(std::begin(kPrefixedRows), std::end(kPrefixedRows),
                                 [&](const PrefixedRow& r) { return r.matches(prefix, suffix); });
  if (row == std::end(kPrefixedRows)) return nullptr;
  // With R=1 the base register field must be 0 (the form is invalid otherwise).
  if (row->has_displacement && prefix_pc_relative(prefix) && ra(suffix) != 0) return nullptr;
  return row;
}

Classified classify_at(std::span<const uint8_t> code, uint64_t address) {
  Classified out;
  const auto word = read_word(code);
  if (!word) return {0, C::Undecodable, {}, "the code ends inside the instruction"};
  if (is_prefix(*word)) {
    constexpr std::string_view kNoPair = "a prefix without a valid suffix: undecodable";
    const auto suffix = read_word(code.subspan(kWordSize));
    const PrefixedRow* row = suffix ? classify_prefixed(*word, *suffix) : nullptr;
    if (!row) return {4, C::Undecodable, {}, kNoPair};
    if (address % kPrefixBoundary == kPrefixBoundary - kWordSize)
      return {8, C::Undecodable, row->name,
              "a prefixed instruction that crosses a 64-byte boundary: the processor raises an alignment interrupt"};
    out.length = 8;
    out.name = row->name;
    if (row->has_displacement && prefix_pc_relative(*word)) {
      out.cls = row->pc_relative_class;
      out.reason = "addresses memory relative to its own address";
    }
    return out;
  }
  if (const InsnRow* row = classify(*word)) return {4, row->cls, row->name, row->reason};
  return out;
}

bool is_refused_class(InsnClass cls) {
  switch (cls) {
    case C::Trap:
    case C::Syscall:
    case C::LoadReserve:
    case C::StoreConditional:
    case C::Refused:
    case C::Undecodable: return true;
    default: return false;
  }
}

bool is_branch_class(InsnClass cls) {
  return cls == C::Branch || cls == C::BranchCond || cls == C::BranchLr || cls == C::BranchCtr || cls == C::BranchTar;
}

}  // namespace uptrace::arch::ppc64le
