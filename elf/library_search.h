#pragma once
// Where a process would find a library it has not loaded yet, as the dynamic
// linker looks for it (ld.so(8)), so a probe on a library loaded later
// (dlopen) can be checked against that file before the program maps it.
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace uptrace::elf {

// The places ld.so would look, in its order, for process `pid`: the
// executable's DT_RPATH (only without DT_RUNPATH), the target's
// LD_LIBRARY_PATH, the executable's DT_RUNPATH ($ORIGIN expanded), the
// libraries in /etc/ld.so.cache, then the default directories.
struct LibrarySearch {
  std::string root;                      // the target's root as uptrace opens it ("/proc/PID/root")
  std::vector<std::string> directories;  // in ld.so's order, cache excluded
  std::vector<std::string> cached;       // paths from ld.so.cache (for this machine's ELF class and machine)
  std::vector<std::string> defaults;     // /lib, /usr/lib, ...
  uint16_t machine = 0;                  // the executable's e_machine, to skip other ABIs' libraries
};

LibrarySearch library_search(pid_t pid);

// The file `name` would load in `pid`, as the target sees its path: a name
// with a '/' is a path (relative to the target's working directory); a file
// name is looked up as ld.so does; a unique prefix of a file name ("libfoo"
// for libfoo.so.1) is accepted, the first place that has a match deciding.
// "" when found nowhere; throws Error (Runtime) when a prefix is ambiguous.
std::string find_library(pid_t pid, std::string_view name);
std::string find_library(const LibrarySearch& search, pid_t pid, std::string_view name);

// What the dynamic section of an ELF file says about loading (empty parts
// when it has none or cannot be read).
struct DynamicInfo {
  std::vector<std::string> needed;  // DT_NEEDED, in order
  std::string soname;               // DT_SONAME
  std::string rpath, runpath;       // DT_RPATH, DT_RUNPATH as written
  uint16_t machine = 0;             // e_machine
};
DynamicInfo dynamic_info(const std::string& access_path);

// The entries of an ld.so.cache file's new format (glibc-ld.so.cache1.1):
// library paths in the cache's order. Empty when it cannot be read.
std::vector<std::string> read_ld_so_cache(const std::string& path);

}  // namespace uptrace::elf
