#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include <catch2/catch.hpp>

#include "common/error.h"
#include "elf/elf_file.h"
#include "elf/module_map.h"
#include "fixture_support.h"

using uptrace::Error;
using uptrace::ErrorKind;
using uptrace::RuntimeAddr;
using uptrace::elf::ElfFile;
using uptrace::elf::MappedModule;
using uptrace::elf::Mapping;
using uptrace::elf::ModuleMap;

namespace {

// "a=0x1 b=0x2" -> {a: 1, b: 2}
std::map<std::string, uint64_t> parse_addresses(const std::string& line) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(line);
  for (std::string word; in >> word;) {
    auto eq = word.find('=');
    REQUIRE(eq != std::string::npos);
    out[word.substr(0, eq)] = std::stoull(word.substr(eq + 1), nullptr, 16);
  }
  return out;
}

uint64_t runtime_of(const MappedModule& mod, const char* function) {
  auto elf = ElfFile::open(mod.access_path, mod.path);
  auto found = elf->find_function(function);
  INFO(function << " in " << mod.path);
  REQUIRE(found.size() == 1);
  return mod.to_runtime(found.front()->addr).value;
}

std::string canonical(const std::string& p) { return std::filesystem::canonical(p).string(); }

}  // namespace

TEST_CASE("ModuleMap gives runtime addresses of a PIE and its libraries", "[elf][process]") {
  elftest::Child child({elftest::fixture("prog_pie"), "--print"});
  auto printed = parse_addresses(child.read_line());
  ModuleMap map = ModuleMap::read(child.pid());

  const MappedModule* main = map.main_module();
  REQUIRE(main != nullptr);
  CHECK(main->path == canonical(elftest::fixture("prog_pie")));
  CHECK(main->access_path == "/proc/" + std::to_string(child.pid()) + "/exe");
  CHECK(main->load_bias != 0);
  CHECK(runtime_of(*main, "parse_request") == printed["parse_request"]);
  CHECK(map.module_containing(RuntimeAddr(printed["parse_request"])) == main);

  const MappedModule* lib = map.find("libelffix.so");
  REQUIRE(lib != nullptr);
  CHECK(lib->path == canonical(elftest::fixture("libelffix.so")));
  CHECK(lib->file_name() == "libelffix.so");
  CHECK(runtime_of(*lib, "lib_exported") == printed["lib_exported"]);
  CHECK(runtime_of(*lib, "lib_static") == printed["lib_static"]);
  CHECK(lib->to_file(RuntimeAddr(printed["lib_static"])) ==
        ElfFile::open(lib->path)->find_function("lib_static").front()->addr);
  CHECK(map.module_containing(RuntimeAddr(printed["lib_exported"])) == lib);
  CHECK(map.module_containing(RuntimeAddr(8)) == nullptr);

  for (const MappedModule& m : map.modules()) {
    REQUIRE(!m.mappings.empty());
    for (const Mapping& mp : m.mappings) CHECK(mp.path == m.path);
    CHECK(m.path.front() == '/');  // no [vdso], [heap], anonymous memory
  }
}

TEST_CASE("ModuleMap: a non-PIE executable has load bias 0", "[elf][process]") {
  elftest::Child child({elftest::fixture("prog_nopie"), "--print"});
  auto printed = parse_addresses(child.read_line());
  ModuleMap map = ModuleMap::read(child.pid());
  const MappedModule* main = map.main_module();
  REQUIRE(main != nullptr);
  CHECK(main->path == canonical(elftest::fixture("prog_nopie")));
  CHECK(main->load_bias == 0);
  auto elf = ElfFile::open(elftest::fixture("prog_nopie"));
  CHECK(elf->find_function("parse_request").front()->addr.value == printed["parse_request"]);
  CHECK(runtime_of(*main, "parse_request") == printed["parse_request"]);
  const MappedModule* lib = map.find("libelffix.so");
  REQUIRE(lib != nullptr);
  CHECK(runtime_of(*lib, "lib_exported") == printed["lib_exported"]);
  CHECK(runtime_of(*lib, "lib_static") == printed["lib_static"]);
}

TEST_CASE("ModuleMap::find by path, file name and unique prefix", "[elf][process]") {
  elftest::Child child({elftest::fixture("prog_pie"), "--print"});
  child.read_line();
  ModuleMap map = ModuleMap::read(child.pid());

  const MappedModule* libc = map.find("libc");
  REQUIRE(libc != nullptr);
  CHECK(libc->file_name() == "libc.so.6");
  CHECK(map.find("libc.so.6") == libc);
  CHECK(map.find(libc->path) == libc);
  CHECK(libc->load_bias != 0);

  const MappedModule* extra = map.find("libelffix_");
  REQUIRE(extra != nullptr);
  CHECK(extra->file_name() == "libelffix_extra.so");
  CHECK(map.find("libelffix.so") != extra);
  CHECK(map.find(elftest::fixture("libelffix_extra.so")) == extra);
  CHECK(map.find("prog_pie") == map.main_module());

  // A prefix that ends where a library's name ends picks that library.
  const MappedModule* fix = map.find("libelffix");
  REQUIRE(fix != nullptr);
  CHECK(fix->file_name() == "libelffix.so");
  try {
    map.find("libelffi");
    FAIL("an ambiguous prefix must throw");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Runtime);
    CHECK(std::string(e.what()) == "module prefix 'libelffi' is ambiguous in pid " + std::to_string(child.pid()) +
                                       ": libelffix.so, libelffix_extra.so");
  }
  CHECK(map.find("libnothere") == nullptr);
  CHECK(map.find("/nonexistent/libelffix.so") == nullptr);
  CHECK(map.find("") == nullptr);
}

TEST_CASE("read_maps keeps paths with spaces and marks deleted files", "[elf][process]") {
  elftest::TempDir dir;
  std::string path = dir.path() + "/with space (x).bin";
  std::ofstream(path) << std::string(8192, 'x');
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  int fd = open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  void* p = mmap(nullptr, 8192, PROT_READ, MAP_PRIVATE, fd, 4096);
  close(fd);
  REQUIRE(p != MAP_FAILED);

  auto find = [&]() -> Mapping {
    for (const Mapping& m : ModuleMap::read_maps(getpid()))
      if (m.start.value == reinterpret_cast<uint64_t>(p)) return m;
    FAIL("mapping not found");
    return {};
  };
  Mapping m = find();
  CHECK(m.path == path);
  CHECK_FALSE(m.deleted);
  CHECK(m.offset.value == 4096);
  CHECK(m.end.value - m.start.value >= 4096);
  CHECK(m.inode == st.st_ino);
  CHECK(m.readable);
  CHECK_FALSE(m.writable);
  CHECK_FALSE(m.executable);
  CHECK_FALSE(m.shared);

  unlink(path.c_str());
  m = find();
  CHECK(m.path == path + " (deleted)");
  CHECK(m.deleted);
  munmap(p, 8192);
}

TEST_CASE("ModuleMap of this process finds a library loaded from a path with spaces", "[elf][process]") {
  elftest::TempDir dir;
  std::filesystem::create_directory(dir.path() + "/a dir");
  std::string path = dir.path() + "/a dir/libcopy of extra.so";
  std::filesystem::copy_file(elftest::fixture("libelffix_extra.so"), path);
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  REQUIRE(handle != nullptr);
  auto want = reinterpret_cast<uint64_t>(dlsym(handle, "extra_function"));
  REQUIRE(want != 0);

  ModuleMap map = ModuleMap::read(getpid());
  REQUIRE(map.main_module() != nullptr);
  CHECK(map.main_module()->path == std::filesystem::read_symlink("/proc/self/exe").string());
  const MappedModule* mod = map.find(path);
  REQUIRE(mod != nullptr);
  CHECK(map.find("libcopy of extra.so") == mod);
  CHECK(runtime_of(*mod, "extra_function") == want);

  // Deleted while mapped: readable only through /proc/PID/map_files, which
  // needs CAP_SYS_ADMIN; without it the module is left out, never wrong.
  unlink(path.c_str());
  ModuleMap after = ModuleMap::read(getpid());
  if (const MappedModule* gone = after.find(path + " (deleted)")) {
    CHECK(gone->mappings.front().deleted);
    CHECK(after.find(path) == gone);
    CHECK(gone->file_name() == "libcopy of extra.so");
    CHECK(gone->access_path.find("/map_files/") != std::string::npos);
    CHECK(runtime_of(*gone, "extra_function") == want);
  }
  dlclose(handle);
}

TEST_CASE("read_maps of a missing process says which file and why", "[elf][process]") {
  try {
    ModuleMap::read_maps(999999999);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Runtime);
    CHECK(std::string(e.what()) == "cannot read /proc/999999999/maps: No such file or directory");
  }
}

TEST_CASE("a second load of a file is told from a small file's segments mapped from its first page", "[elf]") {
  auto mapping = [](uint64_t start, uint64_t offset, bool exec) {
    Mapping m;
    m.start = uptrace::RuntimeAddr(start);
    m.end = uptrace::RuntimeAddr(start + 0x1000);
    m.offset = uptrace::FileOffset(offset);
    m.readable = true;
    m.executable = exec;
    m.path = "/t/targets/target-uselib";
    return m;
  };
  // x86-64 (-z separate-code): r--p 0, r-xp 0x1000, r--p 0x2000, rw-p 0x3000.
  std::vector<Mapping> load = {mapping(0x1000, 0, false)};
  for (auto [start, offset, exec] : {std::tuple{0x2000, 0x1000, true}, {0x3000, 0x2000, false}, {0x4000, 0x3000, false}}) {
    CHECK_FALSE(starts_second_load(load, mapping(start, offset, exec)));
    load.push_back(mapping(start, offset, exec));
  }
  // Loaded again (dlmopen): r--p at offset 0 once more.
  CHECK(starts_second_load(load, mapping(0x9000, 0, false)));

  // riscv64, a file smaller than a page: text r-xp 0, then its data from the
  // same page, r--p 0 (RELRO) and rw-p 0.
  std::vector<Mapping> small = {mapping(0x1000, 0, true)};
  CHECK_FALSE(starts_second_load(small, mapping(0x2000, 0, false)));
  small.push_back(mapping(0x2000, 0, false));
  Mapping data = mapping(0x3000, 0, false);
  data.writable = true;
  CHECK_FALSE(starts_second_load(small, data));
  small.push_back(data);
  // Loaded again: r-xp at offset 0 once more.
  CHECK(starts_second_load(small, mapping(0x9000, 0, true)));
  // Nothing at offset 0 yet, or a mapping elsewhere in the file: the same load.
  CHECK_FALSE(starts_second_load({}, mapping(0x1000, 0, true)));
  CHECK_FALSE(starts_second_load(small, mapping(0x4000, 0x1000, true)));
}

TEST_CASE("the load bias comes from the load, not from a page of the file the program mapped elsewhere", "[elf]") {
  auto mapping = [](uint64_t start, uint64_t offset, bool exec, bool write) {
    Mapping m;
    m.start = uptrace::RuntimeAddr(start);
    m.end = uptrace::RuntimeAddr(start + 0x1000);
    m.offset = uptrace::FileOffset(offset);
    m.readable = true;
    m.writable = write;
    m.executable = exec;
    m.path = "/t/targets/target-highmap";
    return m;
  };
  auto segment = [](uint64_t vaddr, uint64_t offset, uint64_t size, bool exec) {
    uptrace::elf::LoadSegment s;
    s.vaddr = uptrace::FileAddr(vaddr);
    s.offset = uptrace::FileOffset(offset);
    s.file_size = size;
    s.mem_size = size;
    s.executable = exec;
    return s;
  };
  // riscv64's highmap in the Sv39 VM: text r-x at offset 0, data rw- from
  // offset 0xdf0 (vaddr 0x1df0, its page-aligned file offset 0), the PIE
  // loaded at 0x2aaaaaa000 (2/3 of 2^38), and the program's own r--p
  // mapping of file offset 0x1000 at 2^37, below it. That page lies inside
  // the data segment, with its permissions, and sorts first.
  const std::vector<uptrace::elf::LoadSegment> segments = {segment(0, 0, 0xc00, true), segment(0x1df0, 0xdf0, 0x300, false)};
  const std::vector<Mapping> maps = {mapping(uint64_t{1} << 37, 0x1000, false, false), mapping(0x2aaaaaa000, 0, true, false),
                                     mapping(0x2aaaaab000, 0, false, false), mapping(0x2aaaaac000, 0, false, true)};
  CHECK(uptrace::elf::compute_load_bias(maps, segments) == uint64_t{0x2aaaaaa000});
  // Without the stray page, as before.
  CHECK(uptrace::elf::compute_load_bias({maps.begin() + 1, maps.end()}, segments) == uint64_t{0x2aaaaaa000});
  // Nothing at offset 0 (not expected of a load): the other mappings still say.
  CHECK(uptrace::elf::compute_load_bias({mapping(0x5000, 0x1000, false, true)}, {segment(0x1000, 0x1000, 0x100, false)}) ==
        uint64_t{0x4000});
}

namespace {

Mapping mapping(uint64_t start, uint64_t end, uint64_t offset, const std::string& path, uint64_t inode = 7) {
  Mapping m;
  m.start = RuntimeAddr(start);
  m.end = RuntimeAddr(end);
  m.offset = uptrace::FileOffset(offset);
  m.inode = inode;
  m.path = path;
  return m;
}

}  // namespace

TEST_CASE("group_by_load: a segment mapped from offset 0 right after the first is the same load", "[elf]") {
  // A small PIE under 64 KiB pages (ppc64le): RELRO starts in the file's
  // first page, so its mapping has offset 0 too (seen in the ppc64le VM).
  const std::vector<Mapping> maps = {
      mapping(0x12e2f0000, 0x12e300000, 0, "/t/prog"),        // r-xp
      mapping(0x12e300000, 0x12e310000, 0, "/t/prog"),        // r--p
      mapping(0x12e310000, 0x12e320000, 0x10000, "/t/prog"),  // rw-p
      mapping(0x157f80000, 0x157fb0000, 0, "[heap]", 0),
      mapping(0x7fffb6320000, 0x7fffb6330000, 0, "/t/lib.so", 9),
      mapping(0x7fffb6330000, 0x7fffb6340000, 0, "/t/lib.so", 9),
  };
  const std::vector<MappedModule> groups = uptrace::elf::group_by_load(maps);
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].path == "/t/prog");
  CHECK(groups[0].mappings.size() == 3);
  CHECK(groups[1].path == "/t/lib.so");
  CHECK(groups[1].mappings.size() == 2);
}

TEST_CASE("group_by_load: a file mapped from offset 0 again elsewhere is a second load (dlmopen)", "[elf]") {
  const std::vector<Mapping> maps = {
      mapping(0x7f0000000000, 0x7f0000001000, 0, "/lib/a.so"),
      mapping(0x7f0000001000, 0x7f0000002000, 0x1000, "/lib/a.so"),
      mapping(0x7f0000010000, 0x7f0000011000, 0, "/lib/a.so"),
      mapping(0x7f0000011000, 0x7f0000012000, 0x1000, "/lib/a.so"),
  };
  const std::vector<MappedModule> groups = uptrace::elf::group_by_load(maps);
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].mappings.front().start == RuntimeAddr(0x7f0000000000));
  CHECK(groups[1].mappings.front().start == RuntimeAddr(0x7f0000010000));
  CHECK(groups[1].mappings.size() == 2);
}
