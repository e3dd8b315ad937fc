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

uint8_t* SharedRing::slot(uint64_t sequence) const {
  return base_ + ring::kRecordsOffset + (sequence & (capacity_ - 1)) * ring::kRecordSize;
}

// Published when commit is the sequence + 1; acquire pairs with the
// writer's ordered stores (x86-64 keeps stores in order). A slot's commit
// from an older lap is smaller, so it is never taken for the new one.
bool SharedRing::published(uint64_t sequence) const {
  return word_at(slot(sequence), ring::kRecordOffsetCommit).load(std::memory_order_acquire) == sequence + 1;
}

void SharedRing::publish_tail() { word_at(base_, ring::kTailOffset).store(tail_, std::memory_order_release); }

size_t SharedRing::drain(const Taker& take, size_t limit) {
  size_t taken = 0;
  while (taken < limit && !backlog_.empty()) {
    const ring::Record record = backlog_.front();
    backlog_.pop_front();
    ++taken;
    if (!take(record)) return taken;
  }
  while (taken < limit && published(tail_)) {
    const ring::Record record = *reinterpret_cast<const ring::Record*>(slot(tail_));
    const bool more = take(record);
    ++tail_;
    ++taken;
    // Writers read tail on every reservation: publish it now and then, not
    // per record, to keep its cache line from bouncing.
    if (taken % kPublishEvery == 0) publish_tail();
    if (!more) break;
  }
  publish_tail();
  return taken;
}

void SharedRing::make_room() {
  for (; published(tail_); ++tail_) backlog_.push_back(*reinterpret_cast<const ring::Record*>(slot(tail_)));
  publish_tail();
}

uint64_t SharedRing::finish(const Taker& take) {
  bool more = true;
  while (more && !backlog_.empty()) {
    more = take(backlog_.front());
    backlog_.pop_front();
  }
  backlog_.clear();
  const uint64_t head = word_at(base_, ring::kHeadOffset).load(std::memory_order_acquire);
  uint64_t unpublished = 0;
  for (; tail_ < head; ++tail_) {
    if (!published(tail_)) {
      ++unpublished;
      continue;
    }
    if (more) more = take(*reinterpret_cast<const ring::Record*>(slot(tail_)));
  }
  publish_tail();
  return unpublished;
}

bool SharedRing::full() const {
  const uint64_t head = word_at(base_, ring::kHeadOffset).load(std::memory_order_acquire);
  return head - tail_ >= capacity_;
}

void SharedRing::set_thread_id_mode(ring::ThreadIdMode mode) {
  word_at(base_, ring::kThreadIdsOffset).store(mode, std::memory_order_release);
}

ring::ThreadIdMode SharedRing::thread_id_mode() const {
  return static_cast<ring::ThreadIdMode>(word_at(base_, ring::kThreadIdsOffset).load(std::memory_order_acquire));
}

}  // namespace uptrace::core
