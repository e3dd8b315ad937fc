// Reading .note.stapsdt: one NT_STAPSDT note of owner "stapsdt" per marker,
// whose descriptor is three addresses (the nop, the link-time address of
// .stapsdt.base, the semaphore or 0) and three strings (provider, name,
// arguments). A file whose addresses moved after linking (prelink) tells by
// .stapsdt.base: its address now minus the one in the note is added, as
// systemtap does.
#include <cstring>

#include "elf/elf_internal.h"

namespace uptrace::elf::detail {

namespace {

constexpr uint32_t kNtStapsdt = 3;

uint64_t read_address(const uint8_t* p, size_t size, bool big_endian) {
  uint64_t v = 0;
  for (size_t i = 0; i < size; ++i) v = (v << 8) | p[big_endian ? i : size - 1 - i];
  return v;
}

std::optional<uint64_t> section_address(Elf* elf, std::string_view wanted) {
  size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) return std::nullopt;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == nullptr) continue;
    const char* name = elf_strptr(elf, shstrndx, sh.sh_name);
    if (name != nullptr && wanted == name) return sh.sh_addr;
  }
  return std::nullopt;
}

}  // namespace

std::vector<SdtMarker> read_sdt_markers(Elf* elf, uint16_t machine) {
  std::vector<SdtMarker> out;
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf, &ehdr) == nullptr) return out;
  const size_t addr_size = ehdr.e_ident[EI_CLASS] == ELFCLASS32 ? 4 : 8;
  const bool big_endian = ehdr.e_ident[EI_DATA] == ELFDATA2MSB;
  const std::optional<uint64_t> base_now = section_address(elf, ".stapsdt.base");
  size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) return out;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == nullptr || sh.sh_type != SHT_NOTE) continue;
    const char* section = elf_strptr(elf, shstrndx, sh.sh_name);
    if (section == nullptr || std::strcmp(section, ".note.stapsdt") != 0) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr) continue;
    const auto* bytes = static_cast<const uint8_t*>(data->d_buf);
    size_t offset = 0;
    GElf_Nhdr nhdr;
    size_t name_at = 0, desc_at = 0;
    while ((offset = gelf_getnote(data, offset, &nhdr, &name_at, &desc_at)) > 0) {
      if (nhdr.n_type != kNtStapsdt || nhdr.n_namesz != sizeof "stapsdt" ||
          std::memcmp(bytes + name_at, "stapsdt", sizeof "stapsdt") != 0 || nhdr.n_descsz < 3 * addr_size)
        continue;
      const uint8_t* desc = bytes + desc_at;
      const uint64_t pc = read_address(desc, addr_size, big_endian);
      const uint64_t base = read_address(desc + addr_size, addr_size, big_endian);
      const uint64_t semaphore = read_address(desc + 2 * addr_size, addr_size, big_endian);
      // Three NUL-terminated strings; a note cut short is skipped whole.
      const char* text = reinterpret_cast<const char*>(desc + 3 * addr_size);
      const size_t left = nhdr.n_descsz - 3 * addr_size;
      std::string_view strings(text, left);
      std::string_view parts[3];
      bool whole = true;
      for (std::string_view& part : parts) {
        size_t nul = strings.find('\0');
        if (nul == std::string_view::npos) {
          whole = false;
          break;
        }
        part = strings.substr(0, nul);
        strings.remove_prefix(nul + 1);
      }
      if (!whole || parts[0].empty() || parts[1].empty()) continue;
      const uint64_t moved = base_now && base != 0 ? *base_now - base : 0;
      SdtMarker m;
      m.provider = std::string(parts[0]);
      m.name = std::string(parts[1]);
      m.pc = FileAddr(pc + moved);
      if (semaphore != 0) m.semaphore = FileAddr(semaphore + moved);
      m.args_text = std::string(parts[2]);
      m.args = parse_sdt_args(parts[2], machine);
      out.push_back(std::move(m));
    }
  }
  return out;
}

}  // namespace uptrace::elf::detail
