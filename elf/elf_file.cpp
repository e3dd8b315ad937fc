#include "elf/elf_file.h"

#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "common/error.h"
#include "elf/demangle.h"
#include "elf/elf_internal.h"

namespace uptrace::elf {
namespace detail {

namespace {

void init_libelf() {
  // libelf refuses every call until the library version is negotiated once.
  static const bool ok = elf_version(EV_CURRENT) != EV_NONE;
  if (!ok) throw_runtime("cannot initialize libelf: {}", elf_errmsg(-1));
}

}  // namespace

OpenedElf open_elf(const std::string& access_path, const std::string& display_path) {
  UniqueFd fd(::open(access_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_runtime("cannot open {}: {}", display_path, errno_text(errno));
  return open_elf_fd(std::move(fd), display_path);
}

OpenedElf open_elf_fd(UniqueFd fd, const std::string& display_path) {
  init_libelf();
  OpenedElf o;
  o.fd = std::move(fd);
  struct stat st {};
  if (fstat(o.fd.get(), &st) != 0) throw_runtime("cannot stat {}: {}", display_path, errno_text(errno));
  if (S_ISDIR(st.st_mode)) throw_runtime("cannot open {}: {}", display_path, errno_text(EISDIR));
  if (!S_ISREG(st.st_mode)) throw_runtime("{} is not a regular file", display_path);
  // ELF_C_READ, not _MMAP: a file truncated or rewritten while we trace would
  // turn mmap'd reads into SIGBUS in the tracer, with the target still patched.
  o.elf = ElfPtr(elf_begin(o.fd.get(), ELF_C_READ, nullptr));
  if (!o.elf || elf_kind(o.elf.get()) != ELF_K_ELF) throw_runtime("{} is not an ELF file", display_path);
  GElf_Ehdr ehdr;
  if (gelf_getehdr(o.elf.get(), &ehdr) == nullptr)
    throw_runtime("cannot read the ELF header of {}: {}", display_path, elf_errmsg(-1));
  switch (ehdr.e_type) {
    case ET_EXEC:
    case ET_DYN:
      break;
    case ET_REL:
      throw_runtime("{} is a relocatable object file, not an executable or shared library", display_path);
    case ET_CORE:
      throw_runtime("{} is a core dump, not an executable or shared library", display_path);
    default:
      throw_runtime("{} has unknown ELF type {}", display_path, ehdr.e_type);
  }
  return o;
}

std::vector<LoadSegment> read_load_segments(Elf* elf, const std::string& display_path) {
  size_t n = 0;
  if (elf_getphdrnum(elf, &n) != 0)
    throw_runtime("cannot read the program headers of {}: {}", display_path, elf_errmsg(-1));
  std::vector<LoadSegment> segs;
  for (size_t i = 0; i < n; ++i) {
    GElf_Phdr ph;
    if (gelf_getphdr(elf, static_cast<int>(i), &ph) == nullptr)
      throw_runtime("cannot read program header {} of {}: {}", i, display_path, elf_errmsg(-1));
    if (ph.p_type != PT_LOAD) continue;
    LoadSegment s;
    s.vaddr = FileAddr(ph.p_vaddr);
    s.offset = FileOffset(ph.p_offset);
    s.file_size = ph.p_filesz;
    s.mem_size = ph.p_memsz;
    s.executable = (ph.p_flags & PF_X) != 0;
    s.writable = (ph.p_flags & PF_W) != 0;
    segs.push_back(s);
  }
  return segs;
}

}  // namespace detail

const LoadSegment* segment_holding(const std::vector<LoadSegment>& segments, FileAddr addr, uint64_t size) {
  for (const LoadSegment& s : segments)
    if (addr >= s.vaddr && addr.value - s.vaddr.value <= s.file_size &&
        size <= s.file_size - (addr.value - s.vaddr.value))
      return &s;
  return nullptr;
}

namespace {

using detail::DwarfPtr;
using detail::LineTable;
using detail::OpenedElf;

std::string bytes(uint64_t n) { return fmt::format("{} byte{}", n, n == 1 ? "" : "s"); }

class ElfFileImpl final : public ElfFile {
 public:
  ElfFileImpl(OpenedElf opened, std::string access_path, std::string display_path)
      : opened_(std::move(opened)), access_path_(std::move(access_path)), path_(std::move(display_path)) {
    Elf* elf = opened_.elf.get();
    GElf_Ehdr ehdr;
    gelf_getehdr(elf, &ehdr);  // open_elf() has checked it
    machine_ = ehdr.e_machine;
    abi_ = {ehdr.e_ident[EI_CLASS], ehdr.e_ident[EI_DATA], ehdr.e_flags};
    pie_or_shared_ = ehdr.e_type == ET_DYN;
    segments_ = detail::read_load_segments(elf, path_);
    has_symtab_ = has_section_type(SHT_SYMTAB);
    has_own_debug_info_ = has_section_named(".debug_info") || has_section_named(".zdebug_info");
    // A stripped module's local functions are named in its debug file only.
    const detail::DebugFile* debug = has_symtab_ ? nullptr : debug_file_opened();
    functions_ = detail::read_functions(elf, path_, debug ? debug->opened.elf.get() : nullptr);
    if (debug) has_symtab_ = has_section_type(debug->opened.elf.get(), SHT_SYMTAB);
    go_version_ = detail::read_go_version(elf);

    const void* id = nullptr;
    ssize_t len = dwelf_elf_gnu_build_id(elf, &id);
    for (ssize_t i = 0; i < len; ++i) build_id_ += fmt::format("{:02x}", static_cast<const uint8_t*>(id)[i]);

    by_name_.resize(functions_.size());
    for (size_t i = 0; i < functions_.size(); ++i) by_name_[i] = static_cast<uint32_t>(i);
    std::stable_sort(by_name_.begin(), by_name_.end(),
                     [&](uint32_t a, uint32_t b) { return functions_[a].name < functions_[b].name; });
    // Functions may nest or overlap (an alias with a larger size, a local
    // label typed as a function); the running maximum of their ends tells
    // function_containing when walking further back cannot find a cover.
    // Without its build information, Go's runtime still shows.
    if (!go_version_ && has_symbol("runtime.goexit") && has_symbol("runtime.morestack")) go_version_ = std::string();
    max_end_.resize(functions_.size());
    uint64_t running = 0;
    for (size_t i = 0; i < functions_.size(); ++i) {
      running = std::max(running, functions_[i].addr.value + functions_[i].size);
      max_end_[i] = running;
    }
  }

  const std::string& path() const override { return path_; }
  uint16_t machine() const override { return machine_; }
  ElfAbi abi() const override { return abi_; }
  bool is_pie_or_shared() const override { return pie_or_shared_; }
  std::string build_id() const override { return build_id_; }
  bool has_symtab() const override { return has_symtab_; }
  std::optional<std::string> go_version() const override { return go_version_; }

  const std::vector<Function>& functions() const override { return functions_; }

  std::vector<const Function*> find_function(std::string_view name) const override {
    auto lo = std::lower_bound(by_name_.begin(), by_name_.end(), name,
                               [&](uint32_t i, std::string_view n) { return functions_[i].name < n; });
    std::vector<const Function*> out;
    // by_name_ was sorted stably, so equal names stay in address order.
    for (auto it = lo; it != by_name_.end() && functions_[*it].name == name; ++it) out.push_back(&functions_[*it]);
    // Else a C++ name as written in source; "helper" for a function at
    // namespace scope too, but not a symbol-only spelling ("f.cold",
    // "memcpy@GLIBC_2.2.5"), which no demangled name has: that would demangle
    // every symbol for nothing.
    if (!out.empty()) return out;
    const bool by_signature = detail::has_parameter_list(name);
    if (!by_signature && name.find("::") == std::string_view::npos && name.find_first_of(".@$") != std::string_view::npos)
      return out;
    const std::string key = by_signature ? detail::signature_key(name) : std::string(name);
    const std::vector<CxxKey>& cxx = cxx_names();
    std::set<uint64_t> seen;  // C1/C2 constructors and other aliases share an address
    for (size_t i = 0; i < functions_.size(); ++i) {
      if (functions_[i].cold_part) continue;
      if ((by_signature ? cxx[i].signature : cxx[i].qualified) != key) continue;
      if (seen.insert(functions_[i].addr.value).second) out.push_back(&functions_[i]);
    }
    return out;
  }

  std::vector<const Function*> match_functions(std::string_view glob) const override {
    std::vector<const Function*> out;
    for (size_t i : matching_indices(glob)) out.push_back(&functions_[i]);
    return out;
  }

  std::vector<Entry> match_entries(std::string_view glob) const override {
    std::vector<size_t> matches = matching_indices(glob);
    std::vector<Entry> out;
    if (glob.find("::") == std::string_view::npos && !detail::has_parameter_list(glob)) {
      // Matches are in address order, aliases next to each other, preferred first.
      for (size_t k = 0; k < matches.size();) {
        size_t group_end = k;
        while (group_end < matches.size() && functions_[matches[group_end]].addr == functions_[matches[k]].addr)
          ++group_end;
        const Function* chosen = nullptr;
        for (size_t g = k; g < group_end && !chosen; ++g)
          if (!functions_[matches[g]].compat_version) chosen = &functions_[matches[g]];
        // Only compat versions matched: the address's default name, if it
        // has one (a local name is no better than the versioned one).
        const FileAddr addr = functions_[matches[k]].addr;
        for (size_t i = first_at(matches[k]); !chosen && i < functions_.size() && functions_[i].addr == addr; ++i)
          if (!functions_[i].compat_version && functions_[i].is_global) chosen = &functions_[i];
        if (!chosen) chosen = &functions_[matches[k]];
        out.push_back({chosen->name, {chosen}, {aliases_at(first_at(matches[k]), {chosen->name})}});
        k = group_end;
      }
      return out;
    }
    // C++: one entry per function (signature), its clones as more addresses.
    const std::vector<CxxKey>& cxx = cxx_names();
    std::map<std::string, size_t> by_signature;
    std::map<std::string, std::set<std::string>> signatures_of;  // qualified -> signatures matched
    std::set<uint64_t> seen;
    for (size_t i : matches) {
      if (!seen.insert(functions_[i].addr.value).second) continue;
      const std::string& sig = cxx[i].signature;
      auto [it, inserted] = by_signature.try_emplace(sig, out.size());
      if (inserted) {
        out.push_back({cxx[i].shown_signature, {}, {}});
        signatures_of[cxx[i].qualified_shown].insert(sig);
      }
      Entry& e = out[it->second];
      e.functions.push_back(&functions_[i]);
      e.aliases.push_back(aliases_at(first_at(i), {}));
    }
    // A glob over signatures matched signatures: they are the names.
    if (detail::has_parameter_list(glob)) return out;
    for (auto& [sig, index] : by_signature) {
      const size_t first = static_cast<size_t>(out[index].functions.front() - functions_.data());
      if (signatures_of[cxx[first].qualified_shown].size() == 1) out[index].name = cxx[first].qualified_shown;
    }
    return out;
  }

 private:
  // A function's C++ names, demangled on first use: as shown, and as keys
  // (the signature without blanks) for comparing names written by hand.
  struct CxxKey {
    std::string qualified;  // "ns::Bar::run", also its own key
    std::string signature;  // signature_key() of the signature
    std::string qualified_shown;
    std::string shown_signature;
  };
  const std::vector<CxxKey>& cxx_names() const {
    std::call_once(cxx_once_, [&] {
      cxx_.reserve(functions_.size());
      for (const Function& f : functions_) {
        detail::CxxName n = detail::demangle_function(f.name);
        cxx_.push_back({n.qualified, detail::signature_key(n.signature), n.qualified, n.signature});
      }
    });
    return cxx_;
  }

  // Indices into functions_ of the glob's matches (see match_functions).
  std::vector<size_t> matching_indices(std::string_view glob) const {
    const bool by_signature = detail::has_parameter_list(glob);
    const bool cxx = by_signature || glob.find("::") != std::string_view::npos;
    std::string pattern(glob);
    if (by_signature) {
      // In a parameter list a '*' is mostly a pointer ("char*"), not a glob.
      const std::string key = detail::signature_key(glob);
      const size_t parameters = detail::parameter_list_start(key);
      pattern = key.substr(0, parameters);
      const std::string_view list = std::string_view(key).substr(parameters);
      for (size_t i = 0; i < list.size(); ++i) {
        if ((list[i] == '*' || list[i] == '[' || list[i] == ']') && !detail::is_parameter_glob(list, i))
          pattern += '\\';
        pattern += list[i];
      }
    }
    std::vector<size_t> out;
    for (size_t i = 0; i < functions_.size(); ++i) {
      if (functions_[i].cold_part) continue;
      const std::string& name =
          !cxx ? functions_[i].name : by_signature ? cxx_names()[i].signature : cxx_names()[i].qualified;
      if (!name.empty() && fnmatch(pattern.c_str(), name.c_str(), 0) == 0) out.push_back(i);
    }
    return out;
  }

  // The first (preferred) function at the address of functions_[i].
  size_t first_at(size_t i) const {
    while (i > 0 && functions_[i - 1].addr == functions_[i].addr) --i;
    return i;
  }

  // The names at the address of functions_[first], except `except`.
  std::vector<std::string> aliases_at(size_t first, std::set<std::string> except) const {
    std::vector<std::string> out;
    for (size_t i = first; i < functions_.size() && functions_[i].addr == functions_[first].addr; ++i)
      if (except.insert(functions_[i].name).second) out.push_back(functions_[i].name);
    return out;
  }

 public:
  const Function* function_containing(FileAddr addr) const override {
    auto it = std::upper_bound(functions_.begin(), functions_.end(), addr,
                               [](FileAddr a, const Function& f) { return a < f.addr; });
    // Walk back to the innermost (latest-starting) function that covers addr;
    // among aliases the sort order puts the preferred name first.
    const Function* best = nullptr;
    for (size_t i = static_cast<size_t>(it - functions_.begin()); i-- > 0;) {
      const Function& f = functions_[i];
      if (max_end_[i] <= addr.value || (best != nullptr && best->addr != f.addr)) break;
      if (addr.value < f.addr.value + f.size) best = &f;
    }
    return best;
  }

  std::optional<std::pair<FileAddr, FileAddr>> frame_range_containing(FileAddr addr) const override {
    std::call_once(frames_once_, [&] {
      frames_ = detail::read_frame_ranges(opened_.elf.get(), segments_);
      uint64_t running = 0;
      for (auto& r : frames_) frames_max_end_.push_back(running = std::max(running, r.second.value));
    });
    auto it = std::upper_bound(frames_.begin(), frames_.end(), addr,
                               [](FileAddr a, const std::pair<FileAddr, FileAddr>& r) { return a < r.first; });
    for (size_t i = static_cast<size_t>(it - frames_.begin()); i-- > 0;) {
      if (frames_max_end_[i] <= addr.value) break;
      if (addr < frames_[i].second) return frames_[i];
    }
    return std::nullopt;
  }

  std::vector<std::string> similar_names(std::string_view name, size_t max_results) const override {
    size_t limit = std::max<size_t>(2, name.size() / 3);
    std::vector<std::pair<size_t, std::string_view>> scored;
    std::string_view prev;
    for (uint32_t i : by_name_) {
      std::string_view cand = functions_[i].name;
      if (cand == prev) continue;
      prev = cand;
      size_t d = detail::edit_distance(name, cand, limit);
      if (d == 0 || d > limit) continue;
      scored.emplace_back(d, cand);
    }
    std::stable_sort(scored.begin(), scored.end(), [](auto& a, auto& b) { return a.first < b.first; });
    std::vector<std::string> out;
    for (size_t i = 0; i < scored.size() && out.size() < max_results; ++i) out.emplace_back(scored[i].second);
    return out;
  }

  const std::vector<GotSlot>& got_slots() const override {
    std::call_once(got_once_, [&] { got_slots_ = detail::read_got_slots(opened_.elf.get(), path_); });
    return got_slots_;
  }

  const std::optional<std::vector<FileAddr>>& relocated_pointers() const override {
    std::call_once(pointers_once_, [&] {
      pointers_ = detail::read_relocated_pointers(opened_.elf.get(), [&](FileAddr at) -> std::optional<uint64_t> {
        try {
          std::vector<uint8_t> b = read(at, 8);
          uint64_t v = 0;
          for (int i = 7; i >= 0; --i) v = v << 8 | b[static_cast<size_t>(i)];
          return v;
        } catch (const Error&) {
          return std::nullopt;
        }
      });
    });
    return pointers_;
  }

  std::optional<bool> may_have_landing_pads(FileAddr lo, FileAddr hi) const override {
    std::call_once(lsda_once_, [&] { lsda_ = detail::read_lsda_ranges(opened_.elf.get()); });
    if (!lsda_) return std::nullopt;
    // Sorted by start; FDEs do not nest, but an overlap is checked for all
    // that start before hi.
    for (const auto& [start, end] : *lsda_) {
      if (start >= hi) break;
      if (end > lo) return true;
    }
    return false;
  }

  const std::vector<LoadSegment>& load_segments() const override { return segments_; }

  std::vector<uint8_t> read(FileAddr addr, uint64_t size) const override {
    const LoadSegment* s = segment_holding(segments_, addr, size);
    if (s == nullptr)
      throw_runtime("cannot read {} at {:#x} of {}: not inside the file-backed part of one loadable segment",
                    bytes(size), addr.value, path_);
    return read_in(*s, addr, size);
  }

  std::vector<uint8_t> read_in(const LoadSegment& s, FileAddr addr, uint64_t size) const override {
    std::vector<uint8_t> buf(size);
    uint64_t off = s.offset.value + (addr.value - s.vaddr.value);
    size_t done = 0;
    while (done < size) {
      ssize_t r = pread(opened_.fd.get(), buf.data() + done, size - done, static_cast<off_t>(off + done));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw_runtime("cannot read {} at {:#x} of {}: {}", bytes(size), addr.value, path_, errno_text(errno));
      if (r == 0)
        throw_runtime("cannot read {} at {:#x} of {}: the file is shorter than its program headers say", bytes(size),
                      addr.value, path_);
      done += static_cast<size_t>(r);
    }
    return buf;
  }

  std::optional<FileOffset> to_offset(FileAddr addr) const override {
    for (const LoadSegment& s : segments_)
      if (addr >= s.vaddr && addr.value - s.vaddr.value < s.file_size)
        return FileOffset(s.offset.value + (addr.value - s.vaddr.value));
    return std::nullopt;
  }

  std::optional<FileAddr> to_addr(FileOffset off) const override {
    for (const LoadSegment& s : segments_)
      if (off >= s.offset && off.value - s.offset.value < s.file_size)
        return FileAddr(s.vaddr.value + (off.value - s.offset.value));
    return std::nullopt;
  }

  bool has_line_info() const override { return lines() != nullptr; }

  std::vector<LineLocation> find_line(std::string_view file, unsigned line) const override {
    const LineTable* t = lines();
    return t ? t->find_line(file, line) : std::vector<LineLocation>{};
  }

  std::vector<unsigned> lines_near(std::string_view file, unsigned line, size_t max_results) const override {
    const LineTable* t = lines();
    return t ? t->lines_near(file, line, max_results) : std::vector<unsigned>{};
  }

  std::unique_ptr<VariableSource> variables_at(FileAddr pc, uint64_t load_bias,
                                               const std::string& where) const override {
    return detail::make_site_variables(dwarf(), opened_.elf.get(), pc, load_bias, where);
  }

  std::optional<FileAddr> after_prologue(FileAddr start, FileAddr end) const override {
    const LineTable* t = lines();
    if (t == nullptr) return std::nullopt;
    auto next = t->next_statement(start.value, end.value);
    return next ? std::optional<FileAddr>(FileAddr(*next)) : std::nullopt;
  }

  ReturnAddressRule return_address_rule(FileAddr start, FileAddr end) const override {
    // Its DWARF for .debug_frame.
    return detail::read_return_address_rule(opened_.elf.get(), dwarf(), machine_, start, end);
  }

  // Only from DWARF the module carries: finding the copies walks every DIE
  // of it, which for a library whose -dbg package is installed (libc) costs
  // far more than the warning is worth to every plain `libc:FUNC` probe.
  std::vector<std::string> inlined_copies(std::string_view function) const override {
    std::call_once(inlined_once_, [&] {
      if (has_own_debug_info_) inlined_ = detail::read_inlined_copies(dwarf());
    });
    auto it = inlined_.find(function);
    return it == inlined_.end() ? std::vector<std::string>{} : it->second;
  }

  std::string debug_file() const override {
    dwarf();
    if (!dwarf_file_.empty()) return dwarf_file_;
    // Only its symbols may come from there.
    return !has_section_type(SHT_SYMTAB) && debug_ ? debug_->path : std::string();
  }

  const std::vector<SdtMarker>& markers() const override {
    std::call_once(markers_once_, [&] { markers_ = detail::read_sdt_markers(opened_.elf.get(), machine_); });
    return markers_;
  }

 private:
  bool has_symbol(std::string_view name) const {
    auto it = std::lower_bound(by_name_.begin(), by_name_.end(), name,
                               [&](uint32_t i, std::string_view n) { return functions_[i].name < n; });
    return it != by_name_.end() && functions_[*it].name == name;
  }

  bool has_section_type(uint32_t type) const { return has_section_type(opened_.elf.get(), type); }
  static bool has_section_type(Elf* elf, uint32_t type) {
    Elf_Scn* scn = nullptr;
    while ((scn = elf_nextscn(elf, scn)) != nullptr) {
      GElf_Shdr sh;
      if (gelf_getshdr(scn, &sh) != nullptr && sh.sh_type == type) return true;
    }
    return false;
  }

  bool has_section_named(std::string_view wanted) const {
    Elf* elf = opened_.elf.get();
    size_t names = 0;
    if (elf_getshdrstrndx(elf, &names) != 0) return false;
    Elf_Scn* scn = nullptr;
    while ((scn = elf_nextscn(elf, scn)) != nullptr) {
      GElf_Shdr sh;
      if (gelf_getshdr(scn, &sh) == nullptr || sh.sh_type == SHT_NOBITS) continue;
      const char* name = elf_strptr(elf, names, sh.sh_name);
      if (name != nullptr && wanted == name) return true;
    }
    return false;
  }

  // The separate debug file, looked for once, when first needed.
  const detail::DebugFile* debug_file_opened() const {
    std::call_once(debug_once_, [&] { debug_ = detail::find_debug_file(access_path_, path_); });
    return debug_ ? &*debug_ : nullptr;
  }

  static bool has_units(Dwarf* dwarf) {
    Dwarf_Off next = 0;
    size_t header = 0;
    return dwarf_nextcu(dwarf, 0, &next, &header, nullptr, nullptr, nullptr) == 0;
  }

  // DWARF is loaded on first use: libdw reads (and inflates) every debug
  // section up front, which is wasted work for the many modules that are
  // only symbolized. The module's own, else its debug file's (SPEC.md
  // "Debug information"); null when there is none.
  Dwarf* dwarf() const {
    std::call_once(dwarf_once_, [&] {
      dwarf_ = DwarfPtr(dwarf_begin_elf(opened_.elf.get(), DWARF_C_READ, nullptr));
      if (!dwarf_ || !has_units(dwarf_.get())) {
        if (const detail::DebugFile* debug = debug_file_opened()) {
          DwarfPtr separate(dwarf_begin_elf(debug->opened.elf.get(), DWARF_C_READ, nullptr));
          if (separate && has_units(separate.get())) {
            dwarf_ = std::move(separate);
            dwarf_file_ = debug->path;
          }
        }
      }
    });
    return dwarf_.get();
  }

  // Every unit's line table, read on first use.
  const LineTable* lines() const {
    std::call_once(lines_once_, [&] {
      if (Dwarf* d = dwarf()) {
        auto t = std::make_unique<LineTable>(d, segments_);
        if (!t->empty()) lines_ = std::move(t);
      }
    });
    return lines_.get();
  }

  OpenedElf opened_;
  std::string access_path_;
  std::string path_;
  uint16_t machine_ = 0;
  ElfAbi abi_;
  bool pie_or_shared_ = false;
  bool has_symtab_ = false;
  bool has_own_debug_info_ = false;  // a .debug_info section of its own
  std::optional<std::string> go_version_;
  std::string build_id_;
  std::vector<LoadSegment> segments_;
  std::vector<Function> functions_;
  std::vector<uint32_t> by_name_;
  std::vector<uint64_t> max_end_;

  mutable std::once_flag frames_once_;
  mutable std::once_flag lsda_once_;
  mutable std::optional<std::vector<std::pair<FileAddr, FileAddr>>> lsda_;
  mutable std::once_flag got_once_;
  mutable std::vector<GotSlot> got_slots_;
  mutable std::once_flag pointers_once_;
  mutable std::optional<std::vector<FileAddr>> pointers_;

  mutable std::once_flag cxx_once_;
  mutable std::vector<CxxKey> cxx_;
  mutable std::vector<std::pair<FileAddr, FileAddr>> frames_;
  mutable std::vector<uint64_t> frames_max_end_;
  // Before dwarf_, which may read it.
  mutable std::once_flag debug_once_;
  mutable std::optional<detail::DebugFile> debug_;
  mutable std::once_flag dwarf_once_;
  mutable DwarfPtr dwarf_;  // declared before lines_: LineTable holds DIEs into it
  mutable std::string dwarf_file_;  // the debug file dwarf_ is from; empty: the module itself
  mutable std::once_flag lines_once_;
  mutable std::unique_ptr<LineTable> lines_;
  mutable std::once_flag inlined_once_;
  mutable std::map<std::string, std::vector<std::string>, std::less<>> inlined_;
  mutable std::once_flag markers_once_;
  mutable std::vector<SdtMarker> markers_;
};

}  // namespace

std::unique_ptr<ElfFile> ElfFile::open(const std::string& path) { return open(path, path); }

std::unique_ptr<ElfFile> ElfFile::open(const std::string& access_path, const std::string& display_path) {
  return std::make_unique<ElfFileImpl>(detail::open_elf(access_path, display_path), access_path, display_path);
}

}  // namespace uptrace::elf
