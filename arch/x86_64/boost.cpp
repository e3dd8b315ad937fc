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

BoostBuild build_boost(const StepSpec& spec) {
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
  return {std::make_unique<BoostPlan>(std::move(code), std::move(landings), spec.slot, kRip, std::move(description)), {}};
}

}  // namespace uptrace::arch::x86_64
