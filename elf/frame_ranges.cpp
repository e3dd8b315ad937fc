// Function bounds from call-frame information. libdw's dwarf_cfi_addrframe
// only exposes the range of one CFI row, not of its FDE, so the FDEs are
// walked here with dwarf_next_cfi and their pointer encodings decoded. The
// same walk gives the raw instructions of an FDE and its CIE, for what libdw
// does not interpret (DW_CFA_AARCH64_negate_ra_state).
#include <dwarf.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <span>
#include <unordered_map>

#include "elf/cfa_program.h"
#include "elf/elf_internal.h"

namespace uptrace::elf::detail {
namespace {

class ByteReader {
 public:
  ByteReader(const uint8_t* p, const uint8_t* end, bool big_endian) : p_(p), end_(end), big_endian_(big_endian) {}

  const uint8_t* pos() const { return p_; }
  bool ok() const { return ok_; }

  uint64_t fixed(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return fail();
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) {
      uint64_t byte = p_[big_endian_ ? i : n - 1 - i];
      v = (v << 8) | byte;
    }
    p_ += n;
    return v;
  }
  uint64_t uleb() {
    uint64_t v = 0;
    for (unsigned shift = 0; p_ < end_ && shift < 64; shift += 7) {
      uint8_t b = *p_++;
      v |= uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return fail();
  }
  int64_t sleb() {
    uint64_t v = 0;
    unsigned shift = 0;
    while (p_ < end_ && shift < 64) {
      uint8_t b = *p_++;
      v |= uint64_t(b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) == 0) {
        if (shift < 64 && (b & 0x40)) v |= ~uint64_t{0} << shift;
        return static_cast<int64_t>(v);
      }
    }
    return static_cast<int64_t>(fail());
  }

 private:
  uint64_t fail() {
    ok_ = false;
    p_ = end_;
    return 0;
  }
  const uint8_t* p_;
  const uint8_t* end_;
  bool big_endian_;
  bool ok_ = true;
};

int64_t sign_extend(uint64_t v, unsigned bits) {
  uint64_t m = uint64_t{1} << (bits - 1);
  return static_cast<int64_t>((v ^ m) - m);
}

// Decodes one DW_EH_PE-encoded pointer whose first byte is at `field_addr`.
// Encodings that need context we do not have (datarel, textrel, funcrel,
// indirect) yield nullopt.
std::optional<uint64_t> read_encoded(ByteReader& r, uint8_t enc, uint64_t field_addr, size_t addr_size) {
  if (enc == DW_EH_PE_omit) return std::nullopt;
  uint64_t v = 0;
  switch (enc & 0x0f) {
    case DW_EH_PE_absptr: v = r.fixed(addr_size); break;
    case DW_EH_PE_uleb128: v = r.uleb(); break;
    case DW_EH_PE_udata2: v = r.fixed(2); break;
    case DW_EH_PE_udata4: v = r.fixed(4); break;
    case DW_EH_PE_udata8: v = r.fixed(8); break;
    case DW_EH_PE_sleb128: v = static_cast<uint64_t>(r.sleb()); break;
    case DW_EH_PE_sdata2: v = static_cast<uint64_t>(sign_extend(r.fixed(2), 16)); break;
    case DW_EH_PE_sdata4: v = static_cast<uint64_t>(sign_extend(r.fixed(4), 32)); break;
    case DW_EH_PE_sdata8: v = r.fixed(8); break;
    default: return std::nullopt;
  }
  if (!r.ok() || (enc & DW_EH_PE_indirect) != 0) return std::nullopt;
  switch (enc & 0x70) {
    case DW_EH_PE_absptr: break;
    case DW_EH_PE_pcrel: v += field_addr; break;
    default: return std::nullopt;
  }
  if (addr_size == 4) v &= 0xffffffffu;
  return v;
}

struct CieInfo {
  bool usable = false;
  bool has_augmentation_data = false;  // 'z': an FDE's augmentation data is length-prefixed
  bool lsda = false;                   // 'L' with an encoding: its FDEs may name an LSDA
  uint8_t fde_encoding = DW_EH_PE_absptr;
  std::span<const uint8_t> program;    // its initial instructions
};

CieInfo parse_cie(const Dwarf_CIE& cie, bool big_endian, size_t addr_size) {
  CieInfo info;
  const char* aug = cie.augmentation;
  if (aug == nullptr || *aug == '\0') {
    info.usable = true;
    return info;
  }
  if (*aug != 'z' || cie.augmentation_data == nullptr) return info;  // pre-'z' formats: layout unknown
  info.has_augmentation_data = true;
  ByteReader r(cie.augmentation_data, cie.augmentation_data + cie.augmentation_data_size, big_endian);
  for (const char* c = aug + 1; *c; ++c) {
    switch (*c) {
      case 'R': info.fde_encoding = static_cast<uint8_t>(r.fixed(1)); break;
      case 'P': {
        auto penc = static_cast<uint8_t>(r.fixed(1));
        // Only the size matters here: decode as if absolute.
        read_encoded(r, static_cast<uint8_t>(penc & 0x0f), 0, addr_size);
        break;
      }
      case 'L': info.lsda = r.fixed(1) != DW_EH_PE_omit; break;
      case 'S':
      case 'B':
      case 'G': break;
      default:
        // 'z' told us the data size, but not where an unknown letter's data
        // ends; 'R' after it could not be found.
        info.usable = r.ok() && std::strchr(c, 'R') == nullptr;
        return info;
    }
  }
  info.usable = r.ok();
  return info;
}

// Calls `visit` for each FDE of one .eh_frame or .debug_frame section whose
// range could be decoded, until it returns false. False when stopped.
// `complete`, when given, becomes false if an entry was skipped (its CIE's
// layout unknown, its range not decodable, the section not readable to its end).
bool walk_section(Elf* elf, Elf_Scn* scn, bool eh_frame, const std::function<bool(const FdeView&)>& visit,
                  bool* complete = nullptr) {
  auto skipped = [&] {
    if (complete) *complete = false;
  };
  // A section whose entries cannot be read has entries nobody saw: for the
  // caller that asks, that is not the same as having none.
  auto unreadable = [&] {
    skipped();
    return true;
  };
  GElf_Shdr sh;
  if (gelf_getshdr(scn, &sh) == nullptr || sh.sh_type == SHT_NOBITS) return unreadable();
  // A compressed section is decompressed in memory; one that does not
  // decompress is unreadable, not empty.
  if ((sh.sh_flags & SHF_COMPRESSED) != 0 && elf_compress(scn, 0, 0) < 0) return unreadable();
  if (gelf_getshdr(scn, &sh) == nullptr) return unreadable();
  if (sh.sh_size == 0) return true;
  Elf_Data* data = elf_getdata(scn, nullptr);
  if (data == nullptr || data->d_buf == nullptr || data->d_size == 0) return unreadable();
  const unsigned char* ident = reinterpret_cast<const unsigned char*>(elf_getident(elf, nullptr));
  if (ident == nullptr) return unreadable();
  bool big_endian = ident[EI_DATA] == ELFDATA2MSB;
  size_t addr_size = ident[EI_CLASS] == ELFCLASS32 ? 4 : 8;
  const auto* base = static_cast<const uint8_t*>(data->d_buf);
  const uint8_t* end = base + data->d_size;

  std::unordered_map<Dwarf_Off, CieInfo> cies;
  auto cie_at = [&](Dwarf_Off off) -> const CieInfo& {
    auto [it, inserted] = cies.try_emplace(off);
    if (inserted) {
      Dwarf_Off next = 0;
      Dwarf_CFI_Entry e;
      if (dwarf_next_cfi(ident, data, eh_frame, off, &next, &e) == 0 && dwarf_cfi_cie_p(&e)) {
        it->second = parse_cie(e.cie, big_endian, addr_size);
        if (e.cie.initial_instructions != nullptr && e.cie.initial_instructions_end >= e.cie.initial_instructions)
          it->second.program = {e.cie.initial_instructions, e.cie.initial_instructions_end};
      }
    }
    return it->second;
  };

  Dwarf_Off off = 0;
  while (off < data->d_size) {
    Dwarf_Off next = 0;
    Dwarf_CFI_Entry e;
    int rc = dwarf_next_cfi(ident, data, eh_frame, off, &next, &e);
    if (rc == 1) {
      // A zero terminator: entries after it are still found by a reader
      // that does not walk (the unwinder's .eh_frame_hdr search table).
      // Zeros after it are the section's alignment padding, no entry
      // (riscv64's libc.so.6 of Debian 13: 4 of them).
      if (off + 4 < data->d_size && std::any_of(base + off + 4, end, [](uint8_t b) { return b != 0; })) skipped();
      break;
    }
    if (rc != 0) {
      skipped();
      if (next == 0 || next == static_cast<Dwarf_Off>(-1) || next <= off) break;  // cannot resync
      off = next;
      continue;
    }
    off = next;
    if (dwarf_cfi_cie_p(&e)) continue;
    const CieInfo& cie = cie_at(e.fde.CIE_pointer);
    if (!cie.usable || e.fde.start == nullptr || e.fde.start >= end) {
      skipped();
      continue;
    }
    ByteReader r(e.fde.start, e.fde.end, big_endian);
    uint64_t field_addr = sh.sh_addr + static_cast<uint64_t>(e.fde.start - base);
    auto start = read_encoded(r, cie.fde_encoding, field_addr, addr_size);
    auto len = read_encoded(r, static_cast<uint8_t>(cie.fde_encoding & 0x0f), 0, addr_size);
    if (!start || !len) skipped();
    if (!start || !len || *len == 0) continue;
    FdeView view;
    view.start = FileAddr(*start);
    view.end = FileAddr(*start + *len);
    view.cie_program = cie.program;
    view.fde_encoding = cie.fde_encoding;
    view.addr_size = addr_size;
    view.big_endian = big_endian;
    view.lsda = cie.lsda;
    // The instructions follow the augmentation data, length-prefixed with
    // 'z'; a CIE without augmentation (.debug_frame) has none.
    if (cie.has_augmentation_data) {
      uint64_t skip = r.uleb();
      if (r.ok() && skip <= static_cast<uint64_t>(e.fde.end - r.pos())) view.fde_program = {r.pos() + skip, e.fde.end};
    } else if (r.ok()) {
      view.fde_program = {r.pos(), e.fde.end};
    }
    if (!visit(view)) return false;
  }
  return true;
}

void for_each_section(Elf* elf, const std::function<bool(Elf_Scn*, bool eh_frame)>& visit) {
  size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) return;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == nullptr) continue;
    const char* name = elf_strptr(elf, shstrndx, sh.sh_name);
    if (name == nullptr) continue;
    bool stop = false;
    if (std::strcmp(name, ".eh_frame") == 0)
      stop = !visit(scn, true);
    else if (std::strcmp(name, ".debug_frame") == 0)
      stop = !visit(scn, false);
    if (stop) return;
  }
}

}  // namespace

}  // namespace uptrace::elf::detail

namespace uptrace::elf {

namespace {
// "DWARF for the Arm 64-bit Architecture": 0x2d is DW_CFA_GNU_window_save
// elsewhere; 0x2c is the FEAT_PAuth_LR form, which also signs with the pc.
constexpr uint8_t kCfaNegateRaState = 0x2d;
constexpr uint8_t kCfaNegateRaStateWithPc = 0x2c;
}  // namespace

CfaProgramScan scan_cfa_program(std::span<const uint8_t> program, uint8_t set_loc_encoding, size_t addr_size,
                                bool big_endian) {
  using detail::ByteReader;
  CfaProgramScan out;
  ByteReader r(program.data(), program.data() + program.size(), big_endian);
  auto block = [&] {
    uint64_t n = r.uleb();
    if (!r.ok() || n > static_cast<uint64_t>(program.data() + program.size() - r.pos())) return false;
    for (uint64_t i = 0; i < n; ++i) r.fixed(1);
    return r.ok();
  };
  while (r.ok() && r.pos() < program.data() + program.size()) {
    const auto op = static_cast<uint8_t>(r.fixed(1));
    switch (op & 0xc0) {
      case DW_CFA_advance_loc:
      case DW_CFA_restore:
        continue;
      case DW_CFA_offset:
        r.uleb();
        continue;
      default:
        break;
    }
    switch (op) {
      case DW_CFA_nop:
      case DW_CFA_remember_state:
      case DW_CFA_restore_state:
        break;
      case DW_CFA_set_loc:
        if (!detail::read_encoded(r, static_cast<uint8_t>(set_loc_encoding & 0x0f), 0, addr_size)) return out;
        break;
      case DW_CFA_advance_loc1: r.fixed(1); break;
      case DW_CFA_advance_loc2: r.fixed(2); break;
      case DW_CFA_advance_loc4: r.fixed(4); break;
      case DW_CFA_offset_extended:
      case DW_CFA_register:
      case DW_CFA_def_cfa:
      case DW_CFA_val_offset:
      case DW_CFA_GNU_negative_offset_extended:
        r.uleb();
        r.uleb();
        break;
      case DW_CFA_restore_extended:
      case DW_CFA_undefined:
      case DW_CFA_same_value:
      case DW_CFA_def_cfa_register:
      case DW_CFA_def_cfa_offset:
      case DW_CFA_GNU_args_size:
        r.uleb();
        break;
      case DW_CFA_def_cfa_expression:
        if (!block()) return out;
        break;
      case DW_CFA_expression:
      case DW_CFA_val_expression:
        r.uleb();
        if (!block()) return out;
        break;
      case DW_CFA_offset_extended_sf:
      case DW_CFA_def_cfa_sf:
      case DW_CFA_val_offset_sf:
        r.uleb();
        r.sleb();
        break;
      case DW_CFA_def_cfa_offset_sf:
        r.sleb();
        break;
      case kCfaNegateRaStateWithPc:
      case kCfaNegateRaState:
        out.negates_ra_state = true;
        break;
      default:
        return out;  // unknown: its operands cannot be skipped
    }
  }
  out.complete = r.ok();
  return out;
}

}  // namespace uptrace::elf

namespace uptrace::elf::detail {

void for_each_fde(Elf* elf, const std::function<bool(const FdeView&)>& visit) {
  for_each_section(elf, [&](Elf_Scn* scn, bool eh_frame) { return walk_section(elf, scn, eh_frame, visit); });
}

std::vector<std::pair<FileAddr, FileAddr>> read_frame_ranges(Elf* elf, const std::vector<LoadSegment>& segments) {
  std::vector<std::pair<FileAddr, FileAddr>> ranges;
  for_each_fde(elf, [&](const FdeView& fde) {
    ranges.emplace_back(fde.start, fde.end);
    return true;
  });
  // FDEs of code the linker discarded keep a zero or bogus start; only
  // ranges inside executable segments describe real code.
  std::erase_if(ranges, [&](const std::pair<FileAddr, FileAddr>& r) {
    return std::none_of(segments.begin(), segments.end(), [&](const LoadSegment& s) {
      return s.executable && r.first >= s.vaddr && r.first.value - s.vaddr.value < s.mem_size;
    });
  });
  std::sort(ranges.begin(), ranges.end());
  ranges.erase(std::unique(ranges.begin(), ranges.end()), ranges.end());
  return ranges;
}

std::optional<std::vector<std::pair<FileAddr, FileAddr>>> read_lsda_ranges(Elf* elf) {
  std::vector<std::pair<FileAddr, FileAddr>> ranges;
  bool found = false, complete = true;
  // Only .eh_frame: the unwinder that runs landing pads reads nothing else.
  for_each_section(elf, [&](Elf_Scn* scn, bool eh_frame) {
    if (!eh_frame) return true;
    found = true;
    return walk_section(
        elf, scn, true,
        [&](const FdeView& fde) {
          if (fde.lsda) ranges.emplace_back(fde.start, fde.end);
          return true;
        },
        &complete);
  });
  // No .eh_frame section (section headers stripped, say) says nothing.
  if (!found || !complete) return std::nullopt;
  std::sort(ranges.begin(), ranges.end());
  return ranges;
}

}  // namespace uptrace::elf::detail
