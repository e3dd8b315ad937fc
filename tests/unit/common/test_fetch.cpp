#include <catch2/catch.hpp>

#include "common/fetch.h"

using uptrace::FetchType;

TEST_CASE("fetch types parse, print and describe themselves", "[fetch]") {
  struct Row {
    const char* name;
    FetchType type;
    unsigned bytes;
    bool is_signed;
    bool is_hex;
  };
  const Row rows[] = {
      {"u8", FetchType::U8, 1, false, false},     {"u16", FetchType::U16, 2, false, false},
      {"u32", FetchType::U32, 4, false, false},   {"u64", FetchType::U64, 8, false, false},
      {"s8", FetchType::S8, 1, true, false},      {"s16", FetchType::S16, 2, true, false},
      {"s32", FetchType::S32, 4, true, false},    {"s64", FetchType::S64, 8, true, false},
      {"x8", FetchType::X8, 1, false, true},      {"x16", FetchType::X16, 2, false, true},
      {"x32", FetchType::X32, 4, false, true},    {"x64", FetchType::X64, 8, false, true},
      {"string", FetchType::String, 0, false, false},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    CHECK(uptrace::parse_fetch_type(row.name) == row.type);
    CHECK(uptrace::to_string(row.type) == row.name);
    CHECK(uptrace::fetch_type_bytes(row.type) == row.bytes);
    CHECK(uptrace::fetch_type_is_signed(row.type) == row.is_signed);
    CHECK(uptrace::fetch_type_is_hex(row.type) == row.is_hex);
  }
}

TEST_CASE("unknown fetch type names are refused", "[fetch]") {
  for (const char* bad : {"", "u12", "U8", "u", "s", "x", "str", "strings", "u8 ", " u8", "int", "u128"}) {
    INFO(bad);
    CHECK_FALSE(uptrace::parse_fetch_type(bad).has_value());
  }
}
