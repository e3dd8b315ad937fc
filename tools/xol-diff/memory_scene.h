#pragma once
// The memory an instruction can touch, reset to the same contents before
// every run and captured after it: the sandbox and the stack (shared with
// the child, compared in 64-byte chunks against their pristine contents) and
// a window at every memory operand that points elsewhere (rip-relative
// targets in the image, absolute addresses), read through /proc/PID/mem.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "child.h"

namespace xol_diff {

// What a run left in memory: the chunks that differ from pristine, and the
// contents of each window.
struct MemoryImage {
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> dirty;  // runtime address, 64 bytes
  std::vector<std::vector<uint8_t>> windows;
  bool operator==(const MemoryImage&) const = default;
};

class MemoryScene {
 public:
  static constexpr size_t kChunk = 64;
  static constexpr size_t kWindow = 64;

  MemoryScene();
  // Starts a new instruction: these addresses (outside the sandbox and the
  // stack) are watched; their current contents become the pristine ones.
  void watch(Child& child, const std::vector<uint64_t>& addresses);
  // Puts back the pristine contents of everything touched by the last run.
  void reset(Child& child);
  MemoryImage capture(Child& child);
  // The first difference between two images, for a mismatch report.
  static std::string difference(const MemoryImage& a, const MemoryImage& b);

 private:
  struct Window {
    uint64_t addr = 0;
    std::vector<uint8_t> pristine;
  };
  std::vector<uint8_t> sandbox_, stack_;
  std::vector<Window> windows_;
  bool first_ = true;  // the shared memory has not been written yet
  MemoryImage last_;
};

}  // namespace xol_diff
