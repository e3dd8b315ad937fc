#pragma once
// Errors carry the full context (what, where, why) and the exit status class
// of SPEC.md, so the one line printed at the top is all the user needs.
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace uptrace {

enum class ErrorKind {
  Runtime,  // exit status 1
  Usage,    // exit status 2
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message, std::string hint = {})
      : std::runtime_error(std::move(message)), kind_(kind), hint_(std::move(hint)) {}
  // An error whose exit status is not that of its kind (126/127 when the
  // command of `--` mode cannot be run).
  Error(int exit_status, std::string message)
      : std::runtime_error(std::move(message)), kind_(ErrorKind::Runtime), exit_status_(exit_status) {}

  ErrorKind kind() const { return kind_; }
  // How to fix it, when we know; printed after the message on the same line.
  const std::string& hint() const { return hint_; }
  int exit_status() const { return exit_status_ >= 0 ? exit_status_ : kind_ == ErrorKind::Usage ? 2 : 1; }

 private:
  ErrorKind kind_;
  std::string hint_;
  int exit_status_ = -1;
};

template <class... Args>
[[noreturn]] void throw_usage(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(ErrorKind::Usage, fmt::format(f, std::forward<Args>(args)...));
}

// A usage error whose `hint` says what would be right (printed after it, on
// its line, as "; hint: ...").
template <class... Args>
[[noreturn]] void throw_usage_hint(std::string hint, fmt::format_string<Args...> f, Args&&... args) {
  throw Error(ErrorKind::Usage, fmt::format(f, std::forward<Args>(args)...), std::move(hint));
}

template <class... Args>
[[noreturn]] void throw_runtime(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(ErrorKind::Runtime, fmt::format(f, std::forward<Args>(args)...));
}

// The text of errno value `err`, for messages.
std::string errno_text(int err);

}  // namespace uptrace
