// Fetch arguments by name from DWARF (issue 7), on tests/targets/dwarf_vars.c
// built at -O0, -O1 -fno-inline and -O2: members through pointers, nested
// structs, arrays, enums, bool, char arrays and char pointers, a local of a
// nested block, globals, $params, :TYPE, values optimized out, the errors,
// SRCFILE:LINE over inlined copies and the warning for FUNC's inlined copies.
// Every value is asserted exactly; the -O2 expectations are what gcc 12
// emits (see the comments where they differ from -O0).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "checks.h"
#include "harness.h"
#include "isa.h"

using namespace itest;

namespace {

const std::vector<std::string> kBuilds = {"dwarf_vars-O0", "dwarf_vars", "dwarf_vars-O2"};

// The line of dwarf_vars.c marked "@NAME".
unsigned marked_line(const std::string& name) {
  std::istringstream src(slurp(std::string(TARGET_SRC_DIR) + "/dwarf_vars.c"));
  std::string line;
  unsigned n = 0;
  while (std::getline(src, line)) {
    ++n;
    if (line.find("/* @" + name + " */") != std::string::npos) return n;
  }
  FAIL("no @" << name << " in dwarf_vars.c");
  return 0;
}

std::string at_line(const std::string& name) { return "dwarf_vars.c:" + std::to_string(marked_line(name)); }

struct Traced {
  Result r;
  std::vector<std::string> hits;  // "PROBE ARGS", without time and pid/tid
};

// Runs `build` for `rounds` rounds under uptrace with hits to a file.
Traced trace(const std::string& build, std::vector<std::string> args, long rounds = 2) {
  std::string file = temp_path("dwarf");
  args.insert(args.begin(), {"-o", file});
  args.insert(args.end(), {"--", target(build), std::to_string(rounds)});
  Traced t;
  t.r = uptrace(args);
  static const std::regex re("[0-9]+\\.[0-9]{6} [0-9]+/[0-9]+ (.*)");
  for (const std::string& line : lines_of(slurp(file))) {
    std::smatch m;
    INFO(line);
    REQUIRE(std::regex_match(line, m, re));
    t.hits.push_back(m[1]);
  }
  unlink(file.c_str());
  return t;
}

Traced trace_ok(const std::string& build, std::vector<std::string> args, long rounds = 2) {
  Traced t = trace(build, std::move(args), rounds);
  INFO(t.r.err);
  REQUIRE(t.r.status == 0);
  return t;
}

}  // namespace

TEST_CASE("dwarf: members, nested structs, arrays, enums, bool and strings at every optimisation level",
          "[integration][dwarf]") {
  for (const std::string& build : kBuilds) {
    INFO(build);
    Traced t = trace_ok(build, {"handle req->hdr.len req->hdr.kind req->extra->len req->name req->path req->vals[2] "
                                "req->color req->urgent req->id count tag *limit counter"});
    // At -O0 the probe goes after the prologue, where the parameters are in
    // their stack slots; at -O1/-O2 they are in registers at the entry.
    REQUIRE(t.hits == std::vector<std::string>{
                          "handle req->hdr.len=512 req->hdr.kind=2 req->extra->len=4096 req->name=\"alpha\" "
                          "req->path=\"/srv/data\" req->vals[2]=30 req->color=BLUE req->urgent=true req->id=100 "
                          "count=0 tag=\"tag\" *limit=42 counter=1",
                          "handle req->hdr.len=512 req->hdr.kind=2 req->extra->len=4096 req->name=\"alpha\" "
                          "req->path=\"/srv/data\" req->vals[2]=30 req->color=BLUE req->urgent=true req->id=101 "
                          "count=1 tag=\"tag\" *limit=42 counter=2",
                      });
  }
}

TEST_CASE("dwarf: JSON carries numbers, strings, booleans, enumerator names and pointers", "[integration][dwarf]") {
  for (const std::string& build : {std::string("dwarf_vars-O0"), std::string("dwarf_vars-O2")}) {
    INFO(build);
    std::string file = temp_path("dwarfjson");
    Result r = uptrace({"--format", "json", "-o", file, "handle req req->id req->name req->urgent req->color count",
                        "--", target(build), "1"});
    REQUIRE(r.status == 0);
    auto lines = lines_of(slurp(file));
    unlink(file.c_str());
    REQUIRE(lines.size() == 1);
    auto j = nlohmann::json::parse(lines[0]);
    const auto& a = j["args"];
    CHECK(a["req"].is_string());
    CHECK(a["req"].get<std::string>().rfind(isa_expectations().stack_address_prefix, 0) == 0);  // a stack address
    CHECK(a["req->id"] == 100);
    CHECK(a["req->name"] == "alpha");
    CHECK(a["req->urgent"] == true);
    CHECK(a["req->color"] == "BLUE");
    CHECK(a["count"] == 0);
    CHECK_FALSE(j.contains("optimized_out"));
  }
}

TEST_CASE("dwarf: $params names every parameter, enums fall back to numbers", "[integration][dwarf]") {
  for (const std::string& build : kBuilds) {
    INFO(build);
    Traced t = trace_ok(build, {"classify $params"}, 1);
    REQUIRE(t.hits == std::vector<std::string>{
                          "classify c=GREEN urgent=true level=200 delta=-3",
                          "classify c=BLUE urgent=false level=7 delta=9",
                          "classify c=7 urgent=true level=0 delta=0",
                          "classify c=RED urgent=false level=1 delta=1",
                      });
  }
}

TEST_CASE("dwarf: :TYPE overrides the DWARF type", "[integration][dwarf]") {
  Traced t = trace_ok("dwarf_vars-O2", {"handle req->id:x16 req->name:u8 count:s8 req->hdr.len:x32 tag:string"}, 1);
  // Names leave out the :TYPE (SPEC.md).
  REQUIRE(t.hits == std::vector<std::string>{"handle req->id=0x64 req->name=97 count=0 req->hdr.len=0x200 tag=\"tag\""});
}

TEST_CASE("dwarf: a local of a nested block, and a value optimized out at -O2", "[integration][dwarf]") {
  std::string inner = at_line("inner"), gone = at_line("gone");
  for (const std::string& build : kBuilds) {
    INFO(build);
    Traced t = trace_ok(build, {inner + " inner count", gone + " gone kept"});
    // gone's register is clobbered by the call before @gone. gcc 12 says so
    // with DW_OP_entry_value at -O1 and -O2; at -O0 it stays in its slot.
    std::string gone_value = build == "dwarf_vars-O0" ? "11" : "(optimized out)";
    REQUIRE(t.hits == std::vector<std::string>{
                          inner + " inner=100 count=0",
                          gone + " gone=" + gone_value + " kept=22",
                          inner + " inner=104 count=1",
                          gone + " gone=" + gone_value + " kept=22",
                      });
  }
  std::string file = temp_path("dwarfjson");
  Result r = uptrace({"--format", "json", "-o", file, gone + " gone kept", "--", target("dwarf_vars-O2"), "1"});
  REQUIRE(r.status == 0);
  auto lines = lines_of(slurp(file));
  unlink(file.c_str());
  REQUIRE(lines.size() == 1);
  auto j = nlohmann::json::parse(lines[0]);
  CHECK(j["args"]["gone"].is_null());
  CHECK(j["args"]["kept"] == 22);
  CHECK(j["optimized_out"] == nlohmann::json::array({"gone"}));
}

TEST_CASE("dwarf: a source line inlined in several places is one probe at each, under one name",
          "[integration][dwarf]") {
  std::string line = at_line("scale");
  // -O2: scale's out-of-line copy (called through scale_ptr) and its copies
  // inlined into caller_a and caller_b, where k is a constant.
  Traced t = trace_ok("dwarf_vars-O2", {line + " v k scaled"});
  std::vector<std::string> expected;
  for (int r = 0; r < 2; ++r)
    for (int k : {2, 3, 7}) {
      std::string scaled = std::to_string(r * k);
      // Where the out-of-line copy is one instruction (aarch64's madd:
      // v * k + sink), `scaled` never exists on its own, and DWARF says so.
      if (k == 2 && isa_expectations().scaled_fused) scaled = "(optimized out)";
      expected.push_back(line + " v=" + std::to_string(r) + " k=" + std::to_string(k) + " scaled=" + scaled);
    }
  REQUIRE(t.hits == expected);
  Result e = uptrace({"--explain", line + " v k", "-x", target("dwarf_vars-O2")});
  REQUIRE(e.status == 0);
  // The out-of-line copy's first line is at its entry (ppc64le: its local
  // entry, after the TOC setup).
  CHECK(count_lines(e.out, "  at:          scale" + elf_symbol(target("dwarf_vars-O2"), "scale").value().entry_offset() +
                               " ") == 1);
  const std::string inlined_at = isa_expectations().inlined_scale_offset;
  CHECK(count_lines(e.out, "  at:          caller_a" + inlined_at) == 1);
  CHECK(count_lines(e.out, "  at:          caller_b" + inlined_at) == 1);
  CHECK(count_lines(e.out, "  fetch:       k: int, DW_OP_lit3; DW_OP_stack_value (from a location list)") == 1);
  CHECK(count_lines(e.out, "  fetch:       k: int, DW_OP_lit7; DW_OP_stack_value (from a location list)") == 1);
  // -O1 -fno-inline: one copy, one address.
  t = trace_ok("dwarf_vars", {line + " v k"}, 1);
  REQUIRE(t.hits == std::vector<std::string>{line + " v=0 k=2", line + " v=0 k=3", line + " v=0 k=7"});
}

TEST_CASE("dwarf: a FUNC that is also inlined elsewhere is warned about", "[integration][dwarf]") {
  Traced t = trace_ok("dwarf_vars-O2", {"scale v k"}, 1);
  // Only the out-of-line call reaches the probe.
  REQUIRE(t.hits == std::vector<std::string>{"scale v=0 k=2"});
  auto err = lines_of(t.r.err);
  REQUIRE(std::count(err.begin(), err.end(),
                     "uptrace: warning: scale is also inlined at 2 places (dwarf_vars.c:" +
                         std::to_string(marked_line("scale") + 5) + ", dwarf_vars.c:" +
                         std::to_string(marked_line("scale") + 6) + "); those copies are not probed") == 1);
  // Without inlining there is nothing to warn about.
  t = trace_ok("dwarf_vars", {"scale v k"}, 1);
  CHECK(count_lines(t.r.err, "warning") == 0);
  // -q silences it with the other status lines.
  t = trace_ok("dwarf_vars-O2", {"-q", "scale"}, 1);
  CHECK(t.r.err.empty());
}

TEST_CASE("dwarf: --explain shows where each variable is", "[integration][dwarf]") {
  Result r = uptrace({"--explain", "handle count req->hdr.len", "-x", target("dwarf_vars-O2")});
  REQUIRE(r.status == 0);
  const std::string count_reg = isa_expectations().count_location, req_reg = isa_expectations().req_location;
  const std::string o0_count = isa_expectations().o0_count_location;
  CHECK(count_lines(r.out, "  fetch:       count: int, " + count_reg + " (from a location list)") == 1);
  CHECK(count_lines(r.out, "  fetch:       req->hdr.len: unsigned int, " + req_reg + " (from a location list); "
                           "deref; +4; +4") == 1);
  r = uptrace({"--explain", "handle count", "-x", target("dwarf_vars-O0")});
  REQUIRE(r.status == 0);
  CHECK(count_lines(r.out, "  note:        after the prologue, where unoptimised code has stored the arguments") == 1);
  CHECK(count_lines(r.out, "  fetch:       count: int, " + o0_count) == 1);
}

TEST_CASE("dwarf: names and members that do not exist are errors that list what does", "[integration][dwarf][mode-free]") {
  std::string exe = target("dwarf_vars-O2");
  auto error_of = [&](const std::string& probe) {
    Result r = uptrace({probe, "--", exe, "1"});
    INFO(r.err);
    CHECK(r.status == 1);
    auto lines = r.err_lines();
    REQUIRE(!lines.empty());
    return lines.back();
  };
  const std::string in_scope = isa_expectations().handle_scope;
  CHECK(error_of("handle lenn") == "uptrace: probe 'handle lenn': no variable 'lenn' at handle in " + exe +
                                       "; hint: in scope: " + in_scope);
  CHECK(error_of("handle req->hdr.lenn") ==
        "uptrace: probe 'handle req->hdr.lenn': cannot fetch 'req->hdr.lenn' at handle in " + exe +
            ": struct hdr has no member 'lenn'; hint: members: kind, len");
  CHECK(error_of("handle req.id") == "uptrace: probe 'handle req.id': cannot fetch 'req.id' at handle in " + exe +
                                         ": 'req' is a pointer (struct req *); hint: use req->id");
  CHECK(error_of("handle count->x") == "uptrace: probe 'handle count->x': cannot fetch 'count->x' at handle in " +
                                           exe + ": 'count' is not a pointer (int)");
  CHECK(error_of("handle req->hdr") == "uptrace: probe 'handle req->hdr': cannot fetch 'req->hdr' at handle in " +
                                           exe + ": it is a struct hdr, not one value; hint: fetch one of its "
                                                 "members (kind, len): req->hdr.kind");
  CHECK(error_of("handle req->vals[4]") ==
        "uptrace: probe 'handle req->vals[4]': cannot fetch 'req->vals[4]' at handle in " + exe +
            ": index 4 is past the end of long int[4] (4 elements)");
  CHECK(error_of("handle req->flag") ==
        "uptrace: probe 'handle req->flag': cannot fetch 'req->flag' at handle in " + exe +
            ": 'flag' is a bit-field, which uptrace does not fetch; hint: fetch the member with +OFF(EXPR):TYPE and "
            "mask it yourself");
  // The grammar is checked before anything runs: a usage error.
  Result r = uptrace({"handle +0(count)", "--", exe, "1"});
  CHECK(r.status == 2);
}

TEST_CASE("dwarf: a file without DWARF says so", "[integration][dwarf]") {
  const std::string stripped = target("dwarf_vars-O2-nodebug");  // objcopy --strip-debug, at build time
  Result r = uptrace({"handle count", "--", stripped, "1"});
  CHECK(r.status == 1);
  auto lines = r.err_lines();
  REQUIRE(!lines.empty());
  CHECK(lines.back() == "uptrace: probe 'handle count': no DWARF debug information for handle in " + stripped +
                            "; hint: compile with -g, or install the module's debug information (debuginfod, "
                            "-dbg/-debuginfo package)");
}

TEST_CASE("dwarf: a traced process is untouched after DWARF probes", "[integration][dwarf]") {
  Parked p(target("dwarf_vars-O2"));
  Snapshot before = snapshot(p.pid());
  Tracer t({"-p", p.spid(), "-d", "0.3", "handle $params req->name", at_line("scale") + " v k scaled"});
  REQUIRE(t.wait_armed());
  Result r = t.finish();
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(count_lines(r.err, "uptrace: 4 probes armed in pid " + p.spid()) == 1);
  require_untouched(before, p.pid());
}
