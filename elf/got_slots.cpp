// GOT slots from the dynamic relocations: where the dynamic loader writes
// the address an indirect function's resolver returned (R_*_IRELATIVE), and
// the addresses it binds calls and function pointers to (R_*_JUMP_SLOT,
// R_*_GLOB_DAT). A process's copies of them say which implementation an
// IFUNC's calls reach.
#include <algorithm>
#include <functional>
#include <unordered_map>

#include "common/error.h"
#include "elf/elf_internal.h"

namespace uptrace::elf::detail {
namespace {

struct RelocTypes {
  uint32_t irelative, jump_slot, glob_dat;
  uint32_t absolute;   // a pointer in data (R_X86_64_64): the symbol's address when its addend is 0
  const char* prefix;  // of the relocation names, for messages
  const char* absolute_name;
  const char* jump_slot_name;  // after the prefix: ppc64 spells it JMP_SLOT
};

constexpr uint32_t kNoType = UINT32_MAX;

std::optional<RelocTypes> reloc_types(uint16_t machine) {
  switch (machine) {
    case EM_X86_64:
      return RelocTypes{R_X86_64_IRELATIVE, R_X86_64_JUMP_SLOT, R_X86_64_GLOB_DAT, R_X86_64_64, "R_X86_64_", "64",
                        "JUMP_SLOT"};
    case EM_AARCH64:
      return RelocTypes{R_AARCH64_IRELATIVE, R_AARCH64_JUMP_SLOT, R_AARCH64_GLOB_DAT, R_AARCH64_ABS64, "R_AARCH64_",
                        "ABS64", "JUMP_SLOT"};
    case EM_RISCV:
      // RISC-V has no GLOB_DAT: the loader fills a GOT entry for a function
      // pointer with R_RISCV_64, the absolute relocation (addend 0, a
      // symbol), so no type stands for it (kNoType never occurs).
      return RelocTypes{R_RISCV_IRELATIVE, R_RISCV_JUMP_SLOT, kNoType, R_RISCV_64, "R_RISCV_", "64", "JUMP_SLOT"};
    // ELFv2: a bound JMP_SLOT holds the function's global entry, as a
    // function pointer does.
    case EM_PPC64:
      return RelocTypes{R_PPC64_IRELATIVE, R_PPC64_JMP_SLOT, R_PPC64_GLOB_DAT, R_PPC64_ADDR64, "R_PPC64_", "ADDR64",
                        "JMP_SLOT"};
    default: return std::nullopt;
  }
}

// Version index -> name, from the versions the file needs (SHT_GNU_verneed).
void read_needed_versions(Elf* elf, Elf_Scn* verneed, std::unordered_map<uint16_t, std::string>& names) {
  GElf_Shdr sh;
  Elf_Data* data = verneed ? elf_getdata(verneed, nullptr) : nullptr;
  if (data == nullptr || gelf_getshdr(verneed, &sh) == nullptr) return;
  size_t off = 0;
  for (size_t n = 0; n < sh.sh_info || sh.sh_info == 0; ++n) {
    GElf_Verneed need;
    if (gelf_getverneed(data, static_cast<int>(off), &need) == nullptr) break;
    size_t aux_off = off + need.vn_aux;
    for (unsigned k = 0; k < need.vn_cnt; ++k) {
      GElf_Vernaux aux;
      if (gelf_getvernaux(data, static_cast<int>(aux_off), &aux) == nullptr) break;
      if (const char* name = elf_strptr(elf, sh.sh_link, aux.vna_name)) names[aux.vna_other] = name;
      if (aux.vna_next == 0) break;
      aux_off += aux.vna_next;
    }
    if (need.vn_next == 0) break;
    off += need.vn_next;
  }
}

// A symbol table's names and the versions its entries bind to.
class SymbolNames {
 public:
  SymbolNames(Elf* elf, size_t table_index) : elf_(elf) {
    Elf_Scn* table = table_index ? elf_getscn(elf, table_index) : nullptr;
    if (table == nullptr || gelf_getshdr(table, &table_sh_) == nullptr) return;
    symbols_ = elf_getdata(table, nullptr);
    Elf_Scn* scn = nullptr;
    Elf_Scn* verdef = nullptr;
    Elf_Scn* verneed = nullptr;
    while ((scn = elf_nextscn(elf, scn)) != nullptr) {
      GElf_Shdr sh;
      if (gelf_getshdr(scn, &sh) == nullptr) continue;
      if (sh.sh_type == SHT_GNU_versym && sh.sh_link == table_index) versym_ = elf_getdata(scn, nullptr);
      if (sh.sh_type == SHT_GNU_verdef) verdef = scn;
      if (sh.sh_type == SHT_GNU_verneed) verneed = scn;
    }
    if (versym_ != nullptr) {
      versions_ = read_version_names(elf, verdef);
      read_needed_versions(elf, verneed, versions_);
    }
  }

  std::string name(size_t index) const {
    GElf_Sym sym;
    if (symbols_ == nullptr || gelf_getsym(symbols_, static_cast<int>(index), &sym) == nullptr) return {};
    const char* n = elf_strptr(elf_, table_sh_.sh_link, sym.st_name);
    return n ? n : "";
  }

  std::string version(size_t index) const {
    GElf_Versym vs;
    if (versym_ == nullptr || gelf_getversym(versym_, static_cast<int>(index), &vs) == nullptr) return {};
    // 0 and 1: local and unversioned.
    auto it = versions_.find(static_cast<uint16_t>(vs & 0x7fff));
    return (vs & 0x7fff) >= 2 && it != versions_.end() ? it->second : std::string();
  }

 private:
  Elf* elf_;
  GElf_Shdr table_sh_{};
  Elf_Data* symbols_ = nullptr;
  Elf_Data* versym_ = nullptr;
  std::unordered_map<uint16_t, std::string> versions_;
};

constexpr uint32_t kShtRelr = 19;  // SHT_RELR, newer than some elf.h

// The addresses of the words a SHT_RELR section relocates: an even entry is
// one address, an odd one a bitmap of the 63 words after the last.
bool relr_words(Elf_Data* data, std::vector<FileAddr>& out) {
  const auto* entries = static_cast<const uint64_t*>(data->d_buf);
  const size_t n = data->d_size / sizeof(uint64_t);
  uint64_t base = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t e = entries[i];
    if ((e & 1) == 0) {
      out.emplace_back(e);
      base = e + 8;
      continue;
    }
    if (base == 0) return false;  // a bitmap before any address
    for (unsigned bit = 1; bit < 64; ++bit)
      if (e >> bit & 1) out.emplace_back(base + (bit - 1) * 8);
    base += 63 * 8;
  }
  return true;
}

}  // namespace

std::vector<GotSlot> read_got_slots(Elf* elf, const std::string& display_path) {
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf, &ehdr) == nullptr)
    throw_runtime("cannot read the ELF header of {}: {}", display_path, elf_errmsg(-1));
  std::optional<RelocTypes> types = reloc_types(ehdr.e_machine);
  std::vector<GotSlot> out;
  if (!types) return out;
  const uint8_t width = gelf_getclass(elf) == ELFCLASS64 ? 8 : 4;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr sh;
    // Only what the loader applies: allocated RELA sections (.rela.dyn,
    // .rela.plt, a static executable's .rela.iplt).
    if (gelf_getshdr(scn, &sh) == nullptr || sh.sh_type != SHT_RELA || (sh.sh_flags & SHF_ALLOC) == 0) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr || sh.sh_entsize == 0) continue;
    SymbolNames names(elf, sh.sh_link);
    for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; ++i) {
      GElf_Rela rela;
      if (gelf_getrela(data, static_cast<int>(i), &rela) == nullptr) break;
      const auto type = static_cast<uint32_t>(GELF_R_TYPE(rela.r_info));
      GotSlot slot;
      slot.slot = FileAddr(rela.r_offset);
      slot.width = width;
      if (type == types->irelative) {
        slot.kind = GotSlot::Kind::Irelative;
        slot.addend = static_cast<uint64_t>(rela.r_addend);
        slot.type_name = std::string(types->prefix) + "IRELATIVE";
      } else if (type == types->jump_slot || type == types->glob_dat ||
                 (type == types->absolute && rela.r_addend == 0 && GELF_R_SYM(rela.r_info) != 0)) {
        slot.kind = type == types->jump_slot ? GotSlot::Kind::JumpSlot : GotSlot::Kind::GlobDat;
        size_t sym = GELF_R_SYM(rela.r_info);
        slot.symbol = names.name(sym);
        slot.version = names.version(sym);
        slot.type_name = std::string(types->prefix) + (type == types->jump_slot  ? types->jump_slot_name
                                                       : type == types->glob_dat ? "GLOB_DAT"
                                                                                 : types->absolute_name);
        if (slot.symbol.empty()) continue;
      } else {
        continue;
      }
      out.push_back(std::move(slot));
    }
  }
  return out;
}

std::optional<std::vector<FileAddr>> read_relocated_pointers(Elf* elf,
                                                            const std::function<std::optional<uint64_t>(FileAddr)>& word_at) {
  GElf_Ehdr ehdr;
  // Only x86-64's relocations are read (jump plans are x86-64's); a file
  // that is not position-independent stores code addresses unrelocated.
  if (gelf_getehdr(elf, &ehdr) == nullptr || ehdr.e_machine != EM_X86_64 || ehdr.e_type != ET_DYN)
    return std::nullopt;
  std::vector<FileAddr> out;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == nullptr || (sh.sh_flags & SHF_ALLOC) == 0) continue;
    // REL keeps its addends in the data: not read here, so the answer is
    // "not known".
    if (sh.sh_type == SHT_REL) return std::nullopt;
    if (sh.sh_type == kShtRelr) {
      // Packed relative relocations (glibc 2.36's libc): the words they
      // relocate hold their addends, the pointers' values.
      Elf_Data* data = elf_getdata(scn, nullptr);
      if (data == nullptr) return std::nullopt;
      std::vector<FileAddr> words;
      if (!relr_words(data, words)) return std::nullopt;
      for (FileAddr w : words) {
        auto value = word_at(w);
        if (!value) return std::nullopt;
        out.emplace_back(*value);
      }
      continue;
    }
    if (sh.sh_type != SHT_RELA) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr || sh.sh_entsize == 0) continue;
    // The symbols the relocations name: their values for symbol + addend.
    Elf_Scn* symtab = sh.sh_link ? elf_getscn(elf, sh.sh_link) : nullptr;
    Elf_Data* symbols = symtab ? elf_getdata(symtab, nullptr) : nullptr;
    for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; ++i) {
      GElf_Rela rela;
      if (gelf_getrela(data, static_cast<int>(i), &rela) == nullptr) return std::nullopt;
      const auto type = static_cast<uint32_t>(GELF_R_TYPE(rela.r_info));
      const size_t sym = GELF_R_SYM(rela.r_info);
      switch (type) {
        case R_X86_64_RELATIVE:
        case R_X86_64_IRELATIVE: out.emplace_back(static_cast<uint64_t>(rela.r_addend)); break;
        case R_X86_64_64:
        case R_X86_64_GLOB_DAT:
        case R_X86_64_JUMP_SLOT: {
          GElf_Sym s;
          if (sym == 0 || symbols == nullptr || gelf_getsym(symbols, static_cast<int>(sym), &s) == nullptr)
            return std::nullopt;
          // Defined elsewhere: an address in another module.
          if (s.st_shndx != SHN_UNDEF) out.emplace_back(s.st_value + static_cast<uint64_t>(rela.r_addend));
          break;
        }
        default: break;  // TLS offsets, copies, sizes: not code addresses
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace uptrace::elf::detail
