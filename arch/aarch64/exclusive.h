#pragma once
// aarch64's exclusive load/store sequences (ldxr ... stxr) for the shared
// scan (arch/exclusive_scan.h).
#include <cstdint>
#include <optional>
#include <span>

#include "arch/exclusive_scan.h"
#include "common/address.h"

namespace uptrace::arch::aarch64 {

// The address of the load-exclusive that opens the sequence `site` is in,
// if it is in one. `function_code` starts at `function_start`.
std::optional<RuntimeAddr> exclusive_sequence_start(std::span<const uint8_t> function_code,
                                                    RuntimeAddr function_start, RuntimeAddr site);

}  // namespace uptrace::arch::aarch64
