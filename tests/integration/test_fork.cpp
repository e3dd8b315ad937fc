// fork, vfork and exec while probes are armed (SPEC.md "Guarantees" 5, -f).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "harness.h"

using namespace itest;

TEST_CASE("fork without -f: children run the original code and are not reported", "[fork]") {
  std::string out = temp_path("hits");
  Result r = uptrace({"-q", "-c", "-o", out, "work", "--", target("forker"), "fork", "20"});
  REQUIRE(r.out == "ok\n");
  REQUIRE(r.status == 0);
  REQUIRE(slurp(out) == "work 20\n");
  unlink(out.c_str());
}

TEST_CASE("fork with -f: children are traced and their hits carry their pid", "[fork]") {
  std::string out = temp_path("hits");
  Result r = uptrace({"-q", "-f", "--format", "json", "-o", out, "work", "--", target("forker"), "fork", "10"});
  REQUIRE(r.out == "ok\n");
  REQUIRE(r.status == 0);
  std::istringstream lines(slurp(out));
  std::string line;
  std::map<int, int> hits_per_pid;
  while (std::getline(lines, line)) hits_per_pid[nlohmann::json::parse(line)["pid"].get<int>()]++;
  // The parent (10 calls) and 10 children (3 calls each).
  REQUIRE(hits_per_pid.size() == 11);
  int parent_hits = 0, children = 0;
  for (auto [pid, hits] : hits_per_pid) {
    if (hits == 10) ++parent_hits;
    if (hits == 3) ++children;
  }
  REQUIRE(parent_hits == 1);
  REQUIRE(children == 10);
  unlink(out.c_str());
}

TEST_CASE("vfork: children sharing the patched memory run correctly, reported only with -f", "[fork]") {
  std::string out = temp_path("hits");
  Result r = uptrace({"-q", "-c", "-o", out, "work", "--", target("forker"), "vfork", "20"});
  REQUIRE(r.out == "ok\n");
  REQUIRE(r.status == 0);
  REQUIRE(slurp(out) == "work 0\n");
  Result f = uptrace({"-q", "-f", "-c", "-o", out, "work", "--", target("forker"), "vfork", "20"});
  REQUIRE(f.out == "ok\n");
  REQUIRE(f.status == 0);
  REQUIRE(slurp(out) == "work 20\n");
  unlink(out.c_str());
}

TEST_CASE("fork while other threads hit the probe: every child exits normally", "[fork]") {
  for (const char* follow : {"", "-f"}) {
    INFO("follow: " << follow);
    std::vector<std::string> args{"-q", "-c", "-o", "/dev/null", "work", "--", target("forker"), "threads", "30"};
    if (*follow) args.insert(args.begin(), follow);
    Result r = uptrace(args);
    REQUIRE(r.out == "ok\n");
    REQUIRE(r.status == 0);
  }
}

TEST_CASE("exec in a followed child: uptrace says so and lets it go", "[fork]") {
  std::string out = temp_path("hits");
  Result r = uptrace({"-f", "-c", "-o", out, "work", "--", target("forker"), "exec"});
  REQUIRE(r.out == "ok\n");
  REQUIRE(r.status == 0);
  REQUIRE(slurp(out) == "work 1\n");
  REQUIRE(count_lines(r.err, "executed a new program; uptrace detached from it") == 1);
  unlink(out.c_str());
}

TEST_CASE("exec in the traced process: its probes are dropped, the new program runs untouched", "[fork][exec]") {
  std::string out = temp_path("hits");
  Result r = uptrace({"-c", "-o", out, "work", "--", target("forker"), "selfexec"});
  REQUIRE(r.out == "ok\n");
  REQUIRE(r.status == 0);
  // One hit before exec; the 5 calls of the new program are not probed.
  REQUIRE(slurp(out) == "work 1\n");
  REQUIRE(count_lines(r.err, "executed a new program; its 1 probes are gone") == 1);
  unlink(out.c_str());
}
