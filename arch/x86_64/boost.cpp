#include "arch/x86_64/boost.h"

#include <fmt/format.h>

#include "arch/x86_64/registers.h"
#include "common/error.h"

namespace uptrace::arch::x86_64 {

std::optional<std::vector<uint8_t>> jmp_rel32(uint64_t from, uint64_t to) {
  const int64_t rel = static_cast<int64_t>(to - (from + 5));
  if (rel < INT32_MIN || rel > INT32_MAX) return std::nullopt;
  std::vector<uint8_t> code{0xe9};
  for (int i = 0; i < 4; ++i) code.push_back(static_cast<uint8_t>(static_cast<uint64_t>(rel) >> (8 * i)));
  return code;
}

namespace {

// The stepped form's end traps, each with where pc goes from it, as the
// step plan's finish_step would put it.
std::optional<std::vector<BoostPlan::Landing>> stepped_ends(const StepSpec& stepped) {
  std::vector<BoostPlan::Landing> ends;
  for (uint64_t trap : stepped.end_traps) {
    if (stepped.pc.kind == PcFixup::Kind::Relocate) {
      ends.push_back({trap, stepped.site.value + (trap - stepped.slot.value)});
    } else if (stepped.pc.kind == PcFixup::Kind::Branch) {
      ends.push_back({trap, trap == stepped.pc.taken_in_slot ? stepped.pc.taken : stepped.pc.not_taken});
    } else {
      return std::nullopt;
    }
  }
  if (ends.empty()) return std::nullopt;
  return ends;
}

}  // namespace

BoostBuild build_boost(const StepSpec& spec, const StepSpec* stepped) {
  if (spec.scratch_word)
    return {nullptr, "its rip-relative operand is out of reach of the slot and borrows a register that must be restored"};
  if (spec.rewrite_return_address) return {nullptr, "a call from the slot would push a return address inside the slot"};
  // A thread is single-stepped out of a boost slot when a signal finds it
  // there: pushf would save the step's trap flag (the step plan fixes that).
  if (spec.pushed_flags_bytes) return {nullptr, "pushf stepped out of the slot would push the trap flag"};

  std::vector<uint8_t> code = spec.code;
  std::vector<BoostPlan::Landing> landings{{spec.slot.value, spec.site.value}};
  // Place "jmp to" at `at` inside the slot (padding with int3, never run).
  auto jump_at = [&](uint64_t at, uint64_t to) -> bool {
    const size_t offset = at - spec.slot.value;
    if (code.size() > offset) return false;
    code.resize(offset, 0xcc);
    auto jmp = jmp_rel32(at, to);
    if (!jmp) return false;
    code.insert(code.end(), jmp->begin(), jmp->end());
    landings.push_back({at, to});
    return true;
  };

  std::string description = "boosted: the copy runs in the slot";
  if (spec.description.find("rip-relative operand re-encoded") != std::string::npos)
    description += " (rip-relative operand re-encoded for the slot)";
  const PcFixup& fix = spec.pc;
  const uint64_t after_copy = spec.slot.value + spec.code.size();
  switch (fix.kind) {
    case PcFixup::Kind::Keep: description += "; pc comes from the instruction itself"; break;
    case PcFixup::Kind::Relocate:
      if (!jump_at(after_copy, spec.site.value + spec.length))
        return {nullptr, "the jump back is out of reach of the slot"};
      description += fmt::format(", then jumps back to {:#x}", spec.site.value + spec.length);
      break;
    case PcFixup::Kind::Branch:
      if (!jump_at(fix.not_taken_in_slot, fix.not_taken) ||
          (fix.taken_in_slot != fix.not_taken_in_slot && !jump_at(fix.taken_in_slot, fix.taken)))
        return {nullptr, "the branch target is out of reach of the slot"};
      description += fix.taken == fix.not_taken
                         ? fmt::format(", then jumps to {:#x}", fix.taken)
                         : fmt::format(", then jumps to {:#x} if taken, else to {:#x}", fix.taken, fix.not_taken);
      break;
  }
  std::optional<BoostPlan::SteppedForm> form;
  if (stepped) {
    // A thread found at the slot's start is run through this copy to its
    // int3 instead of single-stepped; it must need no fixup either.
    auto ends = stepped_ends(*stepped);
    if (!ends || stepped->scratch_word || stepped->rewrite_return_address)
      return {nullptr, "a thread a signal finds at the slot's start could not be run through the copy to a trap "
                       "after it (there is no hardware single-step)"};
    if (code.size() > kSteppedFormOffset) return {nullptr, "the copy and its jumps back leave no room for its stepped form"};
    code.resize(kSteppedFormOffset, 0xcc);
    code.insert(code.end(), stepped->code.begin(), stepped->code.end());
    form = BoostPlan::SteppedForm{stepped->slot.value, std::move(*ends)};
  }
  return {std::make_unique<BoostPlan>(std::move(code), std::move(landings), spec.slot, kRip, std::move(description),
                                      std::move(form)),
          {}};
}

}  // namespace uptrace::arch::x86_64
