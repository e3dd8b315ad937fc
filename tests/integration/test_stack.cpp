// --stack: a backtrace per hit from libdwfl, innermost first, bounded, in
// text and JSON; through return addresses hijacked by %return.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "harness.h"
#include "isa.h"

using namespace itest;

namespace {

// "depth+0x16 (/path/target-returns)" -> "depth"
std::string function_of(const std::string& frame) { return frame.substr(0, frame.find('+')); }

std::vector<nlohmann::json> json_hits(const std::vector<std::string>& args) {
  std::string out = temp_path("hits");
  std::vector<std::string> argv{"-q", "--stack", "--format", "json", "-o", out};
  argv.insert(argv.end(), args.begin(), args.end());
  Result r = uptrace(argv);
  REQUIRE(r.status == 0);
  std::vector<nlohmann::json> hits;
  for (const std::string& line : lines_of(slurp(out))) hits.push_back(nlohmann::json::parse(line));
  unlink(out.c_str());
  return hits;
}

}  // namespace

TEST_CASE("stack: text frames follow the hit line, indented, function+offset and module", "[stack]") {
  for (const char* program : {"returns-O0", "returns", "returns-O2"}) {
    INFO(program);
    std::string path = target(program);
    std::string out = temp_path("hits");
    Result r = uptrace({"-q", "--stack", "-o", out, "depth", "--", path, "depth", "1"});
    REQUIRE(r.status == 0);
    REQUIRE(r.out == "depth 1\n");
    std::vector<std::string> lines = lines_of(slurp(out));
    unlink(out.c_str());
    // Hit 1: depth <- main <- libc...; hit 2: depth <- depth <- main <- ...
    REQUIRE(lines.size() >= 8);
    REQUIRE(lines[0].ends_with(" depth"));
    // The probe's own frame: depth's entry (ppc64le: its local entry).
    const std::string entry = "    depth" + elf_symbol(path, "depth").value().entry_offset() + " (" + path + ")";
    REQUIRE(lines[1] == entry);
    REQUIRE(lines[2].starts_with("    main+0x"));
    REQUIRE(lines[2].ends_with(" (" + path + ")"));
    size_t second = 3;
    while (second < lines.size() && lines[second].starts_with("    ")) ++second;
    REQUIRE(second < lines.size());
    REQUIRE(lines[second].ends_with(" depth"));
    REQUIRE(lines[second + 1] == entry);
    REQUIRE(lines[second + 2].starts_with("    depth+0x"));
    REQUIRE(lines[second + 3].starts_with("    main+0x"));
    std::regex frame(R"(    [^ ]+\+0x[0-9a-f]+ \(/[^)]+\)|    0x[0-9a-f]+( \(.+\))?)");
    for (size_t i = 1; i < lines.size(); ++i)
      if (i != second) REQUIRE(std::regex_match(lines[i], frame));
  }
}

TEST_CASE("stack: a return probe's stack starts at the caller and goes through hijacked frames", "[stack][return]") {
  for (const char* program : {"returns-O0", "returns", "returns-O2"}) {
    INFO(program);
    auto hits = json_hits({"depth%return $retval", "--", target(program), "depth", "3"});
    REQUIRE(hits.size() == 4);
    for (size_t k = 0; k < hits.size(); ++k) {
      INFO(hits[k].dump());
      REQUIRE(hits[k]["args"]["retval"] == static_cast<int>(k));
      const auto& stack = hits[k]["stack"];
      // The innermost return (retval 0) goes back into depth(1), whose
      // callers depth(2), depth(3) still have the trampoline in their slots:
      // the stack shows their real callers all the same.
      std::vector<std::string> functions;
      for (const auto& f : stack) functions.push_back(function_of(f.get<std::string>()));
      std::vector<std::string> expected(3 - k, "depth");
      expected.push_back("main");
      REQUIRE(functions.size() > expected.size());
      REQUIRE(std::vector<std::string>(functions.begin(), functions.begin() + static_cast<long>(expected.size())) ==
              expected);
      // No bare address outside every module: the trampoline, in uptrace's
      // anonymous scratch mapping. (A libc frame without a symbol, as
      // aarch64's __libc_start_call_main in a stripped libc, is "0x... (libc)".)
      for (const auto& f : stack) REQUIRE(f.get<std::string>().find(" (/") != std::string::npos);
    }
  }
}

TEST_CASE("stack: inside a hijacked aarch64 leaf, x30 holds the trampoline and the caller is still found",
          "[stack][return]" ONLY_AARCH64) {
  // main_work never saves x30: from its entry to its ret, x30 is the
  // trampoline, which the unwinder takes as the return address.
  auto hits = json_hits({"main_work%return", "main_work+4", "--", target("returns"), "swap", "2"});
  REQUIRE(hits.size() == 4);
  for (const auto& hit : hits) {
    INFO(hit.dump());
    std::vector<std::string> functions;
    for (const auto& f : hit["stack"]) functions.push_back(function_of(f.get<std::string>()));
    REQUIRE(functions.size() >= 2);
    if (hit["probe"] == "main_work+0x4") REQUIRE(functions[0] == "main_work");
    REQUIRE(functions[hit["probe"] == "main_work+0x4" ? 1 : 0] == "main");
    for (const auto& f : hit["stack"]) REQUIRE(f.get<std::string>().find(" (/") != std::string::npos);
  }
}

TEST_CASE("stack: at most 32 frames", "[stack]") {
  auto hits = json_hits({"-n", "60", "depth", "--", target("returns"), "depth", "59"});
  REQUIRE(hits.size() == 60);
  REQUIRE(hits[0]["stack"].size() > 2);
  REQUIRE(hits[0]["stack"].size() < 32);
  REQUIRE(hits[59]["stack"].size() == 32);
  for (const auto& f : hits[59]["stack"]) REQUIRE(function_of(f.get<std::string>()) == "depth");
}

TEST_CASE("stack: frames of a C++ program inside try blocks", "[stack]") {
  auto hits = json_hits({"thrower", "--", target("throws"), "throws", "3"});
  REQUIRE(hits.size() == 3);
  std::vector<std::string> functions;
  for (const auto& f : hits[0]["stack"]) functions.push_back(function_of(f.get<std::string>()));
  REQUIRE(functions.size() >= 3);
  REQUIRE(functions[0] == "thrower");
  REQUIRE(functions[1] == "middle");
  REQUIRE(functions[2] == "main");
}
