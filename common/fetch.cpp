#include "common/fetch.h"

#include <array>
#include <cassert>
#include <string_view>

namespace uptrace {

namespace {

struct TypeInfo {
  FetchType type;
  std::string_view name;
  unsigned bytes;
  bool is_signed;
  bool is_hex;
};

// In enum order, so the table doubles as the index of each type's traits.
constexpr std::array<TypeInfo, 13> kTypes = {{
    {FetchType::U8, "u8", 1, false, false},
    {FetchType::U16, "u16", 2, false, false},
    {FetchType::U32, "u32", 4, false, false},
    {FetchType::U64, "u64", 8, false, false},
    {FetchType::S8, "s8", 1, true, false},
    {FetchType::S16, "s16", 2, true, false},
    {FetchType::S32, "s32", 4, true, false},
    {FetchType::S64, "s64", 8, true, false},
    {FetchType::X8, "x8", 1, false, true},
    {FetchType::X16, "x16", 2, false, true},
    {FetchType::X32, "x32", 4, false, true},
    {FetchType::X64, "x64", 8, false, true},
    {FetchType::String, "string", 0, false, false},
}};

const TypeInfo& info(FetchType t) {
  auto index = static_cast<size_t>(t);
  assert(index < kTypes.size() && kTypes[index].type == t);
  return kTypes[index];
}

}  // namespace

std::optional<FetchType> parse_fetch_type(std::string_view text) {
  for (const TypeInfo& t : kTypes) {
    if (t.name == text) return t.type;
  }
  return std::nullopt;
}

std::string_view to_string(FetchType t) { return info(t).name; }

unsigned fetch_type_bytes(FetchType t) { return info(t).bytes; }

bool fetch_type_is_signed(FetchType t) { return info(t).is_signed; }

bool fetch_type_is_hex(FetchType t) { return info(t).is_hex; }

std::optional<FetchType> integer_fetch_type(unsigned bytes, bool is_signed) {
  for (const TypeInfo& t : kTypes) {
    if (t.bytes == bytes && t.is_signed == is_signed && !t.is_hex) return t.type;
  }
  return std::nullopt;
}

}  // namespace uptrace
