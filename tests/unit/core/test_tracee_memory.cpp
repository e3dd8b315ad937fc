#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstring>

#include "core/tracee_memory.h"

// The process reads its own pages through the same kernel paths it would use
// on a tracee: /proc/PID/mem (the tracer's view) and process_vm_readv/writev
// (the program's view).
namespace {

struct Pages {
  explicit Pages(int prot) : base(::mmap(nullptr, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) { REQUIRE(base != MAP_FAILED); }
  ~Pages() { ::munmap(base, 4096); }
  uptrace::RuntimeAddr addr() const { return uptrace::RuntimeAddr(reinterpret_cast<uint64_t>(base)); }
  void* base;
};

}  // namespace

TEST_CASE("tracee memory: the program's view faults where the program would, the tracer's goes through", "[core][memory]") {
  uptrace::core::TraceeMemory mem(::getpid());
  std::array<uint8_t, 8> word{1, 2, 3, 4, 5, 6, 7, 8};

  SECTION("a PROT_NONE guard page") {
    Pages guard(PROT_NONE);
    CHECK(mem.read(guard.addr(), word));
    CHECK_FALSE(mem.as_program_sees().read(guard.addr(), word));
    CHECK_FALSE(mem.as_program_sees().write(guard.addr(), word));
  }
  SECTION("a read-only page") {
    Pages ro(PROT_READ);
    CHECK(mem.as_program_sees().read(ro.addr(), word));
    CHECK_FALSE(mem.as_program_sees().write(ro.addr(), word));
    CHECK(static_cast<uint8_t*>(ro.base)[0] == 0);
  }
  SECTION("a writable page, the same bytes in both views") {
    Pages rw(PROT_READ | PROT_WRITE);
    REQUIRE(mem.as_program_sees().write(rw.addr(), word));
    std::array<uint8_t, 8> back{};
    REQUIRE(mem.read(rw.addr(), back));
    CHECK(back == word);
  }
}
