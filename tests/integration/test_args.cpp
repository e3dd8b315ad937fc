// Fetch arguments (SPEC.md "Probes" and "Output"): $argN (the 7th from the
// stack), registers, $sp/$pc, memory at offsets with every width and sign,
// nested references, strings with C escapes, unreadable pointers, names,
// JSON Lines, -o, -q and the TIME format. The target (tests/targets/args.c)
// passes known values; every value is asserted exactly.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "harness.h"
#include "isa.h"

using namespace itest;

namespace {

const std::string kArgs = target("args");



// One text hit line, "TIME PID/TID PROBE [NAME=VALUE ...]", split.
struct TextHit {
  std::string time, probe, args;
  long pid = 0, tid = 0;
};

std::vector<TextHit> text_hits(const std::string& out) {
  static const std::regex re("([0-9]+\\.[0-9]{6}) ([0-9]+)/([0-9]+) (\\S+)(?: (.*))?");
  std::vector<TextHit> hits;
  for (const std::string& line : lines_of(out)) {
    std::smatch m;
    INFO("hit line: " << line);
    REQUIRE(std::regex_match(line, m, re));
    hits.push_back({m[1], m[4], m[5], std::stol(m[2]), std::stol(m[3])});
  }
  return hits;
}

// What the target prints before calling anything: "args7 0xADDR", "pid PID".
struct TargetInfo {
  uint64_t args7 = 0;
  long pid = 0;
};

TargetInfo target_info(const std::string& out) {
  auto lines = lines_of(out);
  REQUIRE(lines.size() >= 3);
  REQUIRE(lines[0].rfind("args7 0x", 0) == 0);
  REQUIRE(lines[1].rfind("pid ", 0) == 0);
  REQUIRE(lines.back() == "done");
  return {std::stoull(lines[0].substr(6), nullptr, 16), std::stol(lines[1].substr(4))};
}

// Runs the args target under uptrace with hits to a file; returns the hits.
struct Traced {
  Result r;
  std::string hits;
  TargetInfo info;
};

Traced trace_args(std::vector<std::string> options, const std::vector<std::string>& probes, long rounds = 1) {
  std::string file = temp_path("hits");
  std::vector<std::string> args = std::move(options);
  args.push_back("-o");
  args.push_back(file);
  args.insert(args.end(), probes.begin(), probes.end());
  args.push_back("--");
  args.push_back(kArgs);
  args.push_back(std::to_string(rounds));
  Traced t;
  t.r = uptrace(args);
  t.hits = slurp(file);
  unlink(file.c_str());
  INFO(t.r.err);
  REQUIRE(t.r.status == 0);
  t.info = target_info(t.r.out);
  return t;
}

std::vector<std::string> args_of(const std::vector<TextHit>& hits, const std::string& probe) {
  std::vector<std::string> out;
  for (const TextHit& h : hits)
    if (h.probe == probe) out.push_back(h.args);
  return out;
}

const char* const kTextEscaped = R"("say \"hi\"\n\tback\\slash caf\xc3\xa9 \xff end\r\x7f\x01")";

}  // namespace

TEST_CASE("args: $arg1..$arg7 with the seventh from the stack", "[args]") {
  Traced t = trace_args({}, {"args7 $arg1 $arg2 $arg3 $arg4 $arg5 $arg6 $arg7"});
  auto hits = text_hits(t.hits);
  REQUIRE(hits.size() == 1);
  REQUIRE(hits[0].probe == "args7");
  REQUIRE(hits[0].pid == t.info.pid);
  REQUIRE(hits[0].tid == t.info.pid);
  REQUIRE(hits[0].args == "arg1=1 arg2=-2 arg3=3 arg4=4 arg5=5 arg6=6 arg7=7777");
}

TEST_CASE("args: every round reports the same values", "[args]") {
  Traced t = trace_args({}, {"args7 $arg2 $arg7", "take_struct +24($arg1):s32"}, 25);
  auto hits = text_hits(t.hits);
  REQUIRE(hits.size() == 25 * 3);
  REQUIRE(args_of(hits, "args7") == std::vector<std::string>(25, "arg2=-2 arg7=7777"));
  std::vector<std::string> want;
  for (int i = 0; i < 25; ++i) {
    want.push_back("+24($arg1)=-5");
    want.push_back("+24($arg1)=6");
  }
  REQUIRE(args_of(hits, "take_struct") == want);
}

TEST_CASE("args: registers by name and their parts with every integer type", "[args]" ONLY_X86_64) {
  Traced t = trace_args({}, {"args7 %rdi %edi:s32 %di:x16 %dil:u8 %rsi %esi:u32 %si:s16 %sil:x8 "
                             "a=$arg2:u8 b=$arg2:s8 c=$arg2:u16 d=$arg2:s16 e=$arg2:x32 f=$arg2:u64 g=$arg2:x64 "
                             "h=$arg2:s64 i=$arg7:x64"});
  auto hits = text_hits(t.hits);
  REQUIRE(hits.size() == 1);
  REQUIRE(hits[0].args ==
          "%rdi=1 %edi=1 %di=0x1 %dil=1 %rsi=-2 %esi=4294967294 %si=-2 %sil=0xfe "
          "a=254 b=-2 c=65534 d=-2 e=0xfffffffe f=18446744073709551614 g=0xfffffffffffffffe h=-2 i=0x1e61");
}

TEST_CASE("args: $sp and $pc", "[args]" ONLY_X86_64) {
  Traced t = trace_args({"--format", "json"}, {"args7 sp=$sp:x64 rsp=%rsp:x64 pc=$pc:x64 pcd=$pc ret=+0($sp):x64"});
  auto lines = lines_of(t.hits);
  REQUIRE(lines.size() == 1);
  auto j = nlohmann::json::parse(lines[0]);
  // $pc is the probe address: the function's runtime address, which the
  // target printed, and the "addr" of the hit.
  char pc[32];
  snprintf(pc, sizeof pc, "%#lx", static_cast<unsigned long>(t.info.args7));
  REQUIRE(j["addr"] == pc);
  REQUIRE(j["args"]["pc"] == pc);
  REQUIRE(j["args"]["pcd"].get<int64_t>() == static_cast<int64_t>(t.info.args7));
  // At a function's entry the stack pointer is 8 past a 16-byte boundary
  // and points at the return address, inside main.
  std::string sp = j["args"]["sp"];
  REQUIRE(j["args"]["rsp"] == sp);
  uint64_t sp_value = std::stoull(sp, nullptr, 16);
  REQUIRE(sp_value % 16 == 8);
  uint64_t bias = t.info.args7 - symbol_address(kArgs, "args7");
  uint64_t main_start = symbol_address(kArgs, "main") + bias;
  uint64_t ret = std::stoull(j["args"]["ret"].get<std::string>(), nullptr, 16);
  REQUIRE(ret > main_start);
  REQUIRE(ret < main_start + 0x1000);
}

TEST_CASE("args: memory at offsets with every width and sign and nested references", "[args]" ONLY_X86_64) {
  Traced t = trace_args({}, {"take_struct +0($arg1):u8 s8=+0($arg1):s8 +2($arg1):u16 +4($arg1):u32 +8($arg1):u64 "
                             "x64=+8($arg1):x64 s64=+8($arg1):s64 +8(+16($arg1)) +24($arg1):s32 +28($arg1):x32 "
                             "name=+0(+32($arg1)):string low=+4($arg1):u8 att=8(%rdi):x16 -7(+40($arg1)):string "
                             "hex=+0x18($arg1):s32 neg=-0x7(+0x28(%rdi)):string"});
  auto hits = args_of(text_hits(t.hits), "take_struct");
  REQUIRE(hits.size() == 2);
  // The full record.
  REQUIRE(hits[0] ==
          "+0($arg1)=254 s8=-2 +2($arg1)=48879 +4($arg1)=4000000000 +8($arg1)=18364758544493064720 "
          "x64=0xfedcba9876543210 s64=-81985529216486896 +8(+16($arg1))=4242 +24($arg1)=-5 +28($arg1)=0xdeadbeef "
          "name=\"struct-name\" low=0 att=0x3210 -7(+40($arg1))=\"struct-name\" hex=-5 neg=\"struct-name\"");
  // The empty one: in == NULL and name == NULL cannot be followed.
  REQUIRE(hits[1] ==
          "+0($arg1)=1 s8=1 +2($arg1)=2 +4($arg1)=3 +8($arg1)=4 x64=0x4 s64=4 +8(+16($arg1))=(fault) "
          "+24($arg1)=6 +28($arg1)=0x7 name=(fault) low=3 att=0x4 -7(+40($arg1))=(fault) hex=6 neg=(fault)");
}

TEST_CASE("args: strings with C escapes and the 256-byte limit and a string that ends at an unmapped page", "[args]" ONLY_X86_64) {
  Traced t = trace_args({}, {"take_string s=$arg1:string +0(%rdi):string"});
  auto hits = args_of(text_hits(t.hits), "take_string");
  REQUIRE(hits.size() == 3);
  REQUIRE(hits[0] == std::string("s=") + kTextEscaped + " +0(%rdi)=" + kTextEscaped);
  std::string a256 = "\"" + std::string(256, 'a') + "\"";
  REQUIRE(hits[1] == "s=" + a256 + " +0(%rdi)=" + a256);
  REQUIRE(hits[2] == "s=\"edge\" +0(%rdi)=\"edge\"");
  // The output is plain ASCII, one line per hit.
  for (unsigned char c : t.hits) REQUIRE((c == '\n' || (c >= 0x20 && c < 0x7f)));
}

TEST_CASE("args: unreadable pointers print (fault) and tracing goes on", "[args]") {
  Traced t = trace_args({}, {"take_ptr s=$arg1:string v=+0($arg1):u64 w=+8(+0($arg1)) p=$arg1:x64"}, 3);
  REQUIRE(t.r.out.find("done\n") != std::string::npos);
  auto hits = args_of(text_hits(t.hits), "take_ptr");
  REQUIRE(hits.size() == 9);
  for (int round = 0; round < 3; ++round) {
    REQUIRE(hits[round * 3] == "s=(fault) v=(fault) w=(fault) p=0x0");
    REQUIRE(hits[round * 3 + 1] == "s=(fault) v=(fault) w=(fault) p=0x10");
    REQUIRE(hits[round * 3 + 2].rfind("s=\"ok\" v=27503 w=(fault) p=0x", 0) == 0);  // "ok" and six NULs
  }
}

TEST_CASE("args: NAME= names an argument and without it the expression does", "[args]" ONLY_X86_64) {
  Traced t = trace_args({}, {"args7 first=$arg1 $arg2 %rdx +0($sp):x8 sp=$sp:x8 $pc:x8 _x9=%rcx"});
  auto hits = text_hits(t.hits);
  REQUIRE(hits.size() == 1);
  std::regex names("first=1 arg2=-2 %rdx=3 \\+0\\(\\$sp\\)=0x[0-9a-f]{1,2} sp=0x[0-9a-f]{1,2} pc=0x[0-9a-f]{1,2} _x9=4");
  INFO(hits[0].args);
  REQUIRE(std::regex_match(hits[0].args, names));
}

TEST_CASE("args: --format json writes one object per hit with typed values", "[args][json]") {
  Traced t = trace_args({"--format", "json"},
                        {"args7 $arg1 $arg2 u=$arg2:u32 x=$arg2:x64", "take_string s=$arg1:string",
                         "take_struct u64=+8($arg1):u64 s8=+0($arg1):s8 name=+0(+32($arg1)):string "
                         "nested=+8(+16($arg1))",
                         "take_ptr s=$arg1:string p=$arg1:x64"});
  auto lines = lines_of(t.hits);
  REQUIRE(lines.size() == 1 + 3 + 2 + 3);
  std::vector<nlohmann::ordered_json> hits;
  int64_t last_time = -1;
  for (const std::string& line : lines) {
    INFO(line);
    auto j = nlohmann::ordered_json::parse(line);
    std::vector<std::string> keys;
    for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
    REQUIRE(keys == std::vector<std::string>{"time_ns", "pid", "tid", "probe", "addr", "args"});
    REQUIRE(j["time_ns"].is_number_integer());
    REQUIRE(j["time_ns"].get<int64_t>() >= last_time);
    last_time = j["time_ns"].get<int64_t>();
    REQUIRE(j["pid"] == t.info.pid);
    REQUIRE(j["tid"] == t.info.pid);
    REQUIRE(std::regex_match(j["addr"].get<std::string>(), std::regex("0x[0-9a-f]+")));
    REQUIRE(j["args"].is_object());
    hits.push_back(j);
  }
  auto& a7 = hits[0];
  REQUIRE(a7["probe"] == "args7");
  REQUIRE(a7["args"].dump() == R"({"arg1":1,"arg2":-2,"u":4294967294,"x":"0xfffffffffffffffe"})");
  REQUIRE(hits[1]["probe"] == "take_string");
  REQUIRE(hits[1]["args"]["s"] == "say \"hi\"\n\tback\\slash caf\xc3\xa9 \xc3\xbf end\r\x7f\x01");
  // A byte that is not UTF-8 is written as the code point of the same value;
  // UTF-8 stays as it is.
  REQUIRE(lines[1].find(R"(back\\slash café \u00ff end\r)") != std::string::npos);
  REQUIRE(lines[1].find(R"(\u0001")") != std::string::npos);
  REQUIRE(hits[2]["args"]["s"] == std::string(256, 'a'));
  REQUIRE(hits[3]["args"]["s"] == "edge");
  REQUIRE(hits[4]["probe"] == "take_struct");
  // Past 2^53 a double cannot hold it exactly: the digits in a string.
  REQUIRE(hits[4]["args"]["u64"].is_string());
  REQUIRE(std::stoull(hits[4]["args"]["u64"].get<std::string>()) == 18364758544493064720ull);
  REQUIRE(hits[4]["args"]["s8"] == -2);
  REQUIRE(hits[4]["args"]["name"] == "struct-name");
  REQUIRE(hits[4]["args"]["nested"] == 4242);
  REQUIRE(hits[5]["args"].dump() == R"({"u64":4,"s8":1,"name":null,"nested":null})");
  REQUIRE(hits[6]["probe"] == "take_ptr");
  REQUIRE(hits[6]["args"].dump() == R"({"s":null,"p":"0x0"})");
  REQUIRE(hits[7]["args"].dump() == R"({"s":null,"p":"0x10"})");
  REQUIRE(hits[8]["args"]["s"] == "ok");
  // Same probe, same address.
  REQUIRE(hits[6]["addr"] == hits[7]["addr"]);
  REQUIRE(hits[1]["addr"] == hits[3]["addr"]);
}

TEST_CASE("args: a probe without fetch arguments has an empty args object", "[args][json]") {
  Traced t = trace_args({"--format", "json"}, {"take_ptr"});
  auto lines = lines_of(t.hits);
  REQUIRE(lines.size() == 3);
  for (const std::string& line : lines) {
    auto j = nlohmann::json::parse(line);
    REQUIRE(j["probe"] == "take_ptr");
    REQUIRE(j["args"] == nlohmann::json::object());
  }
}

TEST_CASE("args: text and JSON report the same values", "[args][json]") {
  const std::string probe = "take_struct a=+0($arg1):u8 b=+28($arg1):x32 c=+24($arg1):s32";
  Traced text = trace_args({}, {probe});
  Traced json = trace_args({"--format", "json"}, {probe});
  auto t = args_of(text_hits(text.hits), "take_struct");
  auto j = lines_of(json.hits);
  REQUIRE(t == std::vector<std::string>{"a=254 b=0xdeadbeef c=-5", "a=1 b=0x7 c=6"});
  REQUIRE(j.size() == 2);
  REQUIRE(nlohmann::json::parse(j[0])["args"].dump() == R"({"a":254,"b":"0xdeadbeef","c":-5})");
  REQUIRE(nlohmann::json::parse(j[1])["args"].dump() == R"({"a":1,"b":"0x7","c":6})");
}

TEST_CASE("args: -o FILE takes every hit and the command output stays on stdout", "[args]") {
  std::string file = temp_path("hits");
  Result r = uptrace({"-o", file, "take_ptr", "--", kArgs});
  REQUIRE(r.status == 0);
  // The command's own lines, none of uptrace's.
  auto out = lines_of(r.out);
  REQUIRE(out.size() == 3);
  REQUIRE(out[2] == "done");
  REQUIRE(lines_of(slurp(file)).size() == 3);
  REQUIRE(count_lines(slurp(file), " take_ptr") == 3);
  unlink(file.c_str());

  // Without -o, hits go to stdout, mixed with the command's lines.
  Result to_stdout = uptrace({"take_ptr", "--", kArgs});
  REQUIRE(to_stdout.status == 0);
  REQUIRE(count_lines(to_stdout.out, " take_ptr") == 3);
  REQUIRE(count_lines(to_stdout.out, "done") == 1);
}

TEST_CASE("args: -q writes nothing to stderr and without it exactly the armed line", "[args]") {
  std::string file = temp_path("hits");
  Result quiet = uptrace({"-q", "-o", file, "args7 $arg1", "take_ptr $arg1:string", "--", kArgs});
  REQUIRE(quiet.status == 0);
  REQUIRE(quiet.err.empty());
  REQUIRE(lines_of(slurp(file)).size() == 4);
  Result loud = uptrace({"-o", file, "args7 $arg1", "take_ptr $arg1:string", "--", kArgs});
  REQUIRE(loud.status == 0);
  auto err = loud.err_lines();
  REQUIRE(err.size() == 1);
  REQUIRE(err[0] == "uptrace: 2 probes armed in pid " + std::to_string(target_info(loud.out).pid));
  unlink(file.c_str());
}

TEST_CASE("args: TIME is seconds with exactly six decimals and in order", "[args]") {
  Traced t = trace_args({}, {"args7", "take_string", "take_struct", "take_ptr"}, 5);
  auto hits = text_hits(t.hits);
  REQUIRE(hits.size() == 5 * 9);
  double last = -1;
  for (const TextHit& h : hits) {
    REQUIRE(std::regex_match(h.time, std::regex("(0|[1-9][0-9]*)\\.[0-9]{6}")));
    double now = std::stod(h.time);
    REQUIRE(now >= last);
    last = now;
  }
  // The hits come in the order the target made the calls.
  std::vector<std::string> order;
  for (size_t i = 0; i < 9; ++i) order.push_back(hits[i].probe);
  REQUIRE(order == std::vector<std::string>{"args7", "take_string", "take_string", "take_string", "take_struct",
                                            "take_struct", "take_ptr", "take_ptr", "take_ptr"});
}
