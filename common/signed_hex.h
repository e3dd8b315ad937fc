#pragma once
// An offset as users read it next to a base ("CFA-0x10", "[sp+0x8]"): the
// sign always shown, the magnitude in hex.
#include <cstdint>
#include <string>

#include <fmt/format.h>

namespace uptrace {

inline std::string signed_hex(int64_t n) {
  return n < 0 ? fmt::format("-{:#x}", -static_cast<uint64_t>(n)) : fmt::format("+{:#x}", static_cast<uint64_t>(n));
}

}  // namespace uptrace
