#pragma once
// The modules (ELF files) mapped into a process, from /proc/PID/maps, and
// the arithmetic between file addresses and runtime addresses.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/address.h"

namespace uptrace::elf {

struct Mapping {
  RuntimeAddr start;
  RuntimeAddr end;
  FileOffset offset;
  bool readable = false, writable = false, executable = false, shared = false;
  uint64_t inode = 0;
  std::string path;  // empty for anonymous; "[vdso]", "[stack]", ... kept as is
  bool deleted = false;  // path ends in " (deleted)": the file was unlinked or replaced
};

class MappedModule {
 public:
  std::string path;                 // as the target sees it (maps column)
  // Where this process can open that file (/proc/PID/exe, /proc/PID/root/...,
  // /proc/PID/map_files/...): pass it to ElfFile::open(access_path, path).
  std::string access_path;
  std::vector<Mapping> mappings;    // all mappings of this file, in order
  // runtime = file vaddr + load_bias (0 for non-PIE executables)
  uint64_t load_bias = 0;

  RuntimeAddr to_runtime(FileAddr a) const { return RuntimeAddr(a.value + load_bias); }
  FileAddr to_file(RuntimeAddr a) const { return FileAddr(a.value - load_bias); }
  bool contains(RuntimeAddr a) const;
  // The file's name without directories ("libc.so.6").
  std::string_view file_name() const;
};

// The file-backed mappings of `mappings` (in address order, as in
// /proc/PID/maps) grouped into one MappedModule per load of a file, with
// only path and mappings set.
std::vector<MappedModule> group_by_load(const std::vector<Mapping>& mappings);

class ModuleMap {
 public:
  static std::vector<Mapping> read_maps(pid_t pid);  // throws Error
  // Groups the file-backed mappings of `pid` into modules. The load bias of
  // each comes from its ELF program headers (read via /proc/PID/root/...).
  static ModuleMap read(pid_t pid);

  const std::vector<MappedModule>& modules() const { return modules_; }
  const std::vector<Mapping>& mappings() const { return mappings_; }
  // The main executable (from /proc/PID/exe).
  const MappedModule* main_module() const;
  // By full path, by file name ("libc.so.6") or by a unique prefix of the
  // file name ("libc"). Throws Error (Runtime) when the prefix is ambiguous,
  // naming the candidates; returns null when nothing matches.
  const MappedModule* find(std::string_view name) const;
  const MappedModule* module_containing(RuntimeAddr a) const;

 private:
  std::vector<Mapping> mappings_;
  std::vector<MappedModule> modules_;
  int main_index_ = -1;
  pid_t pid_ = 0;
  friend class ModuleMapBuilder;
};

}  // namespace uptrace::elf
