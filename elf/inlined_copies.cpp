// Where each function was inlined, for the warning that a FUNC probe does not
// reach those copies.
#include <dwarf.h>

#include <algorithm>

#include <fmt/format.h>

#include "elf/elf_internal.h"

namespace uptrace::elf::detail {

namespace {

// "file.c:42" of an inlined copy's call site; the file's last component only,
// as a user would write it in SRCFILE:LINE.
std::string call_site(Dwarf_Die* copy) {
  Dwarf_Attribute attr;
  Dwarf_Word line = 0, index = 0;
  dwarf_formudata(dwarf_attr(copy, DW_AT_call_line, &attr), &line);
  std::string file = "?";
  Dwarf_Die cu;
  Dwarf_Files* files = nullptr;
  size_t nfiles = 0;
  if (dwarf_formudata(dwarf_attr(copy, DW_AT_call_file, &attr), &index) == 0 &&
      dwarf_diecu(copy, &cu, nullptr, nullptr) != nullptr && dwarf_getsrcfiles(&cu, &files, &nfiles) == 0 &&
      index < nfiles) {
    if (const char* src = dwarf_filesrc(files, index, nullptr, nullptr)) {
      std::string_view s(src);
      file = std::string(s.substr(s.rfind('/') == std::string_view::npos ? 0 : s.rfind('/') + 1));
    }
  }
  return fmt::format("{}:{}", file, line);
}

void walk(Dwarf_Die* parent, std::map<std::string, std::vector<std::string>, std::less<>>& out, unsigned depth) {
  if (depth > 256) return;
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return;
  do {
    if (dwarf_tag(&child) == DW_TAG_inlined_subroutine) {
      if (const char* name = dwarf_diename(&child)) out[name].push_back(call_site(&child));
    }
    if (dwarf_haschildren(&child) > 0) walk(&child, out, depth + 1);
  } while (dwarf_siblingof(&child, &child) == 0);
}

}  // namespace

std::map<std::string, std::vector<std::string>, std::less<>> read_inlined_copies(Dwarf* dwarf) {
  std::map<std::string, std::vector<std::string>, std::less<>> out;
  if (dwarf == nullptr) return out;
  Dwarf_CU* cu = nullptr;
  Dwarf_Half version = 0;
  uint8_t unit_type = 0;
  Dwarf_Die cudie, subdie;
  while (dwarf_get_units(dwarf, cu, &cu, &version, &unit_type, &cudie, &subdie) == 0) {
    if (unit_type == DW_UT_type || unit_type == DW_UT_split_type) continue;
    bool split = unit_type == DW_UT_skeleton && subdie.addr != nullptr;
    walk(split ? &subdie : &cudie, out, 0);
  }
  auto key = [](const std::string& s) {
    size_t colon = s.rfind(':');
    return std::make_pair(s.substr(0, colon), std::stoul(s.substr(colon + 1)));
  };
  for (auto& [name, sites] : out)
    std::sort(sites.begin(), sites.end(), [&](const std::string& a, const std::string& b) { return key(a) < key(b); });
  return out;
}

}  // namespace uptrace::elf::detail
