#include "core/proc_info.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/error.h"

namespace uptrace::core::proc {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string status_field(pid_t pid, const std::string& key) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, key.size() + 1, key + ":") == 0) {
      size_t v = line.find_first_not_of(" \t", key.size() + 1);
      return v == std::string::npos ? "" : line.substr(v);
    }
  return {};
}

}  // namespace

bool exists(pid_t pid) { return ::access(fmt::format("/proc/{}", pid).c_str(), F_OK) == 0; }

std::vector<pid_t> threads(pid_t pid) {
  std::vector<pid_t> out;
  DIR* d = ::opendir(fmt::format("/proc/{}/task", pid).c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') out.push_back(static_cast<pid_t>(std::atoi(e->d_name)));
  ::closedir(d);
  return out;
}

std::string command_name(pid_t pid) {
  std::string s = read_file(fmt::format("/proc/{}/comm", pid));
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

pid_t tracer_of(pid_t pid) { return static_cast<pid_t>(std::atoi(status_field(pid, "TracerPid").c_str())); }

pid_t thread_group_of(pid_t tid) { return static_cast<pid_t>(std::atoi(status_field(tid, "Tgid").c_str())); }

bool thread_signal_pending(pid_t tid, int sig) {
  uint64_t mask = std::strtoull(status_field(tid, "SigPnd").c_str(), nullptr, 16);
  return (mask >> (sig - 1)) & 1;
}

bool signal_pending(pid_t tid, int sig) {
  const uint64_t shared = std::strtoull(status_field(tid, "ShdPnd").c_str(), nullptr, 16);
  return thread_signal_pending(tid, sig) || ((shared >> (sig - 1)) & 1);
}

bool shadow_stack_enabled(pid_t pid) {
  return status_field(pid, "x86_Thread_features").find("shstk") != std::string::npos;
}

std::optional<uint64_t> aux_value(pid_t pid, unsigned long type) {
  std::string auxv = read_file(fmt::format("/proc/{}/auxv", pid));
  for (size_t i = 0; i + 16 <= auxv.size(); i += 16) {
    uint64_t key, value;
    std::memcpy(&key, auxv.data() + i, 8);
    std::memcpy(&value, auxv.data() + i + 8, 8);
    if (key == type) return value;
    if (key == 0) break;
  }
  return std::nullopt;
}

std::optional<int> yama_ptrace_scope() {
  std::ifstream in("/proc/sys/kernel/yama/ptrace_scope");
  int v;
  if (in >> v) return v;
  return std::nullopt;
}

std::string explain_attach_failure(pid_t pid, int err, std::string& hint) {
  if (err == ESRCH) return fmt::format("no process with pid {}", pid);
  if (err == EPERM) {
    pid_t tracer = tracer_of(pid);
    if (tracer != 0)
      return fmt::format("pid {} is already traced by pid {} ({})", pid, tracer, command_name(tracer));
    auto scope = yama_ptrace_scope();
    if (scope && *scope == 3)
      hint = "kernel.yama.ptrace_scope is 3: ptrace attach is disabled until reboot";
    else if (scope && *scope >= 1 && ::geteuid() != 0)
      hint = fmt::format(
          "kernel.yama.ptrace_scope is {}: run as root, give uptrace CAP_SYS_PTRACE, or launch the program under "
          "uptrace with -- COMMAND",
          *scope);
    else
      hint = "tracing another user's process needs root or CAP_SYS_PTRACE";
    return fmt::format("cannot attach to pid {} ({}): {}", pid, command_name(pid), errno_text(err));
  }
  return fmt::format("cannot attach to pid {}: {}", pid, errno_text(err));
}

}  // namespace uptrace::core::proc
