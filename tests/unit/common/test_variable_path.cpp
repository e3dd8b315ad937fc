#include <catch2/catch.hpp>

#include "common/variable_path.h"

using uptrace::parse_variable_path;
using uptrace::PathStep;

TEST_CASE("variable paths split into base, steps and leading derefs", "[fetch][dwarf]") {
  auto p = parse_variable_path("req->hdr.len");
  REQUIRE(p);
  CHECK(p->derefs == 0);
  CHECK(p->base == "req");
  REQUIRE(p->steps.size() == 2);
  CHECK(p->steps[0].kind == PathStep::Kind::Arrow);
  CHECK(p->steps[0].member == "hdr");
  CHECK(p->steps[1].kind == PathStep::Kind::Member);
  CHECK(p->steps[1].member == "len");

  p = parse_variable_path("**pp");
  REQUIRE(p);
  CHECK(p->derefs == 2);
  CHECK(p->base == "pp");
  CHECK(p->steps.empty());

  p = parse_variable_path("arr[2].x[0x10]");
  REQUIRE(p);
  REQUIRE(p->steps.size() == 3);
  CHECK(p->steps[0].kind == PathStep::Kind::Index);
  CHECK(p->steps[0].index == 2);
  CHECK(p->steps[1].member == "x");
  CHECK(p->steps[2].index == 16);

  p = parse_variable_path("ns::Bar::count");
  REQUIRE(p);
  CHECK(p->base == "ns::Bar::count");
}

TEST_CASE("malformed variable paths are refused", "[fetch][dwarf]") {
  for (const char* bad : {"", "*", "1x", "a.", "a->", "a[", "a[]", "a[x]", "a[-1]", "a..b", "a b", "a::", "a]"}) {
    INFO(bad);
    CHECK_FALSE(parse_variable_path(bad).has_value());
  }
}
