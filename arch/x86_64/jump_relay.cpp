#include "arch/x86_64/jump_relay.h"

#include <algorithm>

#include <fmt/format.h>

#include "arch/x86_64/decoder.h"
#include "arch/x86_64/insn_table.h"
#include "arch/x86_64/jump_scan.h"

namespace uptrace::arch::x86_64 {
namespace {

constexpr uint64_t kJmpRel8Length = 2;
constexpr uint64_t kJmpRel32Length = 5;
constexpr int64_t kRel8Min = -128;

// The instruction boundaries of `padding` (at `start`) when all of it is
// nops and int3s, each whole; empty otherwise.
std::vector<uint64_t> padding_boundaries(const Decoder& decoder, std::span<const uint8_t> padding, uint64_t start) {
  std::vector<uint64_t> out;
  size_t at = 0;
  while (at < padding.size()) {
    out.push_back(start + at);
    if (padding[at] == 0xcc) {
      ++at;
      continue;
    }
    auto rest = padding.subspan(at);
    auto d = decoder.decode_one(rest.first(std::min(rest.size(), jump_analysis::kMaxInsnLength)), RuntimeAddr(start + at));
    if (!d) return {};
    const InsnRow* row = classify(d->enc, d->insn.code());
    if (!row || row->cls != InsnClass::Nop) return {};
    at += d->insn.length;
  }
  if (at != padding.size()) return {};  // the last one runs into the function
  return out;
}

}  // namespace

RelayPlace relay_place(const Decoder& decoder, const SiteContext& ctx) {
  const uint64_t site = ctx.site.value;
  if (ctx.site != ctx.function_start) return {std::nullopt, "the site is not the function's start"};
  if (ctx.before_function.empty()) return {std::nullopt, "no padding nothing else claims is right before the function"};
  if (!ctx.image || !ctx.image->functions_complete())
    return {std::nullopt, "not every branch in the module is known (no .symtab)"};
  const uint64_t start = site - ctx.before_function.size();
  std::vector<uint64_t> boundaries = padding_boundaries(decoder, ctx.before_function, start);
  if (boundaries.empty()) return {std::nullopt, "the bytes right before the function are not all nops or int3"};
  // The last boundary the relay fits after, within the jmp rel8's reach.
  const uint64_t lowest = std::max(start, static_cast<uint64_t>(site + kJmpRel8Length + kRel8Min));
  std::optional<uint64_t> at;
  for (uint64_t b : boundaries)
    if (b >= lowest && b + kJmpRel32Length <= site) at = b;
  if (!at) return {std::nullopt, "the padding before the function has no room for a 5-byte jmp"};
  const auto branches = jump_analysis::module_branches(decoder, *ctx.image);
  auto first = std::upper_bound(branches->begin(), branches->end(), std::pair{*at, UINT64_MAX});
  if (first != branches->end() && first->first < site)
    return {std::nullopt, fmt::format("a branch at {:#x} lands in the padding before the function", first->second)};
  auto stored = ctx.image->pointer_into(RuntimeAddr(*at), ctx.site);
  if (!stored || *stored) return {std::nullopt, "an address stored in the module may point into the padding"};
  return {at, {}};
}

}  // namespace uptrace::arch::x86_64
