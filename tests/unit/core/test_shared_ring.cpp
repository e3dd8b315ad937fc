// uptrace's reader of the jump-probe ring (core/shared_ring.h) against a ring
// written by hand the way trampolines write it (common/ring_layout.h): a
// memfd of this process, opened through /proc/self/fd as uptrace opens the
// target's. Records come out in sequence order, only once published, never
// twice; tail is published for writers; a full ring is made room in without
// losing a record; records whose writer died are counted at the end.
#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "core/shared_ring.h"

using namespace uptrace;

namespace {

constexpr uint64_t kCapacity = 8;

struct HandRing {
  int fd = -1;
  uint8_t* base = nullptr;
  uint64_t bytes = ring::bytes_for(kCapacity);
  uint64_t head = 0;

  HandRing() {
    fd = memfd_create("uptrace-test-ring", MFD_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(ftruncate(fd, static_cast<off_t>(bytes)) == 0);
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    REQUIRE(p != MAP_FAILED);
    base = static_cast<uint8_t*>(p);
  }
  ~HandRing() {
    munmap(base, bytes);
    close(fd);
  }
  uint64_t& word(uint64_t offset) { return *reinterpret_cast<uint64_t*>(base + offset); }
  ring::Record& slot(uint64_t seq) {
    return *reinterpret_cast<ring::Record*>(base + ring::kRecordsOffset + (seq % kCapacity) * ring::kRecordSize);
  }
  // What a trampoline does: reserve (or wait at its trap), fill, publish.
  // Returns the sequence number, or -1 when the ring was full.
  int64_t reserve() {
    if (head - word(ring::kTailOffset) >= kCapacity) return -1;
    word(ring::kHeadOffset) = head + 1;
    return static_cast<int64_t>(head++);
  }
  void fill(uint64_t seq, uint32_t probe, uint64_t value) {
    ring::Record& r = slot(seq);
    r.time = 1000 + seq;
    r.thread = 0;
    r.probe = probe;
    r.count = 1;
    r.values[0] = value;
  }
  void publish(uint64_t seq) { __atomic_store_n(&slot(seq).commit, seq + 1, __ATOMIC_RELEASE); }
};

std::vector<uint64_t> drain_values(core::SharedRing& reader, size_t limit = 1000) {
  std::vector<uint64_t> got;
  reader.drain([&](const ring::Record& r) {
    got.push_back(r.values[0]);
    return true;
  }, limit);
  return got;
}

}  // namespace

TEST_CASE("shared ring: published records in sequence order, each once", "[ring]") {
  HandRing w;
  core::SharedRing reader(getpid(), w.fd, RuntimeAddr(0x1000), kCapacity);
  CHECK(drain_values(reader).empty());
  for (uint64_t v = 0; v < 3; ++v) {
    int64_t seq = w.reserve();
    REQUIRE(seq == static_cast<int64_t>(v));
    w.fill(seq, 7, 100 + v);
    w.publish(seq);
  }
  CHECK(drain_values(reader) == std::vector<uint64_t>{100, 101, 102});
  CHECK(w.word(ring::kTailOffset) == 3);  // freed for writers
  CHECK(drain_values(reader).empty());    // never twice
}

TEST_CASE("shared ring: a reserved record not yet published holds back the ones after it", "[ring]") {
  HandRing w;
  core::SharedRing reader(getpid(), w.fd, RuntimeAddr(0x1000), kCapacity);
  int64_t slow = w.reserve(), fast = w.reserve();
  w.fill(fast, 1, 2);
  w.publish(fast);
  CHECK(drain_values(reader).empty());  // in order: the second waits for the first
  CHECK(w.word(ring::kTailOffset) == 0);
  w.fill(slow, 1, 1);
  w.publish(slow);
  CHECK(drain_values(reader) == std::vector<uint64_t>{1, 2});
}

TEST_CASE("shared ring: a full ring frees slots as it is drained, wrapping around reads the new lap", "[ring]") {
  HandRing w;
  core::SharedRing reader(getpid(), w.fd, RuntimeAddr(0x1000), kCapacity);
  for (uint64_t v = 0; v < kCapacity; ++v) {
    int64_t seq = w.reserve();
    w.fill(seq, 1, v);
    w.publish(seq);
  }
  CHECK(w.reserve() == -1);
  CHECK(reader.full());
  // A limit leaves the rest for the next call.
  CHECK(drain_values(reader, 5) == std::vector<uint64_t>{0, 1, 2, 3, 4});
  CHECK(w.word(ring::kTailOffset) == 5);
  // Slots 0-4 are free again: the next lap lands in them, after the old ones.
  for (uint64_t v = 8; v < 13; ++v) {
    int64_t seq = w.reserve();
    REQUIRE(seq == static_cast<int64_t>(v));
    w.fill(seq, 1, v);
    w.publish(seq);
  }
  CHECK(w.reserve() == -1);
  CHECK(drain_values(reader) == std::vector<uint64_t>{5, 6, 7, 8, 9, 10, 11, 12});
  // A record of the old lap left in a slot is not taken for the new one.
  CHECK(drain_values(reader).empty());
}

TEST_CASE("shared ring: the taker can stop the drain after a record", "[ring]") {
  HandRing w;
  core::SharedRing reader(getpid(), w.fd, RuntimeAddr(0x1000), kCapacity);
  for (uint64_t v = 0; v < 4; ++v) {
    int64_t seq = w.reserve();
    w.fill(seq, 1, v);
    w.publish(seq);
  }
  std::vector<uint64_t> got;
  CHECK(reader.drain([&](const ring::Record& r) {
    got.push_back(r.values[0]);
    return got.size() < 2;
  }, 100) == 2);
  CHECK(got == std::vector<uint64_t>{0, 1});
  CHECK(w.word(ring::kTailOffset) == 2);
  CHECK(drain_values(reader) == std::vector<uint64_t>{2, 3});
}

TEST_CASE("shared ring: making room moves records to the backlog, which drains first and in order", "[ring]") {
  HandRing w;
  core::SharedRing reader(getpid(), w.fd, RuntimeAddr(0x1000), kCapacity);
  auto write = [&](uint64_t v) {
    int64_t seq = w.reserve();
    REQUIRE(seq >= 0);
    w.fill(static_cast<uint64_t>(seq), 1, v);
    w.publish(static_cast<uint64_t>(seq));
  };
  for (uint64_t v = 0; v < kCapacity; ++v) write(v);
  REQUIRE(reader.full());
  reader.make_room();
  CHECK_FALSE(reader.full());
  CHECK(w.word(ring::kTailOffset) == kCapacity);
  for (uint64_t v = kCapacity; v < kCapacity + 3; ++v) write(v);  // the next lap, over the moved ones
  CHECK(drain_values(reader, 6) == std::vector<uint64_t>{0, 1, 2, 3, 4, 5});
  CHECK(drain_values(reader) == std::vector<uint64_t>{6, 7, 8, 9, 10});
}

TEST_CASE("shared ring: finishing takes what was published past a record whose writer died", "[ring]") {
  HandRing w;
  core::SharedRing reader(getpid(), w.fd, RuntimeAddr(0x1000), kCapacity);
  int64_t a = w.reserve(), dead = w.reserve(), b = w.reserve();
  w.fill(a, 1, 1);
  w.publish(a);
  w.fill(b, 1, 3);
  w.publish(b);
  (void)dead;  // reserved, never published: its thread was killed
  CHECK(drain_values(reader) == std::vector<uint64_t>{1});  // held back while a writer may still finish it
  std::vector<uint64_t> got;
  CHECK(reader.finish([&](const ring::Record& r) {
    got.push_back(r.values[0]);
    return true;
  }) == 1);
  CHECK(got == std::vector<uint64_t>{3});
  CHECK(w.word(ring::kTailOffset) == 3);
}
