// The shared forward scan for exclusive sequences (arch/exclusive_scan.h),
// with a made-up instruction set of 2- and 4-byte instructions, as riscv's
// RVC makes them: N opens, R closes, X is ordinary (letters with a clear low
// bit); the first byte's low bit says the length (1: 4 bytes).
#include <catch2/catch.hpp>

#include <vector>

#include "arch/exclusive_scan.h"

using namespace uptrace;
using namespace uptrace::arch;

namespace {

ExclusiveStep made_up(std::span<const uint8_t> code) {
  if (code.empty()) return {};
  const size_t length = (code[0] & 1) ? 4 : 2;
  if (code.size() < length) return {};
  const char what = static_cast<char>(code[0] & ~1);
  return {length, what == 'N'   ? ExclusiveStep::Kind::Open
                  : what == 'R' ? ExclusiveStep::Kind::Close
                                : ExclusiveStep::Kind::Other};
}

// Instructions as (letter, length).
std::vector<uint8_t> code_of(std::initializer_list<std::pair<char, size_t>> insns) {
  std::vector<uint8_t> out;
  for (auto [letter, length] : insns) {
    out.push_back(static_cast<uint8_t>((letter & ~1) | (length == 4 ? 1 : 0)));
    out.resize(out.size() + length - 1, 0);
  }
  return out;
}

constexpr uint64_t kStart = 0x1000;

std::optional<uint64_t> start_for(const std::vector<uint8_t>& code, uint64_t site_offset, size_t window = 32) {
  auto got = exclusive_sequence_start(code, RuntimeAddr(kStart), RuntimeAddr(kStart + site_offset), made_up, window);
  return got ? std::optional(got->value) : std::nullopt;
}

}  // namespace

TEST_CASE("exclusive scan: sites between an open and its close are inside, found going forward", "[arch][exclusive]") {
  // +0 X(2)  +2 N(4) open  +6 X(2)  +8 R(4) close  +12 X(2)
  const auto code = code_of({{'X', 2}, {'N', 4}, {'X', 2}, {'R', 4}, {'X', 2}});
  CHECK(start_for(code, 0) == std::nullopt);
  CHECK(start_for(code, 2) == std::nullopt);    // the open itself: the reservation is not taken yet
  CHECK(start_for(code, 6) == kStart + 2);      // between
  CHECK(start_for(code, 8) == kStart + 2);      // the closing store itself
  CHECK(start_for(code, 12) == std::nullopt);   // after the close
}

TEST_CASE("exclusive scan: an open too far back does not count, the scan stops where it cannot decode", "[arch][exclusive]") {
  const auto code = code_of({{'N', 4}, {'X', 2}, {'X', 2}, {'X', 2}, {'X', 4}});
  CHECK(start_for(code, 10, 4) == kStart);          // 4 instructions back: within the window
  CHECK(start_for(code, 10, 3) == std::nullopt);    // beyond it
  std::vector<uint8_t> truncated = code_of({{'N', 4}, {'X', 2}});
  truncated.push_back('X' | 1);                     // a 4-byte instruction cut short
  CHECK(start_for(truncated, 8) == std::nullopt);
}
