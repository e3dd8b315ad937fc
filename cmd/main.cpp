#include <cstdio>
#include <exception>

#include "cmd/options.h"
#include "cmd/run.h"
#include "common/error.h"

int main(int argc, char** argv) {
  uptrace::cmd::ParseResult parsed = uptrace::cmd::parse_command_line(argc, argv);
  if (!parsed.options) return parsed.exit_status;
  try {
    return uptrace::cmd::run(*parsed.options);
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
