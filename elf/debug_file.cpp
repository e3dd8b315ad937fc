// Finding a module's separate debug file with libdwfl's standard finder,
// as gdb, perf and systemtap find it: by build-id under the debug root
// (.build-id/ab/cdef....debug), by the file that .gnu_debuglink names
// (checked against the module's build-id, or its CRC), and, when
// DEBUGINFOD_URLS is set, from a debuginfod server through libdebuginfod,
// which libdwfl loads itself when it is installed.
#include "elf/debug_file.h"

#include <elfutils/libdwfl.h>
#include <fcntl.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>

#include <fmt/format.h>

#include "common/error.h"
#include "elf/elf_internal.h"

namespace uptrace::elf {

std::string debuginfo_path() {
  const char* root = std::getenv("UPTRACE_DEBUG_ROOT");
  return std::string(":.debug:") + (root != nullptr && *root != '\0' ? root : "/usr/lib/debug");
}

namespace detail {

namespace {

struct DwflDeleter {
  void operator()(Dwfl* d) const { dwfl_end(d); }
};

// Where an open file is: debuginfod's cache does not tell its file name.
std::string path_of(int fd) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(fmt::format("/proc/self/fd/{}", fd).c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// What the finder found, kept for us: libdwfl closes its own descriptor.
struct Found {
  UniqueFd fd;
  std::string path;
};

// libdwfl's standard finder, run by libdwfl itself (it keeps the module's
// state consistent only then), with a copy of its answer kept in the
// module's userdata.
int find_and_keep(Dwfl_Module* mod, void** userdata, const char* modname, Dwarf_Addr base, const char* file_name,
                  const char* debuglink_file, GElf_Word debuglink_crc, char** debuginfo_file_name) {
  int fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file, debuglink_crc,
                                        debuginfo_file_name);
  if (fd >= 0 && userdata != nullptr && *userdata != nullptr) {
    auto* found = static_cast<Found*>(*userdata);
    found->fd = UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
    found->path = *debuginfo_file_name != nullptr ? std::string(*debuginfo_file_name) : path_of(fd);
  }
  return fd;
}

}  // namespace

std::optional<DebugFile> find_debug_file(const std::string& access_path, const std::string& display_path) {
  std::string search = debuginfo_path();
  char* search_ptr = search.data();
  Dwfl_Callbacks callbacks{};
  callbacks.find_elf = dwfl_build_id_find_elf;
  callbacks.find_debuginfo = find_and_keep;
  callbacks.section_address = dwfl_offline_section_address;
  callbacks.debuginfo_path = &search_ptr;
  std::unique_ptr<Dwfl, DwflDeleter> dwfl(dwfl_begin(&callbacks));
  if (!dwfl) return std::nullopt;
  // At its own addresses (base 0). The name is the path the program knows
  // the module by: .gnu_debuglink is looked for beside it (and under the
  // root, in the same directories).
  Dwfl_Module* mod = dwfl_report_elf(dwfl.get(), display_path.c_str(), access_path.c_str(), -1, 0, false);
  if (mod == nullptr || dwfl_report_end(dwfl.get(), nullptr, nullptr) != 0) return std::nullopt;
  Found found;
  void** userdata = nullptr;
  dwfl_module_info(mod, &userdata, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
  if (userdata == nullptr) return std::nullopt;
  *userdata = &found;
  // Asking for its symbols looks for the debug file when the module has no
  // .symtab, without reading any DWARF (libdw would inflate every compressed
  // debug section of it, Debian's are). Asking for its DWARF looks for it
  // when the module has a .symtab but no DWARF, and reads that DWARF.
  (void)dwfl_module_getsymtab(mod);
  if (!found.fd) {
    Dwarf_Addr bias = 0;
    (void)dwfl_module_getdwarf(mod, &bias);
  }
  *userdata = nullptr;
  if (!found.fd) return std::nullopt;
  try {
    OpenedElf opened = open_elf_fd(std::move(found.fd), found.path);
    return DebugFile{std::move(found.path), std::move(opened)};
  } catch (const Error&) {
    return std::nullopt;  // not an ELF file after all: as if there were none
  }
}

}  // namespace detail

}  // namespace uptrace::elf
