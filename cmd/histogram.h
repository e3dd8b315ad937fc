#pragma once
// The log2 histogram of bpftrace's hist() (SPEC.md "Latency and
// aggregation"): one bucket for every negative value, one for 0, one for 1,
// then one per power of two, [2^k, 2^(k+1)), up to [2^63, 2^64).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace uptrace::cmd {

class Log2Histogram {
 public:
  static constexpr size_t kBuckets = 66;  // negative, 0, 1, then k = 1..63

  // A value's 64 bits, read as signed or unsigned (its fetch TYPE).
  void add(uint64_t bits, bool is_signed);
  uint64_t count(size_t bucket) const { return counts_[bucket]; }
  bool empty() const;
  // The first and last bucket with a count: the range printed (the empty
  // buckets between them are printed too, as bpftrace does). Only when not
  // empty().
  size_t first() const;
  size_t last() const;
  uint64_t max_count() const;

  // The bucket's bounds, [lo, hi): lo is nullopt for the negative bucket
  // (hi 0); hi of the last bucket is 2^64, hence a decimal string.
  static std::optional<uint64_t> lo(size_t bucket);
  static std::string hi(size_t bucket);
  // bpftrace's text label: "(..., 0)", "[0]", "[1]", "[2, 4)", ... with
  // K, M, G, T, P, E for powers of 1024: "[1K, 2K)", "[512K, 1M)".
  static std::string label(size_t bucket);

 private:
  std::array<uint64_t, kBuckets> counts_{};
};

}  // namespace uptrace::cmd
