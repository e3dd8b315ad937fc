#include "arch/ppc64le/boost.h"

#include <fmt/format.h>

#include "arch/ppc64le/encoding.h"
#include "arch/ppc64le/registers.h"

namespace uptrace::arch::ppc64le {

namespace {
constexpr uint32_t kB = 0x48000000;  // b, LI = 0
constexpr int64_t kBReach = int64_t{1} << 25;
}  // namespace

std::optional<uint32_t> b_to(uint64_t from, uint64_t to) {
  const int64_t offset = static_cast<int64_t>(to - from);
  if (offset % static_cast<int64_t>(kWordSize) != 0 || offset < -kBReach || offset >= kBReach) return std::nullopt;
  return kB | (static_cast<uint32_t>(offset) & 0x03fffffc);
}

BoostBuild build_boost(const StepSpec& spec) {
  if (spec.scratch) return {nullptr, "the copy loads through a borrowed register that must be given back after it"};
  if (spec.rewrite_link) return {nullptr, "a call from the slot would leave a slot address in LR"};
  const uint64_t back_at = spec.slot.value + spec.length;
  const uint64_t next = spec.site.value + spec.length;
  const auto back = b_to(back_at, next);
  if (!back) return {nullptr, "the branch back is out of reach of the slot (b reaches +-32 MiB)"};
  std::vector<uint8_t> code = spec.code;
  const auto bytes = word_bytes(*back);
  code.insert(code.end(), bytes.begin(), bytes.end());
  std::string description = fmt::format("boosted: the copy runs in the slot, then branches back to {:#x}", next);
  if (spec.keep_taken_pc) description += " (taken, it goes to TAR by itself)";
  return {std::make_unique<BoostPlan>(std::move(code),
                                      std::vector<BoostPlan::Landing>{{spec.slot.value, spec.site.value},
                                                                      {back_at, next}},
                                      spec.slot, kNip, std::move(description)),
          {}};
}

}  // namespace uptrace::arch::ppc64le
