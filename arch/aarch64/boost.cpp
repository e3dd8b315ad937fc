#include "arch/aarch64/boost.h"

#include <fmt/format.h>

#include "arch/aarch64/encoding.h"
#include "arch/aarch64/registers.h"

namespace uptrace::arch::aarch64 {

namespace {
constexpr uint32_t kB = 0x14000000;  // b, imm26 = 0
constexpr int64_t kBReach = int64_t{1} << 27;
}  // namespace

std::optional<uint32_t> b_to(uint64_t from, uint64_t to) {
  const int64_t offset = static_cast<int64_t>(to - from);
  if (offset % static_cast<int64_t>(kInsnSize) != 0 || offset < -kBReach || offset >= kBReach) return std::nullopt;
  return with_branch_offset(kB, BranchForm::Imm26, offset);
}

namespace {

// adr/adrp: the copy would compute an address relative to the slot; the slot
// loads the site's value from a literal beside it instead (16 bytes: the
// ldr, the b back, the value).
BoostBuild build_address_boost(const StepSpec& spec) {
  const uint8_t reg = spec.result_delta->first;
  constexpr uint32_t kLdrLiteral8 = 0x58000040;  // ldr xT, #+8
  const auto back = b_to(spec.slot.value + kInsnSize, spec.site.value + kInsnSize);
  if (!back) return {nullptr, "the branch back is out of reach of the slot (b reaches +-128 MiB)"};
  std::vector<uint8_t> code;
  for (uint32_t w : {kLdrLiteral8 | reg, *back}) {
    const auto bytes = word_bytes(w);
    code.insert(code.end(), bytes.begin(), bytes.end());
  }
  for (int i = 0; i < 8; ++i) code.push_back(static_cast<uint8_t>(spec.result_value >> (8 * i)));
  return {std::make_unique<BoostPlan>(
              std::move(code),
              std::vector<BoostPlan::Landing>{{spec.slot.value, spec.site.value},
                                              {spec.slot.value + kInsnSize, spec.site.value + kInsnSize}},
              spec.slot, kPc,
              fmt::format("boosted: the slot loads x{} = {:#x} (the site's value) from beside it, then branches back "
                          "to {:#x}",
                          reg, spec.result_value, spec.site.value + kInsnSize)),
          {}};
}

}  // namespace

BoostBuild build_boost(const StepSpec& spec) {
  if (spec.scratch) return {nullptr, "the copy loads through a borrowed register that must be given back after it"};
  if (spec.rewrite_link) return {nullptr, "a call from the slot would leave a slot address in x30"};
  if (spec.result_delta) return build_address_boost(spec);

  std::vector<uint8_t> code = spec.code;
  std::vector<BoostPlan::Landing> landings{{spec.slot.value, spec.site.value}};
  // A `b` to `to` at `at` inside the slot (padding with udf #0, never run).
  auto branch_at = [&](uint64_t at, uint64_t to) -> bool {
    const size_t offset = at - spec.slot.value;
    if (code.size() > offset) return false;
    code.resize(offset, 0);
    const auto b = b_to(at, to);
    if (!b) return false;
    const auto bytes = word_bytes(*b);
    code.insert(code.end(), bytes.begin(), bytes.end());
    landings.push_back({at, to});
    return true;
  };

  std::string description = "boosted: the copy runs in the slot";
  const PcFixup& fix = spec.pc;
  const uint64_t after_copy = spec.slot.value + spec.code.size();
  switch (fix.kind) {
    case PcFixup::Kind::Keep: description += "; pc comes from the instruction itself"; break;
    case PcFixup::Kind::Relocate:
      if (!branch_at(after_copy, spec.site.value + kInsnSize))
        return {nullptr, "the branch back is out of reach of the slot (b reaches +-128 MiB)"};
      description += fmt::format(", then branches back to {:#x}", spec.site.value + kInsnSize);
      break;
    case PcFixup::Kind::Branch:
      if (!branch_at(fix.not_taken_in_slot, fix.not_taken) ||
          (fix.taken_in_slot != fix.not_taken_in_slot && !branch_at(fix.taken_in_slot, fix.taken)))
        return {nullptr, "the branch target is out of reach of the slot (b reaches +-128 MiB)"};
      description += fix.taken == fix.not_taken
                         ? fmt::format(", then branches to {:#x}", fix.taken)
                         : fmt::format(", then branches to {:#x} if taken, else to {:#x}", fix.taken, fix.not_taken);
      break;
  }
  return {std::make_unique<BoostPlan>(std::move(code), std::move(landings), spec.slot, kPc, std::move(description)), {}};
}

}  // namespace uptrace::arch::aarch64
