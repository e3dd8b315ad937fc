#pragma once
// Boosted execution on aarch64 (what the kernel's arm64 uprobes never do):
// the slot holds the copy and a `b` back, so a hit costs one stop, the trap,
// instead of two. Only copies that need nothing done after them are
// boosted: one that borrows a scratch register or writes a slot address to
// x30 (a call) still needs the step and its fixup; adr/adrp, whose copy
// would compute a slot-relative address, load the site's value from a
// literal in the slot instead. `b` reaches +-128 MiB; a slot out of reach
// keeps the step.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arch/aarch64/plans.h"
#include "arch/boost_plan.h"
#include "arch/isa.h"

namespace uptrace::arch::aarch64 {

using arch::BoostBuild;
using arch::BoostPlan;

// The boosted form of a step plan: its copy, then a `b` to wherever the
// fixup would have put pc.
BoostBuild build_boost(const StepSpec& spec);

// b from `from` (the branch's own address) to `to`; nullopt when out of
// reach (+-128 MiB) or not 4-byte aligned.
std::optional<uint32_t> b_to(uint64_t from, uint64_t to);

}  // namespace uptrace::arch::aarch64
