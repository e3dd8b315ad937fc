// Whether a file is Go code, and which Go built it, from its .go.buildinfo
// section (the header `go version FILE` reads): Go's runtime moves goroutine
// stacks and checks the return addresses on them, and passes arguments in
// its own registers.
#include <cstring>

#include "elf/elf_internal.h"

namespace uptrace::elf::detail {
namespace {

constexpr char kMagic[] = "\xff Go buildinf:";
constexpr size_t kMagicSize = sizeof kMagic - 1;  // 14
constexpr size_t kHeaderSize = 32;

uint64_t read_uint(const uint8_t* p, size_t n, bool big_endian) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | p[big_endian ? i : n - 1 - i];
  return v;
}

// The bytes at file address [addr, addr+size), from the section holding them.
std::optional<std::vector<uint8_t>> read_at(Elf* elf, uint64_t addr, uint64_t size) {
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == nullptr || sh.sh_type == SHT_NOBITS) continue;
    if (addr < sh.sh_addr || addr - sh.sh_addr > sh.sh_size || size > sh.sh_size - (addr - sh.sh_addr)) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr || data->d_buf == nullptr || data->d_size < sh.sh_size) return std::nullopt;
    const auto* p = static_cast<const uint8_t*>(data->d_buf) + (addr - sh.sh_addr);
    return std::vector<uint8_t>(p, p + size);
  }
  return std::nullopt;
}

std::string read_version(Elf* elf, std::span<const uint8_t> info) {
  if (info.size() < kHeaderSize) return {};
  const size_t ptr_size = info[kMagicSize];
  const uint8_t flags = info[kMagicSize + 1];
  const bool big_endian = (flags & 1) != 0;
  if ((flags & 2) != 0) {
    // Go 1.18+: the version inline after the header, uvarint-length-prefixed.
    uint64_t len = 0;
    size_t i = kHeaderSize;
    for (unsigned shift = 0; i < info.size() && shift < 64; shift += 7) {
      uint8_t b = info[i++];
      len |= uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0) break;
    }
    if (len > info.size() - i) return {};
    return std::string(reinterpret_cast<const char*>(info.data() + i), len);
  }
  // Before: a pointer to the version's Go string header (data, len).
  if (ptr_size != 4 && ptr_size != 8) return {};
  uint64_t header = read_uint(info.data() + 16, ptr_size, big_endian);
  auto string_header = read_at(elf, header, 2 * ptr_size);
  if (!string_header) return {};
  uint64_t data = read_uint(string_header->data(), ptr_size, big_endian);
  uint64_t len = read_uint(string_header->data() + ptr_size, ptr_size, big_endian);
  if (len > 64) return {};
  auto text = read_at(elf, data, len);
  return text ? std::string(text->begin(), text->end()) : std::string();
}

}  // namespace

std::optional<std::string> read_go_version(Elf* elf) {
  size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) return std::nullopt;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == nullptr) continue;
    const char* name = elf_strptr(elf, shstrndx, sh.sh_name);
    if (name == nullptr || std::strcmp(name, ".go.buildinfo") != 0) continue;
    Elf_Data* data = sh.sh_type == SHT_NOBITS ? nullptr : elf_getdata(scn, nullptr);
    if (data == nullptr || data->d_buf == nullptr || data->d_size < kMagicSize ||
        std::memcmp(data->d_buf, kMagic, kMagicSize) != 0)
      return std::string();
    return read_version(elf, std::span(static_cast<const uint8_t*>(data->d_buf), data->d_size));
  }
  return std::nullopt;
}

}  // namespace uptrace::elf::detail
