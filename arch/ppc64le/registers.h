#pragma once
// The ppc64 register file as ptrace sees it: NT_PRSTATUS is the kernel's
// struct pt_regs (gpr[32], nip, msr, orig_gpr3, ctr, link, xer, ccr, softe,
// trap, dar, dsisr, result) padded to ELF_NGREG = 48 words; restated here
// so the ISA builds on any host.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "arch/isa.h"

namespace uptrace::arch::ppc64le {

// Word indexes into Regs::words: r0..r31 are words 0..31.
enum Word : uint16_t {
  kR0 = 0,
  kSp = 1,   // r1
  kToc = 2,  // r2
  kR3 = 3,
  kThreadPointer = 13,  // r13 (ELFv2)
  kNip = 32,
  kMsr = 33,
  kOrigGpr3 = 34,
  kCtr = 35,
  kLink = 36,
  kXer = 37,
  kCcr = 38,
  kSofte = 39,
  kTrap = 40,
  kDar = 41,
  kDsisr = 42,
  kResult = 43,
  kWordCount = 48,  // ELF_NGREG
};

// CR0.SO (bit 3 of CR field 0, i.e. 0x10000000 of the 32-bit CR): set by
// the kernel when a system call fails.
constexpr uint64_t kCr0So = 0x10000000;

// r0..r31, sp (r1), toc (r2), pc/nip, lr, ctr, cr, xer, msr (case-insensitive).
std::optional<RegisterRef> register_by_name(std::string_view name);
std::vector<std::string> register_names();

// The ELFv2 DWARF register numbers that name words of NT_PRSTATUS: r0-r31
// are 0-31, LR 65, CTR 66, XER 76 (the FPRs 32-63, CR 64 and the vector
// registers are elsewhere).
std::span<const DwarfRegister> dwarf_register_map();

// Whether bit `bi` (0 = the most significant, CR0.LT) of the 32-bit CR is set.
bool cr_bit(const Regs& regs, unsigned bi);

}  // namespace uptrace::arch::ppc64le
