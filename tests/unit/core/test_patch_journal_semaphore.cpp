// core/patch_journal: code bytes go back as they were; a USDT semaphore has
// uptrace's share taken out of whatever it counts by then. The "target" is
// this process, through /proc/self/mem as a tracee's memory would be.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>

#include "common/error.h"
#include "core/patch_journal.h"

using namespace uptrace;
using namespace uptrace::core;

namespace {

RuntimeAddr address_of(const void* p) { return RuntimeAddr(reinterpret_cast<uint64_t>(p)); }

}  // namespace

TEST_CASE("journal: a semaphore is raised by one and lowered by one, whatever others did meanwhile", "[journal]") {
  static volatile uint16_t semaphore = 0;
  static volatile uint8_t code[4] = {0x90, 0x90, 0x90, 0x90};
  TraceeMemory memory(getpid());
  PatchJournal journal(memory);
  const uint8_t trap[] = {0xcc};
  journal.patch(address_of(const_cast<uint8_t*>(&code[1])), trap);
  journal.raise_counter(address_of(const_cast<uint16_t*>(&semaphore)));
  CHECK(semaphore == 1);
  CHECK(code[1] == 0xcc);
  CHECK_FALSE(journal.empty());
  semaphore = semaphore + 2;  // two other tracers come
  CHECK(journal.revert_all() == 0);
  CHECK(semaphore == 2);      // theirs stays
  CHECK(code[1] == 0x90);
  CHECK(journal.empty());
  CHECK(journal.revert_all() == 0);  // once only
  CHECK(semaphore == 2);
}

TEST_CASE("journal: a semaphore already at 0 is not wrapped round, and a copy is lowered too", "[journal]") {
  static volatile uint16_t semaphore = 0;
  TraceeMemory memory(getpid());
  {
    PatchJournal journal(memory);
    journal.raise_counter(address_of(const_cast<uint16_t*>(&semaphore)));
    semaphore = 0;  // someone reset it by hand
    CHECK(journal.revert_all() == 0);
    CHECK(semaphore == 0);
  }
  {
    PatchJournal journal(memory);
    journal.raise_counter(address_of(const_cast<uint16_t*>(&semaphore)));
    journal.raise_counter(address_of(const_cast<uint16_t*>(&semaphore)));
    CHECK(semaphore == 2);
    // A fork child's copy (here the same memory) is lowered once per raise,
    // and the journal itself stays as it was.
    CHECK(journal.revert_all_in(memory) == 0);
    CHECK(semaphore == 0);
    CHECK_FALSE(journal.empty());
    semaphore = 2;
    journal.revert(1);
    CHECK(semaphore == 1);
    CHECK(journal.revert_all() == 0);
    CHECK(semaphore == 0);
  }
}

TEST_CASE("journal: an unreadable semaphore is an error and records nothing", "[journal]") {
  TraceeMemory memory(getpid());
  PatchJournal journal(memory);
  CHECK_THROWS_AS(journal.raise_counter(RuntimeAddr(8)), Error);
  CHECK(journal.empty());
  CHECK(journal.entries().empty());
}

TEST_CASE("journal: a library's code put back before a dlclose keeps its semaphore raised", "[journal]") {
  // Whether the library survives the dlclose is known only later: if it
  // does, its code is patched again but its semaphore is not raised again.
  static volatile struct {
    uint8_t code[4] = {0x90, 0x90, 0x90, 0x90};
    uint16_t semaphore = 0;
  } library;
  TraceeMemory memory(getpid());
  PatchJournal journal(memory);
  const uint8_t trap[] = {0xcc};
  journal.patch(address_of(const_cast<uint8_t*>(&library.code[0])), trap);
  journal.raise_counter(address_of(const_cast<uint16_t*>(&library.semaphore)));
  const AddressRange whole{address_of(const_cast<uint8_t*>(&library.code[0])),
                           address_of(const_cast<uint16_t*>(&library.semaphore + 1))};
  CHECK(journal.revert_range(whole) == 0);
  CHECK(library.code[0] == 0x90);
  CHECK(library.semaphore == 1);
  CHECK(journal.revert_all() == 0);
  CHECK(library.semaphore == 0);
}
