#pragma once
// Fixture paths and independent readings of them (readelf, objdump), so the
// tests compare uptrace's answers with what binutils says.
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace elftest {

std::string fixture(std::string_view name);         // a built fixture
std::string fixture_source(std::string_view name);  // a fixture's source

// Stdout of a shell command; throws when it cannot run or exits non-zero.
std::string run(const std::string& command);

// The line number of "MARK:<mark>" in a fixture source.
unsigned marker_line(std::string_view source, std::string_view mark);

struct SymbolRow {
  std::string table;  // ".symtab" or ".dynsym"
  uint64_t value = 0;
  uint64_t size = 0;
  std::string type, bind, ndx, name;
};
std::vector<SymbolRow> readelf_symbols(const std::string& path);

struct SegmentRow {
  uint64_t offset = 0, vaddr = 0, filesz = 0, memsz = 0;
  std::string flags;
};
std::vector<SegmentRow> readelf_load_segments(const std::string& path);

struct DecodedLine {
  std::string file;
  unsigned line = 0;
  uint64_t addr = 0;
  bool stmt = false;
};
std::vector<DecodedLine> objdump_lines(const std::string& path);

// A fresh directory under /tmp, removed with its contents at scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A fixture program run with its stdout on a pipe; killed at scope exit.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  pid_t pid() const { return pid_; }
  // One line of the child's stdout; throws after 10 s without one.
  std::string read_line();

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
};

}  // namespace elftest
