#include "layout.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace xol_diff {
namespace {

constexpr uint64_t kPage = 0x1000;
// Where a position-independent file's first page goes.
constexpr uint64_t kPieBase = 0x200000000000;

uint64_t page_down(uint64_t a) { return a & ~(kPage - 1); }
uint64_t page_up(uint64_t a) { return (a + kPage - 1) & ~(kPage - 1); }

std::vector<ImageSegment> read_segments(const std::string& path, bool& pie) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(fmt::format("{}: cannot open", path));
  Elf64_Ehdr eh{};
  std::vector<Elf64_Phdr> ph;
  bool ok = ::pread(fd, &eh, sizeof eh, 0) == static_cast<ssize_t>(sizeof eh) &&
            std::equal(eh.e_ident, eh.e_ident + SELFMAG, ELFMAG) && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
            eh.e_machine == EM_X86_64 && eh.e_phentsize == sizeof(Elf64_Phdr);
  if (ok) {
    ph.resize(eh.e_phnum);
    const auto bytes = static_cast<ssize_t>(ph.size() * sizeof(Elf64_Phdr));
    ok = ::pread(fd, ph.data(), static_cast<size_t>(bytes), static_cast<off_t>(eh.e_phoff)) == bytes;
  }
  ::close(fd);
  if (!ok) throw std::runtime_error(fmt::format("{}: not a readable x86-64 ELF file", path));
  pie = eh.e_type == ET_DYN;
  std::vector<ImageSegment> out;
  for (const auto& p : ph) {
    if (p.p_type != PT_LOAD || p.p_memsz == 0) continue;
    int prot = 0;
    if (p.p_flags & PF_R) prot |= PROT_READ;
    if (p.p_flags & PF_W) prot |= PROT_WRITE;
    if (p.p_flags & PF_X) prot |= PROT_EXEC;
    out.push_back({p.p_vaddr, p.p_offset, p.p_filesz, p.p_memsz, prot});
  }
  if (out.empty()) throw std::runtime_error(fmt::format("{}: no loadable segments", path));
  return out;
}

}  // namespace

Layout make_layout(const std::string& path) {
  Layout l;
  l.path = path;
  bool pie = false;
  l.segments = read_segments(path, pie);
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const auto& s : l.segments) {
    lo = std::min(lo, page_down(s.vaddr));
    hi = std::max(hi, page_up(s.vaddr + s.mem_size));
  }
  l.bias = pie ? kPieBase - lo : 0;
  l.image_start = lo + l.bias;
  l.image_end = hi + l.bias;
  // A gap of a few pages, as the core's scratch placement leaves.
  l.near_slot = l.image_end + 16 * kPage;
  if (l.image_end > Layout::kSandbox || Layout::kFarSlot - l.image_end < (uint64_t{4} << 30)) {
    throw std::runtime_error(fmt::format("{}: its addresses collide with xol-diff's sandbox", path));
  }
  return l;
}

}  // namespace xol_diff
