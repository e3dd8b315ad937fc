#pragma once
// Boosted execution on x86-64 (arch/boost_plan.h): the relocated copy, then
// a jmp back. Only instructions that need no fixup after they run can be
// boosted: a copy that pushes a slot address, or borrows a scratch register,
// still needs the step.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arch/boost_plan.h"
#include "arch/isa.h"
#include "arch/x86_64/plans.h"

namespace uptrace::arch::x86_64 {

using arch::BoostBuild;
using arch::BoostPlan;

// Where a boost slot's stepped form begins, when it has one: past the
// longest boosted copy and its jumps back.
constexpr uint64_t kSteppedFormOffset = 64;

// The boosted form of a step plan: its copy, then a jump to wherever the
// fixup would have put pc. Where copies run to a trailing trap
// (StepMechanism::TrailingTrap), `stepped` is the step plan built for the
// slot's address + kSteppedFormOffset, with its int3s: the slot holds it
// there too, for a thread a signal finds at the slot's start
// (arch/boost_plan.h).
BoostBuild build_boost(const StepSpec& spec, const StepSpec* stepped = nullptr);

// jmp rel32 from `from` (the jump's own address) to `to`; nullopt when out of reach.
std::optional<std::vector<uint8_t>> jmp_rel32(uint64_t from, uint64_t to);

}  // namespace uptrace::arch::x86_64
