#include "arch/aarch64/exclusive.h"

#include "arch/aarch64/encoding.h"
#include "arch/aarch64/insn_table.h"

namespace uptrace::arch::aarch64 {

std::optional<RuntimeAddr> exclusive_sequence_start(std::span<const uint8_t> function_code,
                                                    RuntimeAddr function_start, RuntimeAddr site) {
  auto classify = [](std::span<const uint8_t> code) {
    const auto word = read_word(code);
    if (!word) return ExclusiveStep{};
    if (is_load_exclusive(*word)) return ExclusiveStep{kInsnSize, ExclusiveStep::Kind::Open};
    if (is_store_exclusive(*word)) return ExclusiveStep{kInsnSize, ExclusiveStep::Kind::Close};
    return ExclusiveStep{kInsnSize, ExclusiveStep::Kind::Other};
  };
  return arch::exclusive_sequence_start(function_code, function_start, site, classify);
}

}  // namespace uptrace::arch::aarch64
