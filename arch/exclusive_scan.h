#pragma once
// Whether a probe site lies inside an exclusive (reserved) load/store
// sequence: aarch64's ldxr ... stxr, ppc64's larx ... stcx., riscv64's
// lr ... sc. A trap anywhere between the pair goes through the kernel,
// which drops the reservation, so the store fails and the program retries
// forever. The scan goes forward from the function's start, because only
// there do instruction boundaries stand for sure (riscv's 2- and 4-byte
// instructions cannot be walked backwards), and looks at most `window`
// instructions back from the site for an open sequence (ARM recommends at
// most 128 bytes between the pair; the kernel's kprobes look as far).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "common/address.h"

namespace uptrace::arch {

// What the scan needs of one instruction: its length (0: it cannot be
// decoded, and the scan stops) and whether it opens or closes a sequence.
struct ExclusiveStep {
  enum class Kind : uint8_t { Other, Open, Close };
  size_t length = 0;
  Kind kind = Kind::Other;
};
using ExclusiveClassifier = std::function<ExclusiveStep(std::span<const uint8_t> code)>;

constexpr size_t kExclusiveWindow = 32;  // instructions

// The address of the instruction that opens the sequence `site` is in, if
// it is in one. `function_code` starts at `function_start`.
std::optional<RuntimeAddr> exclusive_sequence_start(std::span<const uint8_t> function_code, RuntimeAddr function_start,
                                                    RuntimeAddr site, const ExclusiveClassifier& classify,
                                                    size_t window = kExclusiveWindow);

}  // namespace uptrace::arch
