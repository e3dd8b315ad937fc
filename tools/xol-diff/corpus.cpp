#include "corpus.h"

#include <algorithm>
#include <set>

#include "raw_length.h"

namespace xol_diff {
namespace {

bool in_executable_segment(const uptrace::elf::ElfFile& elf, uint64_t addr, uint64_t size) {
  return std::any_of(elf.load_segments().begin(), elf.load_segments().end(), [&](const auto& s) {
    return s.executable && addr >= s.vaddr.value && addr + size <= s.vaddr.value + s.file_size;
  });
}

void scan(const FactsDecoder& decoder, const FunctionCode& fn, uint32_t index, std::set<uint64_t>& seen,
          std::vector<Boundary>& out) {
  size_t off = 0;
  const std::span<const uint8_t> code(fn.bytes);
  while (off < code.size()) {
    const auto rest = code.subspan(off, std::min<size_t>(15, code.size() - off));
    Boundary b{fn.start + off, index, 0, true};
    if (auto n = decoder.length(rest, b.addr)) {
      b.length = *n;
    } else {
      b.decodable = false;
      b.length = raw_length(rest).value_or(0);
    }
    if (seen.insert(b.addr).second) out.push_back(b);
    off += b.length ? b.length : 1;
  }
}

}  // namespace

Corpus load_corpus(const std::string& path, const FactsDecoder& decoder) {
  Corpus c;
  c.path = path;
  c.elf = uptrace::elf::ElfFile::open(path);
  std::set<uint64_t> starts;
  for (const auto& f : c.elf->functions()) {
    if (f.size == 0 || !starts.insert(f.addr.value).second) continue;
    if (!in_executable_segment(*c.elf, f.addr.value, f.size)) continue;
    FunctionCode fn{f.name, f.addr.value, c.elf->read(f.addr, f.size)};
    c.functions.push_back(std::move(fn));
  }
  std::set<uint64_t> seen;
  for (uint32_t i = 0; i < c.functions.size(); ++i) scan(decoder, c.functions[i], i, seen, c.boundaries);
  std::sort(c.boundaries.begin(), c.boundaries.end(), [](const Boundary& a, const Boundary& b) { return a.addr < b.addr; });
  return c;
}

}  // namespace xol_diff
