#pragma once
// Assertions shared by the integration tests (they need Catch, the harness
// does not).
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "harness.h"

namespace itest {

// The target's code and maps are as before, nobody traces it, and no thread
// is left stopped.
inline void require_untouched(const Snapshot& before, pid_t pid) {
  std::string diff = compare(before, snapshot(pid));
  INFO(diff);
  REQUIRE(diff.empty());
  REQUIRE(tracer_pid(pid) == 0);
  // Detached threads are resumed by the kernel right after uptrace exits;
  // give a loaded machine time to get there.
  auto deadline = std::chrono::steady_clock::now() + scaled(std::chrono::seconds(10));
  while (any_thread_stopped(pid) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE_FALSE(any_thread_stopped(pid));
}

// A target (resolve, uselib) parked after its calls, for -p.
struct Parked {
  Child child;
  explicit Parked(const std::string& program) : child({program, "1", "wait"}) {
    REQUIRE(child.read_line().rfind("done", 0) == 0);
    REQUIRE(child.read_line() == "ready " + std::to_string(child.pid()));
  }
  pid_t pid() const { return child.pid(); }
  std::string spid() const { return std::to_string(child.pid()); }
};

}  // namespace itest
