#include "cmd/histogram.h"

#include <algorithm>
#include <bit>

#include <fmt/format.h>

namespace uptrace::cmd {

namespace {

// 2^power as bpftrace writes it: the largest power of 1024 as a suffix.
std::string power_of_two(unsigned power) {
  static constexpr char kSuffixes[] = {'\0', 'K', 'M', 'G', 'T', 'P', 'E'};
  const unsigned decade = std::min(power / 10, 6u);
  const uint64_t mantissa = uint64_t{1} << (power - 10 * decade);
  return decade == 0 ? fmt::format("{}", mantissa) : fmt::format("{}{}", mantissa, kSuffixes[decade]);
}

}  // namespace

void Log2Histogram::add(uint64_t bits, bool is_signed) {
  if (is_signed && static_cast<int64_t>(bits) < 0) {
    ++counts_[0];
    return;
  }
  if (bits == 0) {
    ++counts_[1];
    return;
  }
  // 1 -> 2, [2, 4) -> 3, ..., [2^63, 2^64) -> 65
  ++counts_[static_cast<size_t>(std::bit_width(bits)) + 1];
}

bool Log2Histogram::empty() const {
  return std::all_of(counts_.begin(), counts_.end(), [](uint64_t c) { return c == 0; });
}

size_t Log2Histogram::first() const {
  size_t i = 0;
  while (i + 1 < kBuckets && counts_[i] == 0) ++i;
  return i;
}

size_t Log2Histogram::last() const {
  size_t i = kBuckets - 1;
  while (i > 0 && counts_[i] == 0) --i;
  return i;
}

uint64_t Log2Histogram::max_count() const { return *std::max_element(counts_.begin(), counts_.end()); }

std::optional<uint64_t> Log2Histogram::lo(size_t bucket) {
  if (bucket == 0) return std::nullopt;
  if (bucket == 1) return 0;
  return uint64_t{1} << (bucket - 2);
}

std::string Log2Histogram::hi(size_t bucket) {
  if (bucket == 0) return "0";
  if (bucket == 1) return "1";
  if (bucket - 1 == 64) return "18446744073709551616";
  return fmt::format("{}", uint64_t{1} << (bucket - 1));
}

std::string Log2Histogram::label(size_t bucket) {
  if (bucket == 0) return "(..., 0)";
  if (bucket == 1) return "[0]";
  if (bucket == 2) return "[1]";
  const auto power = static_cast<unsigned>(bucket - 2);
  return fmt::format("[{}, {})", power_of_two(power), power_of_two(power + 1));
}

}  // namespace uptrace::cmd
