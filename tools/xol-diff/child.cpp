#include "child.h"

#include <elf.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "arch/x86_64/registers.h"

namespace xol_diff {
namespace {

constexpr uint64_t kPage = 0x1000;
uint64_t page_down(uint64_t a) { return a & ~(kPage - 1); }
uint64_t page_up(uint64_t a) { return (a + kPage - 1) & ~(kPage - 1); }

// Exit codes of a child whose setup failed: which step.
enum SetupFailure { kTraceme = 101, kReserve, kSegment, kBss, kSandbox, kStack, kSlot, kAffinity };

bool map_at(uint64_t addr, uint64_t len, int prot, int flags, int fd, uint64_t off) {
  void* p = ::mmap(reinterpret_cast<void*>(addr), len, prot, flags, fd, static_cast<off_t>(off));
  return p == reinterpret_cast<void*>(addr);
}

// Runs in the forked child: only system calls from here on.
[[noreturn]] void child_main(const Layout& l, int image_fd, int sandbox_fd, int stack_fd, int slot_fd, int cpu) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (::sched_setaffinity(0, sizeof set, &set) != 0) ::_exit(kAffinity);
  if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) ::_exit(kTraceme);
  constexpr int kPrivate = MAP_PRIVATE | MAP_FIXED;
  if (!map_at(l.image_start, l.image_end - l.image_start, PROT_NONE,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0))
    ::_exit(kReserve);
  for (const ImageSegment& s : l.segments) {
    const uint64_t start = page_down(l.runtime(s.vaddr));
    const uint64_t file_end = l.runtime(s.vaddr) + s.file_size;
    const uint64_t mem_end = page_up(l.runtime(s.vaddr) + s.mem_size);
    if (s.file_size > 0 &&
        !map_at(start, page_up(file_end) - start, s.prot | PROT_WRITE, kPrivate, image_fd, page_down(s.offset)))
      ::_exit(kSegment);
    // .bss: the rest of the last file page is zero, and more pages follow.
    if (s.mem_size > s.file_size) {
      if (s.file_size > 0) std::memset(reinterpret_cast<void*>(file_end), 0, page_up(file_end) - file_end);
      const uint64_t anon = s.file_size > 0 ? page_up(file_end) : start;
      if (mem_end > anon && !map_at(anon, mem_end - anon, s.prot, kPrivate | MAP_ANONYMOUS, -1, 0)) ::_exit(kBss);
    }
    if (s.file_size > 0 && ::mprotect(reinterpret_cast<void*>(start), page_up(file_end) - start, s.prot) != 0)
      ::_exit(kSegment);
  }
  constexpr int kShared = MAP_SHARED | MAP_FIXED_NOREPLACE;
  if (!map_at(Layout::kSandbox, Layout::kSandboxSize, PROT_READ | PROT_WRITE, kShared, sandbox_fd, 0)) ::_exit(kSandbox);
  if (!map_at(Layout::kStack, Layout::kStackSize, PROT_READ | PROT_WRITE, kShared, stack_fd, 0)) ::_exit(kStack);
  if (!map_at(l.near_slot, Layout::kSlotPageSize, PROT_READ | PROT_EXEC, kShared, slot_fd, 0) ||
      !map_at(Layout::kFarSlot, Layout::kSlotPageSize, PROT_READ | PROT_EXEC, kShared, slot_fd, 0))
    ::_exit(kSlot);
  ::raise(SIGSTOP);
  ::_exit(0);
}

int shared_memory(const char* name, uint64_t size, uint8_t*& local) {
  const int fd = ::memfd_create(name, MFD_CLOEXEC);
  if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(size)) != 0) throw std::runtime_error("memfd_create failed");
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) throw std::runtime_error("mmap of shared memory failed");
  local = static_cast<uint8_t*>(p);
  return fd;
}

void check(long rc, const char* what, pid_t pid) {
  if (rc < 0) throw std::runtime_error(fmt::format("{} on pid {}: {}", what, pid, std::strerror(errno)));
}

}  // namespace

Child::Child(const Layout& layout, int cpu) : layout_(layout) {
  sandbox_fd_ = shared_memory("xol-diff-sandbox", Layout::kSandboxSize, sandbox_);
  stack_fd_ = shared_memory("xol-diff-stack", Layout::kStackSize, stack_);
  slot_fd_ = shared_memory("xol-diff-slot", Layout::kSlotPageSize, slot_);
  std::memset(slot_, 0xcc, Layout::kSlotPageSize);
  spawn(cpu);
}

Child::~Child() {
  reap();
  ::munmap(sandbox_, Layout::kSandboxSize);
  ::munmap(stack_, Layout::kStackSize);
  ::munmap(slot_, Layout::kSlotPageSize);
  ::close(sandbox_fd_);
  ::close(stack_fd_);
  ::close(slot_fd_);
}

void Child::spawn(int cpu) {
  const int image_fd = ::open(layout_.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (image_fd < 0) throw std::runtime_error(fmt::format("{}: cannot open", layout_.path));
  const pid_t pid = ::fork();
  if (pid == 0) child_main(layout_, image_fd, sandbox_fd_, stack_fd_, slot_fd_, cpu);
  ::close(image_fd);
  if (pid < 0) throw std::runtime_error("fork failed");
  pid_ = pid;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP) {
    pid_ = -1;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    throw std::runtime_error(fmt::format("the sandbox child for {} failed to set up (step {})", layout_.path, code));
  }
  check(::ptrace(PTRACE_SETOPTIONS, pid, nullptr, reinterpret_cast<void*>(PTRACE_O_EXITKILL)), "PTRACE_SETOPTIONS", pid);
  memory_ = std::make_unique<uptrace::core::TraceeMemory>(pid);
  get_regs(own_.regs);
  own_.xstate.assign(16384, 0);
  iovec iov{own_.xstate.data(), own_.xstate.size()};
  check(::ptrace(PTRACE_GETREGSET, pid, reinterpret_cast<void*>(NT_X86_XSTATE), &iov), "GETREGSET xstate", pid);
  own_.xstate.resize(iov.iov_len);
}

void Child::reap() {
  if (pid_ <= 0) return;
  memory_.reset();
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, __WALL);
  pid_ = -1;
}

void Child::set_regs(const uptrace::arch::Regs& r) {
  iovec iov{const_cast<uint64_t*>(r.words.data()), 27 * sizeof(uint64_t)};
  check(::ptrace(PTRACE_SETREGSET, pid_, reinterpret_cast<void*>(NT_PRSTATUS), &iov), "SETREGSET", pid_);
}

void Child::get_regs(uptrace::arch::Regs& r) {
  iovec iov{r.words.data(), 27 * sizeof(uint64_t)};
  check(::ptrace(PTRACE_GETREGSET, pid_, reinterpret_cast<void*>(NT_PRSTATUS), &iov), "GETREGSET", pid_);
}

void Child::set_state(const MachineState& s) {
  set_regs(s.regs);
  iovec iov{const_cast<uint8_t*>(s.xstate.data()), s.xstate.size()};
  check(::ptrace(PTRACE_SETREGSET, pid_, reinterpret_cast<void*>(NT_X86_XSTATE), &iov), "SETREGSET xstate", pid_);
}

void Child::get_state(MachineState& s) {
  get_regs(s.regs);
  s.xstate.resize(own_.xstate.size());
  iovec iov{s.xstate.data(), s.xstate.size()};
  check(::ptrace(PTRACE_GETREGSET, pid_, reinterpret_cast<void*>(NT_X86_XSTATE), &iov), "GETREGSET xstate", pid_);
}

StepResult Child::single_step() {
  StepResult r;
  check(::ptrace(PTRACE_SINGLESTEP, pid_, nullptr, nullptr), "PTRACE_SINGLESTEP", pid_);
  int status = 0;
  if (::waitpid(pid_, &status, __WALL) != pid_ || !WIFSTOPPED(status)) {
    pid_ = -1;
    memory_.reset();
    return r;
  }
  r.kind = StepResult::Kind::Signal;
  r.signal = WSTOPSIG(status);
  check(::ptrace(PTRACE_GETSIGINFO, pid_, nullptr, &r.info), "PTRACE_GETSIGINFO", pid_);
  return r;
}

void Child::leave_single_step() {
  uptrace::arch::Regs regs = own_.regs;
  namespace x86 = uptrace::arch::x86_64;
  regs.words[x86::kRip] = layout_.near_slot + Layout::kSlotPageSize - 1;  // the page's last byte is always int3
  regs.words[x86::kEflags] = 0x202;
  regs.words[x86::kOrigRax] = static_cast<uint64_t>(-1);
  set_regs(regs);
  check(::ptrace(PTRACE_CONT, pid_, nullptr, nullptr), "PTRACE_CONT", pid_);
  int status = 0;
  if (::waitpid(pid_, &status, __WALL) != pid_ || !WIFSTOPPED(status)) {
    pid_ = -1;
    memory_.reset();
  }
}

size_t Child::read_some(uint64_t addr, std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    uint8_t* p = out.data() + done;
    const size_t want = std::min<size_t>(out.size() - done, kPage - ((addr + done) & (kPage - 1)));
    if (!memory_->read(uptrace::RuntimeAddr(addr + done), std::span<uint8_t>(p, want))) break;
    done += want;
  }
  return done;
}

}  // namespace xol_diff
