// Finding the file a library not loaded yet would be loaded from, as ld.so
// does: names, prefixes, the order of the places, other ABIs' libraries
// skipped, and ld.so.cache's format.
#include <elf.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "elf/library_search.h"

using uptrace::Error;
using uptrace::elf::find_library;
using uptrace::elf::LibrarySearch;
using uptrace::elf::read_ld_so_cache;
namespace fs = std::filesystem;

namespace {

// A file that starts as an ELF file of `elf_class` for `machine` does.
void fake_elf(const fs::path& path, uint16_t machine, unsigned char elf_class = ELFCLASS64) {
  unsigned char h[64] = {};
  std::memcpy(h, ELFMAG, SELFMAG);
  h[EI_CLASS] = elf_class;
  h[EI_DATA] = ELFDATA2LSB;
  std::memcpy(h + 18, &machine, sizeof machine);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(h), sizeof h);
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("uptrace-libsearch-" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("a library name is found in the first place that has it", "[elf][library_search]") {
  TempDir t;
  fs::create_directories(t.path / "a");
  fs::create_directories(t.path / "b");
  fake_elf(t.path / "a/libone.so.1", EM_X86_64);
  fake_elf(t.path / "b/libone.so.1", EM_X86_64);
  fake_elf(t.path / "b/libtwo.so", EM_X86_64);
  LibrarySearch s;
  s.machine = EM_X86_64;
  s.directories = {(t.path / "a").string(), (t.path / "b").string()};
  CHECK(find_library(s, ::getpid(), "libone.so.1") == (t.path / "a/libone.so.1").string());
  CHECK(find_library(s, ::getpid(), "libtwo.so") == (t.path / "b/libtwo.so").string());
  CHECK(find_library(s, ::getpid(), "libthree.so").empty());
  // A prefix: "libtw" names libtwo.so, the only match.
  CHECK(find_library(s, ::getpid(), "libtw") == (t.path / "b/libtwo.so").string());
  // The cache comes after the directories.
  fake_elf(t.path / "libcached.so.2", EM_X86_64);
  s.cached = {(t.path / "libcached.so.2").string()};
  CHECK(find_library(s, ::getpid(), "libcached") == (t.path / "libcached.so.2").string());
}

TEST_CASE("other ABIs' libraries and non-ELF files are skipped", "[elf][library_search]") {
  TempDir t;
  fake_elf(t.path / "libabi.so", EM_386, ELFCLASS32);
  fake_elf(t.path / "libarm.so", EM_AARCH64);
  std::ofstream(t.path / "libtext.so") << "INPUT(-lother)\n";  // a linker script
  LibrarySearch s;
  s.machine = EM_X86_64;
  s.directories = {t.path.string()};
  CHECK(find_library(s, ::getpid(), "libabi.so").empty());
  CHECK(find_library(s, ::getpid(), "libarm.so").empty());
  CHECK(find_library(s, ::getpid(), "libtext.so").empty());
}

TEST_CASE("a prefix that names two libraries is ambiguous, but two names of one file are one", "[elf][library_search]") {
  TempDir t;
  fake_elf(t.path / "libfoo.so.1", EM_X86_64);
  fs::create_symlink("libfoo.so.1", t.path / "libfoo.so");
  LibrarySearch s;
  s.machine = EM_X86_64;
  s.directories = {t.path.string()};
  CHECK(fs::path(find_library(s, ::getpid(), "libfo")).parent_path() == t.path);
  fake_elf(t.path / "libfoobar.so", EM_X86_64);
  REQUIRE_THROWS_AS(find_library(s, ::getpid(), "libfo"), Error);
  try {
    (void)find_library(s, ::getpid(), "libfo");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("module prefix 'libfo' is ambiguous") != std::string::npos);
  }
}

TEST_CASE("a path is a path, with its links resolved as /proc/PID/maps shows them", "[elf][library_search]") {
  TempDir t;
  fake_elf(t.path / "libreal.so", EM_X86_64);
  fs::create_symlink(t.path / "libreal.so", t.path / "liblink.so");
  LibrarySearch s;
  s.root = "";
  CHECK(find_library(s, ::getpid(), (t.path / "liblink.so").string()) ==
        fs::canonical(t.path / "libreal.so").string());
  CHECK(find_library(s, ::getpid(), (t.path / "missing.so").string()).empty());
}

TEST_CASE("ld.so.cache's new format is read", "[elf][library_search]") {
  TempDir t;
  // glibc's struct cache_file_new and two file_entry_new, strings after them.
  std::string data = "glibc-ld.so.cache1.1";
  auto u32 = [&](uint32_t v) { data.append(reinterpret_cast<const char*>(&v), 4); };
  u32(2);                  // nlibs
  u32(0);                  // len_strings (not used by the reader)
  data.append(4, '\0');    // flags, padding
  u32(0);                  // extension_offset
  data.append(12, '\0');   // unused
  const uint32_t strings = 48 + 2 * 24;
  const std::string a = "liba.so.1", pa = "/usr/lib/liba.so.1", b = "libb.so", pb = "/lib/libb.so";
  uint32_t at = strings;
  for (const auto& [key, value] : {std::pair{a, pa}, std::pair{b, pb}}) {
    u32(0x303);              // flags
    u32(at);                 // key
    u32(at + static_cast<uint32_t>(key.size()) + 1);  // value
    u32(0);                  // osversion
    data.append(8, '\0');    // hwcap
    at += static_cast<uint32_t>(key.size() + value.size() + 2);
  }
  for (const std::string& s : {a, pa, b, pb}) data.append(s).push_back('\0');
  // As an old-format cache followed by the new one, the way older ldconfig wrote it.
  const std::string file = (t.path / "ld.so.cache").string();
  std::ofstream(file, std::ios::binary) << std::string("ld.so-1.7.0") + std::string(5, '\0') << data;
  CHECK(read_ld_so_cache(file) == std::vector<std::string>{pa, pb});
  CHECK(read_ld_so_cache((t.path / "none").string()).empty());
}
