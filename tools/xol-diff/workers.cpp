#include "workers.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "tester.h"

namespace xol_diff {
namespace {

[[noreturn]] void worker_main(const Corpus& corpus, const std::vector<size_t>& boundaries, size_t first, size_t stride,
                              const Layout& layout, const FactsDecoder& decoder, int cpu, bool mutate, int out_fd) {
  int code = 0;
  try {
    Tester tester(corpus, layout, decoder, cpu, mutate);
    std::string buf;
    for (size_t i = first; i < boundaries.size(); i += stride) {
      buf += tester.test(corpus.boundaries[boundaries[i]]).serialize();
      if (buf.size() > 1 << 16) {
        if (::write(out_fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) throw std::runtime_error("pipe");
        buf.clear();
      }
    }
    // Small writes to a pipe are whole; large ones may be partial.
    for (size_t done = 0; done < buf.size();) {
      const ssize_t n = ::write(out_fd, buf.data() + done, buf.size() - done);
      if (n <= 0) throw std::runtime_error("pipe");
      done += static_cast<size_t>(n);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "xol-diff worker %zu: %s\n", first, e.what());
    code = 2;
  }
  ::_exit(code);
}

}  // namespace

void run_workers(const Corpus& corpus, const std::vector<size_t>& boundaries, const Layout& layout,
                 const FactsDecoder& decoder, const WorkOptions& options, Tally& tally) {
  const unsigned jobs = std::max(1u, options.jobs);
  const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  struct Worker {
    pid_t pid = -1;
    int fd = -1;
    std::string pending;
  };
  std::vector<Worker> workers(jobs);
  std::fflush(nullptr);
  for (unsigned j = 0; j < jobs; ++j) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      ::close(p[0]);
      worker_main(corpus, boundaries, j, jobs, layout, decoder, static_cast<int>(j % cpus), options.mutate, p[1]);
    }
    ::close(p[1]);
    workers[j] = {pid, p[0], {}};
  }
  size_t done = 0, open = jobs, next_report = boundaries.size() / 20;
  char buf[1 << 16];
  while (open > 0) {
    std::vector<pollfd> fds;
    for (const Worker& w : workers)
      if (w.fd >= 0) fds.push_back({w.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;
    for (Worker& w : workers) {
      if (w.fd < 0) continue;
      const auto it = std::find_if(fds.begin(), fds.end(), [&](const pollfd& f) { return f.fd == w.fd; });
      if (it == fds.end() || !(it->revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(w.fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(w.fd);
        w.fd = -1;
        --open;
        continue;
      }
      w.pending.append(buf, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = w.pending.find('\n', start)) != std::string::npos; start = nl + 1) {
        const auto v = Verdict::parse(std::string_view(w.pending).substr(start, nl - start));
        if (!v) throw std::runtime_error("a worker sent a malformed verdict");
        tally.add(*v);
        ++done;
      }
      w.pending.erase(0, start);
      if (options.progress && done >= next_report) {
        std::fprintf(stderr, "xol-diff: %zu/%zu\n", done, boundaries.size());
        next_report += std::max<size_t>(1, boundaries.size() / 20);
      }
    }
  }
  bool failed = false;
  for (const Worker& w : workers) {
    int status = 0;
    ::waitpid(w.pid, &status, 0);
    failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  }
  if (failed || done != boundaries.size()) {
    throw std::runtime_error(fmt::format("a worker failed ({} of {} boundaries tested)", done, boundaries.size()));
  }
}

}  // namespace xol_diff
