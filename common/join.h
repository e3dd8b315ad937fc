#pragma once
// Words of a message joined by a separator ("a, b, c").
//
// Not fmt::join: with GCC 12 at -O3 its element formatter's spec parsing,
// inlined, is reported as a write past fmt 9's 4-byte fill buffer
// (-Wstringop-overflow, a false positive), which fails the -Werror build.
#include <string>
#include <string_view>
#include <vector>

namespace uptrace {

inline std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += items[i];
  }
  return out;
}

}  // namespace uptrace
