#pragma once
// Boosted execution on riscv64 (what the kernel's riscv uprobes never do):
// the slot holds the copy and a `jal x0` back, so a hit costs one stop, the
// trap, instead of two (the trap, then the trailing c.ebreak of a step).
// Only a copy that needs nothing done after it is boosted: control
// transfers and auipc read their own address and stay emulated (or, auipc,
// stepped with its result moved). `jal` reaches +-1 MiB and writes no
// register but its rd (x0 here), so nothing is clobbered; a slot out of
// reach keeps the stepped form.
//
// There is no single step to take a thread out of the slot when a signal
// finds it there before its copy ran (arch/boost_plan.h), so the slot also
// holds the stepped form, at kSteppedFormOffset:
//
//   slot+0        the copy (2 or 4 bytes, as it is at the site)
//   slot+len      jal x0, site+len
//   slot+8        the copy again
//   slot+8+len    c.ebreak           (the stepped form's end trap)
//
// The copy stays as the program has it, compressed or not: the same bytes
// are the same instruction (no expansion to get wrong, and a fault in it
// reports what the program's own code would), and a 2-byte copy fits the
// slot as well as a 4-byte one. A 4-byte jal at a 2-byte aligned address
// is fine: the program's 2-byte instructions say the hart has C, which
// lowers the instruction alignment to 2 bytes.
#include <cstdint>
#include <optional>

#include "arch/boost_plan.h"
#include "arch/riscv64/plans.h"

namespace uptrace::arch::riscv64 {

using arch::BoostBuild;
using arch::BoostPlan;

// Where in the slot the stepped form begins (after a 4-byte copy and the jal).
constexpr uint64_t kSteppedFormOffset = 8;

// The boosted form of a step plan.
BoostBuild build_boost(const StepSpec& spec);

// jal x0 from `from` (the jal's own address) to `to`; nullopt when out of
// reach (+-1 MiB: a signed 21-bit offset) or odd.
std::optional<uint32_t> jal_to(uint64_t from, uint64_t to);

}  // namespace uptrace::arch::riscv64
