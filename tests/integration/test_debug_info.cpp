// Separate debug information (SPEC.md "Debug information"): dwarf_vars.c
// built twice with its DWARF and .symtab moved out to a debug file at build
// time (tests/targets/extra.cmake), one found by build-id under a debug root
// of the tests' own (UPTRACE_DEBUG_ROOT), one (which keeps its .symtab)
// through .gnu_debuglink; both
// give variables, source lines, --list names and --stack frames exactly as
// the unstripped program does, and --explain names the file. And libc with
// Debian's libc6-dbg, the case users meet.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>
#include <sstream>
#include <string>
#include <vector>

#include "checks.h"
#include "harness.h"
#include "isa.h"

using namespace itest;

namespace {

// The tests' debug root for the process's lifetime of the guard; the
// uptrace runs inherit it.
class DebugRoot {
 public:
  explicit DebugRoot(bool set) {
    if (set)
      ::setenv("UPTRACE_DEBUG_ROOT", root().c_str(), 1);
    else
      ::unsetenv("UPTRACE_DEBUG_ROOT");
  }
  ~DebugRoot() { ::unsetenv("UPTRACE_DEBUG_ROOT"); }
  static std::string root() { return target_dir() + "/debug-root"; }
};

unsigned scale_line() {
  std::istringstream src(slurp(std::string(TARGET_SRC_DIR) + "/dwarf_vars.c"));
  std::string line;
  unsigned n = 0;
  while (std::getline(src, line)) {
    ++n;
    if (line.find("/* @scale */") != std::string::npos) return n;
  }
  FAIL("no @scale in dwarf_vars.c");
  return 0;
}

std::vector<std::string> hits_of(const std::string& text) {
  static const std::regex re("[0-9]+\\.[0-9]{6} [0-9]+/[0-9]+ (.*)");
  std::vector<std::string> hits;
  for (const std::string& line : lines_of(text)) {
    std::smatch m;
    if (std::regex_match(line, m, re)) hits.push_back(m[1]);
  }
  return hits;
}

// Variables, a source line and --stack on `program`, 2 rounds.
void check_as_unstripped(const std::string& program) {
  std::string out = temp_path("debug");
  const std::string line = "dwarf_vars.c:" + std::to_string(scale_line());
  Result r = uptrace({"-q", "-o", out, "handle req->id count tag req->name", line + " v k", "--", program, "2"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out == "done\n");
  std::vector<std::string> hits = hits_of(slurp(out));
  CHECK(hits == std::vector<std::string>{
                    "handle req->id=100 count=0 tag=\"tag\" req->name=\"alpha\"",
                    line + " v=0 k=2", line + " v=0 k=3", line + " v=0 k=7",
                    "handle req->id=101 count=1 tag=\"tag\" req->name=\"alpha\"",
                    line + " v=1 k=2", line + " v=1 k=3", line + " v=1 k=7",
                });
  // The stripped program's own frames have their names back. The first is
  // the probe, where the line begins in scale: at its entry on x86-64 and
  // aarch64, after the prologue where -O1 -fno-omit-frame-pointer gives
  // scale a frame (riscv64: scale+0x8), as --explain says.
  r = uptrace({"--explain", line, "-x", program});
  REQUIRE(r.status == 0);
  std::smatch at;
  REQUIRE(std::regex_search(r.out, at, std::regex("\n  at:          (scale\\+0x[0-9a-f]+) ")));
  const std::string probe_frame = "    " + at[1].str() + " (" + program + ")";
  r = uptrace({"-q", "-o", out, "--stack", "-n", "3", line, "--", program, "1"});
  REQUIRE(r.status == 0);
  std::vector<std::string> lines = lines_of(slurp(out));
  unlink(out.c_str());
  REQUIRE(lines.size() > 9);
  CHECK(lines[1] == probe_frame);
  CHECK(lines[2].starts_with("    main+0x"));
  size_t third = 0;
  for (size_t i = 0, hits_seen = 0; i < lines.size(); ++i)
    if (!lines[i].starts_with("    ") && ++hits_seen == 3) third = i;
  REQUIRE(third > 0);
  CHECK(lines[third + 1] == probe_frame);
  CHECK(lines[third + 2].starts_with("    caller_b+0x"));
  // --list: an executable's functions are in .symtab only.
  r = uptrace({"--list", "c[al][al]*", "-x", program});
  REQUIRE(r.status == 0);
  std::vector<std::string> names;
  for (const std::string& l : r.out_lines()) names.push_back(l.substr(0, l.find(' ')));
  // aarch64's crti.o brings a local function of its own that the glob matches.
  std::erase(names, "call_weak_fn");
  CHECK(names == std::vector<std::string>{"classify", "caller_a", "caller_b"});
}

// A port no one listens on now.
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

// The status line of an HTTP GET of `path` on 127.0.0.1:port, "" when it
// cannot connect.
std::string http_status(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string status;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    std::string request = "GET " + path + " HTTP/1.0\r\n\r\n";
    if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buf[256];
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) status.assign(buf, static_cast<size_t>(n));
      status = status.substr(0, status.find('\r'));
    }
  }
  ::close(fd);
  return status;
}

// Environment variables for the uptrace runs of one test.
class Env {
 public:
  Env(const char* name, const std::string& value) : name_(name) { ::setenv(name, value.c_str(), 1); }
  ~Env() { ::unsetenv(name_); }

 private:
  const char* name_;
};

}  // namespace

TEST_CASE("debug info: a debug file in the build-id tree gives what the stripped program lacks", "[debuginfo]") {
  const std::string program = target("dwarf_vars-split");
  {
    DebugRoot none(false);
    // Stripped of its .symtab and DWARF, and nothing in /usr/lib/debug.
    Result r = uptrace({"--list", "-x", program});
    CHECK(r.status == 0);
    CHECK(r.out.find("handle ") == std::string::npos);
    r = uptrace({"handle count", "--", program, "1"});
    CHECK(r.status == 1);
    CHECK(r.err == "uptrace: no function 'handle' in " + program +
                       "; hint: the file is stripped: only exported (.dynsym) functions are known, and no debug file "
                       "has its .symtab (install its -dbg/-dbgsym package, or set DEBUGINFOD_URLS)\n");
  }
  DebugRoot root(true);
  check_as_unstripped(program);
  Result r = uptrace({"--explain", "handle count", "-x", program});
  INFO(r.out);
  REQUIRE(r.status == 0);
  const std::string debug_file = DebugRoot::root() + "/.build-id/75/7074726163652d73706c69742d62792d696421.debug";
  CHECK(r.out.find("\n  debug file:  " + debug_file + "\n") != std::string::npos);
  CHECK(r.out.find("\n  fetch:       count: int, ") != std::string::npos);
}

TEST_CASE("debug info: the file .gnu_debuglink names, beside the program", "[debuginfo]") {
  DebugRoot none(false);
  const std::string program = target("dwarf_vars-debuglink");
  check_as_unstripped(program);
  Result r = uptrace({"--explain", "--format", "json", "handle count", "-x", program});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("\"debug_file\":\"" + target_dir() + "/.debug/target-dwarf_vars-debuglink.debug\"") !=
        std::string::npos);
  // The unstripped program has no debug file to name.
  r = uptrace({"--explain", "handle count", "-x", target("dwarf_vars")});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("debug file:") == std::string::npos);
}

// Debian's libc6-dbg (scripts/install-deps installs it; the aarch64 VM's
// image has none): libc's parameters by name, and its local functions.
TEST_CASE("debug info: libc with libc6-dbg has its parameters and its local functions", "[debuginfo]" ONLY_X86_64) {
  DebugRoot none(false);
  Parked p(target("resolve"));
  Result r = uptrace({"--explain", "libc:malloc bytes", "-p", p.spid()});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(std::regex_search(r.out, std::regex("\n  debug file:  /usr/lib/debug/\\.build-id/[0-9a-f]{2}/[0-9a-f]+\\.debug\n")));
  CHECK(r.out.find("\n  fetch:       bytes: size_t, ") != std::string::npos);
  // Static in libc: only libc6-dbg's .symtab has it.
  r = uptrace({"--list", "libc:__libc_start_call_main", "-p", p.spid()});
  REQUIRE(r.status == 0);
  CHECK(std::regex_match(r.out, std::regex("__libc_start_call_main 0x[0-9a-f]+ [0-9]+ /.*/libc\\.so\\.6\n")));
}

// A debuginfod server of the tests' own, serving the split program's debug
// file, which is nowhere else uptrace looks (scripts/install-deps installs
// debuginfod; the aarch64 VM has none, and its static uptrace cannot load
// libdebuginfod).
TEST_CASE("debug info: a debug file from debuginfod when DEBUGINFOD_URLS is set", "[debuginfo]" ONLY_X86_64) {
  REQUIRE(std::filesystem::exists("/usr/bin/debuginfod"));  // else: install debuginfod (scripts/install-deps)
  DebugRoot none(false);
  const std::string id = "757074726163652d73706c69742d62792d696421";
  const std::string served = temp_path("debuginfod");
  std::filesystem::create_directories(served + "/files");
  std::filesystem::copy_file(DebugRoot::root() + "/.build-id/75/" + id.substr(2) + ".debug",
                             served + "/files/split.debug");
  const int port = free_port();
  Child server({"/bin/sh", "-c",
                "exec /usr/bin/debuginfod -F " + served + "/files -d " + served + "/db.sqlite -p " +
                    std::to_string(port) + " 2>/dev/null"});
  // Until it has scanned the folder.
  auto deadline = std::chrono::steady_clock::now() + scaled(std::chrono::seconds(60));
  std::string status;
  while ((status = http_status(port, "/buildid/" + id + "/debuginfo")).find(" 200 ") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  INFO(status);
  REQUIRE(status.find(" 200 ") != std::string::npos);

  const std::string program = target("dwarf_vars-split");
  Env urls("DEBUGINFOD_URLS", "http://127.0.0.1:" + std::to_string(port));
  Env cache("DEBUGINFOD_CACHE_PATH", served + "/cache");
  std::string out = temp_path("debuginfod-hits");
  Result r = uptrace({"-q", "-o", out, "handle req->id count", "--", program, "2"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(hits_of(slurp(out)) == std::vector<std::string>{"handle req->id=100 count=0", "handle req->id=101 count=1"});
  unlink(out.c_str());
  r = uptrace({"--explain", "handle count", "-x", program});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("\n  debug file:  " + served + "/cache/" + id + "/debuginfo\n") != std::string::npos);
  std::filesystem::remove_all(served);
}
