// xol-diff FILE...: for every instruction boundary of every function of each
// ELF file, ask uptrace's x86-64 analysis for its plan, run the instruction
// in place and out of line in a sacrificial child, and compare. The last
// line of the output is always
//   boundaries=N executed=E refused=R skipped=S mismatches=M
// Exit status: 0 when M is 0, 1 when there are mismatches, 2 on an error.
// With --mutate (every plan deliberately broken) the exit status is 0 when
// every executed boundary mismatched instead.
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "corpus.h"
#include "insn_facts.h"
#include "layout.h"
#include "tally.h"
#include "workers.h"

namespace {

struct Options {
  std::vector<std::string> files;
  bool explain = false;
  bool progress = false;
  bool mutate = false;
  unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
  size_t max_reports = 50;
  std::string function;
};

// The boundaries to test: all, or those of one function.
std::vector<size_t> selection(const xol_diff::Corpus& corpus, const std::string& function) {
  std::vector<size_t> out;
  for (size_t i = 0; i < corpus.boundaries.size(); ++i) {
    if (function.empty() || corpus.functions[corpus.boundaries[i].function].name == function) out.push_back(i);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Differential tester of uptrace's x86-64 out-of-line execution"};
  app.add_option("FILE", o.files, "ELF files whose functions are tested")->required()->check(CLI::ExistingFile);
  app.add_flag("--explain", o.explain, "List every refused and skipped boundary with its reason");
  app.add_flag("--progress", o.progress, "Report progress on stderr");
  app.add_option("-j,--jobs", o.jobs, "Worker processes (default: one per CPU)");
  app.add_option("--max-reports", o.max_reports, "Mismatches reported in detail per file (default 50)");
  app.add_option("--function", o.function, "Only the boundaries of the function(s) with this name");
  app.add_flag("--mutate", o.mutate, "Break every plan on purpose: checks that xol-diff sees every mismatch");
  CLI11_PARSE(app, argc, argv);

  const auto started = std::chrono::steady_clock::now();
  xol_diff::Counts all;
  try {
    const xol_diff::FactsDecoder decoder;
    for (const std::string& path : o.files) {
      const xol_diff::Corpus corpus = xol_diff::load_corpus(path, decoder);
      const xol_diff::Layout layout = xol_diff::make_layout(path);
      const auto boundaries = selection(corpus, o.function);
      xol_diff::Tally tally;
      const auto t0 = std::chrono::steady_clock::now();
      xol_diff::run_workers(corpus, boundaries, layout, decoder, {o.jobs, o.progress, o.mutate}, tally);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("== %s: %zu functions, %zu boundaries, %.1f s\n", path.c_str(), corpus.functions.size(),
                  boundaries.size(), secs);
      if (o.explain) std::fputs(tally.explain().c_str(), stdout);
      std::fputs(tally.report(o.max_reports).c_str(), stdout);
      std::printf("%s\n\n", xol_diff::summary_line(tally.total()).c_str());
      all += tally.total();
    }
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "xol-diff: %s\n", e.what());
    return 2;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("time: %.1f s, %u jobs\n", secs, o.jobs);
  std::printf("%s\n", xol_diff::summary_line(all).c_str());
  if (o.mutate) return all.mismatches == all.executed ? 0 : 1;
  return all.mismatches == 0 ? 0 : 1;
}
