#pragma once
// Where a module's separate debug file is looked for (SPEC.md "Debug
// information"), for the resolver's libdw (elf/) and --stack's libdwfl
// (core/backtrace.cpp) alike.
#include <string>

namespace uptrace::elf {

// libdwfl's debuginfo_path: the module's own directory and its .debug
// subdirectory (for .gnu_debuglink), then the root of the build-id tree
// and of debuglink paths, /usr/lib/debug, where Debian's -dbg and -dbgsym
// packages install. UPTRACE_DEBUG_ROOT, when set and not empty, replaces
// /usr/lib/debug: it is for tests, which make a root of their own.
std::string debuginfo_path();

}  // namespace uptrace::elf
