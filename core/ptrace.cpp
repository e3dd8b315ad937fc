#include "core/ptrace.h"

#include <elf.h>
#include <errno.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include "common/error.h"

namespace uptrace::core::ptrace {

namespace {

const char* request_name(__ptrace_request req) {
  switch (req) {
    case PTRACE_INTERRUPT: return "PTRACE_INTERRUPT";
    case PTRACE_CONT: return "PTRACE_CONT";
    case PTRACE_SINGLESTEP: return "PTRACE_SINGLESTEP";
    case PTRACE_LISTEN: return "PTRACE_LISTEN";
    case PTRACE_DETACH: return "PTRACE_DETACH";
    case PTRACE_GETREGSET: return "PTRACE_GETREGSET";
    case PTRACE_SETREGSET: return "PTRACE_SETREGSET";
    case PTRACE_GETSIGINFO: return "PTRACE_GETSIGINFO";
    case PTRACE_SETSIGINFO: return "PTRACE_SETSIGINFO";
    case PTRACE_GETEVENTMSG: return "PTRACE_GETEVENTMSG";
    case PTRACE_SYSCALL: return "PTRACE_SYSCALL";
    case PTRACE_GETSIGMASK: return "PTRACE_GETSIGMASK";
    case PTRACE_SETSIGMASK: return "PTRACE_SETSIGMASK";
    default: return "ptrace";
  }
}

bool call(__ptrace_request req, pid_t tid, void* addr, void* data) {
  if (::ptrace(req, tid, addr, data) != -1) return true;
  int err = errno;
  if (err == ESRCH) return false;
  throw_runtime("{} on thread {} failed: {}", request_name(req), tid, errno_text(err));
}

void* signal_arg(int signal) { return reinterpret_cast<void*>(static_cast<uintptr_t>(signal)); }

}  // namespace

unsigned long default_options() {
  return PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEVFORKDONE |
         PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD;
}

int seize(pid_t tid, unsigned long options) {
  if (::ptrace(PTRACE_SEIZE, tid, nullptr, reinterpret_cast<void*>(options)) == -1) return errno;
  return 0;
}

bool interrupt(pid_t tid) { return call(PTRACE_INTERRUPT, tid, nullptr, nullptr); }
bool cont(pid_t tid, int signal) { return call(PTRACE_CONT, tid, nullptr, signal_arg(signal)); }
bool single_step(pid_t tid, int signal) { return call(PTRACE_SINGLESTEP, tid, nullptr, signal_arg(signal)); }
bool run_to_syscall(pid_t tid, int signal) { return call(PTRACE_SYSCALL, tid, nullptr, signal_arg(signal)); }
bool listen(pid_t tid) { return call(PTRACE_LISTEN, tid, nullptr, nullptr); }
bool detach(pid_t tid, int signal) { return call(PTRACE_DETACH, tid, nullptr, signal_arg(signal)); }

bool get_regs(pid_t tid, const arch::Isa& isa, arch::Regs& regs) {
  iovec iov{regs.words.data(), isa.regs_size()};
  return call(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(NT_PRSTATUS), &iov);
}

bool set_regs(pid_t tid, const arch::Isa& isa, const arch::Regs& regs) {
  iovec iov{const_cast<uint64_t*>(regs.words.data()), isa.regs_size()};
  return call(PTRACE_SETREGSET, tid, reinterpret_cast<void*>(NT_PRSTATUS), &iov);
}

bool get_regset_word(pid_t tid, unsigned type, uint64_t& word) {
  iovec iov{&word, sizeof word};
  return call(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(static_cast<uintptr_t>(type)), &iov);
}

bool get_siginfo(pid_t tid, siginfo_t& info) { return call(PTRACE_GETSIGINFO, tid, nullptr, &info); }
bool set_siginfo(pid_t tid, const siginfo_t& info) {
  return call(PTRACE_SETSIGINFO, tid, nullptr, const_cast<siginfo_t*>(&info));
}
bool get_event_message(pid_t tid, unsigned long& msg) { return call(PTRACE_GETEVENTMSG, tid, nullptr, &msg); }
bool get_sigmask(pid_t tid, uint64_t& mask) {
  return call(PTRACE_GETSIGMASK, tid, reinterpret_cast<void*>(sizeof mask), &mask);
}
bool set_sigmask(pid_t tid, uint64_t mask) {
  return call(PTRACE_SETSIGMASK, tid, reinterpret_cast<void*>(sizeof mask), &mask);
}

}  // namespace uptrace::core::ptrace
