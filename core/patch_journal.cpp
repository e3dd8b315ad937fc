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

namespace {

// Takes one off the count at `addr`; a count another tracer already took
// to 0 stays 0 rather than wrap to 65535 (which would enable the marker).
bool lower_counter(TraceeMemory& memory, RuntimeAddr addr) {
  uint16_t value = 0;
  std::span<uint8_t> bytes{reinterpret_cast<uint8_t*>(&value), sizeof value};
  if (!memory.read(addr, bytes)) return false;
  if (value > 0) --value;
  return memory.write(addr, bytes);
}

bool undo(TraceeMemory& memory, const PatchJournal::Entry& e) {
  return e.counter ? lower_counter(memory, e.addr) : memory.write(e.addr, e.original);
}

}  // namespace

size_t PatchJournal::raise_counter(RuntimeAddr addr) {
  uint16_t value = 0;
  std::span<uint8_t> bytes{reinterpret_cast<uint8_t*>(&value), sizeof value};
  if (!memory_->read(addr, bytes))
    throw_runtime("cannot read the semaphore at {:#x} in pid {}: {}", addr.value, memory_->pid(), errno_text(errno));
  Entry e{addr, std::vector<uint8_t>(bytes.begin(), bytes.end()), {}, true, true};
  ++value;
  e.patched.assign(bytes.begin(), bytes.end());
  entries_.push_back(std::move(e));
  if (!memory_->write(addr, bytes)) {
    int err = errno;
    entries_.pop_back();
    throw_runtime("cannot write the semaphore at {:#x} in pid {}: {}", addr.value, memory_->pid(), errno_text(err));
  }
  return entries_.size() - 1;
}

void PatchJournal::revert(size_t id) {
  Entry& e = entries_.at(id);
  if (!e.live) return;
  if (e.counter) {
    if (!lower_counter(*memory_, e.addr))
      throw_runtime("cannot write the semaphore at {:#x} in pid {}: {}", e.addr.value, memory_->pid(),
                    errno_text(errno));
  } else {
    memory_->write_or_throw(e.addr, e.original);
  }
  e.live = false;
}

size_t PatchJournal::revert_all() {
  size_t failed = 0;
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (!it->live) continue;
    if (undo(*memory_, *it))
      it->live = false;
    else
      ++failed;
  }
  return failed;
}

size_t PatchJournal::revert_range(AddressRange range) {
  size_t failed = 0;
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    // A semaphore stays raised: if its library survives the dlclose it is
    // still armed (only code is patched again), and if it goes the counter
    // goes with it and forget_range drops the entry.
    if (!it->live || it->counter || !range.contains(it->addr)) continue;
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
    if (it->live && !undo(other, *it)) ++failed;
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
