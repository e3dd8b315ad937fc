#pragma once
// Target memory for unit tests: one buffer at a fixed address; everything
// else is unmapped.
#include <cstring>
#include <vector>

#include <catch2/catch.hpp>

#include "common/memory.h"

namespace uptrace::test {

class FakeMemory final : public MemoryAccess {
 public:
  FakeMemory(uint64_t base, size_t size) : base_(base), bytes_(size) {}
  bool read(RuntimeAddr addr, std::span<uint8_t> out) override {
    if (!inside(addr.value, out.size())) return false;
    std::memcpy(out.data(), bytes_.data() + (addr.value - base_), out.size());
    return true;
  }
  bool write(RuntimeAddr addr, std::span<const uint8_t> in) override {
    if (!inside(addr.value, in.size())) return false;
    std::memcpy(bytes_.data() + (addr.value - base_), in.data(), in.size());
    return true;
  }
  template <class T>
  void put(uint64_t addr, T value) {
    REQUIRE(write(RuntimeAddr(addr), {reinterpret_cast<const uint8_t*>(&value), sizeof value}));
  }
  void put_bytes(uint64_t addr, const void* p, size_t n) {
    REQUIRE(write(RuntimeAddr(addr), {static_cast<const uint8_t*>(p), n}));
  }

 private:
  bool inside(uint64_t a, size_t n) const { return a >= base_ && a - base_ <= bytes_.size() && n <= bytes_.size() - (a - base_); }
  uint64_t base_;
  std::vector<uint8_t> bytes_;
};

}  // namespace uptrace::test
