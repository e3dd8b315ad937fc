#include "cmd/number.h"

#include <limits>

namespace uptrace::cmd {

NumberStatus parse_number(std::string_view s, uint64_t& out) {
  unsigned base = 10;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty()) return NumberStatus::NotANumber;
  uint64_t value = 0;
  bool overflow = false;
  for (char c : s) {
    unsigned digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<unsigned>(c - '0');
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      digit = static_cast<unsigned>(c - 'a' + 10);
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      digit = static_cast<unsigned>(c - 'A' + 10);
    } else {
      return NumberStatus::NotANumber;
    }
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / base) overflow = true;
    value = value * base + digit;
  }
  if (overflow) return NumberStatus::TooLarge;
  out = value;
  return NumberStatus::Ok;
}

}  // namespace uptrace::cmd
