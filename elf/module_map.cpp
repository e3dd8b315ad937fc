#include "elf/module_map.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <map>

#include <fmt/format.h>

#include "common/error.h"
#include "common/join.h"
#include "elf/elf_internal.h"

namespace uptrace::elf {
namespace {

constexpr std::string_view kDeleted = " (deleted)";

std::string_view next_field(std::string_view& s) {
  size_t start = s.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    s = {};
    return {};
  }
  size_t end = s.find(' ', start);
  std::string_view f = s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  s = end == std::string_view::npos ? std::string_view() : s.substr(end);
  return f;
}

bool parse_number(std::string_view s, uint64_t& out, int base) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

// One line of /proc/PID/maps:
//   start-end perms offset major:minor inode [path]
// The path is the rest of the line and may contain spaces.
std::optional<Mapping> parse_maps_line(std::string_view line) {
  std::string_view rest = line;
  std::string_view range = next_field(rest), perms = next_field(rest), offset = next_field(rest);
  std::string_view dev = next_field(rest), inode = next_field(rest);
  size_t dash = range.find('-');
  uint64_t start = 0, end = 0, off = 0, ino = 0;
  if (dash == std::string_view::npos || !parse_number(range.substr(0, dash), start, 16) ||
      !parse_number(range.substr(dash + 1), end, 16) || perms.size() < 4 || !parse_number(offset, off, 16) ||
      dev.find(':') == std::string_view::npos || !parse_number(inode, ino, 10))
    return std::nullopt;
  Mapping m;
  m.start = RuntimeAddr(start);
  m.end = RuntimeAddr(end);
  m.offset = FileOffset(off);
  m.readable = perms[0] == 'r';
  m.writable = perms[1] == 'w';
  m.executable = perms[2] == 'x';
  m.shared = perms[3] == 's';
  m.inode = ino;
  size_t path_start = rest.find_first_not_of(' ');
  if (path_start != std::string_view::npos) m.path = std::string(rest.substr(path_start));
  m.deleted = m.path.ends_with(kDeleted);
  return m;
}

std::string read_link(const std::string& link) {
  char buf[PATH_MAX + 1];
  ssize_t n = readlink(link.c_str(), buf, PATH_MAX);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

}  // namespace

// Load bias from one mapping of the file: a mapping that starts at S with file
// offset O and lies in PT_LOAD P shows file vaddr P.vaddr + (O - P.offset) at
// S. The kernel maps each segment from its page-aligned-down offset, so O may
// lie just before P.offset.
//
// The mappings at file offset 0 are asked first: a load begins there (the
// first PT_LOAD holds the ELF header), while a mapping of the file made by
// the program itself (highmap's page mapped at 2^37, node's text remapped
// high) maps some other page and may sort before the load. Asked in address
// order alone, such a page could match a segment's permissions by chance: on
// riscv64, whose linker puts the data segment's offset inside the first
// page, highmap's r--p page at offset 0x1000 passed for the data segment and
// moved every address of the executable by the distance to 2^37.
std::optional<uint64_t> compute_load_bias(const std::vector<Mapping>& mappings,
                                          const std::vector<LoadSegment>& segments) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  std::optional<uint64_t> fallback;
  for (const bool first_page_only : {true, false}) {
    for (const Mapping& m : mappings) {
      if (first_page_only && m.offset.value != 0) continue;
      for (const LoadSegment& s : segments) {
        if (s.file_size == 0) continue;
        uint64_t lo = s.offset.value & ~(page - 1);
        if (m.offset.value < lo || m.offset.value >= s.offset.value + s.file_size) continue;
        uint64_t bias = m.start.value - (s.vaddr.value + (m.offset.value - s.offset.value));
        // Two segments can share a file page; the one with the same execute
        // permission is the one this mapping was made for (RELRO may have
        // changed the write bit since).
        if (m.executable == s.executable) return bias;
        if (!fallback) fallback = bias;
      }
    }
  }
  return fallback;
}

bool starts_second_load(const std::vector<Mapping>& load, const Mapping& next) {
  if (next.offset.value != 0 || load.empty() || load.front().offset.value != 0) return false;
  // With 64 KiB pages (ppc64le) a small file's second segment (RELRO, data)
  // begins in the file's first page, so it too is mapped from offset 0,
  // right where the load's last mapping ends.
  if (load.back().end == next.start) return false;
  const Mapping& first = load.front();
  return first.readable == next.readable && first.writable == next.writable && first.executable == next.executable;
}

std::vector<MappedModule> group_by_load(const std::vector<Mapping>& mappings) {
  std::vector<MappedModule> groups;
  std::map<std::pair<std::string, uint64_t>, size_t> current;
  for (const Mapping& m : mappings) {
    if (m.path.empty() || m.path.front() != '/') continue;  // anonymous, [heap], [vdso], anon_inode:...
    auto key = std::make_pair(m.path, m.inode);
    auto it = current.find(key);
    // A second load of a file (dlmopen) is a module of its own, with its
    // own bias.
    bool reload = it != current.end() && starts_second_load(groups[it->second].mappings, m);
    if (it == current.end() || reload) {
      current[key] = groups.size();
      groups.push_back(MappedModule{});
      groups.back().path = m.path;
    }
    groups[current[key]].mappings.push_back(m);
  }
  return groups;
}

bool MappedModule::contains(RuntimeAddr a) const {
  return std::any_of(mappings.begin(), mappings.end(), [&](const Mapping& m) { return a >= m.start && a < m.end; });
}

std::string_view MappedModule::file_name() const {
  std::string_view p = path;
  if (p.ends_with(kDeleted)) p.remove_suffix(kDeleted.size());
  size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

std::vector<Mapping> ModuleMap::read_maps(pid_t pid) {
  std::string file = fmt::format("/proc/{}/maps", pid);
  detail::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_runtime("cannot read {}: {}", file, errno_text(errno));
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_runtime("cannot read {}: {}", file, errno_text(errno));
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  std::vector<Mapping> out;
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (line.empty()) continue;
    auto m = parse_maps_line(line);
    if (!m) throw_runtime("cannot parse {}: unexpected line '{}'", file, line);
    out.push_back(std::move(*m));
  }
  return out;
}

class ModuleMapBuilder {
 public:
  static ModuleMap build(pid_t pid) {
    ModuleMap map;
    map.pid_ = pid;
    map.mappings_ = ModuleMap::read_maps(pid);
    std::string exe_link = fmt::format("/proc/{}/exe", pid);
    std::string exe = read_link(exe_link);

    std::vector<MappedModule> groups = group_by_load(map.mappings_);

    for (MappedModule& mod : groups) {
      std::vector<std::string> candidates;
      // /proc/PID/exe opens the very file that was executed, even when it
      // was deleted or lives in another mount namespace.
      if (!exe.empty() && mod.path == exe) candidates.push_back(exe_link);
      if (!mod.mappings.front().deleted) {
        candidates.push_back(fmt::format("/proc/{}/root{}", pid, mod.path));
        candidates.push_back(mod.path);
      }
      // Opening map_files needs CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE), so
      // it is the last resort, for deleted libraries.
      candidates.push_back(fmt::format("/proc/{}/map_files/{:x}-{:x}", pid, mod.mappings.front().start.value,
                                       mod.mappings.front().end.value));
      for (const std::string& c : candidates) {
        try {
          detail::OpenedElf o = detail::open_elf(c, mod.path);
          auto bias = compute_load_bias(mod.mappings, detail::read_load_segments(o.elf.get(), mod.path));
          if (!bias) break;  // an ELF file mapped as data, not loaded as a module
          mod.load_bias = *bias;
          mod.access_path = c;
          break;
        } catch (const Error&) {
          // Not readable this way (or not an ELF file at all): try the next way.
        }
      }
      if (mod.access_path.empty()) continue;
      if (mod.path == exe && map.main_index_ < 0) map.main_index_ = static_cast<int>(map.modules_.size());
      map.modules_.push_back(std::move(mod));
    }
    return map;
  }
};

ModuleMap ModuleMap::read(pid_t pid) { return ModuleMapBuilder::build(pid); }

const MappedModule* ModuleMap::main_module() const { return main_index_ < 0 ? nullptr : &modules_[main_index_]; }

const MappedModule* ModuleMap::find(std::string_view name) const {
  if (name.empty()) return nullptr;
  for (const MappedModule& m : modules_)
    if (m.path == name) return &m;
  // A deleted file is still named by the path it had.
  for (const MappedModule& m : modules_)
    if (m.path.ends_with(kDeleted) && std::string_view(m.path).substr(0, m.path.size() - kDeleted.size()) == name)
      return &m;
  if (name.find('/') != std::string_view::npos) {
    // A path through symlinks ("/lib/..." on a merged-/usr system) names the
    // same file as the canonical path the kernel shows.
    char buf[PATH_MAX];
    std::string n(name);
    if (realpath(n.c_str(), buf) != nullptr)
      for (const MappedModule& m : modules_)
        if (m.path == buf) return &m;
    return nullptr;
  }

  auto pick = [&](const char* what, auto&& match) -> const MappedModule* {
    std::vector<const MappedModule*> hits;
    for (const MappedModule& m : modules_)
      if (match(m) && std::none_of(hits.begin(), hits.end(), [&](auto* h) { return h->path == m.path; }))
        hits.push_back(&m);
    if (hits.size() <= 1) return hits.empty() ? nullptr : hits.front();
    // Candidates with distinct file names are listed by file name; the same
    // file name in several directories needs the full paths.
    std::vector<std::string> names;
    for (auto* h : hits) names.emplace_back(h->file_name());
    std::sort(names.begin(), names.end());
    if (std::adjacent_find(names.begin(), names.end()) != names.end()) {
      names.clear();
      for (auto* h : hits) names.push_back(h->path);
      std::sort(names.begin(), names.end());
    }
    throw Error(ErrorKind::Runtime,
                fmt::format("module {} '{}' is ambiguous in pid {}: {}", what, name, pid_, join(names, ", ")),
                "name the module by its full file name or path");
  };
  if (auto* m = pick("name", [&](const MappedModule& m) { return m.file_name() == name; })) return m;
  // "libc" means libc.so.6 even when libcrypt.so.1 is loaded too: a prefix
  // that ends where the library's own name ends ('.' or '-') wins.
  if (auto* m = pick("prefix", [&](const MappedModule& m) {
        std::string_view f = m.file_name();
        return f.starts_with(name) && f.size() > name.size() && (f[name.size()] == '.' || f[name.size()] == '-');
      }))
    return m;
  return pick("prefix", [&](const MappedModule& m) { return m.file_name().starts_with(name); });
}

const MappedModule* ModuleMap::module_containing(RuntimeAddr a) const {
  for (const MappedModule& m : modules_)
    if (m.contains(a)) return &m;
  return nullptr;
}

}  // namespace uptrace::elf
