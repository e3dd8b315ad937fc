#include "core/shared_ring.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

#include "common/error.h"

namespace uptrace::core {
namespace {

constexpr size_t kPublishEvery = 256;

std::atomic_ref<uint64_t> word_at(uint8_t* base, uint64_t offset) {
  return std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(base + offset));
}

}  // namespace

SharedRing::SharedRing(pid_t pid, int target_fd, RuntimeAddr target_address, uint64_t capacity)
    : target_address_(target_address), capacity_(capacity) {
  const std::string path = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(target_fd);
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) throw_runtime("cannot open the jump-probe ring {}: {}", path, errno_text(errno));
  void* p = ::mmap(nullptr, bytes(capacity), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int mmap_errno = errno;
  ::close(fd);
  if (p == MAP_FAILED) throw_runtime("cannot map the jump-probe ring {}: {}", path, errno_text(mmap_errno));
  base_ = static_cast<uint8_t*>(p);
}

SharedRing::~SharedRing() {
  if (base_) ::munmap(base_, bytes(capacity_));
}

size_t SharedRing::drain(const std::function<bool(const ring::Record&)>& take, size_t limit) {
  size_t taken = 0;
  while (taken < limit) {
    uint8_t* slot = base_ + ring::kRecordsOffset + (tail_ & (capacity_ - 1)) * ring::kRecordSize;
    // Published when commit is this sequence + 1; acquire pairs with the
    // writer's ordered stores (x86-64 keeps stores in order).
    if (word_at(slot, ring::kRecordOffsetCommit).load(std::memory_order_acquire) != tail_ + 1) break;
    const ring::Record record = *reinterpret_cast<const ring::Record*>(slot);
    const bool more = take(record);
    ++tail_;
    ++taken;
    // Writers read tail on every reservation: publish it now and then, not
    // per record, to keep its cache line from bouncing.
    if (taken % kPublishEvery == 0) word_at(base_, ring::kTailOffset).store(tail_, std::memory_order_release);
    if (!more) break;
  }
  word_at(base_, ring::kTailOffset).store(tail_, std::memory_order_release);
  return taken;
}

uint64_t SharedRing::lost() const {
  return word_at(base_, ring::kLostOffset).load(std::memory_order_acquire);
}

void SharedRing::set_thread_ids(bool enabled) {
  word_at(base_, ring::kThreadIdsOffset).store(enabled ? 1 : 0, std::memory_order_release);
}

}  // namespace uptrace::core

namespace uptrace::core {

bool SharedRing::thread_ids() const {
  return word_at(base_, ring::kThreadIdsOffset).load(std::memory_order_acquire) != 0;
}

}  // namespace uptrace::core
