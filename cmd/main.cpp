#include <cstdio>
#include <exception>

#include "cmd/options.h"
#include "cmd/run.h"
#include "cmd/supervisor.h"
#include "common/error.h"

namespace {

// Runs and turns every failure into its one line and exit status.
int run_and_report(const uptrace::cmd::Options& options) {
  try {
    return uptrace::cmd::run(options);
  } catch (const uptrace::Error& e) {
    if (e.hint().empty())
      std::fprintf(stderr, "uptrace: %s\n", e.what());
    else
      std::fprintf(stderr, "uptrace: %s; hint: %s\n", e.what(), e.hint().c_str());
    return e.exit_status();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "uptrace: internal error: %s\n", e.what());
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  uptrace::cmd::ParseResult parsed = uptrace::cmd::parse_command_line(argc, argv);
  if (!parsed.options) return parsed.exit_status;
  const uptrace::cmd::Options& options = *parsed.options;
  // Listing and explaining change nothing: no engine needed.
  if (options.list || options.explain) return run_and_report(options);
  try {
    return uptrace::cmd::run_supervised([&] { return run_and_report(options); });
  } catch (const uptrace::Error& e) {
    std::fprintf(stderr, "uptrace: %s\n", e.what());
    return 1;
  }
}
