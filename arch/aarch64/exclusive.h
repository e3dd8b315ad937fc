#pragma once
// Whether a probe site lies inside an exclusive load/store sequence
// (ldxr ... stxr). A trap anywhere between the pair goes through the kernel,
// which clears the exclusive monitor, so the store-exclusive fails and the
// program retries forever. Like the kernel's kprobes, the scan walks back
// from the site over at most 32 instructions (ARM recommends at most 128
// bytes between the pair) and stops at the function's start: a
// load-exclusive met first means the site is inside a sequence, a
// store-exclusive met first means it is not.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/address.h"

namespace uptrace::arch::aarch64 {

constexpr size_t kExclusiveWindow = 32;  // instructions

// The address of the load-exclusive that opens the sequence `site` is in,
// if it is in one. `function_code` starts at `function_start`; `site` is a
// 4-byte aligned address inside it.
std::optional<RuntimeAddr> exclusive_sequence_start(std::span<const uint8_t> function_code,
                                                    RuntimeAddr function_start, RuntimeAddr site);

}  // namespace uptrace::arch::aarch64
