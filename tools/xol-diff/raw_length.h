#pragma once
// The length of an instruction Capstone 4 cannot decode (rdpkru, wrpkru,
// serialize, some hint nops, newer VEX/EVEX forms), from its encoding alone,
// so the corpus scan stays on instruction boundaries past it.
#include <cstdint>
#include <optional>
#include <span>

namespace xol_diff {

// nullopt when the length cannot be told (a one-byte-map opcode Capstone
// rejects is most likely not code).
std::optional<uint8_t> raw_length(std::span<const uint8_t> code);

}  // namespace xol_diff
