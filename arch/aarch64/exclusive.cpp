#include "arch/aarch64/exclusive.h"

#include "arch/aarch64/encoding.h"
#include "arch/aarch64/insn_table.h"

namespace uptrace::arch::aarch64 {

std::optional<RuntimeAddr> exclusive_sequence_start(std::span<const uint8_t> function_code,
                                                    RuntimeAddr function_start, RuntimeAddr site) {
  const int64_t offset = site - function_start;
  if (offset < 0 || static_cast<uint64_t>(offset) > function_code.size()) return std::nullopt;
  size_t at = static_cast<size_t>(offset);
  for (size_t n = 0; n < kExclusiveWindow && at >= kInsnSize; ++n) {
    at -= kInsnSize;
    const auto word = read_word(function_code.subspan(at));
    if (!word) break;
    if (is_store_exclusive(*word)) return std::nullopt;
    if (is_load_exclusive(*word)) return function_start + at;
  }
  return std::nullopt;
}

}  // namespace uptrace::arch::aarch64
