#include "harness.h"

#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace itest {

namespace {

// /proc files can fail a read transiently (EAGAIN, EINTR) while the process
// changes; an empty /proc/PID/maps would make a comparison fail for nothing.
std::string read_file(const std::string& path) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    std::string out;
    char buf[65536];
    ssize_t n;
    bool failed = false;
    while ((n = read(fd, buf, sizeof buf)) != 0) {
      if (n < 0) {
        if (errno == EINTR) continue;
        failed = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    close(fd);
    if (!failed) return out;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return {};
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) lines.push_back(line);
  return lines;
}

int decode_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

pid_t spawn(const std::vector<std::string>& argv, int out_fd, int err_fd) {
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (out_fd >= 0) dup2(out_fd, 1);
    if (err_fd >= 0) dup2(err_fd, 2);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

bool wait_for_exit(pid_t pid, int& status, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + scaled(timeout);
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::string slurp(const std::string& path) { return read_file(path); }
std::vector<std::string> lines_of(const std::string& text) { return split_lines(text); }

namespace {
std::string from_env(const char* name, const char* fallback) {
  const char* value = getenv(name);
  return value && *value ? value : fallback;
}
}  // namespace

std::string uptrace_path() { return from_env("UPTRACE_BINARY", UPTRACE_BINARY); }
std::string target_dir() { return from_env("UPTRACE_TARGET_DIR", TARGET_DIR); }
std::string target(const std::string& name) { return target_dir() + "/target-" + name; }

double time_scale() {
  static const double scale = [] {
    const char* text = getenv("UPTRACE_TEST_TIME_SCALE");
    if (!text || !*text) return 1.0;
    char* end = nullptr;
    double v = strtod(text, &end);
    if (*end != '\0' || !(v >= 1.0 && v <= 100.0))
      throw std::runtime_error(std::string("UPTRACE_TEST_TIME_SCALE must be a number from 1 to 100, not ") + text);
    return v;
  }();
  return scale;
}

std::chrono::milliseconds scaled(std::chrono::milliseconds d) {
  return std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(d.count()) * time_scale()));
}

int stress_rounds(int rounds) {
  static const int divisor = [] {
    const char* text = getenv("UPTRACE_TEST_STRESS_DIVISOR");
    if (!text || !*text) return 1;
    char* end = nullptr;
    long v = strtol(text, &end, 10);
    if (*end != '\0' || v < 1 || v > 100)
      throw std::runtime_error(std::string("UPTRACE_TEST_STRESS_DIVISOR must be a number from 1 to 100, not ") + text);
    return static_cast<int>(v);
  }();
  return std::max(1, rounds / divisor);
}

std::string temp_path(const std::string& stem) {
  static std::atomic<int> counter{0};
  const char* dir = getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/uptrace-test-" + std::to_string(getpid()) + "-" +
         std::to_string(counter++) + "-" + stem;
}

std::vector<std::string> Result::out_lines() const { return split_lines(out); }
std::vector<std::string> Result::err_lines() const { return split_lines(err); }

Result run(const std::vector<std::string>& argv, std::chrono::seconds timeout) {
  std::string out_path = temp_path("out"), err_path = temp_path("err");
  int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  pid_t pid = spawn(argv, out_fd, err_fd);
  close(out_fd);
  close(err_fd);
  int status = 0;
  Result r;
  if (!wait_for_exit(pid, status, timeout)) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    r.status = -1;
  } else {
    r.status = decode_status(status);
  }
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  unlink(out_path.c_str());
  unlink(err_path.c_str());
  return r;
}

std::vector<std::string> with_test_mode(std::vector<std::string> args) {
  const char* mode = std::getenv("UPTRACE_TEST_MODE");
  if (!mode || !*mode) return args;
  auto separator = std::find(args.begin(), args.end(), "--");
  for (auto it = args.begin(); it != separator; ++it)
    if (*it == "--mode" || *it == "--list" || *it == "--explain" || it->starts_with("--mode=")) return args;
  args.insert(args.begin(), {"--mode", mode});
  return args;
}

namespace {

// With a mode forced on every probe (UPTRACE_TEST_MODE), a site this ISA
// cannot run in that mode is refused with the reason, status 1: riscv64's
// branches and auipc, say, are emulated only. The line printed here lets
// tests/cross/vm-tests.sh report such a test as skipped, with the reason,
// rather than failed; anything else that fails it still fails it.
void note_forced_mode_refusal(int status, const std::string& err) {
  const char* mode = std::getenv("UPTRACE_TEST_MODE");
  if (!mode || !*mode || status != 1 || !err.starts_with("uptrace: cannot probe ")) return;
  const std::string first_line = err.substr(0, err.find('\n'));
  if (first_line.find(std::string("cannot ") + mode + ": ") == std::string::npos &&
      first_line.find("it is emulated, never stepped") == std::string::npos &&
      first_line.find("so it is only emulated") == std::string::npos)
    return;
  std::printf("forced-mode refusal: --mode %s: %s\n", mode, first_line.c_str());
  std::fflush(stdout);
}

}  // namespace

Result uptrace(const std::vector<std::string>& args, std::chrono::seconds timeout) {
  std::vector<std::string> argv{uptrace_path()};
  auto moded = with_test_mode(args);
  argv.insert(argv.end(), moded.begin(), moded.end());
  Result r = run(argv, timeout);
  note_forced_mode_refusal(r.status, r.err);
  return r;
}

bool catches_sigtrap(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("SigCgt:", 0) == 0) return (std::stoull(line.substr(7), nullptr, 16) >> (SIGTRAP - 1)) & 1;
  return false;
}

Result uptrace_jump_attach(const std::vector<std::string>& args) {
  Result r;
  for (int attempt = 0; attempt < 20; ++attempt) {
    r = uptrace(args);
    const bool thread_in_the_way = r.err.find("is stopped inside the bytes a jump would overwrite") != std::string::npos ||
                                   r.err.find("is stopped in the padding before the function") != std::string::npos;
    if (r.status == 0 || !thread_in_the_way) break;
  }
  return r;
}

Child::Child(const std::vector<std::string>& argv) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_ = spawn(argv, p[1], -1);
  close(p[1]);
  out_fd_ = p[0];
}

Child::~Child() {
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
}

std::string Child::read_line(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + scaled(timeout);
  for (;;) {
    auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw std::runtime_error("timed out reading the child's output");
    pollfd pfd{out_fd_, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n <= 0) throw std::runtime_error("the child closed its output");
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

void Child::signal(int sig) { kill(pid_, sig); }

int Child::wait(std::chrono::seconds timeout) {
  if (!reaped_) {
    if (!wait_for_exit(pid_, status_, timeout)) throw std::runtime_error("child did not exit in time");
    reaped_ = true;
  }
  return decode_status(status_);
}

bool Child::alive() {
  if (reaped_) return false;
  // A child that exited is a zombie until reaped, and kill(pid, 0) succeeds
  // on a zombie: reap it here (wait() still reports its status).
  if (waitpid(pid_, &status_, WNOHANG) == pid_) {
    reaped_ = true;
    return false;
  }
  return true;
}

Tracer::Tracer(const std::vector<std::string>& args)
    : ready_(temp_path("ready")), out_(temp_path("out")), err_(temp_path("err")) {
  std::vector<std::string> argv{"/bin/sh", "-c", "exec \"$0\" \"$@\" >\"$OUT\" 2>\"$ERR\"", uptrace_path(),
                                "--ready-file", ready_};
  auto moded = with_test_mode(args);
  argv.insert(argv.end(), moded.begin(), moded.end());
  setenv("OUT", out_.c_str(), 1);
  setenv("ERR", err_.c_str(), 1);
  child_.emplace(argv);
}

Tracer::~Tracer() {
  unlink(ready_.c_str());
  unlink(out_.c_str());
  unlink(err_.c_str());
}

bool Tracer::wait_armed(std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + scaled(timeout);
  while (std::chrono::steady_clock::now() < deadline) {
    if (access(ready_.c_str(), F_OK) == 0) return true;
    if (!child_->alive()) {
      note_forced_mode_refusal(child_->wait(std::chrono::seconds(10)), read_file(err_));
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

void Tracer::signal(int sig) { child_->signal(sig); }

Result Tracer::finish(std::chrono::seconds timeout) {
  Result r;
  r.status = child_->wait(timeout);
  r.out = read_file(out_);
  r.err = read_file(err_);
  note_forced_mode_refusal(r.status, r.err);
  return r;
}

Snapshot snapshot(pid_t pid) {
  Snapshot s;
  s.maps = read_file("/proc/" + std::to_string(pid) + "/maps");
  int mem = open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY);
  for (const std::string& line : split_lines(s.maps)) {
    unsigned long start = 0, end = 0;
    char perms[8] = {};
    if (sscanf(line.c_str(), "%lx-%lx %7s", &start, &end, perms) != 3 || perms[2] != 'x') continue;
    std::string bytes(end - start, '\0');
    size_t done = 0;
    int failures = 0, err = 0;
    while (done < bytes.size()) {
      ssize_t n = pread(mem, bytes.data() + done, bytes.size() - done, static_cast<off_t>(start + done));
      if (n > 0) {
        done += static_cast<size_t>(n);
        continue;
      }
      err = n < 0 ? errno : EIO;
      // Reads of another process's memory can fail for a moment while it
      // changes its mappings; [vsyscall] can never be read.
      if (++failures > 20) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (done < bytes.size()) bytes = "unreadable from +" + std::to_string(done) + ": " + strerror(err);
    s.code[line] = std::move(bytes);
  }
  close(mem);
  return s;
}

std::string compare(const Snapshot& before, const Snapshot& after) {
  if (before.maps != after.maps) return "maps differ:\n--- before\n" + before.maps + "--- after\n" + after.maps;
  for (const auto& [range, bytes] : before.code) {
    auto it = after.code.find(range);
    if (it == after.code.end()) return "mapping gone: " + range;
    if (it->second.size() != bytes.size())
      return "code size differs in " + range + ": " + std::to_string(bytes.size()) + " then " +
             std::to_string(it->second.size());
    if (it->second != bytes) {
      size_t i = 0;
      while (i < bytes.size() && i < it->second.size() && bytes[i] == it->second[i]) ++i;
      char buf[64];
      snprintf(buf, sizeof buf, " at +0x%zx", i);
      return "code differs in " + range + buf;
    }
  }
  return {};
}

bool any_thread_stopped(pid_t pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  std::vector<std::string> tasks = split_lines(run({"/bin/ls", dir}).out);
  for (const std::string& t : tasks) {
    std::string stat = read_file(dir + "/" + t + "/stat");
    auto paren = stat.rfind(')');
    if (paren != std::string::npos && paren + 2 < stat.size()) {
      char state = stat[paren + 2];
      if (state == 't' || state == 'T') return true;
    }
  }
  return false;
}

pid_t tracer_pid(pid_t pid) {
  for (const std::string& line : split_lines(read_file("/proc/" + std::to_string(pid) + "/status")))
    if (line.rfind("TracerPid:", 0) == 0) return static_cast<pid_t>(std::stol(line.substr(10)));
  return -1;
}

std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> children;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::istringstream list(read_file(task.path() / "children"));
    for (pid_t child; list >> child;) children.push_back(child);
  }
  return children;
}

size_t count_lines(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (const std::string& line : split_lines(text))
    if (line.find(needle) != std::string::npos) ++n;
  return n;
}

std::optional<ElfSymbol> elf_symbol(const std::string& file, const std::string& symbol, bool dynamic) {
  const std::string image = read_file(file);
  auto fits = [&](uint64_t off, uint64_t len) { return off <= image.size() && len <= image.size() - off; };
  if (!fits(0, sizeof(Elf64_Ehdr)) || image.compare(0, SELFMAG, ELFMAG) != 0 || image[EI_CLASS] != ELFCLASS64)
    throw std::runtime_error(file + " is not a 64-bit ELF file");
  Elf64_Ehdr eh;
  memcpy(&eh, image.data(), sizeof eh);
  if (eh.e_shentsize != sizeof(Elf64_Shdr) || !fits(eh.e_shoff, uint64_t{eh.e_shnum} * sizeof(Elf64_Shdr)))
    throw std::runtime_error(file + " has no readable section headers");
  auto section = [&](size_t i) {
    Elf64_Shdr sh;
    memcpy(&sh, image.data() + eh.e_shoff + i * sizeof sh, sizeof sh);
    return sh;
  };
  const uint32_t wanted = dynamic ? SHT_DYNSYM : SHT_SYMTAB;
  for (size_t i = 0; i < eh.e_shnum; ++i) {
    const Elf64_Shdr sh = section(i);
    if (sh.sh_type != wanted || sh.sh_entsize != sizeof(Elf64_Sym) || sh.sh_link >= eh.e_shnum) continue;
    const Elf64_Shdr strtab = section(sh.sh_link);
    if (!fits(sh.sh_offset, sh.sh_size) || !fits(strtab.sh_offset, strtab.sh_size)) continue;
    for (uint64_t off = 0; off + sizeof(Elf64_Sym) <= sh.sh_size; off += sizeof(Elf64_Sym)) {
      Elf64_Sym sym;
      memcpy(&sym, image.data() + sh.sh_offset + off, sizeof sym);
      if (sym.st_shndx == SHN_UNDEF || sym.st_name >= strtab.sh_size) continue;
      const char* name = image.data() + strtab.sh_offset + sym.st_name;
      if (strnlen(name, strtab.sh_size - sym.st_name) != symbol.size() || symbol != name) continue;
      ElfSymbol out{sym.st_value, sym.st_size};
      // ELFv2: st_other bits 5-7 encode the local entry's offset: 0 and 1
      // mean none, N from 2 to 6 means (1 << N) / 4 instructions.
      const unsigned code = (sym.st_other >> 5) & 7;
      if (eh.e_machine == EM_PPC64 && code >= 2 && code <= 6) out.local_entry = (uint64_t{1} << code) >> 2 << 2;
      return out;
    }
  }
  return std::nullopt;
}

std::string ElfSymbol::entry_offset() const {
  char buf[32];
  snprintf(buf, sizeof buf, "+0x%lx", static_cast<unsigned long>(local_entry));
  return buf;
}

uint64_t symbol_address(const std::string& file, const std::string& symbol) {
  if (auto sym = elf_symbol(file, symbol)) return sym->addr;
  throw std::runtime_error("no symbol " + symbol + " in " + file);
}

}  // namespace itest
