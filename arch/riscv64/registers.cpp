#include "arch/riscv64/registers.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace uptrace::arch::riscv64 {
namespace {

constexpr std::array<std::string_view, 32> kXNames = {
    "zero", "ra", "sp", "gp", "tp",  "t0",  "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
    "a6",   "a7", "s2", "s3", "s4",  "s5",  "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
constexpr std::array<std::string_view, 32> kFNames = {
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6",  "ft7",  "fs0", "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5",
    "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11"};

std::string lower(std::string_view name) {
  std::string out(name);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// "x17": the register number, when `digits` is a plain 1..31.
std::optional<uint16_t> number(std::string_view digits) {
  if (digits.empty() || digits.size() > 2 || digits[0] == '0') return std::nullopt;
  unsigned n = 0;
  const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (err != std::errc() || end != digits.data() + digits.size() || n < 1 || n > 31) return std::nullopt;
  return static_cast<uint16_t>(n);
}

}  // namespace

std::string_view x_name(unsigned n) { return kXNames.at(n); }
std::string_view f_name(unsigned n) { return kFNames.at(n); }

std::optional<RegisterRef> register_by_name(std::string_view name) {
  const std::string n = lower(name);
  if (n == "pc") return RegisterRef{kPc};
  if (n == "fp") return RegisterRef{kS0};
  for (unsigned i = 1; i < kXNames.size(); ++i)
    if (n == kXNames[i]) return RegisterRef{static_cast<uint16_t>(i)};
  if (n.size() >= 2 && n[0] == 'x')
    if (auto r = number(std::string_view(n).substr(1))) return RegisterRef{*r};
  return std::nullopt;
}

std::vector<std::string> register_names() {
  std::vector<std::string> out;
  for (unsigned i = 1; i < kXNames.size(); ++i) out.emplace_back(kXNames[i]);
  for (unsigned i = 1; i < 32; ++i) out.push_back(fmt::format("x{}", i));
  out.emplace_back("fp");
  out.emplace_back("pc");
  return out;
}

uint64_t read_x(const Regs& regs, unsigned n) {
  assert(n < 32);
  return n == 0 ? 0 : regs.words[n];
}

void write_x(Regs& regs, unsigned n, uint64_t value) {
  assert(n < 32);
  if (n != 0) regs.words[n] = value;
}

}  // namespace uptrace::arch::riscv64
