#pragma once
// Machine code being assembled for a trampoline: bytes, with forward jumps
// whose rel32 is patched once their target is known.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <utility>
#include <vector>

namespace uptrace::arch::x86_64 {

class Code {
 public:
  // Jumps to one place not yet known; bound once the code gets there.
  struct Label {
    std::vector<size_t> fixups;
  };

  explicit Code(uint64_t origin) : origin_(origin) {}
  void put(std::initializer_list<uint8_t> bytes) { bytes_.insert(bytes_.end(), bytes); }
  void put(std::span<const uint8_t> bytes) { bytes_.insert(bytes_.end(), bytes.begin(), bytes.end()); }
  template <class T>
  void put_le(T value) {
    for (size_t i = 0; i < sizeof(T); ++i) bytes_.push_back(static_cast<uint8_t>(static_cast<uint64_t>(value) >> (8 * i)));
  }
  size_t size() const { return bytes_.size(); }
  uint64_t here() const { return origin_ + bytes_.size(); }
  // Emits `opcode` + rel32 to a target bound later; returns the fixup.
  size_t jump_rel32(std::initializer_list<uint8_t> opcode) {
    put(opcode);
    const size_t at = bytes_.size();
    put_le<uint32_t>(0);
    return at;
  }
  void jump_rel32(std::initializer_list<uint8_t> opcode, Label& to) { to.fixups.push_back(jump_rel32(opcode)); }
  // The jump whose rel32 is at `rel32_at` lands here.
  void bind(size_t rel32_at) {
    const int64_t rel = static_cast<int64_t>(bytes_.size()) - static_cast<int64_t>(rel32_at + 4);
    for (size_t i = 0; i < 4; ++i) bytes_[rel32_at + i] = static_cast<uint8_t>(static_cast<uint64_t>(rel) >> (8 * i));
  }
  void bind(Label& label) {
    for (size_t at : label.fixups) bind(at);
    label.fixups.clear();
  }
  void jump_back_to(size_t offset, std::initializer_list<uint8_t> opcode) {
    put(opcode);
    const int64_t rel = static_cast<int64_t>(offset) - static_cast<int64_t>(bytes_.size() + 4);
    put_le<int32_t>(static_cast<int32_t>(rel));
  }
  std::vector<uint8_t> take() { return std::move(bytes_); }

 private:
  uint64_t origin_;
  std::vector<uint8_t> bytes_;
};

}  // namespace uptrace::arch::x86_64
