#include "fixture_support.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace elftest {

std::string fixture(std::string_view name) { return std::string(ELF_FIXTURE_DIR) + "/" + std::string(name); }

std::string fixture_source(std::string_view name) {
  return std::string(ELF_FIXTURE_SRC_DIR) + "/" + std::string(name);
}

std::string run(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(command.c_str(), "r"), pclose);
  if (!p) throw std::runtime_error("cannot run: " + command);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p.get())) > 0) out.append(buf.data(), n);
  int status = pclose(p.release());
  if (status != 0) throw std::runtime_error("command failed: " + command);
  return out;
}

unsigned marker_line(std::string_view source, std::string_view mark) {
  std::ifstream in(fixture_source(source));
  std::string line, needle = "MARK:" + std::string(mark) + " ";
  for (unsigned n = 1; std::getline(in, line); ++n)
    if (line.find(needle) != std::string::npos) return n;
  throw std::runtime_error("no " + needle + " in " + std::string(source));
}

namespace {

std::vector<std::string> split(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

std::vector<SymbolRow> readelf_symbols(const std::string& path) {
  std::vector<SymbolRow> rows;
  std::string table;
  for (const std::string& l : lines_of(run("readelf -sW '" + path + "'"))) {
    if (l.starts_with("Symbol table '")) {
      table = l.substr(14, l.find('\'', 14) - 14);
      continue;
    }
    auto f = split(l);
    if (f.size() < 8 || f[0].back() != ':' || f[0] == "Num:") continue;
    SymbolRow r;
    r.table = table;
    r.value = std::stoull(f[1], nullptr, 16);
    r.size = std::stoull(f[2], nullptr, 0);
    r.type = f[3];
    r.bind = f[4];
    r.ndx = f[6];
    r.name = f[7];
    rows.push_back(r);
  }
  return rows;
}

std::vector<SegmentRow> readelf_load_segments(const std::string& path) {
  std::vector<SegmentRow> rows;
  for (const std::string& l : lines_of(run("readelf -lW '" + path + "'"))) {
    auto f = split(l);
    if (f.size() < 8 || f[0] != "LOAD") continue;
    SegmentRow r;
    r.offset = std::stoull(f[1], nullptr, 16);
    r.vaddr = std::stoull(f[2], nullptr, 16);
    r.filesz = std::stoull(f[4], nullptr, 16);
    r.memsz = std::stoull(f[5], nullptr, 16);
    for (size_t i = 6; i + 1 < f.size(); ++i) r.flags += f[i];  // "R E" is two words
    rows.push_back(r);
  }
  return rows;
}

std::vector<DecodedLine> objdump_lines(const std::string& path) {
  std::vector<DecodedLine> rows;
  for (const std::string& l : lines_of(run("objdump --dwarf=decodedline '" + path + "'"))) {
    auto f = split(l);
    if (f.size() < 3 || !f[2].starts_with("0x") || f[1] == "-") continue;
    DecodedLine d;
    d.file = f[0];
    d.line = static_cast<unsigned>(std::stoul(f[1]));
    d.addr = std::stoull(f[2], nullptr, 16);
    d.stmt = f.back() == "x";
    rows.push_back(d);
  }
  return rows;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/uptrace-elf-test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Child::Child(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(fds[1], STDOUT_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  out_fd_ = fds[0];
}

Child::~Child() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
}

std::string Child::read_line() {
  for (;;) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, 10000) <= 0) throw std::runtime_error("no output from the fixture child");
    char buf[512];
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n <= 0) throw std::runtime_error("the fixture child closed its output");
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace elftest
