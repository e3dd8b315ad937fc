#pragma once
// uptrace's side of a jump-probe ring (common/ring_layout.h): the memfd the
// target created, opened through /proc/PID/fd and mapped here too, so
// records are read without stopping the target. Owns that mapping.
#include <sys/types.h>

#include <cstdint>
#include <functional>

#include "common/address.h"
#include "common/ring_layout.h"

namespace uptrace::core {

class SharedRing {
 public:
  // Maps the target's fd `target_fd` (its ring at `target_address`). Throws
  // Error when it cannot be opened or mapped.
  SharedRing(pid_t pid, int target_fd, RuntimeAddr target_address, uint64_t capacity);
  ~SharedRing();
  SharedRing(const SharedRing&) = delete;
  SharedRing& operator=(const SharedRing&) = delete;

  RuntimeAddr target_address() const { return target_address_; }
  uint64_t capacity() const { return capacity_; }
  static uint64_t bytes(uint64_t capacity) { return ring::bytes_for(capacity); }

  // Hands published records, in order, to `take` and frees them for
  // writers: at most `limit`, so busy writers cannot keep the caller here;
  // stops early when `take` returns false. Returns how many it took.
  size_t drain(const std::function<bool(const ring::Record&)>& take, size_t limit);
  // Records writers dropped because the ring was full.
  uint64_t lost() const;
  // Lets trampolines read their thread pointer (see ring_layout.h).
  void set_thread_ids(bool enabled);
  bool thread_ids() const;

 private:
  RuntimeAddr target_address_;
  uint64_t capacity_;
  uint8_t* base_ = nullptr;
  uint64_t tail_ = 0;
};

}  // namespace uptrace::core
