#include "memory_scene.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace xol_diff {
namespace {

void scan(std::span<const uint8_t> live, const std::vector<uint8_t>& pristine, uint64_t base,
          std::vector<std::pair<uint64_t, std::vector<uint8_t>>>& dirty) {
  if (std::memcmp(live.data(), pristine.data(), live.size()) == 0) return;
  for (size_t off = 0; off < live.size(); off += MemoryScene::kChunk) {
    if (std::memcmp(live.data() + off, pristine.data() + off, MemoryScene::kChunk) != 0) {
      dirty.emplace_back(base + off, std::vector<uint8_t>(live.begin() + off, live.begin() + off + MemoryScene::kChunk));
    }
  }
}

}  // namespace

MemoryScene::MemoryScene() : sandbox_(sandbox_pattern()), stack_(stack_pattern()) {}

void MemoryScene::watch(Child& child, const std::vector<uint64_t>& addresses) {
  reset(child);
  windows_.clear();
  last_.windows.clear();
  for (uint64_t a : addresses) {
    Window w{a, std::vector<uint8_t>(kWindow)};
    w.pristine.resize(child.read_some(a, w.pristine));
    if (!w.pristine.empty()) windows_.push_back(std::move(w));
  }
}

void MemoryScene::reset(Child& child) {
  if (first_) {
    std::copy(sandbox_.begin(), sandbox_.end(), child.sandbox().begin());
    std::copy(stack_.begin(), stack_.end(), child.stack().begin());
    first_ = false;
  }
  for (const auto& [addr, bytes] : last_.dirty) {
    (void)bytes;
    if (addr >= Layout::kStack) {
      const size_t off = addr - Layout::kStack;
      std::memcpy(child.stack().data() + off, stack_.data() + off, kChunk);
    } else {
      const size_t off = addr - Layout::kSandbox;
      std::memcpy(child.sandbox().data() + off, sandbox_.data() + off, kChunk);
    }
  }
  last_.dirty.clear();
  for (size_t i = 0; i < windows_.size() && i < last_.windows.size(); ++i) {
    if (last_.windows[i] != windows_[i].pristine) {
      child.memory().write(uptrace::RuntimeAddr(windows_[i].addr), windows_[i].pristine);
    }
  }
  last_.windows.clear();
}

MemoryImage MemoryScene::capture(Child& child) {
  MemoryImage m;
  scan(child.sandbox(), sandbox_, Layout::kSandbox, m.dirty);
  scan(child.stack(), stack_, Layout::kStack, m.dirty);
  for (const Window& w : windows_) {
    std::vector<uint8_t> now(w.pristine.size());
    now.resize(child.read_some(w.addr, now));
    m.windows.push_back(std::move(now));
  }
  last_ = m;
  return m;
}

std::string MemoryScene::difference(const MemoryImage& a, const MemoryImage& b) {
  auto chunk_at = [](const MemoryImage& m, uint64_t addr) -> const std::vector<uint8_t>* {
    for (const auto& [at, bytes] : m.dirty)
      if (at == addr) return &bytes;
    return nullptr;
  };
  std::vector<uint64_t> addrs;
  for (const auto& d : a.dirty) addrs.push_back(d.first);
  for (const auto& d : b.dirty) addrs.push_back(d.first);
  std::sort(addrs.begin(), addrs.end());
  for (uint64_t addr : addrs) {
    const auto* x = chunk_at(a, addr);
    const auto* y = chunk_at(b, addr);
    if (x && y && *x == *y) continue;
    for (size_t i = 0; i < kChunk; ++i) {
      // An undirtied chunk holds its pristine bytes; report only the byte that differs.
      const bool dx = x != nullptr, dy = y != nullptr;
      if (dx && dy && (*x)[i] == (*y)[i]) continue;
      const char* where = addr >= Layout::kStack ? "stack" : "sandbox";
      if (!dx || !dy) return fmt::format("{} chunk at {:#x} written only {}", where, addr, dx ? "in place" : "out of line");
      return fmt::format("{} byte at {:#x}: {:#04x} in place, {:#04x} out of line", where, addr + i, (*x)[i], (*y)[i]);
    }
  }
  for (size_t i = 0; i < a.windows.size() && i < b.windows.size(); ++i) {
    if (a.windows[i] != b.windows[i]) return fmt::format("memory at operand {} differs", i);
  }
  return {};
}

}  // namespace xol_diff
