// SRCFILE:LINE lookups over the DWARF line tables of every unit.
#include <dwarf.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "elf/elf_internal.h"

namespace uptrace::elf::detail {

std::string normalize_path(std::string_view path) {
  bool absolute = !path.empty() && path.front() == '/';
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
        continue;
      }
      if (absolute) continue;  // "/.." is "/"
    }
    parts.push_back(part);
  }
  if (parts.empty()) return absolute ? "/" : ".";
  std::string out;
  for (std::string_view p : parts) {
    if (absolute || !out.empty()) out += '/';
    out += p;
  }
  return out;
}

bool path_matches(std::string_view path, std::string_view query) {
  if (query.empty() || query == ".") return false;
  if (path == query) return true;
  // "a.c" must match "/src/a.c" but not "/src/xa.c": the match has to start
  // at a component boundary. An absolute query can only match exactly.
  return query.front() != '/' && path.size() > query.size() && path.ends_with(query) &&
         path[path.size() - query.size() - 1] == '/';
}

namespace {

// DW_AT_call_file of an inlined copy as a normalized path; empty if unknown.
std::string call_file(Dwarf_Die* copy) {
  Dwarf_Attribute attr;
  Dwarf_Word index = 0;
  if (dwarf_formudata(dwarf_attr(copy, DW_AT_call_file, &attr), &index) != 0) return {};
  Dwarf_Die cu;
  Dwarf_Files* files = nullptr;
  size_t nfiles = 0;
  if (dwarf_diecu(copy, &cu, nullptr, nullptr) == nullptr || dwarf_getsrcfiles(&cu, &files, &nfiles) != 0 ||
      index >= nfiles)
    return {};
  const char* src = dwarf_filesrc(files, index, nullptr, nullptr);
  return src ? normalize_path(src) : std::string();
}

// Whether a line row of file:line at an address inside inlined copy `copy`
// is part of the copy's body. It is not when it is the call itself (the
// caller's argument setup is often scheduled into the copy), nor when the
// inlined function was written in another file.
bool row_in_copy(Dwarf_Die* copy, std::string_view file, unsigned line) {
  Dwarf_Attribute attr;
  Dwarf_Word call_line = 0;
  if (dwarf_formudata(dwarf_attr(copy, DW_AT_call_line, &attr), &call_line) == 0 && call_line == line) {
    std::string from = call_file(copy);
    if (from.empty() || from == file) return false;
  }
  // dwarf_decl_file follows the abstract origin, possibly into another unit.
  const char* decl = dwarf_decl_file(copy);
  return decl == nullptr || normalize_path(decl) == file;
}

// An inlined copy can start at an address its ranges do not include: GCC gives
// the copy an empty range there and marks the spot with DW_AT_entry_pc (and a
// location view, which libdw does not expose). A row of the inlined body at
// that address belongs to the copy. Looks below `scope`, through lexical blocks.
bool find_inlined_entry(Dwarf_Die* scope, Dwarf_Addr addr, std::string_view file, unsigned line, Dwarf_Die* out) {
  Dwarf_Die child;
  if (dwarf_child(scope, &child) != 0) return false;
  do {
    int tag = dwarf_tag(&child);
    Dwarf_Addr entry = 0;
    if (tag == DW_TAG_inlined_subroutine && dwarf_entrypc(&child, &entry) == 0 && entry == addr &&
        row_in_copy(&child, file, line)) {
      *out = child;
      return true;
    }
    if (tag == DW_TAG_lexical_block && find_inlined_entry(&child, addr, file, line, out)) return true;
  } while (dwarf_siblingof(&child, &child) == 0);
  return false;
}

// Depth-first search of the whole DIE tree below `parent` for the innermost
// code scope holding addr, recording the path to it (outermost first).
bool find_scope_path(Dwarf_Die* parent, Dwarf_Addr addr, std::vector<Dwarf_Die>& path) {
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return false;
  do {
    int tag = dwarf_tag(&child);
    bool code = tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block;
    if (code && dwarf_haspc(&child, addr) == 1) {
      path.push_back(child);
      find_scope_path(&child, addr, path);
      return true;
    }
    // Concrete code can hide below DIEs without that pc: a lambda's static
    // invoker is a member of a closure type inside its (abstract) function.
    if (dwarf_haschildren(&child) > 0) {
      path.push_back(child);
      if (find_scope_path(&child, addr, path)) return true;
      path.pop_back();
    }
  } while (dwarf_siblingof(&child, &child) == 0);
  return false;
}

// The physical nesting of the scopes holding addr, innermost first.
std::vector<Dwarf_Die> scopes_at(Dwarf_Die unit, Dwarf_Addr addr) {
  // dwarf_getscopes finds the innermost scope quickly, but past an inlined
  // copy it lists the scopes of the abstract definition, not the caller;
  // dwarf_getscopes_die gives the nesting in the DIE tree. Both skip code
  // nested in types, hence the full search when they find nothing.
  std::vector<Dwarf_Die> out;
  Dwarf_Die* raw = nullptr;
  int n = dwarf_getscopes(&unit, addr, &raw);
  std::unique_ptr<Dwarf_Die, decltype(&std::free)> at_pc(raw, &std::free);
  if (n > 0) {
    raw = nullptr;
    n = dwarf_getscopes_die(&at_pc.get()[0], &raw);
    std::unique_ptr<Dwarf_Die, decltype(&std::free)> chain(raw, &std::free);
    out.assign(chain.get(), chain.get() + std::max(n, 0));
  }
  if (out.empty() && find_scope_path(&unit, addr, out)) std::reverse(out.begin(), out.end());
  return out;
}

// The function or inlined copy a row of file:line at addr belongs to: its DIE
// offset (~0 when unknown) and name.
std::pair<Dwarf_Off, std::string> owning_function(Dwarf_Die unit, Dwarf_Addr addr, std::string_view file,
                                                  unsigned line) {
  for (Dwarf_Die scope : scopes_at(unit, addr)) {
    int tag = dwarf_tag(&scope);
    if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine) continue;
    if (tag == DW_TAG_inlined_subroutine && !row_in_copy(&scope, file, line)) continue;
    Dwarf_Die inner;
    while (find_inlined_entry(&scope, addr, file, line, &inner)) scope = inner;
    // dwarf_diename follows DW_AT_abstract_origin and DW_AT_specification, so
    // an inlined copy is named after the function that was inlined.
    const char* name = dwarf_diename(&scope);
    return {dwarf_dieoffset(&scope), name ? name : ""};
  }
  return {~Dwarf_Off{0}, ""};
}

}  // namespace

LineTable::LineTable(Dwarf* dwarf, const std::vector<LoadSegment>& segments) {
  auto in_code = [&](uint64_t a) {
    return std::any_of(segments.begin(), segments.end(), [&](const LoadSegment& s) {
      return s.executable && a >= s.vaddr.value && a - s.vaddr.value < s.mem_size;
    });
  };
  std::unordered_map<std::string, uint32_t> file_index;

  Dwarf_CU* cu = nullptr;
  Dwarf_Half version = 0;
  uint8_t unit_type = 0;
  Dwarf_Die cudie, subdie;
  while (dwarf_get_units(dwarf, cu, &cu, &version, &unit_type, &cudie, &subdie) == 0) {
    if (unit_type == DW_UT_type || unit_type == DW_UT_split_type) continue;
    Dwarf_Lines* lines = nullptr;
    size_t nlines = 0;
    if (dwarf_getsrclines(&cudie, &lines, &nlines) != 0 || nlines == 0) continue;
    // With split DWARF the subprograms live in the split unit, not the skeleton.
    bool split = unit_type == DW_UT_skeleton && subdie.addr != nullptr;
    auto unit = static_cast<uint32_t>(scope_dies_.size());
    scope_dies_.push_back(split ? subdie : cudie);

    std::unordered_map<const char*, uint32_t> unit_files;
    for (size_t i = 0; i < nlines; ++i) {
      Dwarf_Line* l = dwarf_onesrcline(lines, i);
      Dwarf_Addr addr = 0;
      int lineno = 0;
      bool stmt = false, end_seq = false;
      if (l == nullptr || dwarf_lineaddr(l, &addr) != 0 || dwarf_lineno(l, &lineno) != 0 ||
          dwarf_linebeginstatement(l, &stmt) != 0 || dwarf_lineendsequence(l, &end_seq) != 0)
        continue;
      if (!stmt || end_seq || lineno <= 0 || !in_code(addr)) continue;
      const char* src = dwarf_linesrc(l, nullptr, nullptr);
      if (src == nullptr) continue;
      auto [uf, fresh] = unit_files.try_emplace(src, 0);
      if (fresh) {
        auto [gf, added] = file_index.try_emplace(normalize_path(src), static_cast<uint32_t>(files_.size()));
        if (added) files_.push_back(gf->first);
        uf->second = gf->second;
      }
      rows_.push_back(Row{addr, static_cast<uint32_t>(lineno), uf->second, unit});
    }
  }
}

std::vector<uint32_t> LineTable::matching_files(std::string_view file) const {
  std::string query = normalize_path(file);
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < files_.size(); ++i)
    if (path_matches(files_[i], query)) out.push_back(i);
  return out;
}

std::vector<LineLocation> LineTable::find_line(std::string_view file, unsigned line) const {
  std::vector<uint32_t> files = matching_files(file);
  std::vector<bool> wanted(files_.size());
  for (uint32_t f : files) wanted[f] = true;

  // One location per (file, innermost function or inlined copy): each
  // inlined copy of a line is a separate place the line runs.
  std::map<std::pair<uint32_t, Dwarf_Off>, LineLocation> groups;
  for (const Row& r : rows_) {
    if (r.line != line || !wanted[r.file]) continue;
    auto [key, function] = owning_function(scope_dies_[r.unit], r.addr, files_[r.file], line);
    auto [it, inserted] = groups.try_emplace({r.file, key});
    if (inserted || r.addr < it->second.addr.value)
      it->second = LineLocation{FileAddr(r.addr), files_[r.file], line, std::move(function)};
  }
  std::vector<LineLocation> out;
  for (auto& [key, loc] : groups) out.push_back(std::move(loc));
  std::sort(out.begin(), out.end(), [](const LineLocation& a, const LineLocation& b) { return a.addr < b.addr; });
  return out;
}

std::optional<uint64_t> LineTable::next_statement(uint64_t start, uint64_t end) const {
  std::optional<uint64_t> best;
  for (const Row& r : rows_)
    if (r.addr > start && r.addr < end && (!best || r.addr < *best)) best = r.addr;
  return best;
}

std::vector<unsigned> LineTable::lines_near(std::string_view file, unsigned line, size_t max_results) const {
  std::vector<uint32_t> files = matching_files(file);
  std::vector<bool> wanted(files_.size());
  for (uint32_t f : files) wanted[f] = true;
  std::set<unsigned> with_code;
  for (const Row& r : rows_)
    if (wanted[r.file]) with_code.insert(r.line);
  std::vector<unsigned> out(with_code.begin(), with_code.end());
  auto dist = [line](unsigned l) { return l > line ? l - line : line - l; };
  std::stable_sort(out.begin(), out.end(), [&](unsigned a, unsigned b) { return dist(a) < dist(b); });
  if (out.size() > max_results) out.resize(max_results);
  return out;
}

}  // namespace uptrace::elf::detail
