// Function symbols: .symtab and .dynsym merged into one address-sorted list.
#include <algorithm>
#include <map>
#include <unordered_map>

#include "common/error.h"
#include "elf/elf_internal.h"

namespace uptrace::elf::detail {
namespace {

constexpr uint16_t kVersymHidden = 0x8000;
constexpr uint16_t kVersymIndex = 0x7fff;

struct RawSymbol {
  Function fn;
  uint64_t section_end = 0;  // 0 when the symbol's section is unknown
  bool keep = true;
};

struct Sections {
  Elf_Scn* symtab = nullptr;
  Elf_Scn* dynsym = nullptr;
  std::unordered_map<size_t, Elf_Scn*> shndx_for;  // symbol table index -> SHT_SYMTAB_SHNDX
  Elf_Scn* versym = nullptr;
  Elf_Scn* verdef = nullptr;
};

Sections find_sections(Elf* elf) {
  Sections s;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == nullptr) continue;
    switch (sh.sh_type) {
      case SHT_SYMTAB: s.symtab = scn; break;
      case SHT_DYNSYM: s.dynsym = scn; break;
      case SHT_SYMTAB_SHNDX: s.shndx_for[sh.sh_link] = scn; break;
      case SHT_GNU_versym: s.versym = scn; break;
      case SHT_GNU_verdef: s.verdef = scn; break;
      default: break;
    }
  }
  return s;
}

}  // namespace

std::unordered_map<uint16_t, std::string> read_version_names(Elf* elf, Elf_Scn* verdef) {
  std::unordered_map<uint16_t, std::string> names;
  GElf_Shdr sh;
  Elf_Data* data = verdef ? elf_getdata(verdef, nullptr) : nullptr;
  if (data == nullptr || gelf_getshdr(verdef, &sh) == nullptr) return names;
  size_t off = 0;
  for (size_t n = 0; n < sh.sh_info || sh.sh_info == 0; ++n) {
    GElf_Verdef def;
    GElf_Verdaux aux;
    if (gelf_getverdef(data, static_cast<int>(off), &def) == nullptr) break;
    if (gelf_getverdaux(data, static_cast<int>(off + def.vd_aux), &aux) != nullptr) {
      if (const char* name = elf_strptr(elf, sh.sh_link, aux.vda_name)) names[def.vd_ndx] = name;
    }
    if (def.vd_next == 0) break;
    off += def.vd_next;
  }
  return names;
}

namespace {

uint64_t section_end(Elf* elf, size_t index, std::unordered_map<size_t, uint64_t>& cache) {
  auto [it, inserted] = cache.try_emplace(index, 0);
  if (inserted) {
    GElf_Shdr sh;
    Elf_Scn* scn = elf_getscn(elf, index);
    if (scn != nullptr && gelf_getshdr(scn, &sh) != nullptr && (sh.sh_flags & SHF_ALLOC) != 0)
      it->second = sh.sh_addr + sh.sh_size;
  }
  return it->second;
}

void read_table(Elf* elf, Elf_Scn* table, const Sections& secs, bool dynamic, bool ppc64_v2,
                const std::string& path, std::vector<RawSymbol>& out) {
  GElf_Shdr sh;
  if (gelf_getshdr(table, &sh) == nullptr || sh.sh_type == SHT_NOBITS) return;
  Elf_Data* data = elf_getdata(table, nullptr);
  if (data == nullptr) throw_runtime("cannot read the symbol table of {}: {}", path, elf_errmsg(-1));
  size_t entsize = sh.sh_entsize ? sh.sh_entsize : gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT);
  size_t count = entsize ? sh.sh_size / entsize : 0;

  Elf_Data* xdata = nullptr;
  if (auto it = secs.shndx_for.find(elf_ndxscn(table)); it != secs.shndx_for.end())
    xdata = elf_getdata(it->second, nullptr);

  // Only .dynsym carries versions. A non-default version ("realpath@GLIBC_2.2.5")
  // gets the version in its name, as nm -D shows it, so a plain name means the
  // default version, the one a newly linked program would call.
  Elf_Data* versym = nullptr;
  std::unordered_map<uint16_t, std::string> versions;
  if (dynamic && secs.versym != nullptr) {
    GElf_Shdr vsh;
    if (gelf_getshdr(secs.versym, &vsh) != nullptr && vsh.sh_link == elf_ndxscn(table)) {
      versym = elf_getdata(secs.versym, nullptr);
      versions = read_version_names(elf, secs.verdef);
    }
  }

  std::unordered_map<size_t, uint64_t> ends;
  for (size_t i = 1; i < count; ++i) {
    GElf_Sym sym;
    Elf32_Word xndx = 0;
    if (gelf_getsymshndx(data, xdata, static_cast<int>(i), &sym, &xndx) == nullptr) continue;
    int type = GELF_ST_TYPE(sym.st_info);
    if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF) continue;
    const char* name = elf_strptr(elf, sh.sh_link, sym.st_name);
    if (name == nullptr || *name == '\0') continue;

    RawSymbol r;
    r.fn.name = name;
    // ld writes .symver definitions into .symtab as "f@@V" (default) and
    // "f@V"; spell them as .dynsym is read below, so the two tables agree.
    if (!dynamic) {
      if (size_t at = r.fn.name.find("@@"); at != std::string::npos && at != 0) {
        r.fn.version = r.fn.name.substr(at + 2);
        r.fn.name.resize(at);
      } else if (size_t at1 = r.fn.name.find('@'); at1 != std::string::npos && at1 != 0) {
        r.fn.version = r.fn.name.substr(at1 + 1);
        r.fn.compat_version = true;
      }
    }
    if (versym != nullptr) {
      GElf_Versym vs;
      // Index 1 is the file's own base definition (its soname), not a version.
      if (gelf_getversym(versym, static_cast<int>(i), &vs) != nullptr && (vs & kVersymIndex) >= 2) {
        auto v = versions.find(static_cast<uint16_t>(vs & kVersymIndex));
        if (v != versions.end()) {
          r.fn.version = v->second;
          if ((vs & kVersymHidden) != 0) {
            r.fn.name += "@" + v->second;
            r.fn.compat_version = true;
          }
        }
      }
    }
    r.fn.cold_part = is_cold_part_name(r.fn.name);
    r.fn.is_ifunc = type == STT_GNU_IFUNC;
    r.fn.addr = FileAddr(sym.st_value);
    r.fn.size = sym.st_size;
    r.fn.entry = r.fn.addr;
    if (ppc64_v2) r.fn.entry = r.fn.addr + PPC64_LOCAL_ENTRY_OFFSET(sym.st_other);
    r.fn.from_dynsym = dynamic;
    r.fn.is_global = GELF_ST_BIND(sym.st_info) != STB_LOCAL;
    size_t shndx = sym.st_shndx == SHN_XINDEX ? xndx : sym.st_shndx;
    if (sym.st_shndx == SHN_XINDEX || sym.st_shndx < SHN_LORESERVE) r.section_end = section_end(elf, shndx, ends);
    out.push_back(std::move(r));
  }
}

size_t leading_underscores(const std::string& s) {
  size_t n = 0;
  while (n < s.size() && s[n] == '_') ++n;
  return n;
}

}  // namespace

std::vector<Function> read_functions(Elf* elf, const std::string& path) {
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf, &ehdr) == nullptr) throw_runtime("cannot read the ELF header of {}: {}", path, elf_errmsg(-1));
  // ELFv1 (big-endian ppc64) symbols point at descriptors and have no local
  // entry; only ELFv2 (and unmarked files, which are v2 in practice) do.
  bool ppc64_v2 = ehdr.e_machine == EM_PPC64 && (ehdr.e_flags & EF_PPC64_ABI) != 1;

  Sections secs = find_sections(elf);
  std::vector<RawSymbol> raw;
  if (secs.symtab) read_table(elf, secs.symtab, secs, false, ppc64_v2, path, raw);
  if (secs.dynsym) read_table(elf, secs.dynsym, secs, true, ppc64_v2, path, raw);

  // Same name at the same address once; .symtab (read first) wins.
  std::map<std::pair<std::string_view, uint64_t>, size_t> seen;
  for (size_t i = 0; i < raw.size(); ++i) {
    auto [it, inserted] = seen.try_emplace({raw[i].fn.name, raw[i].fn.addr.value}, i);
    if (inserted) continue;
    RawSymbol& first = raw[it->second];
    first.fn.size = std::max(first.fn.size, raw[i].fn.size);
    first.fn.is_global = first.fn.is_global || raw[i].fn.is_global;
    first.fn.is_ifunc = first.fn.is_ifunc || raw[i].fn.is_ifunc;
    if (first.fn.version.empty()) first.fn.version = raw[i].fn.version;
    if (!first.section_end) first.section_end = raw[i].section_end;
    raw[i].keep = false;
  }
  std::erase_if(raw, [](const RawSymbol& r) { return !r.keep; });
  std::sort(raw.begin(), raw.end(), [](const RawSymbol& a, const RawSymbol& b) { return a.fn.addr < b.fn.addr; });

  // Hand-written assembly often lacks .size: such a function runs to the next
  // function or to the end of its section, whichever comes first.
  for (size_t i = 0; i < raw.size(); ++i) {
    Function& f = raw[i].fn;
    if (f.size != 0) continue;
    uint64_t alias_size = 0;
    size_t j = i;
    while (j > 0 && raw[j - 1].fn.addr == f.addr) --j;
    for (; j < raw.size() && raw[j].fn.addr == f.addr; ++j) alias_size = std::max(alias_size, raw[j].fn.size);
    if (alias_size != 0) {
      f.size = alias_size;
      continue;
    }
    uint64_t end = raw[i].section_end;
    if (j < raw.size() && (end == 0 || raw[j].fn.addr.value < end)) end = raw[j].fn.addr.value;
    if (end > f.addr.value)
      f.size = end - f.addr.value;
    else
      raw[i].keep = false;  // no known end: it cannot be located reliably
  }
  std::erase_if(raw, [](const RawSymbol& r) { return !r.keep; });

  // Among aliases, the first is the name shown for an address: not a compat
  // version ("free", not "cfree@GLIBC_2.2.5"), a global one, then the least
  // decorated ("getpid" rather than "__getpid").
  std::sort(raw.begin(), raw.end(), [](const RawSymbol& a, const RawSymbol& b) {
    const Function& x = a.fn;
    const Function& y = b.fn;
    if (x.addr != y.addr) return x.addr < y.addr;
    if (x.compat_version != y.compat_version) return !x.compat_version;
    if (x.is_global != y.is_global) return x.is_global;
    size_t ux = leading_underscores(x.name), uy = leading_underscores(y.name);
    if (ux != uy) return ux < uy;
    if (x.from_dynsym != y.from_dynsym) return !x.from_dynsym;
    return x.name < y.name;
  });

  std::vector<Function> out;
  out.reserve(raw.size());
  for (RawSymbol& r : raw) out.push_back(std::move(r.fn));
  return out;
}

}  // namespace uptrace::elf::detail

namespace uptrace::elf {

bool is_cold_part_name(std::string_view symbol) {
  size_t at = symbol.rfind(".cold");
  if (at == std::string_view::npos || at == 0) return false;
  std::string_view tail = symbol.substr(at + 5);
  if (tail.empty()) return true;
  if (tail.size() < 2 || tail[0] != '.') return false;
  return std::all_of(tail.begin() + 1, tail.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace uptrace::elf
