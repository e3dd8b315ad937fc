#include "arch/aarch64/registers.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace uptrace::arch::aarch64 {
namespace {

std::string lower(std::string_view name) {
  std::string out(name);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// "x17" / "w3": the register number, when `digits` is a plain 0..30.
std::optional<uint16_t> number(std::string_view digits) {
  if (digits.empty() || digits.size() > 2 || (digits.size() == 2 && digits[0] == '0')) return std::nullopt;
  unsigned n = 0;
  const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (err != std::errc() || end != digits.data() + digits.size() || n > 30) return std::nullopt;
  return static_cast<uint16_t>(n);
}

}  // namespace

std::optional<RegisterRef> register_by_name(std::string_view name) {
  const std::string n = lower(name);
  if (n == "sp") return RegisterRef{kSp};
  if (n == "pc") return RegisterRef{kPc};
  if (n == "lr") return RegisterRef{kLr};
  if (n == "fp") return RegisterRef{kFp};
  if (n == "pstate") return RegisterRef{kPstate};
  if (n.size() >= 2 && (n[0] == 'x' || n[0] == 'w')) {
    if (auto r = number(std::string_view(n).substr(1))) return RegisterRef{*r, static_cast<uint8_t>(n[0] == 'x' ? 64 : 32)};
  }
  return std::nullopt;
}

std::vector<std::string> register_names() {
  std::vector<std::string> out;
  for (int i = 0; i <= 30; ++i) out.push_back(fmt::format("x{}", i));
  for (int i = 0; i <= 30; ++i) out.push_back(fmt::format("w{}", i));
  for (const char* n : {"sp", "pc", "lr", "fp", "pstate"}) out.emplace_back(n);
  return out;
}

uint64_t read_x(const Regs& regs, unsigned n) {
  assert(n <= kZeroRegister);
  return n == kZeroRegister ? 0 : regs.words[n];
}

void write_x(Regs& regs, unsigned n, uint64_t value) {
  assert(n <= kZeroRegister);
  if (n != kZeroRegister) regs.words[n] = value;
}

}  // namespace uptrace::arch::aarch64
