#include "elf/library_search.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <set>

#include <fmt/format.h>

#include "common/error.h"

namespace uptrace::elf {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<std::string> split(std::string_view s, std::string_view separators) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || separators.find(s[i]) != std::string_view::npos) {
      // An empty element means the current directory to ld.so; a tracer
      // cannot know which one dlopen runs in, so it is left out.
      if (i > start) out.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::string dirname_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

std::string expand_origin(std::string dir, const std::string& origin) {
  for (const char* token : {"${ORIGIN}", "$ORIGIN"}) {
    for (size_t at; (at = dir.find(token)) != std::string::npos;) dir.replace(at, std::strlen(token), origin);
  }
  return dir;
}

// Whether `path` (under the target's root) is a 64-bit ELF file for
// `machine`: ld.so.cache and the default directories also hold the
// libraries of other ABIs (i386 on x86-64).
bool loadable(const std::string& root, const std::string& path, uint16_t machine) {
  std::ifstream in(root + path, std::ios::binary);
  unsigned char h[20] = {};
  if (!in.read(reinterpret_cast<char*>(h), sizeof h)) return false;
  if (std::memcmp(h, ELFMAG, SELFMAG) != 0 || h[EI_CLASS] != ELFCLASS64) return false;
  uint16_t m = 0;
  std::memcpy(&m, h + 18, sizeof m);  // e_machine; the targets are little-endian
  return machine == 0 || m == machine;
}

bool is_library_name(std::string_view file) { return file.find(".so") != std::string_view::npos; }

std::string base_name(std::string_view path) {
  const size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// Two names of one file (libfoo.so and libfoo.so.1, a link to it) are one match.
std::string identity(const std::string& root, const std::string& path) {
  struct stat st {};
  if (::stat((root + path).c_str(), &st) != 0) return path;
  return fmt::format("{}:{}", st.st_dev, st.st_ino);
}

}  // namespace

DynamicInfo dynamic_info(const std::string& access_path) {
  DynamicInfo info;
  static const bool ok = elf_version(EV_CURRENT) != EV_NONE;
  if (!ok) return info;
  const int fd = ::open(access_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return info;
  if (Elf* e = elf_begin(fd, ELF_C_READ, nullptr)) {
    GElf_Ehdr eh;
    if (gelf_getehdr(e, &eh)) info.machine = eh.e_machine;
    for (Elf_Scn* scn = elf_nextscn(e, nullptr); scn; scn = elf_nextscn(e, scn)) {
      GElf_Shdr sh;
      if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC) continue;
      Elf_Data* data = elf_getdata(scn, nullptr);
      if (!data || !sh.sh_entsize) continue;
      for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; ++i) {
        GElf_Dyn dyn;
        if (!gelf_getdyn(data, static_cast<int>(i), &dyn) || dyn.d_tag == DT_NULL) break;
        if (dyn.d_tag != DT_RPATH && dyn.d_tag != DT_RUNPATH && dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_SONAME)
          continue;
        const char* str = elf_strptr(e, sh.sh_link, dyn.d_un.d_val);
        if (!str) continue;
        if (dyn.d_tag == DT_NEEDED) info.needed.emplace_back(str);
        if (dyn.d_tag == DT_SONAME) info.soname = str;
        if (dyn.d_tag == DT_RPATH) info.rpath = str;
        if (dyn.d_tag == DT_RUNPATH) info.runpath = str;
      }
    }
    elf_end(e);
  }
  ::close(fd);
  return info;
}

std::vector<std::string> read_ld_so_cache(const std::string& path) {
  const std::string data = read_file(path);
  static constexpr char kMagic[] = "glibc-ld.so.cache1.1";
  const size_t at = data.find(kMagic, 0, sizeof kMagic - 1);
  std::vector<std::string> out;
  // struct cache_file_new (glibc's dl-cache.h): magic and version (20 bytes),
  // nlibs, len_strings, flags and padding, extension_offset, 3 unused words;
  // then nlibs entries {flags, key, value, osversion, hwcap} of 24 bytes.
  // String offsets count from the new header's start.
  constexpr size_t kHeader = 48, kEntry = 24;
  if (at == std::string::npos || data.size() < at + kHeader) return out;
  uint32_t nlibs = 0;
  std::memcpy(&nlibs, data.data() + at + 20, sizeof nlibs);
  for (uint32_t i = 0; i < nlibs; ++i) {
    const size_t entry = at + kHeader + size_t{i} * kEntry;
    if (entry + kEntry > data.size()) break;
    uint32_t value = 0;
    std::memcpy(&value, data.data() + entry + 8, sizeof value);
    if (at + value >= data.size()) continue;
    out.emplace_back(data.c_str() + at + value);
  }
  return out;
}

LibrarySearch library_search(pid_t pid) {
  LibrarySearch s;
  s.root = fmt::format("/proc/{}/root", pid);
  char exe[PATH_MAX];
  const ssize_t n = ::readlink(fmt::format("/proc/{}/exe", pid).c_str(), exe, sizeof exe - 1);
  const std::string exe_path = n > 0 ? std::string(exe, static_cast<size_t>(n)) : std::string();
  const DynamicInfo exe_info = dynamic_info(fmt::format("/proc/{}/exe", pid));
  const std::string& rpath = exe_info.rpath;
  const std::string& runpath = exe_info.runpath;
  s.machine = exe_info.machine;
  const std::string origin = dirname_of(exe_path);
  std::string ld_library_path;
  const std::string environ = read_file(fmt::format("/proc/{}/environ", pid));
  for (size_t start = 0; start < environ.size();) {
    size_t end = environ.find('\0', start);
    if (end == std::string::npos) end = environ.size();
    std::string_view var(environ.data() + start, end - start);
    if (var.starts_with("LD_LIBRARY_PATH=")) ld_library_path = std::string(var.substr(16));
    start = end + 1;
  }
  // ld.so's order: RPATH (ignored when RUNPATH is present), LD_LIBRARY_PATH, RUNPATH.
  if (runpath.empty())
    for (const std::string& d : split(rpath, ":")) s.directories.push_back(expand_origin(d, origin));
  for (const std::string& d : split(ld_library_path, ":;")) s.directories.push_back(d);
  for (const std::string& d : split(runpath, ":")) s.directories.push_back(expand_origin(d, origin));
  s.cached = read_ld_so_cache(s.root + "/etc/ld.so.cache");
  s.defaults = {"/lib64", "/usr/lib64", "/lib", "/usr/lib"};
  return s;
}

std::string find_library(pid_t pid, std::string_view name) { return find_library(library_search(pid), pid, name); }

std::string find_library(const LibrarySearch& s, pid_t pid, std::string_view name) {
  if (name.empty()) return "";
  if (name.find('/') != std::string_view::npos) {
    std::string path(name);
    if (path.front() != '/') {
      char cwd[PATH_MAX];
      const ssize_t n = ::readlink(fmt::format("/proc/{}/cwd", pid).c_str(), cwd, sizeof cwd - 1);
      if (n <= 0) return "";
      path = std::string(cwd, static_cast<size_t>(n)) + "/" + path;
    }
    // As /proc/PID/maps will name it: links and ".." resolved.
    char real[PATH_MAX];
    if (!::realpath((s.root + path).c_str(), real)) return "";
    std::string resolved(real);
    if (resolved.starts_with(s.root + "/")) resolved = resolved.substr(s.root.size());
    return resolved;
  }
  // The places in order, each a list of candidate paths.
  std::vector<std::vector<std::string>> places;
  auto directory = [&](const std::string& dir) {
    std::vector<std::string> files;
    if (DIR* d = ::opendir((s.root + dir).c_str())) {
      while (dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') files.push_back(dir + "/" + e->d_name);
      ::closedir(d);
    }
    return files;
  };
  for (const std::string& d : s.directories) places.push_back(directory(d));
  places.push_back(s.cached);
  for (const std::string& d : s.defaults) places.push_back(directory(d));
  // A file name: the first place that has it, as ld.so loads it.
  for (const auto& files : places)
    for (const std::string& f : files)
      if (base_name(f) == name && loadable(s.root, f, s.machine)) return f;
  // A prefix: the first place with a match decides; one file, or ambiguous.
  for (const auto& files : places) {
    std::vector<std::string> matches;
    std::set<std::string> seen;
    for (const std::string& f : files) {
      const std::string file = base_name(f);
      if (!file.starts_with(name) || !is_library_name(file) || !loadable(s.root, f, s.machine)) continue;
      if (seen.insert(identity(s.root, f)).second) matches.push_back(f);
    }
    if (matches.size() == 1) return matches.front();
    if (matches.size() > 1) {
      std::string list;
      for (size_t i = 0; i < matches.size() && i < 5; ++i) list += (i ? ", " : "") + matches[i];
      throw_runtime("module prefix '{}' is ambiguous: it names {} libraries the program could load ({}{})", name,
                    matches.size(), list, matches.size() > 5 ? ", ..." : "");
    }
  }
  return "";
}

}  // namespace uptrace::elf
