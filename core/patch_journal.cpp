#include "core/patch_journal.h"

#include <errno.h>

#include "common/error.h"

namespace uptrace::core {

size_t PatchJournal::patch(RuntimeAddr addr, std::span<const uint8_t> bytes) {
  Entry e{addr, std::vector<uint8_t>(bytes.size()), std::vector<uint8_t>(bytes.begin(), bytes.end())};
  if (!memory_->read(addr, e.original))
    throw_runtime("cannot read {} bytes at {:#x} in pid {}: {}", bytes.size(), addr.value, memory_->pid(),
                  errno_text(errno));
  entries_.push_back(std::move(e));
  if (!memory_->write(addr, bytes)) {
    int err = errno;
    entries_.pop_back();
    throw_runtime("cannot write {} bytes at {:#x} in pid {}: {}", bytes.size(), addr.value, memory_->pid(),
                  errno_text(err));
  }
  return entries_.size() - 1;
}

void PatchJournal::revert(size_t id) {
  Entry& e = entries_.at(id);
  if (!e.live) return;
  memory_->write_or_throw(e.addr, e.original);
  e.live = false;
}

size_t PatchJournal::revert_all() {
  size_t failed = 0;
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (!it->live) continue;
    if (memory_->write(it->addr, it->original))
      it->live = false;
    else
      ++failed;
  }
  return failed;
}

size_t PatchJournal::revert_range(AddressRange range) {
  size_t failed = 0;
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (!it->live || !range.contains(it->addr)) continue;
    if (memory_->write(it->addr, it->original))
      it->live = false;
    else
      ++failed;
  }
  return failed;
}

void PatchJournal::forget_range(AddressRange range) {
  for (Entry& e : entries_)
    if (range.contains(e.addr)) e.live = false;
}

size_t PatchJournal::revert_all_in(TraceeMemory& other) const {
  size_t failed = 0;
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
    if (it->live && !other.write(it->addr, it->original)) ++failed;
  return failed;
}

void PatchJournal::inherit(const PatchJournal& other) {
  for (const Entry& e : other.entries_)
    if (e.live) entries_.push_back(e);
}

bool PatchJournal::empty() const {
  for (const Entry& e : entries_)
    if (e.live) return false;
  return true;
}

}  // namespace uptrace::core
