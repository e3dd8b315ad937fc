#pragma once
// Whether a probe site lies inside a load-reserve/store-conditional
// sequence (lwarx ... stwcx.). A trap anywhere from the load to the store
// goes through the kernel, whose exception return clears the reservation,
// so the store-conditional fails and the program retries forever. The
// shared forward scan (arch/exclusive_scan.h) finds it: a load-reserve
// opens a window that its store-conditional closes (the store itself still
// inside), or that ends after kReserveWindow instructions without one.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "arch/exclusive_scan.h"
#include "common/address.h"

namespace uptrace::arch::ppc64le {

constexpr size_t kReserveWindow = 64;  // instructions

// The address of the load-reserve that opens the window `site` is in, if
// it is in one. `function_code` starts at `function_start`; `site` is an
// instruction boundary inside it.
std::optional<RuntimeAddr> reservation_start(std::span<const uint8_t> function_code, RuntimeAddr function_start,
                                             RuntimeAddr site);

}  // namespace uptrace::arch::ppc64le
