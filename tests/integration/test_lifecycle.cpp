// Launching and attaching, and leaving: exit statuses, exact counts from many
// threads, and the target's code and maps byte-identical after each way of
// detaching (SPEC.md "Guarantees" 1 and 2).
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "checks.h"
#include "harness.h"

using namespace itest;
using namespace std::chrono_literals;

namespace {


// A busy target, ready: its threads are all running.
struct BusyTarget {
  Child child;
  explicit BusyTarget(const std::string& name = "busy", const std::string& threads = "4",
                      const std::string& pause_us = "200")
      : child({target(name), threads, pause_us}) {
    REQUIRE(child.read_line().rfind("ready ", 0) == 0);
  }
  pid_t pid() const { return child.pid(); }
};


}  // namespace

TEST_CASE("launch: every hit from 4 threads is counted exactly once", "[launch]") {
  std::string out = temp_path("counts");
  Result r = uptrace({"-c", "-o", out, "work", "--", target("counted"), "4", "2500"});
  REQUIRE(r.status == 0);
  REQUIRE(r.out == "total 15012540000\n");
  REQUIRE(slurp(out) == "work 10000\n");
  unlink(out.c_str());
}

TEST_CASE("launch: the command's own output and exit status are unchanged", "[launch]") {
  Result plain = run({target("counted"), "3", "100"});
  std::string out = temp_path("hits");
  Result traced = uptrace({"-q", "-o", out, "work", "--", target("counted"), "3", "100"});
  REQUIRE(traced.status == plain.status);
  REQUIRE(traced.out == plain.out);
  REQUIRE(traced.err.empty());
  REQUIRE(count_lines(slurp(out), " work") == 300);
  unlink(out.c_str());

  REQUIRE(uptrace({"-q", "work", "--", target("exit_with"), "7"}).status == 7);
  REQUIRE(uptrace({"-q", "work", "--", target("exit_with"), "0", std::to_string(SIGABRT)}).status == 128 + SIGABRT);
}

TEST_CASE("launch: a command that cannot run gives 127 or 126 and one line", "[launch]") {
  Result missing = uptrace({"work", "--", "/nonexistent/program"});
  REQUIRE(missing.status == 127);
  REQUIRE(missing.err == "uptrace: cannot run '/nonexistent/program': No such file or directory\n");
  Result not_exec = uptrace({"work", "--", "/etc/passwd"});
  REQUIRE(not_exec.status == 126);
  REQUIRE(not_exec.err == "uptrace: cannot run '/etc/passwd': Permission denied\n");
}

TEST_CASE("launch: one status line says the probes are armed", "[launch]") {
  Result r = uptrace({"-c", "work", "main", "--", target("exit_with"), "3"});
  REQUIRE(r.status == 3);
  auto lines = r.err_lines();
  REQUIRE(lines.size() == 1);
  REQUIRE(lines[0].rfind("uptrace: 2 probes armed in pid ", 0) == 0);
  REQUIRE(r.out == "work 1\nmain 1\n");
}

TEST_CASE("attach: -n reports exactly N hits from many threads, then leaves no trace", "[attach]") {
  for (const char* program : {"busy", "busy-nopie"}) {
    BusyTarget t(program, "8", "0");
    Snapshot before = snapshot(t.pid());
    Result r = uptrace({"-p", std::to_string(t.pid()), "-n", "500", "work index=$arg1"});
    REQUIRE(r.status == 0);
    REQUIRE(count_lines(r.out, " work index=") == 500);
    REQUIRE(r.out_lines().size() == 500);
    require_untouched(before, t.pid());
  }
}

TEST_CASE("attach: code and maps are identical after every way of detaching", "[attach]") {
  BusyTarget t;
  const std::string pid = std::to_string(t.pid());
  Snapshot before = snapshot(t.pid());

  SECTION("-d") {
    Result r = uptrace({"-p", pid, "-d", "0.3", "-c", "work", "work+0x14"});
    REQUIRE(r.status == 0);
    REQUIRE(r.out_lines().size() == 2);
  }
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    DYNAMIC_SECTION("signal " << sig) {
      Tracer tracer({"-p", pid, "-c", "work", "work+0x14"});
      REQUIRE(tracer.wait_armed());
      std::this_thread::sleep_for(200ms);
      tracer.signal(sig);
      Result r = tracer.finish();
      REQUIRE(r.status == 0);
      auto lines = r.out_lines();
      REQUIRE(lines.size() == 2);
      REQUIRE(lines[0].rfind("work ", 0) == 0);
      REQUIRE(std::stoul(lines[0].substr(5)) > 0);
    }
  }
  SECTION("an output error after arming") {
    Result r = uptrace({"-p", pid, "-o", "/dev/full", "work"});
    REQUIRE(r.status == 1);
    REQUIRE(r.err_lines().back() == "uptrace: cannot write output to '/dev/full': No space left on device");
  }
  SECTION("the reader of the output goes away") {
    std::string cmd = uptrace_path() + " -p " + pid + " work | head -n 3";
    Result r = run({"/bin/sh", "-c", cmd});
    REQUIRE(r.status == 0);
    REQUIRE(r.out_lines().size() == 3);
  }
  require_untouched(before, t.pid());
  REQUIRE(t.child.alive());
}

TEST_CASE("attach: the target exiting ends tracing with status 0", "[attach]") {
  Child sleeper({target("sleep_exit"), "700", "4"});
  REQUIRE(sleeper.read_line() == "ready");
  Result r = uptrace({"-p", std::to_string(sleeper.pid()), "work", "libc:exit"});
  REQUIRE(r.status == 0);
  REQUIRE(r.out_lines().size() == 2);
  REQUIRE(count_lines(r.out, " work") == 1);
  REQUIRE(count_lines(r.out, " libc:exit") == 1);
  REQUIRE(count_lines(r.err, "uptrace: pid " + std::to_string(sleeper.pid()) + " exited with status 4") == 1);
  REQUIRE(sleeper.wait() == 4);
}

TEST_CASE("attach: a process another tracer holds is refused, naming it", "[attach][errors]") {
  BusyTarget t;
  const std::string pid = std::to_string(t.pid());
  Snapshot before = snapshot(t.pid());
  Tracer first({"-p", pid, "-c", "work"});
  REQUIRE(first.wait_armed());
  Result second = uptrace({"-p", pid, "work"});
  REQUIRE(second.status == 1);
  // The tracer is uptrace's engine process, a child of the one started.
  pid_t engine = tracer_pid(t.pid());
  REQUIRE(engine != first.pid());
  REQUIRE(second.err == "uptrace: pid " + pid + " is already traced by pid " + std::to_string(engine) + " (uptrace)\n");
  first.signal(SIGINT);
  REQUIRE(first.finish().status == 0);
  require_untouched(before, t.pid());
}

TEST_CASE("attach: a pid that does not exist", "[attach][errors]") {
  Result r = uptrace({"-p", "999999999", "work"});
  REQUIRE(r.status == 1);
  REQUIRE(r.err == "uptrace: no process with pid 999999999\n");
}

TEST_CASE("attach: without permission to ptrace, one line with a hint", "[attach][errors]") {
  if (access("/usr/bin/setpriv", X_OK) != 0) {
    WARN("skipped: setpriv (util-linux) is not installed");
    return;
  }
  BusyTarget t;
  const std::string pid = std::to_string(t.pid());
  Snapshot before = snapshot(t.pid());
  // An unprivileged user may not trace root's process.
  Result r = run({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", uptrace_path(), "-p",
                  pid, "work"});
  REQUIRE(r.status == 1);
  REQUIRE(r.err_lines().size() == 1);
  REQUIRE(r.err.rfind("uptrace: cannot attach to pid " + pid + " (target-busy): Operation not permitted; hint: ", 0) == 0);
  require_untouched(before, t.pid());
}

TEST_CASE("output: a file that cannot be created is an error before attaching", "[attach][errors]") {
  BusyTarget t;
  Result r = uptrace({"-p", std::to_string(t.pid()), "-o", "/nonexistent/dir/hits", "work"});
  REQUIRE(r.status == 1);
  REQUIRE(r.err_lines().size() == 1);
  REQUIRE(r.err.rfind("uptrace: cannot open output file '/nonexistent/dir/hits': No such file or directory", 0) == 0);
  REQUIRE(tracer_pid(t.pid()) == 0);
}

// Its subject is the front end / engine split, not how probes run: it runs
// once, in the default mode (and its 1 s deadline is tight under ASan).
TEST_CASE("uptrace killed with SIGKILL: the target survives and its code is restored within a second",
          "[attach][sigkill][mode-specific]") {
  BusyTarget t("busy", "4", "0");
  const std::string pid = std::to_string(t.pid());
  Snapshot before = snapshot(t.pid());
  // Kill at spread-out moments: while attaching and arming, and under heavy hits.
  const int delays_ms[] = {0, 1, 2, 3, 5, 8, 12, 17, 25, 35, 50, 70, 100, 140, 200, 260, 330, 420, 520, 650};
  // The orphaned engine becomes our child, so we can tell when it is done:
  // untouched maps alone may only mean that it has not attached yet.
  REQUIRE(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  struct NoLongerSubreaper {
    ~NoLongerSubreaper() { prctl(PR_SET_CHILD_SUBREAPER, 0); }
  } restore_subreaper;
  // -1: once armed (--ready-file), so the promised second is always put to
  // the test however slowly a loaded machine starts the engine.
  std::vector<int> delays(std::begin(delays_ms), std::end(delays_ms));
  delays.push_back(-1);
  const std::string ready = temp_path("armed");
  for (int delay : delays) {
    INFO("killed after " << delay << " ms");
    unlink(ready.c_str());
    Child tracer({uptrace_path(), "-q", "-p", pid, "--ready-file", ready, "-o", "/dev/null", "work", "work+0x14"});
    if (delay >= 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    } else {
      auto deadline = std::chrono::steady_clock::now() + scaled(60s);
      while (access(ready.c_str(), F_OK) != 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(5ms);
      REQUIRE(access(ready.c_str(), F_OK) == 0);
    }
    const bool attached = tracer_pid(t.pid()) != 0;
    tracer.signal(SIGKILL);
    REQUIRE(tracer.wait() == 128 + SIGKILL);
    if (attached) {
      // The engine restores and detaches on its own; give it the promised second.
      auto deadline = std::chrono::steady_clock::now() + scaled(1s);
      while (std::chrono::steady_clock::now() < deadline &&
             (tracer_pid(t.pid()) != 0 || !compare(before, snapshot(t.pid())).empty()))
        std::this_thread::sleep_for(10ms);
      require_untouched(before, t.pid());
    }
    // An engine killed while starting up (slow under ASan on a loaded
    // machine) may attach later, but must leave everything as it was.
    for (pid_t engine : children_of(getpid())) {
      if (engine == t.pid()) continue;
      int status = 0;
      REQUIRE(wait_for_exit(engine, status, 30s));
      REQUIRE(WIFEXITED(status));
      CHECK(WEXITSTATUS(status) == 0);
    }
    REQUIRE(t.child.alive());
    require_untouched(before, t.pid());
  }
  unlink(ready.c_str());
}

TEST_CASE("attach: a module spread over the address space gets its slots near each probed function", "[attach]") {
  // highmap maps a page of its own file far from its code, as node does
  // with its text: one mapping within reach of the whole module cannot be.
  Child t({target("highmap")});
  REQUIRE(t.read_line() == "ready " + std::to_string(t.pid()));
  const std::string pid = std::to_string(t.pid());
  Snapshot before = snapshot(t.pid());
  Result ex = uptrace({"--explain", "-p", pid, "work"});
  INFO(ex.out << ex.err);
  REQUIRE(ex.status == 0);
  Result r = uptrace({"-q", "-c", "-d", "0.3", "-p", pid, "work"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out.rfind("work ", 0) == 0);
  REQUIRE(std::stol(r.out.substr(5)) > 0);
  require_untouched(before, t.pid());
  REQUIRE(t.alive());
}

TEST_CASE("attach: several processes at once, each armed and reported under its pid, until the last one exits",
          "[attach][several]") {
  std::vector<std::unique_ptr<Child>> targets;
  std::vector<std::string> pids;
  for (int i = 0; i < 3; ++i) {
    targets.push_back(std::make_unique<Child>(std::vector<std::string>{target("gated"), "2", "500"}));
    REQUIRE(targets.back()->read_line() == "ready " + std::to_string(targets.back()->pid()));
    pids.push_back(std::to_string(targets.back()->pid()));
  }
  std::string out = temp_path("hits");
  // Two given as a list, one by a second -p.
  Tracer tracer({"--format", "json", "-o", out, "-p", pids[0] + "," + pids[1], "-p", pids[2], "work i=$arg1"});
  REQUIRE(tracer.wait_armed());
  // One exits early; the others are still traced.
  targets[1]->signal(SIGUSR1);
  REQUIRE(targets[1]->read_line() == "total 1000");
  REQUIRE(targets[1]->wait() == 0);
  for (int i : {0, 2}) {
    targets[i]->signal(SIGUSR1);
    REQUIRE(targets[i]->read_line() == "total 1000");
    REQUIRE(targets[i]->wait() == 0);
  }
  Result r = tracer.finish();
  INFO(r.err);
  REQUIRE(r.status == 0);
  for (const std::string& pid : pids) {
    REQUIRE(count_lines(r.err, "uptrace: 1 probes armed in pid " + pid) == 1);
    REQUIRE(count_lines(r.err, "uptrace: pid " + pid + " exited with status 0") == 1);
  }
  std::map<std::string, size_t> by_pid;
  for (const std::string& line : lines_of(slurp(out))) ++by_pid[std::to_string(nlohmann::json::parse(line)["pid"].get<int64_t>())];
  REQUIRE(by_pid.size() == 3);
  for (const std::string& pid : pids) REQUIRE(by_pid[pid] == 1000);
  unlink(out.c_str());
}

TEST_CASE("attach: several processes are all or nothing: one that cannot be traced leaves the others untouched",
          "[attach][several][errors]") {
  Child busy({target("busy"), "2", "100"});
  REQUIRE(busy.read_line() == "ready " + std::to_string(busy.pid()));
  Snapshot before = snapshot(busy.pid());
  const std::string good = std::to_string(busy.pid());
  // A pid that does not exist, and a probe that cannot be resolved in one of two.
  Child other({"/bin/sleep", "30"});
  Result r = uptrace({"-q", "-c", "-p", good + ",999999", "work"});
  REQUIRE(r.status == 1);
  REQUIRE(r.err == "uptrace: no process with pid 999999\n");
  Result bad_probe = uptrace({"-q", "-c", "-p", good, "-p", std::to_string(other.pid()), "work"});
  REQUIRE(bad_probe.status == 1);
  REQUIRE(bad_probe.err.find("no function 'work'") != std::string::npos);
  require_untouched(before, busy.pid());
  REQUIRE(busy.alive());
}

TEST_CASE("attach: several processes and a quit signal: every one is restored", "[attach][several]") {
  std::vector<std::unique_ptr<Child>> targets;
  std::vector<Snapshot> before;
  std::string list;
  for (int i = 0; i < 2; ++i) {
    targets.push_back(std::make_unique<Child>(std::vector<std::string>{target("busy"), "2", "0"}));
    REQUIRE(targets.back()->read_line() == "ready " + std::to_string(targets.back()->pid()));
    before.push_back(snapshot(targets.back()->pid()));
    list += (list.empty() ? "" : ",") + std::to_string(targets.back()->pid());
  }
  Tracer tracer({"-q", "-c", "-p", list, "work"});
  REQUIRE(tracer.wait_armed());
  std::this_thread::sleep_for(scaled(std::chrono::milliseconds(200)));
  tracer.signal(SIGINT);
  Result r = tracer.finish();
  REQUIRE(r.status == 0);
  REQUIRE(r.out.rfind("work ", 0) == 0);
  for (size_t i = 0; i < targets.size(); ++i) {
    require_untouched(before[i], targets[i]->pid());
    REQUIRE(targets[i]->alive());
  }
}
