#include <catch2/catch.hpp>

#include "core/scratch_placement.h"

using uptrace::RuntimeAddr;
using uptrace::core::AddressRange;
using uptrace::core::choose_scratch_address;

namespace {
constexpr uint64_t kPage = 0x1000;
AddressRange range(uint64_t a, uint64_t b) { return {RuntimeAddr(a), RuntimeAddr(b)}; }
}  // namespace

TEST_CASE("scratch goes into the gap nearest the module, with guard pages", "[core][scratch]") {
  // A PIE executable at 0x555555554000 with its heap right after it.
  std::vector<AddressRange> used{range(0x555555554000, 0x555555559000), range(0x55555555a000, 0x55555557b000),
                                 range(0x7ffff7d80000, 0x7ffff7fc0000), range(0x7ffffffde000, 0x7ffffffff000)};
  auto at = choose_scratch_address(used, used[0], 0x2000, kPage);
  REQUIRE(at);
  // Just below the executable, one guard page away.
  CHECK(at->value == 0x555555554000 - kPage - 0x2000);
}

TEST_CASE("scratch size is rounded up to whole pages", "[core][scratch]") {
  std::vector<AddressRange> used{range(0x400000, 0x401000)};
  auto at = choose_scratch_address(used, used[0], 1, kPage);
  REQUIRE(at);
  CHECK(at->value == 0x400000 - kPage - kPage);
}

TEST_CASE("a gap too small for scratch plus guards is skipped", "[core][scratch]") {
  // Only a 3-page hole below the module; the next free space is above it.
  std::vector<AddressRange> used{range(0x10000, 0x400000), range(0x403000, 0x500000)};
  auto at = choose_scratch_address(used, range(0x403000, 0x500000), 0x2000, kPage);
  REQUIRE(at);
  CHECK(at->value == 0x500000 + kPage);
}

TEST_CASE("no scratch farther than the limit from any byte of the module", "[core][scratch]") {
  // Everything within 1 GiB around the module is taken.
  std::vector<AddressRange> used{range(0x10000, 0x80000000), range(0x80000000, 0x100000000)};
  auto none = choose_scratch_address(used, range(0x40000000, 0x40001000), 0x1000, kPage, uint64_t{1} << 30);
  CHECK_FALSE(none);
  auto far = choose_scratch_address(used, range(0x40000000, 0x40001000), 0x1000, kPage, uint64_t{4} << 30);
  REQUIRE(far);
  CHECK(far->value == 0x100000000 + kPage);
}

TEST_CASE("the distance counts the far end of a large module", "[core][scratch]") {
  // A 1.5 GiB module: above it is within reach of its start only if the
  // scratch is close; below it, its end is 1.5 GiB away.
  uint64_t start = 0x100000000, end = start + (uint64_t{3} << 29);
  std::vector<AddressRange> used{range(start, end)};
  auto at = choose_scratch_address(used, range(start, end), 0x1000, kPage, uint64_t{1} << 31);
  REQUIRE(at);
  CHECK((at->value == start - 2 * kPage || at->value == end + kPage));
  CHECK_FALSE(choose_scratch_address(used, range(start, end), 0x1000, kPage, uint64_t{1} << 30));
}
