#include "arch/ppc64le/registers.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace uptrace::arch::ppc64le {
namespace {

std::string lower(std::string_view name) {
  std::string out(name);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// "r17": the register number, when `digits` is a plain 0..31.
std::optional<uint16_t> number(std::string_view digits) {
  if (digits.empty() || digits.size() > 2 || (digits.size() == 2 && digits[0] == '0')) return std::nullopt;
  unsigned n = 0;
  const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (err != std::errc() || end != digits.data() + digits.size() || n > 31) return std::nullopt;
  return static_cast<uint16_t>(n);
}

struct Named {
  const char* name;
  uint16_t word;
};
constexpr Named kNamed[] = {
    {"sp", kSp},    {"toc", kToc},   {"pc", kNip},  {"nip", kNip}, {"lr", kLink},
    {"ctr", kCtr},  {"cr", kCcr},    {"xer", kXer}, {"msr", kMsr},
};

constexpr DwarfRegister kDwarf[] = {
    {0, {0}},   {1, {1}},   {2, {2}},   {3, {3}},   {4, {4}},   {5, {5}},   {6, {6}},   {7, {7}},   {8, {8}},
    {9, {9}},   {10, {10}}, {11, {11}}, {12, {12}}, {13, {13}}, {14, {14}}, {15, {15}}, {16, {16}}, {17, {17}},
    {18, {18}}, {19, {19}}, {20, {20}}, {21, {21}}, {22, {22}}, {23, {23}}, {24, {24}}, {25, {25}}, {26, {26}},
    {27, {27}}, {28, {28}}, {29, {29}}, {30, {30}}, {31, {31}}, {65, {kLink}}, {66, {kCtr}}, {76, {kXer}},
};

}  // namespace

std::optional<RegisterRef> register_by_name(std::string_view name) {
  const std::string n = lower(name);
  for (const Named& r : kNamed)
    if (n == r.name) return RegisterRef{r.word};
  if (n.size() >= 2 && n[0] == 'r') {
    if (auto r = number(std::string_view(n).substr(1))) return RegisterRef{*r};
  }
  return std::nullopt;
}

std::vector<std::string> register_names() {
  std::vector<std::string> out;
  for (int i = 0; i <= 31; ++i) out.push_back(fmt::format("r{}", i));
  for (const Named& r : kNamed) out.emplace_back(r.name);
  return out;
}

std::span<const DwarfRegister> dwarf_register_map() { return kDwarf; }

bool cr_bit(const Regs& regs, unsigned bi) { return (regs.words[kCcr] >> (31 - bi)) & 1; }

}  // namespace uptrace::arch::ppc64le
