#pragma once
#include "cmd/options.h"

namespace uptrace::cmd {

// Runs what the options ask for and returns the exit status. Throws Error
// for failures, which main() prints as one line.
int run(const Options& options);

// Prints a status line ("uptrace: ...") on stderr.
void print_status(const std::string& message);

}  // namespace uptrace::cmd
