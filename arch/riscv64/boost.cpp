#include "arch/riscv64/boost.h"

#include <fmt/format.h>

#include "arch/riscv64/encoding.h"
#include "arch/riscv64/registers.h"

namespace uptrace::arch::riscv64 {

namespace {
constexpr int64_t kJalReach = int64_t{1} << 20;  // 1 MiB each way

// "1.5 MiB", "4093 MiB": enough to see how far out of reach.
std::string mib(uint64_t bytes) {
  const double m = static_cast<double>(bytes) / static_cast<double>(uint64_t{1} << 20);
  return m < 100 ? fmt::format("{:.1f} MiB", m) : fmt::format("{:.0f} MiB", m);
}

void append(std::vector<uint8_t>& code, std::span<const uint8_t> bytes) { code.insert(code.end(), bytes.begin(), bytes.end()); }
}  // namespace

std::optional<uint32_t> jal_to(uint64_t from, uint64_t to) {
  const int64_t offset = static_cast<int64_t>(to - from);
  if (offset % 2 != 0 || offset < -kJalReach || offset >= kJalReach) return std::nullopt;
  return encode_j(0, offset);
}

BoostBuild build_boost(const StepSpec& spec) {
  if (spec.result_delta)
    return {nullptr, "auipc computes from its own address: its copy in the slot would give the slot's, and moving "
                     "it to the site's needs a stop after the copy"};
  const uint64_t length = spec.copy.size();
  const uint64_t back_at = spec.slot.value + length;
  const uint64_t next = spec.site.value + length;
  const auto back = jal_to(back_at, next);
  if (!back) {
    const uint64_t distance = spec.slot.value > spec.site.value ? spec.slot.value - spec.site.value
                                                                : spec.site.value - spec.slot.value;
    return {nullptr, fmt::format("the slot is {} away; jal reaches 1 MiB", mib(distance))};
  }
  std::vector<uint8_t> code = spec.copy;
  append(code, word_bytes(*back));
  // A 2-byte copy leaves a parcel before the stepped form: c.ebreak, never run.
  while (code.size() < kSteppedFormOffset) append(code, parcel_bytes(kCEbreak));
  const uint64_t stepped = spec.slot.value + kSteppedFormOffset;
  append(code, spec.copy);
  append(code, parcel_bytes(kCEbreak));
  return {std::make_unique<BoostPlan>(
              std::move(code),
              std::vector<BoostPlan::Landing>{{spec.slot.value, spec.site.value}, {back_at, next}}, spec.slot, kPc,
              fmt::format("boosted: the copy runs in the slot, then a jal back to {:#x}", next),
              BoostPlan::SteppedForm{stepped, {{stepped + length, next}}}),
          {}};
}

}  // namespace uptrace::arch::riscv64
