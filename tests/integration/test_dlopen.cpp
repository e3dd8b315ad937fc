// Libraries loaded later (SPEC "Libraries loaded later"): probes on a library
// the program loads with dlopen are pending until it is mapped, armed then,
// disarmed before dlclose unmaps it and armed again when it comes back; every
// call is counted once, in launch and -p mode, and the code is the file's
// again once uptrace has left.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "checks.h"
#include "harness.h"
#include "isa.h"

using namespace itest;
using namespace std::chrono_literals;

namespace {

const std::string kProbe = "libdlcycle:dlcycle_work";
constexpr long kFirst = 7, kSecond = 5;  // calls before the dlclose, after the second dlopen

// Every executable mapping of a file holds the file's bytes, and no
// anonymous executable mapping (uptrace's slots) is left: nothing of
// uptrace is in the process, the library loaded last included.
std::string code_differences(pid_t pid) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::ifstream mem("/proc/" + std::to_string(pid) + "/mem", std::ios::binary);
  std::string line, out;
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    std::string range, perms, offset, dev, inode, path;
    in >> range >> perms >> offset >> dev >> inode;
    std::getline(in >> std::ws, path);
    if (perms.size() < 3 || perms[2] != 'x' || path == "[vdso]" || path == "[vsyscall]") continue;
    if (path.empty()) {
      out += "an anonymous executable mapping is left: " + line + "\n";
      continue;
    }
    const uint64_t start = std::stoull(range.substr(0, range.find('-')), nullptr, 16);
    const uint64_t end = std::stoull(range.substr(range.find('-') + 1), nullptr, 16);
    std::string live(end - start, '\0'), file(end - start, '\0');
    mem.clear();
    mem.seekg(static_cast<std::streamoff>(start));
    mem.read(live.data(), static_cast<std::streamsize>(live.size()));
    std::ifstream f(path, std::ios::binary);
    f.seekg(static_cast<std::streamoff>(std::stoull(offset, nullptr, 16)));
    f.read(file.data(), static_cast<std::streamsize>(file.size()));
    const size_t got = static_cast<size_t>(f.gcount());  // the last page may extend past the file's end
    for (size_t i = 0; i < got; ++i)
      if (live[i] != file[i]) {
        out += "code differs from the file in " + path + " at +" + std::to_string(i) + "\n";
        break;
      }
  }
  return out;
}

uint64_t count_of(const Result& r, const std::string& probe) {
  for (const std::string& l : r.out_lines())
    if (l.rfind(probe + " ", 0) == 0) return std::stoull(l.substr(probe.size() + 1));
  FAIL("no count line for " << probe << " in:\n" << r.out << r.err);
  return 0;
}

void require_cycle_lines(const Result& r, pid_t pid) {
  INFO(r.err);
  const std::string p = std::to_string(pid);
  REQUIRE(count_lines(r.err, "uptrace: 1 probes pending in pid " + p + " until libdlcycle is loaded") == 1);
  // Armed at each of the two loads.
  REQUIRE(count_lines(r.err, "uptrace: 1 probes armed in libdlcycle in pid " + p) == 2);
  REQUIRE(count_lines(r.err, "never loaded") == 0);
}

}  // namespace

TEST_CASE("dlopen: a probe on a library loaded later counts every call of both loads", "[dlopen]") {
  Result r = uptrace(with_test_mode({"-c", kProbe, "--", target("dlcycle"), "libdlcycle.so",
                                     std::to_string(kFirst), std::to_string(kSecond)}));
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  REQUIRE(count_of(r, kProbe) == static_cast<uint64_t>(kFirst + kSecond));
  REQUIRE(count_lines(r.err, "1 probes pending in pid ") == 1);
  REQUIRE(count_lines(r.err, "1 probes armed in libdlcycle in pid ") == 2);
}

TEST_CASE("dlopen: trap and jump modes count every call of both loads", "[dlopen][mode-specific][not-trailing-trap]") {
  const std::string mode = GENERATE(as<std::string>{}, "trap", "jump");
  if (mode == "jump" && !itest::isa_expectations().jump_mode) return;
  DYNAMIC_SECTION("--mode " << mode) {
    Result r = uptrace({"--mode", mode, "-c", kProbe, "--", target("dlcycle"), "libdlcycle.so",
                        std::to_string(kFirst), std::to_string(kSecond)});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    REQUIRE(count_of(r, kProbe) == static_cast<uint64_t>(kFirst + kSecond));
  }
}

TEST_CASE("dlopen: each hit line names the probe, by path too", "[dlopen]") {
  const std::string lib = target_dir() + "/libdlcycle.so";
  Result r = uptrace(with_test_mode({lib + ":dlcycle_work x=$arg1", "--", target("dlcycle"), lib, "2", "3"}));
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  std::vector<std::string> lines;  // the program's own "done" line shares stdout
  for (const std::string& l : r.out_lines())
    if (l.find(":dlcycle_work") != std::string::npos) lines.push_back(l);
  REQUIRE(lines.size() == 5);
  const long expected[] = {0, 1, 0, 1, 2};
  for (size_t i = 0; i < lines.size(); ++i) {
    REQUIRE(lines[i].find(" " + lib + ":dlcycle_work x=" + std::to_string(expected[i])) != std::string::npos);
  }
}

TEST_CASE("dlopen: attached before the first dlopen, counts are exact and the code is the file's after", "[dlopen][attach]") {
  const std::string when = GENERATE(as<std::string>{}, "wait", "wait-loaded");
  DYNAMIC_SECTION("attached at " << when) {
    Child t({target("dlcycle"), "libdlcycle.so", std::to_string(kFirst), std::to_string(kSecond), when});
    REQUIRE(t.read_line().rfind("ready ", 0) == 0);
    Tracer tracer({"-c", "-p", std::to_string(t.pid()), kProbe});
    REQUIRE(tracer.wait_armed());
    t.signal(SIGUSR1);
    REQUIRE(t.read_line().rfind("done ", 0) == 0);
    tracer.signal(SIGINT);
    Result r = tracer.finish();
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    REQUIRE(count_of(r, kProbe) == static_cast<uint64_t>(kFirst + kSecond));
    if (when == "wait") {
      require_cycle_lines(r, t.pid());
    } else {
      // Mapped at attach: armed then, and again after the dlclose.
      REQUIRE(count_lines(r.err, "pending") == 0);
      REQUIRE(count_lines(r.err, "1 probes armed in libdlcycle in pid ") == 1);
    }
    REQUIRE(tracer_pid(t.pid()) == 0);
    const std::string diff = code_differences(t.pid());
    INFO(diff);
    REQUIRE(diff.empty());
    REQUIRE(t.alive());
  }
}

TEST_CASE("dlopen: a followed child's loads are armed in it, and without -f it runs the original code", "[dlopen][fork]") {
  const bool follow = GENERATE(true, false);
  DYNAMIC_SECTION((follow ? "-f" : "without -f")) {
    std::vector<std::string> args{"-c", kProbe, "--", target("dlcycle"), "libdlcycle.so", std::to_string(kFirst),
                                  std::to_string(kSecond), "fork"};
    if (follow) args.insert(args.begin(), "-f");
    Result r = uptrace(with_test_mode(args));
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    REQUIRE(count_lines(r.out, "done 119") == 1);  // the child's sum: its calls ran as written
    REQUIRE(count_lines(r.out, "child 0") == 1);
    REQUIRE(count_of(r, kProbe) == (follow ? static_cast<uint64_t>(kFirst + kSecond) : 0));
    // Loaded by the followed child only: that counts for the process traced.
    REQUIRE(count_lines(r.err, "never loaded") == (follow ? 0u : 1u));
  }
}

TEST_CASE("dlopen: a library that is never loaded is said so at exit", "[dlopen]") {
  // Loaded nowhere: the program fails its dlopen of a library that does
  // not exist, after the probe was checked against the real one.
  Result r = uptrace(with_test_mode({"-c", kProbe, "--", target("dlcycle"), "libdlcycle-none.so", "1", "1"}));
  INFO(r.out << r.err);
  REQUIRE(r.status == 3);
  REQUIRE(count_of(r, kProbe) == 0);
  REQUIRE(count_lines(r.err, "uptrace: libdlcycle was never loaded in pid ") == 1);
  REQUIRE(count_lines(r.err, ": its 1 probes never matched") == 1);
}

TEST_CASE("dlopen: a module found nowhere is still an error", "[dlopen]") {
  Result r = uptrace(with_test_mode({"libnosuchthing:f", "--", target("dlcycle"), "libdlcycle.so", "1", "1"}));
  REQUIRE(r.status == 1);
  REQUIRE(count_lines(r.err, "uptrace: no module 'libnosuchthing' is mapped in pid ") == 1);
  REQUIRE(count_lines(r.err, "nor found where it would load one") == 1);
}

TEST_CASE("dlopen: a pending probe is checked against the file before the program runs", "[dlopen]") {
  Result r = uptrace(with_test_mode({"libdlcycle:no_such_function", "--", target("dlcycle"), "libdlcycle.so", "1", "1"}));
  REQUIRE(r.status == 1);
  REQUIRE(count_lines(r.err, "uptrace: no function 'no_such_function' in ") == 1);
  REQUIRE(count_lines(r.out, "done") == 0);
}

TEST_CASE("dlopen: a library that stays is counted exactly while another one is unloaded beside it",
          "[dlopen][mode-specific][not-trailing-trap]") {
  // The loader says an unload is coming (RT_DELETE) without saying of
  // which library: probes disarmed there until it is consistent again
  // would miss the other thread's calls in between.
  const std::string mode = GENERATE(as<std::string>{}, "auto", "trap", "jump");
  if (mode == "jump" && !itest::isa_expectations().jump_mode) return;
  DYNAMIC_SECTION("--mode " << mode) {
    const long kCycles = stress_rounds(150);
    const std::string stay = "libdlstay:dlstay_work";
    Result r = uptrace({"--mode", mode, "-c", stay, kProbe, "--", target("dlwindow"), "libdlstay.so", "libdlcycle.so",
                        std::to_string(kCycles)});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    long calls = -1, cycles = -1;
    for (const std::string& l : r.out_lines())
      if (std::sscanf(l.c_str(), "stay %ld cycle %ld", &calls, &cycles) == 2) break;
    REQUIRE(cycles == kCycles);
    REQUIRE(calls > 0);
    REQUIRE(count_of(r, stay) == static_cast<uint64_t>(calls));
    REQUIRE(count_of(r, kProbe) == static_cast<uint64_t>(kCycles));
  }
}
