#include "arch/aarch64/insn_table.h"

#include <algorithm>

namespace uptrace::arch::aarch64 {
namespace {

using C = InsnClass;

constexpr uint32_t kExact = 0xffffffff;

constexpr std::string_view kSkip = "has no effect here: execution continues after it";
constexpr std::string_view kException =
    "generates an exception on purpose; stepped out of line its handler (or the kernel's syscall restart) would see "
    "the slot address";
constexpr std::string_view kPrivileged = "is privileged: it only faults at EL0";
constexpr std::string_view kExclusive =
    "an exclusive load/store: the trap and the single step between it and its pair go through the kernel, which "
    "clears the exclusive monitor, so the store-exclusive would fail every time and its retry loop never end";
constexpr std::string_view kPacSign =
    "signs a pointer with a key the tracer cannot read: stepped, it does not depend on its own address";
constexpr std::string_view kPacAuth =
    "authenticates a pointer with a key the tracer cannot read: stepped, it does not depend on its own address; "
    "a failed authentication that faults (FEAT_FPAC) faults in the slot and is reported at the site";
constexpr std::string_view kHintStep = "a hint with no pc dependence: stepped";
constexpr std::string_view kAuthBranch =
    "a pointer-authenticated branch: the tracer has no keys to emulate it; stepped, the target comes from the "
    "registers, not the slot";
constexpr std::string_view kAuthCall =
    "a pointer-authenticated call: the tracer has no keys to emulate it; stepped, then the return address in x30 "
    "is rewritten from the slot's to the site's";

constexpr InsnRow kRows[] = {
    // Traps of every variant: another tool's breakpoint, the program's own,
    // or the kernel's uprobe (brk #5).
    {"brk", 0xffe0001f, 0xd4200000, C::Trap, "brk is already a breakpoint instruction"},
    {"hlt", 0xffe0001f, 0xd4400000, C::Trap, "hlt is already a (halting-debug) breakpoint instruction"},
    {"udf", 0xffff0000, 0x00000000, C::Trap, "udf is a permanently undefined instruction, used as a trap"},

    // Into or out of the kernel and the hypervisor.
    {"svc", 0xffe0001f, 0xd4000001, C::Refused,
     "svc is a system call: it may block with the thread in the slot, and its restart, clone and sigreturn paths "
     "would see the slot address"},
    {"hvc", 0xffe0001f, 0xd4000002, C::Refused, kPrivileged},
    {"smc", 0xffe0001f, 0xd4000003, C::Refused, kPrivileged},
    {"dcps1/2/3", 0xffe0001c, 0xd4a00000, C::Refused, kPrivileged},
    {"exception generation", 0xff000000, 0xd4000000, C::Refused, kException},
    {"eret", kExact, 0xd69f03e0, C::Refused, kPrivileged},
    {"eretaa/eretab", 0xfffffbff, 0xd69f0bff, C::Refused, kPrivileged},
    {"drps", kExact, 0xd6bf03e0, C::Refused, kPrivileged},

    // Writes to PSTATE and system registers. The kernel's probes refuse every
    // msr; fpcr, fpsr and tpidr_el0 are ordinary EL0 state with no pc or
    // single-step interaction, so they are stepped.
    {"msr fpcr", 0xffffffe0, 0xd51b4400, C::Step, "writes the floating-point control register: stepped"},
    {"msr fpsr", 0xffffffe0, 0xd51b4420, C::Step, "writes the floating-point status register: stepped"},
    {"msr tpidr_el0", 0xffffffe0, 0xd51bd040, C::Step, "writes the thread pointer: stepped"},
    {"msr (immediate)", 0xfff8f01f, 0xd500401f, C::Refused,
     "msr (immediate) writes PSTATE fields (daif, pan, ssbs, tco, ...), which the single step's exception return "
     "also restores: not safe out of line"},
    {"msr nzcv", 0xffffffe0, 0xd51b4200, C::Refused,
     "msr nzcv writes PSTATE's condition flags directly; like every other msr it is refused (the kernel's probes "
     "refuse all msr)"},
    {"msr daif", 0xffffffe0, 0xd51b4220, C::Refused, "msr daif writes PSTATE's interrupt masks: not safe out of line"},
    {"msr (register)", 0xfff00000, 0xd5100000, C::Refused,
     "msr writes a system register; only fpcr, fpsr and tpidr_el0 are known to be safe out of line"},
    {"mrs daif", 0xffffffe0, 0xd53b4220, C::Refused,
     "mrs daif reads the interrupt masks, which differ while the tracer single-steps (the kernel's probes refuse it)"},

    // Exclusive sequences: see is_load_exclusive / is_store_exclusive. casp
    // shares their encoding group (size 0x, o1 set) but is one atomic
    // instruction.
    {"casp family", 0xbfa00000, 0x08200000, C::Step, "a single atomic compare-and-swap of a pair: stepped"},
    {"ldxr/ldaxr family", 0x3fc00000, 0x08400000, C::Refused, kExclusive},
    {"stxr/stlxr family", 0x3fc00000, 0x08000000, C::Refused, kExclusive},
    // Single atomic instructions (FEAT_LSE and later), which Capstone 4
    // cannot decode: listed so they are stepped rather than refused.
    {"cas family", 0x3fa07c00, 0x08a07c00, C::Step, "a single atomic compare-and-swap: stepped"},
    {"ldadd/ldclr/ldeor/ldset/ldmax/ldmin/swp family", 0x3f200c00, 0x38200000, C::Step,
     "a single atomic memory operation: stepped"},

    // Pointer authentication. Capstone 4 does not decode the branches.
    {"braa/brab", 0xfffff800, 0xd71f0800, C::AuthBranch, kAuthBranch},
    {"braaz/brabz", 0xfffff81f, 0xd61f081f, C::AuthBranch, kAuthBranch},
    {"retaa/retab", 0xfffffbff, 0xd65f0bff, C::AuthBranch, kAuthBranch},
    {"blraa/blrab", 0xfffff800, 0xd73f0800, C::AuthCall, kAuthCall},
    {"blraaz/blrabz", 0xfffff81f, 0xd63f081f, C::AuthCall, kAuthCall},

    // Branches: the target is relative to the site, or pc is the result.
    {"b", 0xfc000000, 0x14000000, C::B, "relative branch: emulated, the target is computed from the site"},
    {"bl", 0xfc000000, 0x94000000, C::Bl,
     "relative call: emulated, x30 is set to the site's return address and pc to the target"},
    {"b.cond", 0xff000000, 0x54000000, C::BCond,
     "conditional branch (b.cond, bc.cond): emulated, taken or not is decided from NZCV"},
    {"cbz/cbnz", 0x7e000000, 0x34000000, C::Cbz, "compare and branch: emulated, the register is tested"},
    {"tbz/tbnz", 0x7e000000, 0x36000000, C::Tbz, "test bit and branch: emulated, the register bit is tested"},
    {"br", 0xfffffc1f, 0xd61f0000, C::Br, "pc comes from a register: emulated"},
    {"blr", 0xfffffc1f, 0xd63f0000, C::Blr, "pc comes from a register and x30 is set: emulated"},
    {"ret", 0xfffffc1f, 0xd65f0000, C::Ret, "pc comes from a register: emulated"},

    // pc-relative data.
    {"adr", 0x9f000000, 0x10000000, C::Adr, "computes a pc-relative address: emulated, or fixed up after the step"},
    {"adrp", 0x9f000000, 0x90000000, C::Adrp,
     "computes a pc-relative page address: emulated, or fixed up after the step"},
    {"ldr (literal)", 0xbf000000, 0x18000000, C::LdrLiteral,
     "loads pc-relative data: emulated, or stepped as a load through its own register"},
    {"ldrsw (literal)", 0xff000000, 0x98000000, C::LdrLiteral,
     "loads pc-relative data: emulated, or stepped as a load through its own register"},
    {"prfm (literal)", 0xff000000, 0xd8000000, C::PrfmLiteral,
     "a prefetch of pc-relative data has no architectural effect: emulated as a no-op"},
    {"ldr (literal, simd&fp)", 0x3f000000, 0x1c000000, C::FpLiteral,
     "loads pc-relative data into a SIMD&FP register, which is not in NT_PRSTATUS: stepped as a load through a "
     "scratch register"},

    // Hints.
    {"nop", kExact, 0xd503201f, C::Skip, kSkip},
    {"bti", 0xffffff3f, 0xd503241f, C::Skip,
     "a branch target marker: emulated as a no-op (a brk at the site is exempt from the branch target check, and "
     "the emulation clears PSTATE.BTYPE as executing it would)"},
    {"paciaz", kExact, 0xd503231f, C::Step, kPacSign},
    {"paciasp", kExact, 0xd503233f, C::Step, kPacSign},
    {"pacibz", kExact, 0xd503235f, C::Step, kPacSign},
    {"pacibsp", kExact, 0xd503237f, C::Step, kPacSign},
    {"pacia1716", kExact, 0xd503211f, C::Step, kPacSign},
    {"pacib1716", kExact, 0xd503215f, C::Step, kPacSign},
    {"xpaclri", kExact, 0xd50320ff, C::Step, kPacSign},
    {"autiaz", kExact, 0xd503239f, C::Step, kPacAuth},
    {"autiasp", kExact, 0xd50323bf, C::Step, kPacAuth},
    {"autibz", kExact, 0xd50323df, C::Step, kPacAuth},
    {"autibsp", kExact, 0xd50323ff, C::Step, kPacAuth},
    {"autia1716", kExact, 0xd503219f, C::Step, kPacAuth},
    {"autib1716", kExact, 0xd50321df, C::Step, kPacAuth},
    {"yield", kExact, 0xd503203f, C::Step, kHintStep},
    {"wfe", kExact, 0xd503205f, C::Step,
     "wait for event: stepped (the exception return after the trap sets the event register, so it returns at "
     "once, which wfe callers must allow anyway)"},
    {"wfi", kExact, 0xd503207f, C::Step, kHintStep},
    {"sev", kExact, 0xd503209f, C::Step, kHintStep},
    {"sevl", kExact, 0xd50320bf, C::Step, kHintStep},
    {"dgh", kExact, 0xd50320df, C::Step, kHintStep},
    {"csdb", kExact, 0xd503229f, C::Step, kHintStep},
    {"hint", 0xfffff01f, 0xd503201f, C::Refused,
     "a hint not known to be harmless out of line (esb, psb, tsb, or one this version does not know)"},
};

}  // namespace

std::span<const InsnRow> insn_rows() { return kRows; }

const InsnRow* classify(uint32_t word) {
  const auto* row = std::find_if(std::begin(kRows), std::end(kRows), [&](const InsnRow& r) { return r.matches(word); });
  return row == std::end(kRows) ? nullptr : row;
}

// The load/store exclusive group is bits 29:24 = 001000 with o2 (bit 23)
// clear; in it, o1 (bit 21) with size 0x is casp, not a pair exclusive.
namespace {
bool is_exclusive(uint32_t word) {
  const bool group = (word & 0x3f800000) == 0x08000000;
  const bool casp = (word & 0x80200000) == 0x00200000;
  return group && !casp;
}
}  // namespace

bool is_load_exclusive(uint32_t word) { return is_exclusive(word) && (word & (1u << 22)); }
bool is_store_exclusive(uint32_t word) { return is_exclusive(word) && !(word & (1u << 22)); }

}  // namespace uptrace::arch::aarch64
