#include "cmd/elf_image.h"

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

#include "common/error.h"

namespace uptrace::cmd {

namespace {

class ElfImage final : public arch::ImageReader {
 public:
  ElfImage(std::shared_ptr<const elf::ElfFile> elf, uint64_t load_bias) : elf_(std::move(elf)), bias_(load_bias) {}
  bool read(RuntimeAddr addr, std::span<uint8_t> out) const override {
    if (addr.value < bias_) return false;
    // What a writable segment holds at run time is the program's to change:
    // the file's bytes would prove nothing about a jump table kept there.
    const FileAddr file_addr(addr.value - bias_);
    const elf::LoadSegment* segment = elf::segment_holding(elf_->load_segments(), file_addr, out.size());
    if (segment == nullptr || segment->writable) return false;
    try {
      std::vector<uint8_t> bytes = elf_->read_in(*segment, file_addr, out.size());
      if (bytes.size() != out.size()) return false;
      std::copy(bytes.begin(), bytes.end(), out.begin());
      return true;
    } catch (const Error&) {
      return false;  // the file is shorter than its program headers say, or unreadable
    }
  }
  std::optional<bool> pointer_into(RuntimeAddr lo, RuntimeAddr hi) const override {
    const auto& pointers = elf_->relocated_pointers();
    if (!pointers || lo.value < bias_) return std::nullopt;
    auto next = std::upper_bound(pointers->begin(), pointers->end(), FileAddr(lo.value - bias_));
    return next != pointers->end() && next->value + bias_ < hi.value;
  }
  std::optional<bool> landing_pads_in(RuntimeAddr lo, RuntimeAddr hi) const override {
    if (lo.value < bias_ || hi < lo) return std::nullopt;
    return elf_->may_have_landing_pads(FileAddr(lo.value - bias_), FileAddr(hi.value - bias_));
  }
  std::optional<bool> frame_starts_in(RuntimeAddr lo, RuntimeAddr hi) const override {
    if (lo.value < bias_ || hi < lo) return std::nullopt;
    for (uint64_t a = lo.value + 1; a < hi.value; ++a)
      if (auto range = elf_->frame_range_containing(FileAddr(a - bias_)); range && range->first.value == a - bias_)
        return true;
    return false;
  }
  bool functions_complete() const override { return elf_->has_symtab(); }
  std::vector<arch::CodePart> functions() const override {
    std::call_once(code_once_, [&] {
      uint64_t last = 0;
      for (const elf::Function& f : elf_->functions()) {
        if (f.size == 0 || f.addr.value == last) continue;  // aliases share their bytes
        last = f.addr.value;
        try {
          code_.push_back({RuntimeAddr(f.addr.value + bias_), elf_->read(f.addr, f.size)});
        } catch (const Error&) {
          // Not in a segment's file bytes (a symbol in .bss): no code.
        }
      }
    });
    std::vector<arch::CodePart> out;
    out.reserve(code_.size());
    for (const auto& [at, bytes] : code_) out.push_back({at, bytes});
    return out;
  }

 private:
  std::shared_ptr<const elf::ElfFile> elf_;
  uint64_t bias_;
  mutable std::once_flag code_once_;
  mutable std::vector<std::pair<RuntimeAddr, std::vector<uint8_t>>> code_;
};

}  // namespace

std::shared_ptr<const arch::ImageReader> elf_image(std::shared_ptr<const elf::ElfFile> elf, uint64_t load_bias) {
  return std::make_shared<ElfImage>(std::move(elf), load_bias);
}

}  // namespace uptrace::cmd
