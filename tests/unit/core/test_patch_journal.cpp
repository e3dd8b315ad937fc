// The journal's range operations, on uptrace's own memory (TraceeMemory of
// our own pid): a library about to be unmapped has its bytes put back; one
// already gone has its entries forgotten without a write.
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstring>

#include "core/patch_journal.h"
#include "core/tracee_memory.h"

using uptrace::RuntimeAddr;
using uptrace::core::AddressRange;
using uptrace::core::PatchJournal;
using uptrace::core::TraceeMemory;

namespace {
RuntimeAddr at(const void* p) { return RuntimeAddr(reinterpret_cast<uint64_t>(p)); }
}  // namespace

TEST_CASE("revert_range puts back only the entries inside the range", "[core][journal]") {
  std::array<uint8_t, 64> code{};
  code.fill(0x90);
  TraceeMemory memory(::getpid());
  PatchJournal journal(memory);
  const std::array<uint8_t, 1> trap{0xcc};
  journal.patch(at(&code[4]), trap);
  journal.patch(at(&code[40]), trap);
  REQUIRE(code[4] == 0xcc);
  REQUIRE(code[40] == 0xcc);
  REQUIRE(journal.revert_range({at(&code[32]), at(&code[64])}) == 0);
  CHECK(code[40] == 0x90);
  CHECK(code[4] == 0xcc);
  CHECK_FALSE(journal.empty());
  // Reverting everything later leaves the first range's bytes alone.
  code[40] = 0x11;
  REQUIRE(journal.revert_all() == 0);
  CHECK(code[4] == 0x90);
  CHECK(code[40] == 0x11);
  CHECK(journal.empty());
}

TEST_CASE("forget_range drops entries without writing", "[core][journal]") {
  std::array<uint8_t, 16> code{};
  code.fill(0x90);
  TraceeMemory memory(::getpid());
  PatchJournal journal(memory);
  const std::array<uint8_t, 5> jump{0xe9, 1, 2, 3, 4};
  journal.patch(at(&code[0]), jump);
  // The mapping went and something else is there now: not ours to touch.
  code[0] = 0x42;
  journal.forget_range({at(&code[0]), at(&code[16])});
  CHECK(journal.empty());
  REQUIRE(journal.revert_all() == 0);
  CHECK(code[0] == 0x42);
  CHECK(code[1] == 1);
}
