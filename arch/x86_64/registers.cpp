#include "arch/x86_64/registers.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cctype>

namespace uptrace::arch::x86_64 {
namespace {

struct Name {
  std::string_view name;
  RegisterRef ref;
  int8_t gpr = -1;  // encoding number of the general-purpose register it is part of
};

constexpr RegisterRef part(Word w, uint8_t bits = 64, uint8_t shift = 0) { return {w, bits, shift}; }

// Encoding order: the index is the register number in ModRM/REX/VEX fields.
constexpr std::array<Word, 16> kGprWords = {kRax, kRcx, kRdx, kRbx, kRsp, kRbp, kRsi, kRdi,
                                            kR8,  kR9,  kR10, kR11, kR12, kR13, kR14, kR15};
constexpr std::array<std::string_view, 16> kGprNames = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp",
                                                        "rsi", "rdi", "r8",  "r9",  "r10", "r11",
                                                        "r12", "r13", "r14", "r15"};

constexpr Name kNames[] = {
    {"rax", part(kRax), 0}, {"eax", part(kRax, 32), 0}, {"ax", part(kRax, 16), 0}, {"al", part(kRax, 8), 0}, {"ah", part(kRax, 8, 8), 0},
    {"rcx", part(kRcx), 1}, {"ecx", part(kRcx, 32), 1}, {"cx", part(kRcx, 16), 1}, {"cl", part(kRcx, 8), 1}, {"ch", part(kRcx, 8, 8), 1},
    {"rdx", part(kRdx), 2}, {"edx", part(kRdx, 32), 2}, {"dx", part(kRdx, 16), 2}, {"dl", part(kRdx, 8), 2}, {"dh", part(kRdx, 8, 8), 2},
    {"rbx", part(kRbx), 3}, {"ebx", part(kRbx, 32), 3}, {"bx", part(kRbx, 16), 3}, {"bl", part(kRbx, 8), 3}, {"bh", part(kRbx, 8, 8), 3},
    {"rsp", part(kRsp), 4}, {"esp", part(kRsp, 32), 4}, {"sp", part(kRsp, 16), 4}, {"spl", part(kRsp, 8), 4},
    {"rbp", part(kRbp), 5}, {"ebp", part(kRbp, 32), 5}, {"bp", part(kRbp, 16), 5}, {"bpl", part(kRbp, 8), 5},
    {"rsi", part(kRsi), 6}, {"esi", part(kRsi, 32), 6}, {"si", part(kRsi, 16), 6}, {"sil", part(kRsi, 8), 6},
    {"rdi", part(kRdi), 7}, {"edi", part(kRdi, 32), 7}, {"di", part(kRdi, 16), 7}, {"dil", part(kRdi, 8), 7},
    {"r8", part(kR8), 8}, {"r8d", part(kR8, 32), 8}, {"r8w", part(kR8, 16), 8}, {"r8b", part(kR8, 8), 8},
    {"r9", part(kR9), 9}, {"r9d", part(kR9, 32), 9}, {"r9w", part(kR9, 16), 9}, {"r9b", part(kR9, 8), 9},
    {"r10", part(kR10), 10}, {"r10d", part(kR10, 32), 10}, {"r10w", part(kR10, 16), 10}, {"r10b", part(kR10, 8), 10},
    {"r11", part(kR11), 11}, {"r11d", part(kR11, 32), 11}, {"r11w", part(kR11, 16), 11}, {"r11b", part(kR11, 8), 11},
    {"r12", part(kR12), 12}, {"r12d", part(kR12, 32), 12}, {"r12w", part(kR12, 16), 12}, {"r12b", part(kR12, 8), 12},
    {"r13", part(kR13), 13}, {"r13d", part(kR13, 32), 13}, {"r13w", part(kR13, 16), 13}, {"r13b", part(kR13, 8), 13},
    {"r14", part(kR14), 14}, {"r14d", part(kR14, 32), 14}, {"r14w", part(kR14, 16), 14}, {"r14b", part(kR14, 8), 14},
    {"r15", part(kR15), 15}, {"r15d", part(kR15, 32), 15}, {"r15w", part(kR15, 16), 15}, {"r15b", part(kR15, 8), 15},
    {"rip", part(kRip)}, {"eflags", part(kEflags)}, {"orig_rax", part(kOrigRax)},
    {"cs", part(kCs, 16)}, {"ss", part(kSs, 16)}, {"ds", part(kDs, 16)}, {"es", part(kEs, 16)},
    {"fs", part(kFs, 16)}, {"gs", part(kGs, 16)}, {"fs_base", part(kFsBase)}, {"gs_base", part(kGsBase)},
};

const Name* find(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const Name& n : kNames) {
    if (n.name == lower) return &n;
  }
  return nullptr;
}

}  // namespace

std::optional<RegisterRef> register_by_name(std::string_view name) {
  const Name* n = find(name);
  if (n == nullptr) return std::nullopt;
  return n->ref;
}

std::vector<std::string> register_names() {
  std::vector<std::string> out;
  for (const Name& n : kNames) out.emplace_back(n.name);
  return out;
}

std::optional<unsigned> gpr_number(std::string_view name) {
  const Name* n = find(name);
  if (n == nullptr || n->gpr < 0) return std::nullopt;
  return static_cast<unsigned>(n->gpr);
}

uint16_t gpr_word(unsigned n) {
  assert(n < kGprWords.size());
  return kGprWords[n];
}

std::string_view gpr_name(unsigned n) {
  assert(n < kGprNames.size());
  return kGprNames[n];
}

void write_register(Regs& regs, RegisterRef ref, uint64_t value) {
  uint64_t& word = regs.words[ref.word];
  if (ref.bits >= 32) {
    word = ref.bits == 64 ? value : static_cast<uint32_t>(value);
    return;
  }
  const uint64_t mask = ((uint64_t{1} << ref.bits) - 1) << ref.shift;
  word = (word & ~mask) | ((value << ref.shift) & mask);
}

}  // namespace uptrace::arch::x86_64
