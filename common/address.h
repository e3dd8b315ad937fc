#pragma once
// Distinct types for the three kinds of address a tracer juggles. Mixing a file
// virtual address with a runtime address is the bug users of other tracers hit
// most, so the compiler refuses to do it silently here.
#include <compare>
#include <cstdint>
#include <functional>

namespace uptrace {

template <class Tag>
struct Address {
  uint64_t value = 0;

  constexpr Address() = default;
  constexpr explicit Address(uint64_t v) : value(v) {}

  constexpr Address operator+(uint64_t off) const { return Address(value + off); }
  constexpr Address operator-(uint64_t off) const { return Address(value - off); }
  constexpr Address& operator+=(uint64_t off) { value += off; return *this; }
  // Distance between two addresses of the same kind.
  constexpr int64_t operator-(Address other) const { return static_cast<int64_t>(value - other.value); }
  constexpr auto operator<=>(const Address&) const = default;
};

struct FileAddrTag {};
struct FileOffsetTag {};
struct RuntimeAddrTag {};

// A virtual address as the ELF file states it (what `nm` and `objdump` print).
using FileAddr = Address<FileAddrTag>;
// A byte offset into the ELF file on disk.
using FileOffset = Address<FileOffsetTag>;
// An address in the traced process's address space.
using RuntimeAddr = Address<RuntimeAddrTag>;

}  // namespace uptrace

template <class Tag>
struct std::hash<uptrace::Address<Tag>> {
  size_t operator()(const uptrace::Address<Tag>& a) const noexcept { return std::hash<uint64_t>()(a.value); }
};
