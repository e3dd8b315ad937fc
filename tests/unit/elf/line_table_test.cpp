#include <algorithm>
#include <limits>
#include <set>

#include <catch2/catch.hpp>

#include "elf/elf_file.h"
#include "elf/source_path.h"
#include "fixture_support.h"

using uptrace::FileAddr;
using uptrace::elf::ElfFile;
using uptrace::elf::LineLocation;

namespace {

// The lowest is_stmt address objdump lists for file:line within [lo, hi).
uint64_t objdump_lowest(const std::vector<elftest::DecodedLine>& rows, const std::string& file, unsigned line,
                        uint64_t lo = 0, uint64_t hi = std::numeric_limits<uint64_t>::max()) {
  uint64_t best = std::numeric_limits<uint64_t>::max();
  for (const auto& r : rows)
    if (r.file == file && r.line == line && r.stmt && r.addr >= lo && r.addr < hi) best = std::min(best, r.addr);
  return best;
}

}  // namespace

TEST_CASE("find_line at -O0 gives the lowest is_stmt address of the line", "[elf][dwarf]") {
  unsigned line = elftest::marker_line("prog.c", "parse_request_body");
  // prog_nopie has compressed debug sections (-gz).
  for (const char* name : {"prog_pie", "prog_nopie"}) {
    std::string path = elftest::fixture(name);
    INFO(path);
    auto elf = ElfFile::open(path);
    REQUIRE(elf->has_line_info());
    uint64_t want = objdump_lowest(elftest::objdump_lines(path), "prog.c", line);
    REQUIRE(want != std::numeric_limits<uint64_t>::max());

    auto locs = elf->find_line("prog.c", line);
    REQUIRE(locs.size() == 1);
    CHECK(locs[0].addr.value == want);
    CHECK(locs[0].line == line);
    CHECK(locs[0].function == "parse_request");
    CHECK(locs[0].file == elftest::fixture_source("prog.c"));
    const auto* f = elf->function_containing(locs[0].addr);
    REQUIRE(f != nullptr);
    CHECK(f->addr == elf->find_function("parse_request").front()->addr);

    // Other spellings of the same file.
    for (const std::string& q : {std::string("fixtures/prog.c"), std::string("elf/fixtures/prog.c"),
                                 elftest::fixture_source("prog.c"), std::string("./prog.c"),
                                 std::string("fixtures/../fixtures/prog.c")}) {
      INFO(q);
      auto again = elf->find_line(q, line);
      REQUIRE(again.size() == 1);
      CHECK(again[0].addr == locs[0].addr);
    }
    // Not a component boundary, or a different directory.
    for (const char* q : {"rog.c", "xprog.c", "tures/prog.c", "other/prog.c", "/prog.c", "prog.h"}) {
      INFO(q);
      CHECK(elf->find_line(q, line).empty());
    }
  }
}

TEST_CASE("find_line gives one location per inlined copy", "[elf][dwarf]") {
  std::string path = elftest::fixture("libelffix_inline.so");
  auto elf = ElfFile::open(path);
  unsigned line = elftest::marker_line("inline.c", "helper_body");
  auto locs = elf->find_line("inline.c", line);
  REQUIRE(locs.size() == 2);
  auto rows = elftest::objdump_lines(path);
  std::set<std::string> callers;
  for (const LineLocation& loc : locs) {
    INFO("at " << std::hex << loc.addr.value);
    CHECK(loc.function == "helper");
    CHECK(loc.line == line);
    const auto* caller = elf->function_containing(loc.addr);
    REQUIRE(caller != nullptr);
    callers.insert(caller->name);
    CHECK(loc.addr.value ==
          objdump_lowest(rows, "inline.c", line, caller->addr.value, caller->addr.value + caller->size));
  }
  CHECK(callers == std::set<std::string>{"use_one", "use_two"});
  CHECK(locs[0].addr < locs[1].addr);

  // The line that calls the helper has code in its own function only.
  unsigned use_one_line = line + 4;  // "helper(a);" in use_one
  auto call = elf->find_line("inline.c", use_one_line);
  REQUIRE(call.size() == 1);
  CHECK(call[0].function == "use_one");
}

TEST_CASE("find_line names code that libdw's scope search misses", "[elf][dwarf]") {
  // A lambda's static invoker nested in a closure type of an inlined function.
  std::string path = elftest::fixture("libelffix_lambda.so");
  auto elf = ElfFile::open(path);
  unsigned line = elftest::marker_line("lambda.cpp", "lambda_head");
  auto locs = elf->find_line("lambda.cpp", line);
  REQUIRE(locs.size() == 1);
  // GCC calls the invoker _FUN (clang: __invoke); unnamed means it was missed.
  CHECK((locs[0].function == "_FUN" || locs[0].function == "__invoke"));
  const auto* invoker = elf->function_containing(locs[0].addr);
  REQUIRE(invoker != nullptr);
  CHECK(invoker->name.find("install") != std::string::npos);  // install<int>()::{lambda()#1}::_FUN()
  CHECK(locs[0].addr.value == objdump_lowest(elftest::objdump_lines(path), "lambda.cpp", line));
}

TEST_CASE("lines_near lists the nearest lines that have code", "[elf][dwarf]") {
  std::string path = elftest::fixture("prog_pie");
  auto elf = ElfFile::open(path);
  unsigned line = elftest::marker_line("prog.c", "no_code_comment");
  CHECK(elf->find_line("prog.c", line).empty());

  std::set<unsigned> with_code;
  for (const auto& r : elftest::objdump_lines(path))
    if (r.file == "prog.c" && r.stmt) with_code.insert(r.line);
  REQUIRE(!with_code.contains(line));
  std::vector<unsigned> want(with_code.begin(), with_code.end());
  std::stable_sort(want.begin(), want.end(), [&](unsigned a, unsigned b) {
    return std::abs(int(a) - int(line)) < std::abs(int(b) - int(line));
  });
  want.resize(3);
  CHECK(elf->lines_near("prog.c", line) == want);
  CHECK(elf->lines_near("prog.c", line, 2) == std::vector<unsigned>{line - 1, line + 1});
  for (unsigned l : elf->lines_near("prog.c", line, 10)) CHECK(!elf->find_line("prog.c", l).empty());
  CHECK(elf->lines_near("nosuchfile.c", line).empty());
  CHECK(elf->find_line("nosuchfile.c", line).empty());

  auto stripped = ElfFile::open(elftest::fixture("libelffix_stripped.so"));
  CHECK(stripped->find_line("lib.c", 3).empty());
  CHECK(stripped->lines_near("lib.c", 3).empty());
}

TEST_CASE("source paths are compared by whole trailing components", "[elf][dwarf]") {
  using uptrace::elf::detail::normalize_path;
  using uptrace::elf::detail::path_matches;
  CHECK(normalize_path("/src/./dir//a.c") == "/src/dir/a.c");
  CHECK(normalize_path("/src/x/../a.c") == "/src/a.c");
  CHECK(normalize_path("../a.c") == "../a.c");
  CHECK(normalize_path("/../a.c") == "/a.c");
  CHECK(normalize_path("./") == ".");
  CHECK(path_matches("/src/dir/a.c", "a.c"));
  CHECK(path_matches("/src/dir/a.c", "dir/a.c"));
  CHECK(path_matches("/src/dir/a.c", "/src/dir/a.c"));
  CHECK_FALSE(path_matches("/src/dir/xa.c", "a.c"));
  CHECK_FALSE(path_matches("/src/dir/a.c", "/dir/a.c"));
  CHECK_FALSE(path_matches("/src/dir/a.c", "ir/a.c"));
  CHECK_FALSE(path_matches("/src/dir/a.c", "."));
}
