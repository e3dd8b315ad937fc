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

TEST_CASE("scratch regions: sites far apart in one module get a mapping each", "[core][scratch]") {
  // node: its text at 0x400000, part of it remapped near the top, one
  // "module" spanning the address space; libc near the top too.
  std::vector<AddressRange> used{range(0x400000, 0x4000000), range(0x7f0000000000, 0x7f0000200000),
                                 range(0x7f5800000000, 0x7f5800400000), range(0x7ffffffde000, 0x7ffffffff000)};
  std::vector<AddressRange> reaches{range(0x401000, 0x401100), range(0x7f5800001000, 0x7f5800001100),
                                    range(0x402000, 0x402040)};
  uptrace::core::ScratchPlan plan = uptrace::core::plan_scratch(reaches, 512, 512, used, kPage, 42);
  INFO(plan.error);
  REQUIRE(plan.error.empty());
  REQUIRE(plan.regions.size() == 2);
  // Sorted by address: the two low sites share the first mapping, which also
  // holds the return trampoline's slot.
  CHECK(plan.regions[0].members == std::vector<size_t>{0, 2});
  CHECK(plan.regions[0].size == kPage);
  CHECK(plan.regions[1].members == std::vector<size_t>{1});
  for (const auto& r : plan.regions) {
    const uint64_t far = std::max(r.base.value + r.size, r.near.end.value) - std::min(r.base.value, r.near.start.value);
    CHECK(far <= (uint64_t{1} << 30));
  }
}

TEST_CASE("scratch regions: never above the highest mapping (a 39-bit address space)", "[core][scratch]") {
  // riscv64 Sv39: user space ends at 2^38; the stack is the highest mapping.
  std::vector<AddressRange> used{range(0x2aaaaaa000, 0x2aaaaab000), range(0x3ffffde000, 0x3fffffff000 >> 4)};
  CHECK(uptrace::core::user_space_top(used) == (0x3fffffff000 >> 4));
  std::vector<AddressRange> with_vsyscall{range(0x400000, 0x401000), range(0xffffffffff600000, 0xffffffffff601000)};
  CHECK(uptrace::core::user_space_top(with_vsyscall) == 0x401000);
  std::vector<AddressRange> reaches{range(0x3ffffd0000, 0x3ffffd0100)};
  uptrace::core::ScratchPlan plan = uptrace::core::plan_scratch(reaches, 512, 0, used, kPage, 42);
  REQUIRE(plan.error.empty());
  CHECK(plan.regions[0].base.value + plan.regions[0].size <= (0x3fffffff000 >> 4));
}

TEST_CASE("scratch regions: no room within reach is an error naming the range and the pid", "[core][scratch]") {
  std::vector<AddressRange> used{range(0x10000, 0x7ffffffff000)};
  std::vector<AddressRange> reaches{range(0x400000, 0x401000)};
  uptrace::core::ScratchPlan plan = uptrace::core::plan_scratch(reaches, 512, 0, used, kPage, 42);
  CHECK(plan.error == "no free address range of 4096 bytes within 1 GiB of 0x400000-0x401000 in pid 42 for "
                      "uptrace's slots");
}

TEST_CASE("scratch regions: within the ISA's reach where there is room, else within 1 GiB", "[core][scratch]") {
  // riscv64's jal reaches 1 MiB: a library with a hole 0.5 MiB below it and
  // a wide one 8 MiB above; the nearer hole is taken only because it is in
  // reach, and sites more than 512 KiB apart get a mapping each.
  std::vector<AddressRange> used{range(0x3f00000000, 0x3f00f80000), range(0x3f01000000, 0x3f01200000),
                                 range(0x3f01280000, 0x3f02000000), range(0x3f02800000, 0x3f03000000)};
  std::vector<AddressRange> reaches{range(0x3f01001000, 0x3f01001100), range(0x3f011ff000, 0x3f011ff100)};
  uptrace::core::ScratchPlan plan = uptrace::core::plan_scratch(reaches, 1024, 0, used, kPage, 42, 0x100000);
  INFO(plan.error);
  REQUIRE(plan.error.empty());
  REQUIRE(plan.regions.size() == 2);
  for (const auto& r : plan.regions) {
    const uint64_t far = std::max(r.base.value + r.size, r.near.end.value) - std::min(r.base.value, r.near.start.value);
    CHECK(far <= 0x100000);
  }
  // No hole within 1 MiB: placed farther, for the plans that reach it.
  std::vector<AddressRange> packed{range(0x3f00000000, 0x3f02000000), range(0x3f02800000, 0x3f03000000)};
  uptrace::core::ScratchPlan far = uptrace::core::plan_scratch({range(0x3f01001000, 0x3f01001100)}, 1024, 0, packed,
                                                               kPage, 42, 0x100000);
  REQUIRE(far.error.empty());
  CHECK(far.regions[0].base.value >= 0x3f02000000);
}
