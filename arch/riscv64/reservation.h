#pragma once
// Whether a probe site lies inside a load-reserved/store-conditional
// sequence (lr.w/lr.d ... sc.w/sc.d). A trap anywhere between the pair goes
// through the kernel, whose return to user mode clears the reservation
// (Linux does so on purpose, with a dummy sc), so the sc fails and the
// program retries forever.
//
// The shared forward scan (arch/exclusive_scan.h) finds it: RVC mixes 2- and
// 4-byte instructions, so the code cannot be walked backwards from the site.
// The ISA manual limits a constrained sequence to 16 instructions placed
// sequentially in memory, lr and sc included: a site is inside one when an
// lr precedes it by at most 15 instructions with no sc between them (the sc
// itself is inside; the instruction after it is not).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/address.h"

namespace uptrace::arch::riscv64 {

constexpr size_t kReservationWindow = 16;  // instructions, lr and sc included

// The address of the lr that opens the sequence `site` is in, if it is in
// one. `function_code` starts at `function_start`; `site` is an instruction
// boundary inside it.
std::optional<RuntimeAddr> reservation_sequence_start(std::span<const uint8_t> function_code,
                                                      RuntimeAddr function_start, RuntimeAddr site);

}  // namespace uptrace::arch::riscv64
