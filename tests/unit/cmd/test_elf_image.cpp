// The jump analysis's view of a module's bytes (cmd/elf_image.h): it takes
// bytes from read-only segments only, as a jump table in a writable one may
// hold other entries at run time than the file says. The ELF read is this
// test program's own, as built, and copies of it with one program header
// spoiled.
#include <elf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "cmd/elf_image.h"
#include "elf/elf_file.h"

using uptrace::RuntimeAddr;
using uptrace::cmd::elf_image;
using uptrace::elf::ElfFile;

namespace {

std::vector<char> own_bytes() {
  std::ifstream in("/proc/self/exe", std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(bytes.size() > sizeof(Elf64_Ehdr));
  return bytes;
}

Elf64_Phdr phdr(const std::vector<char>& bytes, unsigned i) {
  Elf64_Ehdr eh;
  std::memcpy(&eh, bytes.data(), sizeof eh);
  Elf64_Phdr ph;
  std::memcpy(&ph, bytes.data() + eh.e_phoff + i * eh.e_phentsize, sizeof ph);
  return ph;
}

void set_phdr(std::vector<char>& bytes, unsigned i, const Elf64_Phdr& ph) {
  Elf64_Ehdr eh;
  std::memcpy(&eh, bytes.data(), sizeof eh);
  std::memcpy(bytes.data() + eh.e_phoff + i * eh.e_phentsize, &ph, sizeof ph);
}

unsigned phdr_count(const std::vector<char>& bytes) {
  Elf64_Ehdr eh;
  std::memcpy(&eh, bytes.data(), sizeof eh);
  return eh.e_phnum;
}

// The image of `bytes` loaded at 0, read through a memfd that lives as
// long as the test.
class Image {
 public:
  explicit Image(const std::vector<char>& bytes) : fd_(memfd_create("uptrace-elf-image-test", MFD_CLOEXEC)) {
    REQUIRE(fd_ >= 0);
    REQUIRE(write(fd_, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
    image_ = elf_image(ElfFile::open("/proc/self/fd/" + std::to_string(fd_)), 0);
  }
  ~Image() { close(fd_); }
  Image(const Image&) = delete;
  Image& operator=(const Image&) = delete;
  std::optional<std::vector<uint8_t>> read(uint64_t addr, size_t size) const {
    std::vector<uint8_t> out(size);
    if (!image_->read(RuntimeAddr(addr), out)) return std::nullopt;
    return out;
  }

 private:
  int fd_;
  std::shared_ptr<const uptrace::arch::ImageReader> image_;
};

}  // namespace

TEST_CASE("elf_image reads a table's bytes from a read-only segment only", "[elf_image]") {
  const std::vector<char> original = own_bytes();
  // A read-only loadable segment with bytes in the file, and 16 of them
  // from its middle, as a jump table there would be.
  std::optional<unsigned> rodata;
  for (unsigned i = 0; i < phdr_count(original) && !rodata; ++i) {
    const Elf64_Phdr ph = phdr(original, i);
    if (ph.p_type == PT_LOAD && (ph.p_flags & PF_W) == 0 && ph.p_filesz >= 64) rodata = i;
  }
  REQUIRE(rodata);
  const Elf64_Phdr ph = phdr(original, *rodata);
  const uint64_t addr = ph.p_vaddr + ph.p_filesz / 2;
  const std::vector<uint8_t> expected(original.begin() + static_cast<long>(ph.p_offset + ph.p_filesz / 2),
                                      original.begin() + static_cast<long>(ph.p_offset + ph.p_filesz / 2 + 16));
  {
    Image intact(original);
    CHECK(intact.read(addr, 16) == expected);
    // Up to the end of the segment's file bytes, not past them.
    CHECK(intact.read(ph.p_vaddr + ph.p_filesz - 16, 16).has_value());
    CHECK_FALSE(intact.read(ph.p_vaddr + ph.p_filesz - 8, 16).has_value());
  }
  // The same segment made writable: its bytes are the program's to change.
  std::vector<char> writable = original;
  Elf64_Phdr spoiled = ph;
  spoiled.p_flags |= PF_W;
  set_phdr(writable, *rodata, spoiled);
  Image changed(writable);
  CHECK_FALSE(changed.read(addr, 16).has_value());
  CHECK_FALSE(changed.read(ph.p_vaddr, 8).has_value());
}
