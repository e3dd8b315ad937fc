#pragma once
// uptrace's side of a jump-probe ring (common/ring_layout.h): the memfd the
// target created, opened through /proc/PID/fd and mapped here too, so
// records are read without stopping the target, and still read after the
// target has unmapped it or is gone. Owns that mapping.
#include <sys/types.h>

#include <cstdint>
#include <deque>
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

  using Taker = std::function<bool(const ring::Record&)>;
  // Hands published records, in order, to `take` and frees them for
  // writers: at most `limit`, so busy writers cannot keep the caller here;
  // stops early when `take` returns false. Returns how many it took.
  size_t drain(const Taker& take, size_t limit);
  // Frees the whole ring for writers without handing anything out yet: the
  // published records move to a backlog of uptrace's own, which drain()
  // hands out first. For when writers must go on now and formatting must
  // wait (detaching).
  void make_room();
  // Once no writer can run any more (its process is gone, or every thread is
  // out of the trampolines for good): hands out every published record and
  // returns how many reserved records never got published, whose writers
  // died half way through them.
  uint64_t finish(const Taker& take);
  // Whether a writer would find the ring full now.
  bool full() const;

  // How trampolines name their thread (ring::ThreadIdMode).
  void set_thread_id_mode(ring::ThreadIdMode mode);
  ring::ThreadIdMode thread_id_mode() const;

 private:
  uint8_t* slot(uint64_t sequence) const;
  bool published(uint64_t sequence) const;
  void publish_tail();

  RuntimeAddr target_address_;
  uint64_t capacity_;
  uint8_t* base_ = nullptr;
  uint64_t tail_ = 0;
  std::deque<ring::Record> backlog_;
};

}  // namespace uptrace::core
