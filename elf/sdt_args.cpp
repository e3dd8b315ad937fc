// The argument specs of USDT notes: "SIZE@LOCATION", where LOCATION is an
// operand as the compiler printed it into the note's assembly (sdt.h passes
// each argument to an asm statement with the "nor" constraint: a register,
// a memory operand or an immediate).
#include <elf.h>

#include <algorithm>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "elf/sdt_marker.h"

namespace uptrace::elf {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

// A decimal or 0x-hex integer with an optional sign, the whole of `s`.
std::optional<int64_t> number(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  unsigned base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    unsigned d;
    if (is_digit(c)) d = static_cast<unsigned>(c - '0');
    else if (base == 16 && c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
    else if (base == 16 && c >= 'A' && c <= 'F') d = static_cast<unsigned>(c - 'A' + 10);
    else return std::nullopt;
    if (v > (std::numeric_limits<uint64_t>::max() - d) / base) return std::nullopt;
    v = v * base + d;
  }
  // Two's complement either way: "$-1" and "$0xffffffffffffffff" are one value.
  return static_cast<int64_t>(negative ? 0 - v : v);
}

void unsupported(SdtArg& a, std::string why) {
  a.kind = SdtArg::Kind::Unsupported;
  a.why = std::move(why);
}

// AT&T syntax: %reg, $imm, [disp](%base), with what uptrace cannot read
// (symbols, index registers, segments) said by name.
void parse_x86_64(std::string_view loc, SdtArg& a) {
  if (loc.starts_with('%')) {
    std::string_view reg = loc.substr(1);
    if (reg.find(':') != std::string_view::npos) return unsupported(a, "a segment-relative address (thread-local data)");
    if (reg.empty() || !std::all_of(reg.begin(), reg.end(), is_alnum))
      return unsupported(a, fmt::format("'{}' is not a register", loc));
    a.kind = SdtArg::Kind::Register;
    a.reg = std::string(reg);
    return;
  }
  if (loc.starts_with('$')) {
    auto v = number(loc.substr(1));
    if (!v) return unsupported(a, fmt::format("the immediate '{}' is not a number (a symbol's address)", loc));
    a.kind = SdtArg::Kind::Constant;
    a.value = *v;
    return;
  }
  const size_t open = loc.find('(');
  if (open == std::string_view::npos || !loc.ends_with(')')) {
    if (number(loc)) return unsupported(a, "an absolute address");
    return unsupported(a, fmt::format("'{}' is not an operand uptrace knows", loc));
  }
  std::string_view disp = loc.substr(0, open);
  std::string_view inside = loc.substr(open + 1, loc.size() - open - 2);
  if (inside.find(',') != std::string_view::npos) return unsupported(a, "an address with an index register");
  if (!inside.starts_with('%') || inside.size() < 2) return unsupported(a, fmt::format("'{}' has no base register", loc));
  std::optional<int64_t> offset = disp.empty() ? std::optional<int64_t>(0) : number(disp);
  if (!offset) return unsupported(a, fmt::format("the address names the symbol '{}'", disp.substr(0, disp.find_first_of("+-"))));
  if (inside == "%rip") return unsupported(a, "an address relative to the instruction pointer");
  a.kind = SdtArg::Kind::Memory;
  a.reg = std::string(inside.substr(1));
  a.offset = *offset;
}

// xN, wN, sp, [base], [base, #?disp], #?imm.
void parse_aarch64(std::string_view loc, SdtArg& a) {
  auto is_register = [](std::string_view r) {
    if (r == "sp") return true;
    return r.size() >= 2 && (r[0] == 'x' || r[0] == 'w') && std::all_of(r.begin() + 1, r.end(), is_digit);
  };
  auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  if (loc == "xzr" || loc == "wzr") {
    a.kind = SdtArg::Kind::Constant;
    a.value = 0;
    return;
  }
  if (is_register(loc)) {
    a.kind = SdtArg::Kind::Register;
    a.reg = std::string(loc);
    return;
  }
  if (loc.starts_with('[')) {
    if (!loc.ends_with(']')) return unsupported(a, fmt::format("'{}' is not an operand uptrace knows", loc));
    std::string_view inside = loc.substr(1, loc.size() - 2);
    std::string_view base = trim(inside.substr(0, inside.find(',')));
    std::string_view disp = inside.find(',') == std::string_view::npos ? "" : trim(inside.substr(inside.find(',') + 1));
    if (!is_register(base) || base[0] == 'w') return unsupported(a, fmt::format("'{}' has no base register", loc));
    if (disp.starts_with('#')) disp.remove_prefix(1);
    std::optional<int64_t> offset = disp.empty() ? std::optional<int64_t>(0) : number(disp);
    if (!offset) {
      if (is_register(disp) || disp.find(',') != std::string_view::npos)
        return unsupported(a, "an address with an index register");
      return unsupported(a, fmt::format("the offset '{}' is not a number", disp));
    }
    a.kind = SdtArg::Kind::Memory;
    a.reg = std::string(base);
    a.offset = *offset;
    return;
  }
  std::string_view imm = loc.starts_with('#') ? loc.substr(1) : loc;
  if (auto v = number(imm)) {
    a.kind = SdtArg::Kind::Constant;
    a.value = *v;
    return;
  }
  unsupported(a, fmt::format("'{}' is not an operand uptrace knows", loc));
}

// riscv64, as GCC prints operands into the note: a register by its ABI
// name ("a1", "s0"), memory as "offset(base)" ("-60(s0)", "0(a0)"), a
// constant as a bare number ("42"). zero reads as 0, as x0 does.
void parse_riscv64(std::string_view loc, SdtArg& a) {
  auto is_register = [](std::string_view r) {
    return !r.empty() && r[0] >= 'a' && r[0] <= 'z' && std::all_of(r.begin(), r.end(), is_alnum);
  };
  if (loc == "zero" || loc == "x0") {
    a.kind = SdtArg::Kind::Constant;
    a.value = 0;
    return;
  }
  if (is_register(loc)) {
    a.kind = SdtArg::Kind::Register;
    a.reg = std::string(loc);
    return;
  }
  // The last '(': the base's ("%lo(sym)(a5)" has two).
  const size_t open = loc.rfind('(');
  if (open != std::string_view::npos) {
    if (!loc.ends_with(')')) return unsupported(a, fmt::format("'{}' is not an operand uptrace knows", loc));
    std::string_view disp = loc.substr(0, open);
    std::string_view base = loc.substr(open + 1, loc.size() - open - 2);
    if (!is_register(base)) return unsupported(a, fmt::format("'{}' has no base register", loc));
    std::optional<int64_t> offset = disp.empty() ? std::optional<int64_t>(0) : number(disp);
    // %lo(sym)(a5), sym(a5): an address that names a symbol.
    if (!offset) return unsupported(a, fmt::format("the offset '{}' is not a number", disp));
    a.kind = SdtArg::Kind::Memory;
    a.reg = std::string(base);
    a.offset = *offset;
    return;
  }
  if (auto v = number(loc)) {
    a.kind = SdtArg::Kind::Constant;
    a.value = *v;
    return;
  }
  unsupported(a, fmt::format("'{}' is not an operand uptrace knows", loc));
}

// ppc64le, as GCC prints operands into the note: a register by its number
// ("4" is r4; "%r4" or "r4" with -mregnames), memory as "offset(base)"
// ("-8(31)", "0(3)"), a constant as "i42" (sdt.h puts %I before each
// operand, which prints an 'i' before a constant).
void parse_ppc64le(std::string_view loc, SdtArg& a) {
  auto gpr = [](std::string_view r) -> std::optional<unsigned> {
    if (r.starts_with('%')) r.remove_prefix(1);
    if (r.starts_with('r')) r.remove_prefix(1);
    if (r.empty() || r.size() > 2 || !std::all_of(r.begin(), r.end(), is_digit)) return std::nullopt;
    const unsigned n = r.size() == 1 ? unsigned(r[0] - '0') : unsigned(r[0] - '0') * 10 + unsigned(r[1] - '0');
    if (n > 31) return std::nullopt;
    return n;
  };
  if (loc.starts_with('i')) {
    auto v = number(loc.substr(1));
    if (!v) return unsupported(a, fmt::format("the immediate '{}' is not a number (a symbol's address)", loc));
    a.kind = SdtArg::Kind::Constant;
    a.value = *v;
    return;
  }
  if (auto n = gpr(loc)) {
    a.kind = SdtArg::Kind::Register;
    a.reg = fmt::format("r{}", *n);
    return;
  }
  const size_t open = loc.rfind('(');
  if (open == std::string_view::npos || !loc.ends_with(')'))
    return unsupported(a, fmt::format("'{}' is not an operand uptrace knows", loc));
  std::string_view disp = loc.substr(0, open);
  std::optional<unsigned> base = gpr(loc.substr(open + 1, loc.size() - open - 2));
  if (!base) return unsupported(a, fmt::format("'{}' has no base register", loc));
  // A D-form address with base r0 means no base at all.
  if (*base == 0) return unsupported(a, "an absolute address");
  std::optional<int64_t> offset = disp.empty() ? std::optional<int64_t>(0) : number(disp);
  if (!offset) return unsupported(a, fmt::format("the offset '{}' is not a number", disp));
  a.kind = SdtArg::Kind::Memory;
  a.reg = fmt::format("r{}", *base);
  a.offset = *offset;
}

}  // namespace

SdtArg parse_sdt_arg(std::string_view text, uint16_t machine) {
  SdtArg a;
  a.text = std::string(text);
  std::string_view loc = text;
  // "SIZE@": notes of sdt.h version 1 had none (then it is a signed 8 bytes).
  a.is_signed = true;
  if (size_t at = text.find('@'); at != std::string_view::npos && at > 0) {
    std::optional<int64_t> size = number(text.substr(0, at));
    if (!size || (*size != 1 && *size != 2 && *size != 4 && *size != 8 && *size != -1 && *size != -2 &&
                  *size != -4 && *size != -8)) {
      unsupported(a, fmt::format("'{}' is not a size of 1, 2, 4 or 8 bytes", text.substr(0, at)));
      return a;
    }
    a.is_signed = *size < 0;
    a.size = static_cast<unsigned>(*size < 0 ? -*size : *size);
    loc = text.substr(at + 1);
  }
  switch (machine) {
    case EM_X86_64: parse_x86_64(loc, a); break;
    case EM_AARCH64: parse_aarch64(loc, a); break;
    case EM_RISCV: parse_riscv64(loc, a); break;
    case EM_PPC64: parse_ppc64le(loc, a); break;
    default: unsupported(a, "uptrace reads USDT arguments on x86-64, aarch64, ppc64le and riscv64 only"); break;
  }
  return a;
}

std::vector<SdtArg> parse_sdt_args(std::string_view text, uint16_t machine) {
  std::vector<SdtArg> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    if (i >= text.size()) break;
    // A space inside brackets is part of an aarch64 address ("[sp, 16]").
    size_t start = i;
    int depth = 0;
    for (; i < text.size() && (text[i] != ' ' || depth > 0); ++i) {
      if (text[i] == '[') ++depth;
      if (text[i] == ']' && depth > 0) --depth;
    }
    out.push_back(parse_sdt_arg(text.substr(start, i - start), machine));
  }
  return out;
}

}  // namespace uptrace::elf
