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

  ErrorKind kind() const { return kind_; }
  // How to fix it, when we know; printed after the message on the same line.
  const std::string& hint() const { return hint_; }

 private:
  ErrorKind kind_;
  std::string hint_;
};

template <class... Args>
[[noreturn]] void throw_usage(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(ErrorKind::Usage, fmt::format(f, std::forward<Args>(args)...));
}

template <class... Args>
[[noreturn]] void throw_runtime(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(ErrorKind::Runtime, fmt::format(f, std::forward<Args>(args)...));
}

// The text of errno value `err`, for messages.
std::string errno_text(int err);

}  // namespace uptrace
