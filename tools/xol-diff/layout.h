#pragma once
// Where everything lives in the sacrificial child: the ELF file's PT_LOAD
// segments at vaddr + bias, a sandbox buffer every general-purpose register
// points into, a stack, and the slot page twice: near the image (within
// ±2 GB, displacements re-encoded) and far from it (the scratch-register path).
#include <cstdint>
#include <string>
#include <vector>

namespace xol_diff {

struct ImageSegment {
  uint64_t vaddr = 0;
  uint64_t offset = 0;
  uint64_t file_size = 0;
  uint64_t mem_size = 0;
  int prot = 0;  // PROT_*
};

struct Layout {
  static constexpr uint64_t kSandbox = 0x300000000000;
  static constexpr uint64_t kSandboxSize = 0x10000;
  static constexpr uint64_t kStack = 0x310000000000;
  static constexpr uint64_t kStackSize = 0x10000;
  static constexpr uint64_t kUnmapped = 0x320000000000;  // never mapped: a bad stack pointer
  static constexpr uint64_t kFarSlot = 0x380000000000;
  static constexpr uint64_t kSlotPageSize = 0x1000;

  std::string path;
  std::vector<ImageSegment> segments;
  uint64_t bias = 0;
  uint64_t image_start = 0;  // runtime, page aligned
  uint64_t image_end = 0;
  uint64_t near_slot = 0;

  uint64_t runtime(uint64_t file_addr) const { return file_addr + bias; }
  bool in_sandbox(uint64_t a) const { return a >= kSandbox && a < kSandbox + kSandboxSize; }
  bool in_stack(uint64_t a) const { return a >= kStack && a < kStack + kStackSize; }
};

// Reads the PT_LOAD headers of `path` and places everything. Throws
// std::runtime_error on an unreadable file.
Layout make_layout(const std::string& path);

}  // namespace xol_diff
