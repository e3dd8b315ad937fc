#pragma once
// Boosted execution on ppc64le (arch/boost_plan.h): the slot holds the copy
// (4 or 8 bytes) and a `b` back, so a hit costs one stop, the trap, instead
// of two. A copy that needs a fixup after it — a pc-relative load through a
// borrowed register, `bctarl`'s LR — keeps the step. `b` reaches +-32 MiB;
// a slot out of reach keeps the step.
#include <cstdint>
#include <optional>

#include "arch/boost_plan.h"
#include "arch/ppc64le/plans.h"

namespace uptrace::arch::ppc64le {

using arch::BoostBuild;
using arch::BoostPlan;

// The boosted form of a step plan: its copy, then a `b` to the next
// instruction (a taken bctar leaves the slot by itself).
BoostBuild build_boost(const StepSpec& spec);

// b (I-form, AA = LK = 0) from `from` to `to`; nullopt when out of reach
// (+-32 MiB) or not 4-byte aligned.
std::optional<uint32_t> b_to(uint64_t from, uint64_t to);

}  // namespace uptrace::arch::ppc64le
