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

// Whether mapping `next` of a file starts a second load of it (dlmopen), given
// the mappings of its current load so far, in address order. A load begins
// with its first segment mapped at file offset 0, so a second offset-0
// mapping usually means another load; but a small file's later segments can
// be mapped from page 0 too (riscv64's linker does not give code pages of its
// own: text r-xp, RELRO r--p and data rw-p may all be at offset 0), so a
// second load is an offset-0 mapping with the permissions the load began with,
// and not one that starts right where the load's last mapping ends (64 KiB
// pages on ppc64le put a small file's RELRO in its first page as well).
bool starts_second_load(const std::vector<Mapping>& load, const Mapping& next);

struct LoadSegment;
// The load bias of one load of a file: its `mappings` (in address order)
// against the file's PT_LOAD `segments`; nullopt when no mapping lies in a
// segment.
std::optional<uint64_t> compute_load_bias(const std::vector<Mapping>& mappings,
                                          const std::vector<LoadSegment>& segments);

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
