#include "core/return_stack.h"

#include <algorithm>

namespace uptrace::core {

const ReturnFrame* ReturnStack::newest_at_slot(uint64_t slot) const {
  for (auto it = frames_.rbegin(); it != frames_.rend(); ++it)
    if (it->armed && it->slot == slot) return &*it;
  return nullptr;
}

const ReturnFrame* ReturnStack::newest_at_entry(uint64_t entry_sp) const {
  for (auto it = frames_.rbegin(); it != frames_.rend(); ++it)
    if (it->armed && it->entry_sp == entry_sp) return &*it;
  return nullptr;
}

const ReturnFrame* ReturnStack::innermost(uint64_t sp) const {
  for (auto it = frames_.rbegin(); it != frames_.rend(); ++it)
    if (it->armed && it->entry_sp >= sp) return &*it;
  return nullptr;
}

std::vector<ReturnFrame> ReturnStack::pop_returning(uint64_t sp) {
  std::vector<ReturnFrame> out;
  auto k = std::find_if(frames_.rbegin(), frames_.rend(), [&](const ReturnFrame& f) { return f.armed && f.sp_after == sp; });
  if (k == frames_.rend()) return out;
  size_t index = static_cast<size_t>(std::distance(k, frames_.rend())) - 1;
  std::vector<size_t> taken{index};
  // A chained frame was entered with the stack pointer of the frame that
  // hijacked its return address first, which may be further down with other
  // frames (dead, or of another stack) in between.
  while (frames_[index].chained) {
    size_t j = index;
    bool found = false;
    while (j-- > 0) {
      if (frames_[j].armed && frames_[j].entry_sp == frames_[index].entry_sp) {
        found = true;
        break;
      }
    }
    if (!found) break;
    taken.push_back(j);
    index = j;
  }
  for (size_t i : taken) out.push_back(frames_[i]);
  // Indexes are descending: erasing from the highest keeps the rest valid.
  for (size_t i : taken) frames_.erase(frames_.begin() + static_cast<std::ptrdiff_t>(i));
  return out;
}

size_t ReturnStack::drop_if(const std::function<bool(const ReturnFrame&)>& dead) {
  size_t before = frames_.size();
  frames_.erase(std::remove_if(frames_.begin(), frames_.end(), dead), frames_.end());
  return before - frames_.size();
}

}  // namespace uptrace::core
