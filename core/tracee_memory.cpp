#include "core/tracee_memory.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>


#include "common/error.h"

namespace uptrace::core {

TraceeMemory::TraceeMemory(pid_t pid) : pid_(pid), program_view_(pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/mem";
  fd_.reset(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd_) throw_runtime("cannot open {}: {}", path, errno_text(errno));
}

bool TraceeMemory::read(RuntimeAddr addr, std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd_.get(), out.data() + done, out.size() - done, static_cast<off_t>(addr.value + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool TraceeMemory::write(RuntimeAddr addr, std::span<const uint8_t> bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pwrite(fd_.get(), bytes.data() + done, bytes.size() - done, static_cast<off_t>(addr.value + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

void TraceeMemory::write_or_throw(RuntimeAddr addr, std::span<const uint8_t> bytes) {
  if (!write(addr, bytes))
    throw_runtime("cannot write {} bytes at {:#x} in pid {}: {}", bytes.size(), addr.value, pid_, errno_text(errno));
}

bool TraceeMemory::ProgramView::read(RuntimeAddr addr, std::span<uint8_t> out) {
  iovec local{out.data(), out.size()};
  iovec remote{reinterpret_cast<void*>(addr.value), out.size()};
  // A range over two pages of which the second is not readable comes back
  // short: not accessible as a whole.
  return ::process_vm_readv(pid_, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(out.size());
}

bool TraceeMemory::ProgramView::write(RuntimeAddr addr, std::span<const uint8_t> bytes) {
  // A short write leaves the accessible first part written; emulations
  // write one aligned word (a push), which lies in one page.
  iovec local{const_cast<uint8_t*>(bytes.data()), bytes.size()};
  iovec remote{reinterpret_cast<void*>(addr.value), bytes.size()};
  return ::process_vm_writev(pid_, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(bytes.size());
}

}  // namespace uptrace::core
