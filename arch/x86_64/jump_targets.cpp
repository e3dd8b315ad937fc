#include "arch/x86_64/jump_targets.h"

#include <algorithm>
#include <array>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "arch/x86_64/decoder.h"
#include "arch/x86_64/encoding.h"
#include "arch/x86_64/insn_table.h"
#include "arch/x86_64/registers.h"
#include "arch/x86_64/relocate.h"

namespace uptrace::arch::x86_64 {
namespace {

constexpr size_t kMaxInsnLength = 15;
// A jump table longer than this is not read: no switch GCC emits for code
// this tool probes comes near it, and its proof would be a large read.
constexpr uint64_t kMaxTableEntries = 4096;
// How far before the table load the bound and the table's base are looked for.
constexpr size_t kMaxIdiomLength = 12;

struct Scanned {
  Decoded d;
  InsnClass cls;
};

// One decoded part and how to name a place in it.
struct Part {
  RuntimeAddr start;
  bool elsewhere = false;  // a FUNC.cold part rather than the function itself
  std::vector<Scanned> insns;
  // Instructions Capstone 4 cannot decode were stepped over (not listed, so
  // what they write is not known).
  bool gaps = false;

  std::string where(uint64_t at) const {
    return elsewhere ? fmt::format("{:#x} (in a part of the function placed elsewhere)", at)
                     : fmt::format("+{:#x}", at - start.value);
  }
};

std::optional<unsigned> family(const Operand& op) {
  if (op.kind != Operand::Kind::Register) return std::nullopt;
  return gpr_number(op.reg);
}

bool is_reg(const Operand& op, unsigned n, uint8_t size = 8) {
  return op.kind == Operand::Kind::Register && op.size == size && gpr_number(op.reg) == n;
}

// An unsigned "index above the bound" branch: ja (77, 0f 87) or jae (73, 0f 83).
std::optional<bool> above_bound(const Scanned& s) {
  if (s.cls != InsnClass::Jcc) return std::nullopt;
  const uint8_t cc = s.d.enc.opcode & 0x0f;
  if (cc == 0x7) return true;   // ja: idx <= imm passes
  if (cc == 0x3) return false;  // jae: idx < imm passes
  return std::nullopt;
}

// The general-purpose registers an instruction may write: Capstone's list
// (cs_regs_access), with what Capstone 4 leaves out of it. Checked against
// Capstone 4.0.2: it lists none of cmpxchg's rax, xlatb's al, enter's rbp
// and rsp, syscall's rax, rcx and r11; it does list cmpxchg8b/16b's,
// cpuid's, rdtsc(p)'s, one-operand mul/div/imul's, cwd/cdq/cqo's, the
// string instructions', xchg's and xadd's, loop's and push/pop's. The
// known gaps and the instructions a kernel or a trap runs behind (their
// writes are anyone's) are added here; an instruction the analysis does not
// classify writes every register.
uint16_t writes(const Scanned& s) {
  switch (s.cls) {
    case InsnClass::Plain:
    case InsnClass::Nop:
    case InsnClass::Endbr:
    case InsnClass::JmpRel:
    case InsnClass::Jcc:
    case InsnClass::Loop:
    case InsnClass::Jrcxz:
    case InsnClass::CallRel:
    case InsnClass::CallIndirect:
    case InsnClass::JmpIndirect:
    case InsnClass::PushReg:
    case InsnClass::PushImm:
    case InsnClass::Pushf:
    case InsnClass::Ret:
    case InsnClass::LeaRip:
      break;
    default:
      return 0xffff;
  }
  static constexpr std::array<std::string_view, 15> kAll{"syscall", "sysenter", "sysexit", "int",    "int1",
                                                         "int3",    "into",     "ud2",     "rdmsr",  "rdpmc",
                                                         "rdpkru",  "rdpid",    "xgetbv",  "rdrand", "rdseed"};
  // Capstone 4 names a lock or rep prefix in the mnemonic ("lock cmpxchg").
  std::string_view m = s.d.mnemonic;
  for (std::string_view prefix : {"lock ", "rep ", "repe ", "repne ", "repz ", "repnz ", "bnd ", "notrack "})
    if (m.starts_with(prefix)) m.remove_prefix(prefix.size());
  if (std::find(kAll.begin(), kAll.end(), m) != kAll.end()) return 0xffff;
  auto bit = [](unsigned n) { return static_cast<uint16_t>(1u << n); };
  constexpr unsigned rax = 0, rcx = 1, rdx = 2, rbx = 3, rsp = 4, rbp = 5, rsi = 6, rdi = 7;
  uint16_t out = s.d.gprs_written;
  // Every register operand of an exchange is written.
  if (m == "xchg" || m == "xadd" || m.starts_with("cmpxchg"))
    for (const Operand& op : s.d.operands)
      if (auto n = family(op)) out |= bit(*n);
  if (m.starts_with("cmpxchg")) out |= bit(rax) | bit(rdx);
  if (m == "xlatb" || m == "xlat" || m == "cbw" || m == "cwde" || m == "cdqe" || m == "lahf") out |= bit(rax);
  if (m == "cwd" || m == "cdq" || m == "cqo") out |= bit(rax) | bit(rdx);
  if (m == "enter" || m == "leave") out |= bit(rbp) | bit(rsp);
  if (m == "cpuid") out |= bit(rax) | bit(rbx) | bit(rcx) | bit(rdx);
  if (m == "rdtsc" || m == "rdtscp") out |= bit(rax) | bit(rcx) | bit(rdx);
  if ((m == "mul" || m == "div" || m == "imul" || m == "idiv") && s.d.operands.size() == 1)
    out |= bit(rax) | bit(rdx);
  if (m == "loop" || m == "loope" || m == "loopne") out |= bit(rcx);
  // The string instructions (a4-a7, aa-af; movsd and cmpsd are also SSE's names).
  if (s.d.enc.vex == VexKind::None && s.d.enc.map == OpcodeMap::OneByte &&
      ((s.d.enc.opcode >= 0xa4 && s.d.enc.opcode <= 0xa7) || (s.d.enc.opcode >= 0xaa && s.d.enc.opcode <= 0xaf)))
    out |= bit(rax) | bit(rcx) | bit(rsi) | bit(rdi);
  if (s.cls == InsnClass::PushReg || s.cls == InsnClass::PushImm || s.cls == InsnClass::Pushf ||
      s.cls == InsnClass::Ret || m == "pop" || m == "popf" || m == "popfq")
    out |= bit(rsp);
  return out;
}

// Instructions the idiom may have between its parts: they write one
// register, named by their first operand, and nothing else.
bool writes_only_first_operand(const Scanned& s) {
  static constexpr std::array<std::string_view, 12> kSimple{"mov", "movzx", "movsxd", "movsx", "lea", "xor",
                                                            "add", "sub",   "and",    "or",    "shl", "shr"};
  return s.cls == InsnClass::Plain && !s.d.operands.empty() && s.d.operands[0].kind == Operand::Kind::Register &&
         std::find(kSimple.begin(), kSimple.end(), s.d.mnemonic) != kSimple.end();
}

struct Table {
  // Empty when the idiom does not show it: the register must then be proven
  // to hold one table's address on every path to the load (see Flow).
  std::optional<uint64_t> base;
  unsigned base_reg = 0;
  uint64_t entries = 0;
  uint64_t first = 0;  // address of the idiom's first instruction
  // The bound check (cmp index, imm; ja/jae), when there is one: what a
  // second check on another path to the code right after it must compare.
  std::optional<Operand> bounded;  // the cmp's first operand
  uint64_t after_bound = 0;        // the address after the ja/jae
  uint64_t lea_at = 0;             // the idiom's lea of the base, when it has one
  size_t load_at = 0;              // where in the part the entry is loaded
  size_t sum_at = 0;               // where in the part it is added to the base
};

// Whether insns[k] adds a table's entry, just loaded, to the table's base:
// `movsxd r, dword [base + idx*4]` then `add r, base` (or `lea r, [r + base]`).
// The result is a code address only a switch's bound makes safe.
// `add sum, base` (then sum is also the entry) or `lea sum, [entry + base]`,
// all 64-bit: the registers it adds.
struct Sum {
  unsigned sum = 0, entry = 0, base = 0;
};
std::optional<Sum> sum_of_two(const Decoded& add) {
  if (add.operands.size() != 2 || add.operands[0].kind != Operand::Kind::Register || add.operands[0].size != 8)
    return std::nullopt;
  const auto sum = family(add.operands[0]);
  std::optional<unsigned> entry, base;
  if (add.mnemonic == "add" && add.operands[1].size == 8) {
    entry = sum;
    base = family(add.operands[1]);
  } else if (add.mnemonic == "lea" && add.operands[1].kind == Operand::Kind::Memory && add.operands[1].value == 0 &&
             add.operands[1].scale == 1 && add.operands[1].segment.empty()) {
    base = gpr_number(add.operands[1].reg);
    entry = gpr_number(add.operands[1].index);
  }
  if (!sum || !entry || !base || *entry == *base) return std::nullopt;
  return Sum{*sum, *entry, *base};
}

bool adjacent(const Scanned& before, const Scanned& after) {
  return before.d.insn.address.value + before.d.insn.length == after.d.insn.address.value;
}

bool adds_table_entry(const std::vector<Scanned>& insns, size_t k, unsigned* entry_out = nullptr,
                      unsigned* base_out = nullptr) {
  if (k == 0) return false;
  const auto two = sum_of_two(insns[k].d);
  if (!two) return false;
  const auto sum = std::optional<unsigned>(two->sum), entry = std::optional<unsigned>(two->entry),
             base = std::optional<unsigned>(two->base);
  const Decoded& load = insns[k - 1].d;
  if (load.mnemonic != "movsxd" || load.operands.size() != 2 || !is_reg(load.operands[0], *entry) ||
      load.operands[1].kind != Operand::Kind::Memory || load.operands[1].size != 4 || load.operands[1].scale != 4 ||
      // A displacement would read the entries from elsewhere than the base
      // they are added to, where read_cases() does not look.
      load.operands[1].value != 0 || !load.operands[1].segment.empty() ||
      gpr_number(load.operands[1].reg) != *base || !gpr_number(load.operands[1].index))
    return false;
  if (!adjacent(insns[k - 1], insns[k])) return false;
  if (entry_out) *entry_out = *sum;
  if (base_out) *base_out = *base;
  return true;
}

// Whether s only compares (sets flags, writes no register): what GCC may
// schedule between a switch's add and its jmp for the code at the cases.
bool compares_only(const Scanned& s) {
  return s.cls == InsnClass::Plain && (s.d.mnemonic == "cmp" || s.d.mnemonic == "test") && writes(s) == 0;
}

// Instructions between a bound's cmp and its ja, or a memory bound's cmp and
// the index's load from the same memory: register moves, which set no flags
// and store nothing.
bool moves_register(const Scanned& s) {
  static constexpr std::array<std::string_view, 5> kMoves{"mov", "movzx", "movsx", "movsxd", "lea"};
  return s.cls == InsnClass::Plain && s.d.operands.size() == 2 && s.d.operands[0].kind == Operand::Kind::Register &&
         std::find(kMoves.begin(), kMoves.end(), s.d.mnemonic) != kMoves.end() &&
         (writes(s) & ~(family(s.d.operands[0]) ? 1u << *family(s.d.operands[0]) : 0u)) == 0;
}

bool same_memory(const Operand& a, const Operand& b) {
  return a.kind == Operand::Kind::Memory && b.kind == Operand::Kind::Memory && a.reg == b.reg && a.index == b.index &&
         a.scale == b.scale && a.value == b.value && a.size == b.size && a.segment == b.segment && a.reg != "rip";
}

uint16_t address_registers(const Operand& m) {
  uint16_t out = 0;
  if (auto n = gpr_number(m.reg)) out |= static_cast<uint16_t>(1u << *n);
  if (auto n = gpr_number(m.index)) out |= static_cast<uint16_t>(1u << *n);
  return out;
}

// A table of one entry, at a fixed place (`movsxd r, dword [rip + T]`;
// `lea b, [rip + T]`; `add r, b`; jmp r: glibc's __res_context_query): the
// jump always goes to the one target it holds.
std::optional<Table> fixed_entry(const std::vector<Scanned>& insns, size_t sum_at, unsigned target) {
  const auto two = sum_of_two(insns[sum_at].d);
  if (!two || two->sum != target || two->entry != two->sum) return std::nullopt;
  std::optional<uint64_t> base, entry;
  uint64_t lea_at = 0;
  size_t load_at = 0, i = sum_at;
  while (i > 0 && sum_at - i < 4 && !(base && entry)) {
    --i;
    const Scanned& s = insns[i];
    const Decoded& d = s.d;
    if (!adjacent(s, insns[i + 1])) return std::nullopt;
    if (!base && d.mnemonic == "lea" && d.operands.size() == 2 && is_reg(d.operands[0], two->base) &&
        d.rip_relative()) {
      base = rip_target(d, d.insn.address);
      lea_at = d.insn.address.value;
    } else if (!entry && d.mnemonic == "movsxd" && d.operands.size() == 2 && is_reg(d.operands[0], two->entry) &&
               d.operands[1].size == 4 && d.rip_relative() && d.operands[1].index.empty() &&
               d.operands[1].segment.empty()) {
      entry = rip_target(d, d.insn.address);
      load_at = i;
    } else {
      const auto written = family(d.operands.empty() ? Operand{} : d.operands[0]);
      if (!writes_only_first_operand(s) || !written || *written == two->base || *written == two->entry)
        return std::nullopt;
    }
  }
  if (!base || !entry || *base != *entry) return std::nullopt;
  return Table{base, two->base, 1, insns[i].d.insn.address.value, std::nullopt, 0, lea_at, load_at, sum_at};
}

// The switch idiom ending at the `jmp reg` at insns[k], or why it is not
// one: why_not stays empty when the jump does not look like a switch at all.
// The table address every write to register `reg` in the function and its
// parts puts there: each must be `lea reg, [rip + T]` with one T, or a pop
// (an epilogue restoring the caller's value, never followed by a switch).
// For a table base GCC hoists out of a loop or to the prologue, where the
// idiom's own instructions do not show it.
using HoistedBase = std::function<std::optional<uint64_t>(unsigned reg)>;

std::optional<Table> switch_table(const std::vector<Scanned>& insns, size_t k, std::string& why_not,
                                  const HoistedBase& hoisted) {
  why_not.clear();
  const Decoded& jmp = insns[k].d;
  if (jmp.operands.size() != 1 || k < 2) return std::nullopt;
  const auto target = family(jmp.operands[0]);
  if (!target || jmp.operands[0].size != 8) return std::nullopt;
  size_t sum_at = k - 1;
  while (sum_at > 1 && compares_only(insns[sum_at]) && adjacent(insns[sum_at], insns[sum_at + 1])) --sum_at;
  if (!adjacent(insns[sum_at], insns[sum_at + 1])) return std::nullopt;
  unsigned sum = 0, base_family = 0;
  if (!adds_table_entry(insns, sum_at, &sum, &base_family) || sum != *target) return fixed_entry(insns, sum_at, *target);
  const std::optional<unsigned> base_reg = base_family;
  const size_t load_at = sum_at - 1;
  const Decoded& load = insns[load_at].d;
  unsigned index = *gpr_number(load.operands[1].index);
  // The index bounded, then made the table's address by the base's lea, is
  // no bound at all.
  if (index == *base_reg) return std::nullopt;
  // Back from the load: the table's base (lea base, [rip + table]) and the
  // bound (cmp index, imm; ja/jae), in either order. The bound may be on
  // a narrower part of the index (cmp al, 12): the compiler zero-extends
  // what it compares, and its index never exceeds it.
  why_not = "whose jump table's bound or base was not found right before it (a cmp and ja, and a lea of the table)";
  std::optional<uint64_t> base, entries;
  std::optional<Operand> bounded;
  // The memory the index was loaded from (`mov eax, dword [rbx + 8]`), whose
  // bound is then a cmp of that memory (dlinfo_doit's `cmp dword [rbx + 8], 11`).
  std::optional<Operand> index_memory;
  auto traced = [&] {
    if (entries) return 0u;
    return index_memory ? unsigned{address_registers(*index_memory)} : 1u << index;
  };
  uint64_t after_bound = 0, lea_at = 0;
  size_t i = load_at;
  while (i > 0 && k - i < kMaxIdiomLength && !(base && entries)) {
    --i;
    // An instruction Capstone 4 cannot decode, not listed, may be between.
    if (!adjacent(insns[i], insns[i + 1])) {
      if (!entries) return std::nullopt;
      ++i;
      break;
    }
    const Scanned& s = insns[i];
    const Decoded& d = s.d;
    if (!base && d.mnemonic == "lea" && d.operands.size() == 2 && is_reg(d.operands[0], *base_reg) &&
        d.rip_relative()) {
      base = rip_target(d, d.insn.address);
      lea_at = d.insn.address.value;
      continue;
    }
    if (!entries && !index_memory) {
      // mov index32, dword [mem]: zero-extended, it is what mem holds.
      if (d.mnemonic == "mov" && d.operands.size() == 2 && family(d.operands[0]) == index && d.operands[0].size == 4 &&
          d.operands[1].kind == Operand::Kind::Memory && d.operands[1].size == 4 && !d.rip_relative() &&
          d.operands[1].segment.empty() && !(address_registers(d.operands[1]) >> *base_reg & 1)) {
        index_memory = d.operands[1];
        continue;
      }
    }
    if (!entries && !index_memory) {
      // movzx index, byte [mem]: whatever the memory holds, the index is at
      // most 255, so the 256 entries from the base are all it can read
      // (GCC drops the cmp when the case values cover a byte's range).
      if (d.mnemonic == "movzx" && d.operands.size() == 2 && family(d.operands[0]) == index &&
          d.operands[0].size >= 4 && d.operands[1].kind == Operand::Kind::Memory && d.operands[1].size == 1) {
        entries = 256;
        continue;
      }
    }
    if (!entries) {
      if (auto ja = above_bound(s)) {
        // Back to the cmp over register moves that leave what it compared
        // alone (__spawni_child's `mov r14, rcx`), each adjacent in the code,
        // not only in the list: decode_part steps over instructions
        // Capstone 4 cannot decode without listing them.
        size_t c = i;
        while (c > 0 && adjacent(insns[c - 1], insns[c]) && moves_register(insns[c - 1]) &&
               !(writes(insns[c - 1]) & traced()))
          --c;
        if (c == 0 || !adjacent(insns[c - 1], insns[c])) return std::nullopt;
        const Decoded& cmp = insns[c - 1].d;
        const bool compares_index = index_memory ? same_memory(cmp.operands.empty() ? Operand{} : cmp.operands[0],
                                                               *index_memory)
                                                 : family(cmp.operands.empty() ? Operand{} : cmp.operands[0]) == index;
        if (cmp.mnemonic != "cmp" || cmp.operands.size() != 2 || !compares_index ||
            cmp.operands[1].kind != Operand::Kind::Immediate || cmp.operands[1].value < 0)
          return std::nullopt;
        const uint64_t bound = static_cast<uint64_t>(cmp.operands[1].value);
        entries = *ja ? bound + 1 : bound;
        bounded = cmp.operands[0];
        after_bound = d.insn.address.value + d.insn.length;
        i = c - 1;  // the cmp
        continue;
      }
    }
    if (!entries && !index_memory) {
      // mov/movzx index, other: the bound was checked on the other register.
      if ((d.mnemonic == "mov" || d.mnemonic == "movzx") && d.operands.size() == 2 && family(d.operands[0]) == index &&
          (d.operands[0].size == 8 || d.operands[0].size == 4) &&
          (d.mnemonic == "movzx" || d.operands[1].size == d.operands[0].size)) {
        auto from = family(d.operands[1]);
        if (!from || *from == *base_reg) return std::nullopt;
        index = *from;
        continue;
      }
    }
    // Anything else must leave the registers still being traced alone.
    const auto written = family(d.operands.empty() ? Operand{} : d.operands[0]);
    if (!writes_only_first_operand(s) || !written || (!base && *written == *base_reg) || (traced() >> *written & 1)) {
      if (!entries) return std::nullopt;
      ++i;  // bounded: the base may be the function's one table address (below)
      break;
    }
  }
  if (!entries) return std::nullopt;
  if (!base) base = hoisted(*base_reg);
  if (*entries > kMaxTableEntries) {
    why_not = fmt::format("whose jump table has {} entries, more than uptrace reads ({})", *entries, kMaxTableEntries);
    return std::nullopt;
  }
  return Table{base, *base_reg, *entries, insns[i].d.insn.address.value, bounded, after_bound, lea_at, load_at, sum_at};
}

// The length of a VEX or EVEX instruction Capstone 4 cannot decode
// (AVX-512's vpcmpeqb k, ymm, m, imm8 and vptestmb; kmovd), or of rdpkru
// and wrpkru; nullopt for anything else. None of them is a branch, so the
// function's decode only needs to step over them. The length is the
// prefixes and opcode, the ModRM operand (with SIB and displacement) and an
// imm8 where the opcode has one.
std::optional<size_t> non_branch_length(std::span<const uint8_t> code) {
  const auto enc = parse_encoding(code);
  if (!enc) return std::nullopt;
  if (enc->vex == VexKind::None) {
    const bool pkru = enc->map == OpcodeMap::TwoByte && enc->opcode == 0x01 && enc->modrm_offset < code.size() &&
                      (code[enc->modrm_offset] == 0xee || code[enc->modrm_offset] == 0xef);
    return pkru ? std::optional<size_t>(enc->modrm_offset + 1u) : std::nullopt;
  }
  // XOP's maps and EVEX's maps 4-7 differ in their immediates: not stepped over.
  if (enc->vex == VexKind::Xop || (enc->map != OpcodeMap::TwoByte && enc->map != OpcodeMap::ThreeByte38 &&
                                   enc->map != OpcodeMap::ThreeByte3A))
    return std::nullopt;
  // vzeroupper/vzeroall (0f 77) have no ModRM.
  if (enc->map == OpcodeMap::TwoByte && enc->opcode == 0x77) return enc->opcode_offset + 1u;
  size_t at = enc->modrm_offset;
  if (at >= code.size()) return std::nullopt;
  const uint8_t modrm = code[at++];
  const uint8_t mod = modrm >> 6, rm = modrm & 7;
  if (mod != 3) {
    uint8_t base = rm;
    if (rm == 4) {
      if (at >= code.size()) return std::nullopt;
      base = code[at++] & 7;
    }
    if (mod == 1) at += 1;
    else if (mod == 2 || (mod == 0 && base == 5)) at += 4;
  }
  bool imm8 = enc->map == OpcodeMap::ThreeByte3A;
  if (enc->map == OpcodeMap::TwoByte)
    imm8 = (enc->opcode >= 0x70 && enc->opcode <= 0x73) || (enc->opcode >= 0xc2 && enc->opcode <= 0xc6);
  if (imm8) at += 1;
  if (at > code.size()) return std::nullopt;
  return at;
}

std::optional<Part> decode_part(const Decoder& decoder, RuntimeAddr start, std::span<const uint8_t> code,
                                bool elsewhere, std::string& why_not) {
  Part part{start, elsewhere, {}};
  size_t offset = 0;
  while (offset < code.size()) {
    auto rest = code.subspan(offset);
    auto d = decoder.decode_one(rest.first(std::min(rest.size(), kMaxInsnLength)), start + offset);
    if (!d) {
      if (auto n = non_branch_length(rest.first(std::min(rest.size(), kMaxInsnLength)))) {
        offset += *n;
        part.gaps = true;
        continue;
      }
      why_not = elsewhere ? fmt::format("a part of the function placed elsewhere ({:#x}) cannot be decoded to its end "
                                        "(at +{:#x})",
                                        start.value, offset)
                          : fmt::format("the function cannot be decoded to its end (at +{:#x})", offset);
      return std::nullopt;
    }
    const InsnRow* row = classify(d->enc, d->insn.code());
    offset += d->insn.length;
    part.insns.push_back({std::move(*d), row ? row->cls : InsnClass::Plain});
  }
  return part;
}

bool is_direct_branch(InsnClass cls) {
  return cls == InsnClass::JmpRel || cls == InsnClass::Jcc || cls == InsnClass::CallRel || cls == InsnClass::Loop ||
         cls == InsnClass::Jrcxz;
}

// Every direct branch in the module, by target: (target, branch address).
using ModuleBranches = std::vector<std::pair<uint64_t, uint64_t>>;

// The module's branches, decoded once per reader (ImageReader::derived).
// A function that cannot be decoded to its end is read up to there.
std::shared_ptr<const ModuleBranches> module_branches(const Decoder& decoder, const ImageReader& image) {
  if (image.derived) return std::static_pointer_cast<const ModuleBranches>(image.derived);
  auto out = std::make_shared<ModuleBranches>();
  for (const CodePart& f : image.functions()) {
    size_t offset = 0;
    while (offset < f.code.size()) {
      auto rest = f.code.subspan(offset);
      rest = rest.first(std::min(rest.size(), kMaxInsnLength));
      auto d = decoder.decode_shape(rest, f.start + offset);
      if (!d) {
        auto n = non_branch_length(rest);
        if (!n) break;
        offset += *n;
        continue;
      }
      const InsnRow* row = classify(d->enc, d->insn.code());
      if (row && is_direct_branch(row->cls)) out->emplace_back(relative_branch_target(*d), d->insn.address.value);
      offset += d->insn.length;
    }
  }
  std::sort(out->begin(), out->end());
  image.derived = out;
  return out;
}

// A switch's cases: the targets of its table's first `entries` entries,
// each relative to the table; nullopt when the table cannot be read.
std::optional<std::vector<uint64_t>> read_cases(const ImageReader& image, uint64_t base, uint64_t entries) {
  std::vector<uint8_t> bytes(entries * 4);
  if (!image.read(RuntimeAddr(base), bytes)) return std::nullopt;
  std::vector<uint64_t> cases;
  cases.reserve(entries);
  for (uint64_t i = 0; i < entries; ++i) {
    int32_t rel = 0;
    for (int b = 3; b >= 0; --b) rel = static_cast<int32_t>(static_cast<uint32_t>(rel) << 8 | bytes[4 * i + b]);
    cases.push_back(base + static_cast<uint64_t>(static_cast<int64_t>(rel)));
  }
  return cases;
}

struct Loc {
  const Part* part = nullptr;
  size_t i = 0;
  const Scanned& insn() const { return part->insns[i]; }
  uint64_t at() const { return part->insns[i].d.insn.address.value; }
};

// Registers a call may change (the System V ABI's caller-saved ones); the
// others a callee restores, which the compiled code itself relies on.
constexpr uint16_t kCallerSaved = 0x0fc7;  // rax rcx rdx rsi rdi r8-r11

bool falls_through(const Scanned& s) {
  return s.cls != InsnClass::JmpRel && s.cls != InsnClass::JmpIndirect && s.cls != InsnClass::Ret;
}

// The control flow of a function and its parts, as far as a proof that a
// register holds one value on every path needs it: each instruction's
// predecessors are the one before it (when that falls through), the direct
// branches to it, and the cases of the switches whose tables are known or
// assumed (an assumption each switch's own proof then discharges, by
// induction over the loads run: the first wrong base would need a path the
// walk did not see). Anything else that may enter an instruction (the
// function's entry, a branch from another function, an address the module
// stores or the function takes, which an indirect jump could go to)
// refuses; so an instruction with no predecessor is never run (alignment
// padding). Landing pads are the caller's to exclude.
class Flow {
 public:
  Flow(const std::vector<Part>& parts, const ImageReader& image, const ModuleBranches& module) : image_(image) {
    for (const Part& part : parts) {
      for (size_t i = 0; i < part.insns.size(); ++i) at_[part.insns[i].d.insn.address.value] = {&part, i};
      if (!part.insns.empty()) {
        const Decoded& last = part.insns.back().d;
        ranges_.emplace_back(part.start.value, last.insn.address.value + last.insn.length);
      }
    }
    for (const Part& part : parts)
      for (size_t i = 0; i < part.insns.size(); ++i) {
        const Scanned& s = part.insns[i];
        if (is_direct_branch(s.cls)) {
          const uint64_t to = relative_branch_target(s.d);
          if (within(to) && !at_.count(to)) misaligned_ = to;
          branches_.emplace(to, Loc{&part, i});
        }
        if (s.d.mnemonic == "lea" && s.d.rip_relative()) taken_.insert(rip_target(s.d, s.d.insn.address));
      }
    for (const auto& [to, from] : module)
      if (within(to) && !within(from)) {
        // Mid-instruction, it runs bytes the walk never decoded.
        if (!at_.count(to)) misaligned_ = to;
        outside_.insert(to);
      }
    entry_ = parts.empty() || parts[0].insns.empty() ? 0 : parts[0].insns[0].d.insn.address.value;
  }

  void add_cases(const Loc& jmp, const std::vector<uint64_t>& cases) {
    for (uint64_t to : cases) {
      if (within(to) && !at_.count(to)) misaligned_ = to;
      cases_.emplace(to, jmp);
    }
  }

  // Why `reg` may not hold `table` when load runs, or "" when it holds it
  // on every path: each path back from load meets `lea reg, [rip + table]`
  // before anything else writes reg.
  std::string holds(const Loc& load, unsigned reg, uint64_t table) const {
    if (misaligned_)
      return fmt::format("a branch or case lands at {:#x}, not where an instruction starts", *misaligned_);
    constexpr size_t kMaxWalk = 20000;
    std::vector<Loc> work{load};
    std::set<uint64_t> seen{load.at()};
    while (!work.empty()) {
      const Loc x = work.back();
      work.pop_back();
      const uint64_t a = x.at();
      if (a == entry_) return "the function's entry reaches it";
      if (outside_.count(a)) return fmt::format("a branch from elsewhere in the module lands at {}", x.part->where(a));
      if (taken_.count(a) || image_.pointer_into(RuntimeAddr(a - 1), RuntimeAddr(a + 1)) != false)
        return fmt::format("an indirect jump may enter at {}, whose address is taken or stored", x.part->where(a));
      std::vector<Loc> preds;
      if (x.i > 0) {
        const Loc before{x.part, x.i - 1};
        const Decoded& b = before.insn().d;
        if (b.insn.address.value + b.insn.length != a)
          return fmt::format("the code before {} cannot be decoded", x.part->where(a));
        if (falls_through(before.insn())) preds.push_back(before);
      }
      for (auto [it, end] = branches_.equal_range(a); it != end; ++it) preds.push_back(it->second);
      for (auto [it, end] = cases_.equal_range(a); it != end; ++it) preds.push_back(it->second);
      // None: padding between blocks, or code after a call that does not
      // return; every way in has been looked for above.
      for (const Loc& p : preds) {
        const Scanned& s = p.insn();
        if (writes(s) >> reg & 1) {
          if (s.d.mnemonic == "lea" && s.d.operands.size() == 2 && is_reg(s.d.operands[0], reg) && s.d.rip_relative() &&
              rip_target(s.d, s.d.insn.address) == table)
            continue;  // this path loads the table
          return fmt::format("{} is written at {}", gpr_name(reg), p.part->where(p.at()));
        }
        if ((s.cls == InsnClass::CallRel || s.cls == InsnClass::CallIndirect) && (kCallerSaved >> reg & 1))
          return fmt::format("the call at {} may change {}", p.part->where(p.at()), gpr_name(reg));
        if (seen.insert(p.at()).second) {
          if (seen.size() > kMaxWalk) return "its paths are too many to follow";
          work.push_back(p);
        }
      }
    }
    return {};
  }

 private:
  bool within(uint64_t at) const {
    return std::any_of(ranges_.begin(), ranges_.end(), [&](const auto& r) { return at >= r.first && at < r.second; });
  }

  const ImageReader& image_;
  std::map<uint64_t, Loc> at_;
  std::vector<std::pair<uint64_t, uint64_t>> ranges_;
  std::multimap<uint64_t, Loc> branches_, cases_;
  std::set<uint64_t> taken_, outside_;
  std::optional<uint64_t> misaligned_;
  uint64_t entry_ = 0;
};

// How far back from an indirect jump, and over how many paths in all, the
// walk for a table its target is computed from looks.
constexpr size_t kMaxTableWalkDepth = 24;
constexpr size_t kMaxTableWalkStates = 4096;

// Whether the target of the indirect jump at `jmp` may be computed from a
// table: on some path back from it (through fall-through and the parts'
// direct branches, up to kMaxTableWalkDepth instructions), a value loaded
// from memory reaches the jump's register through arithmetic (an add, sub,
// lea, or anything else that writes it from other registers): a relative
// jump table (`movsxd r, [t + i*4]; add r, base; jmp r`, in any order and
// with anything in between) or a computed goto's label table. Its targets
// are then no relocation's value nor any lea's, so the relocation argument
// does not cover them. Returns the load's place, or nullopt when no path
// shows one. A jump through memory (`jmp [t + i*8]`) or a register loaded
// and jumped to unchanged is not one: those go to stored addresses.
std::optional<Loc> computed_from_table(const Loc& jmp, const std::multimap<uint64_t, Loc>& branches) {
  const Decoded& j = jmp.insn().d;
  if (j.operands.size() != 1) return std::nullopt;
  const Operand& target = j.operands[0];
  uint16_t start = 0;
  if (target.kind == Operand::Kind::Register) {
    const auto n = gpr_number(target.reg);
    if (!n) return std::nullopt;
    start = static_cast<uint16_t>(1u << *n);
  } else if (target.kind == Operand::Kind::Memory) {
    return std::nullopt;  // an address stored in memory
  }
  auto gpr_bit = [](const std::string& name) -> uint16_t {
    const auto n = gpr_number(name);
    return n ? static_cast<uint16_t>(1u << *n) : 0;
  };
  auto address_regs = [&](const Operand& op) -> uint16_t {
    return op.kind == Operand::Kind::Memory ? static_cast<uint16_t>(gpr_bit(op.reg) | gpr_bit(op.index)) : 0;
  };
  struct State {
    Loc at;  // the instruction before which `tracked` flow into the target
    uint16_t tracked;
    bool computed;  // arithmetic is applied on the way to the jump
    size_t depth;
  };
  std::deque<State> work;  // breadth first: each state first seen at its least depth
  std::set<std::tuple<uint64_t, uint16_t, bool>> seen;
  auto push_preds = [&](const State& st) {
    if (st.depth >= kMaxTableWalkDepth || st.tracked == 0) return;
    const uint64_t a = st.at.at();
    auto add = [&](const Loc& p) {
      if (seen.size() > kMaxTableWalkStates) return;
      if (seen.emplace(p.at(), st.tracked, st.computed).second) work.push_back({p, st.tracked, st.computed, st.depth + 1});
    };
    if (st.at.i > 0) {
      const Loc before{st.at.part, st.at.i - 1};
      const Decoded& b = before.insn().d;
      if (b.insn.address.value + b.insn.length == a && falls_through(before.insn())) add(before);
    }
    for (auto [it, end] = branches.equal_range(a); it != end; ++it) add(it->second);
  };
  push_preds({jmp, start, false, 0});
  while (!work.empty()) {
    State st = work.front();
    work.pop_front();
    const Scanned& s = st.at.insn();
    const Decoded& d = s.d;
    const uint16_t written = writes(s);
    if (!(written & st.tracked)) {
      push_preds(st);
      continue;
    }
    const Operand* dst = d.operands.empty() ? nullptr : &d.operands[0];
    const uint16_t dst_bit = dst && dst->kind == Operand::Kind::Register ? gpr_bit(dst->reg) : 0;
    const std::string& m = d.mnemonic;
    const bool load = (m == "mov" || m == "movsxd" || m == "movsx" || m == "movzx") && d.operands.size() == 2 &&
                      dst_bit && d.operands[1].kind == Operand::Kind::Memory;
    if (load) {
      if (st.computed) return st.at;
      st.tracked &= static_cast<uint16_t>(~dst_bit);  // a stored address, jumped to unchanged
    } else if ((m == "mov" || m == "movsxd" || m == "movsx" || m == "movzx") && d.operands.size() == 2 && dst_bit &&
               d.operands[1].kind == Operand::Kind::Register && written == dst_bit) {
      st.tracked = static_cast<uint16_t>((st.tracked & ~dst_bit) | gpr_bit(d.operands[1].reg));
      if (m != "mov") st.computed = true;
    } else if (m == "lea" && d.operands.size() == 2 && dst_bit && written == dst_bit) {
      st.tracked &= static_cast<uint16_t>(~dst_bit);
      if (!d.rip_relative()) {
        st.tracked |= address_regs(d.operands[1]);
        st.computed = true;
      }
    } else if ((m == "xor" || m == "sub") && d.operands.size() == 2 && dst_bit &&
               d.operands[1].kind == Operand::Kind::Register && d.operands[1].reg == dst->reg) {
      st.tracked &= static_cast<uint16_t>(~dst_bit);  // zeroed
    } else if (s.cls == InsnClass::CallRel || s.cls == InsnClass::CallIndirect) {
      st.tracked &= static_cast<uint16_t>(~written);  // a returned value: stored somewhere
    } else {
      const bool sum = m == "add" || m == "sub" || m == "adc" || m == "sbb";
      // An add of memory is a table's entry added as it is loaded.
      if (sum && d.operands.size() == 2 && d.operands[1].kind == Operand::Kind::Memory) return st.at;
      // Anything else computes what it writes from what it reads (over-
      // approximated by what it accesses). Only a sum makes a stored value
      // another address: a pointer demangled (ror, xor) is still one taken
      // somewhere.
      st.tracked |= static_cast<uint16_t>(d.gprs_accessed & ~(1u << 4));  // but rsp
      if (sum) st.computed = true;
    }
    push_preds(st);
  }
  return std::nullopt;
}

}  // namespace

std::string branch_into(const Decoder& decoder, const SiteContext& ctx, uint64_t lo, uint64_t hi) {
  std::vector<Part> parts;
  std::string why_not;
  auto function = decode_part(decoder, ctx.function_start, ctx.function_code, false, why_not);
  if (!function) return why_not;
  parts.push_back(std::move(*function));
  for (const CodePart& p : ctx.other_parts) {
    auto part = decode_part(decoder, p.start, p.code, true, why_not);
    if (!part) return why_not;
    parts.push_back(std::move(*part));
  }
  auto inside = [&](uint64_t at) { return at > lo && at < hi; };

  // Every direct branch's target: none may be inside, and none may enter a
  // switch idiom past its bound check.
  std::set<uint64_t> targets;
  for (const Part& part : parts)
    for (const Scanned& s : part.insns) {
      if (!is_direct_branch(s.cls)) continue;
      const uint64_t target = relative_branch_target(s.d);
      if (inside(target))
        return fmt::format("the {} at {} lands inside the bytes a jump would overwrite", s.d.mnemonic,
                           part.where(s.d.insn.address.value));
      targets.insert(target);
    }

  // A branch from elsewhere in the module: hand-written assembly enters
  // other functions' middles.
  if (ctx.image) {
    auto branches = module_branches(decoder, *ctx.image);
    auto it = std::upper_bound(branches->begin(), branches->end(), std::pair{lo, UINT64_MAX});
    if (it != branches->end() && it->first < hi)
      return fmt::format("a branch at {:#x}, elsewhere in the module, lands inside the bytes a jump would overwrite",
                         it->second);
  }

  // A code address taken in the function (labels as values) that is inside.
  for (const Part& part : parts)
    for (const Scanned& s : part.insns)
      if (s.d.mnemonic == "lea" && s.d.rip_relative() && inside(rip_target(s.d, s.d.insn.address)))
        return fmt::format("the lea at {} takes the address of a place inside the bytes a jump would overwrite",
                           part.where(s.d.insn.address.value));

  // Indirect jumps: a switch's targets are its table's entries; any other
  // jump goes to an address stored somewhere or computed, and a position-
  // independent module stores every code address with a relocation, takes
  // one in its code with a rip-relative lea, or computes one from a
  // relative table (a switch's idiom, checked at each place it occurs). So
  // when no relocation's value, no lea in the function and no table entry
  // is inside, no indirect jump can land there. (As for direct branches,
  // the code of other functions is taken not to enter this one's middle.)
  const HoistedBase hoisted = [&](unsigned reg) -> std::optional<uint64_t> {
    std::optional<uint64_t> table;
    for (const Part& part : parts) {
      if (part.gaps) return std::nullopt;  // kmovd eax, k0 writes a register unseen
      for (const Scanned& s : part.insns) {
        if (!(writes(s) >> reg & 1)) continue;
        if (s.d.mnemonic == "pop" && s.d.operands.size() == 1 && is_reg(s.d.operands[0], reg)) continue;
        if (s.d.mnemonic != "lea" || s.d.operands.size() != 2 || !is_reg(s.d.operands[0], reg) || !s.d.rip_relative())
          return std::nullopt;
        const uint64_t t = rip_target(s.d, s.d.insn.address);
        if (table && *table != t) return std::nullopt;
        table = t;
      }
    }
    return table;
  };
  struct Switch {
    Loc jmp;
    Table table;
    std::vector<uint64_t> cases;  // read once the base is known
  };
  std::vector<Switch> switches;
  std::optional<std::pair<const Part*, uint64_t>> other_jump;
  std::multimap<uint64_t, Loc> branches;  // the parts' direct branches, by target
  for (const Part& part : parts)
    for (size_t i = 0; i < part.insns.size(); ++i)
      if (is_direct_branch(part.insns[i].cls)) branches.emplace(relative_branch_target(part.insns[i].d), Loc{&part, i});
  for (const Part& part : parts)
    for (size_t k = 0; k < part.insns.size(); ++k) {
      if (part.insns[k].cls != InsnClass::JmpIndirect) continue;
      const uint64_t at = part.insns[k].d.insn.address.value;
      auto unknown = [&](const std::string& why) {
        return fmt::format("the function has an indirect jump at {} {}", part.where(at), why);
      };
      auto table = switch_table(part.insns, k, why_not, hoisted);
      if (!table && why_not.empty()) {
        // A target computed from a table no switch idiom bounds (a computed
        // goto's, or a switch in another shape) may be anywhere.
        if (auto load = computed_from_table(Loc{&part, k}, branches))
          return fmt::format("an indirect jump at {} computes its target from a table uptrace cannot bound (loaded at "
                             "{})",
                             part.where(at), load->part->where(load->at()));
        if (!other_jump) other_jump = {&part, at};
        continue;
      }
      if (!table) return unknown(why_not);
      if (!ctx.image) return unknown("whose jump table cannot be read (the module's bytes are not known)");
      Switch sw{{&part, k}, *table, {}};
      if (table->base) {
        auto cases = read_cases(*ctx.image, *table->base, table->entries);
        if (!cases) return unknown(fmt::format("whose jump table at {:#x} cannot be read", *table->base));
        sw.cases = std::move(*cases);
      }
      switches.push_back(std::move(sw));
    }

  // Bases loaded in an earlier block (before a loop, in a dominating
  // block): each must be proven on every path to its load, all at once,
  // since each one's cases are paths of the others.
  std::vector<Switch*> pending;
  for (Switch& sw : switches)
    if (!sw.table.base) pending.push_back(&sw);
  if (!pending.empty()) {
    auto unknown = [&](const Switch& sw, const std::string& why) {
      return fmt::format("the function has an indirect jump at {} whose jump table's base is not loaded right before "
                         "it, and {}",
                         sw.jmp.part->where(sw.jmp.at()), why);
    };
    // The unwinder enters a landing pad with only the callee-saved
    // registers of the call that threw: paths no branch shows.
    std::vector<std::pair<RuntimeAddr, size_t>> extents{{ctx.function_start, ctx.function_code.size()}};
    for (const CodePart& p : ctx.other_parts) extents.emplace_back(p.start, p.code.size());
    for (const auto& [start, size] : extents) {
      const auto pads = ctx.image->landing_pads_in(start, start + size);
      if (!pads) return unknown(*pending[0], "whether the function has landing pads is not known");
      if (*pads) return unknown(*pending[0], "the function has landing pads, which the unwinder enters unseen");
    }
    // The candidate tables: what a rip-relative lea of the base register loads.
    std::vector<std::vector<uint64_t>> candidates;
    // The nearest lea before the switch first: most likely the one, whose
    // failure is then the one worth reporting.
    for (Switch* sw : pending) {
      std::vector<uint64_t> found;
      for (const Part& part : parts)
        for (const Scanned& s : part.insns)
          if (s.d.mnemonic == "lea" && s.d.operands.size() == 2 && is_reg(s.d.operands[0], sw->table.base_reg) &&
              s.d.rip_relative()) {
            const uint64_t t = rip_target(s.d, s.d.insn.address);
            if (&part == sw->jmp.part && s.d.insn.address.value < sw->jmp.at()) {
              std::erase(found, t);
              found.insert(found.begin(), t);
            } else if (std::find(found.begin(), found.end(), t) == found.end()) {
              found.push_back(t);
            }
          }
      if (found.empty()) return unknown(*sw, fmt::format("no lea in the function loads {}", gpr_name(sw->table.base_reg)));
      candidates.push_back(std::move(found));
    }
    if (!ctx.image->functions_complete())
      return unknown(*pending[0], "the module has no symbol table (.symtab), so not every branch into the function "
                                  "from elsewhere can be seen");
    auto module = module_branches(decoder, *ctx.image);
    // Each combination of candidates, a few at most; the first that holds
    // on every path is the only one that can.
    constexpr size_t kMaxCombinations = 16;
    std::vector<size_t> pick(pending.size(), 0);
    std::string why;
    for (size_t round = 0; round < kMaxCombinations; ++round) {
      Flow flow(parts, *ctx.image, *module);
      for (const Switch& sw : switches)
        if (sw.table.base) flow.add_cases(sw.jmp, sw.cases);
      std::vector<std::vector<uint64_t>> assumed(pending.size());
      bool readable = true;
      for (size_t j = 0; j < pending.size() && readable; ++j) {
        auto cases = read_cases(*ctx.image, candidates[j][pick[j]], pending[j]->table.entries);
        if (!cases) {
          if (why.empty())
            why = unknown(*pending[j], fmt::format("its table at {:#x} cannot be read", candidates[j][pick[j]]));
          readable = false;
          break;
        }
        assumed[j] = std::move(*cases);
        flow.add_cases(pending[j]->jmp, assumed[j]);
      }
      bool all = readable;
      for (size_t j = 0; j < pending.size() && all; ++j) {
        const Switch& sw = *pending[j];
        const Loc load{sw.jmp.part, sw.table.load_at};
        if (auto no = flow.holds(load, sw.table.base_reg, candidates[j][pick[j]]); !no.empty()) {
          if (why.empty())  // the first combination's reason: the others' are less likely ones
            why = unknown(sw, fmt::format("{} may not hold the table's address there: {}", gpr_name(sw.table.base_reg), no));
          all = false;
        }
      }
      if (all) {
        for (size_t j = 0; j < pending.size(); ++j) {
          pending[j]->table.base = candidates[j][pick[j]];
          pending[j]->cases = std::move(assumed[j]);
        }
        break;
      }
      // The next combination, odometer-wise.
      size_t j = 0;
      while (j < pick.size() && ++pick[j] == candidates[j].size()) pick[j++] = 0;
      if (j == pick.size()) break;
    }
    if (!pending[0]->table.base) return why;
  }

  // Every switch's cases; none may land inside, nor past a switch's bound
  // check into its idiom (where it could arrive with another index or base).
  std::set<uint64_t> proven_sums;  // table-entry additions that are a proven switch's
  std::set<uint64_t> cases;
  for (const Switch& sw : switches) cases.insert(sw.cases.begin(), sw.cases.end());
  // A branch to right after the bound check is harmless when it is a jbe
  // or jb whose own cmp checks the same operand against no larger bound
  // (GCC repeats the check on a second path into the switch, as iconv's),
  // nothing else enters between that cmp and its branch, and the base is
  // loaded after the branch lands (or is proven on every path).
  const auto module = ctx.image ? module_branches(decoder, *ctx.image) : std::make_shared<const ModuleBranches>();
  auto in_parts = [&](uint64_t at) {
    if (at >= ctx.function_start.value && at - ctx.function_start.value < ctx.function_code.size()) return true;
    return std::any_of(ctx.other_parts.begin(), ctx.other_parts.end(),
                       [&](const CodePart& p) { return at >= p.start.value && at - p.start.value < p.code.size(); });
  };
  // The first branch from outside the function and its parts that lands in (lo, hi].
  auto from_outside = [&](uint64_t lo, uint64_t hi) -> std::optional<std::pair<uint64_t, uint64_t>> {
    for (auto t = std::upper_bound(module->begin(), module->end(), std::pair{lo, UINT64_MAX});
         t != module->end() && t->first <= hi; ++t)
      if (!in_parts(t->second)) return *t;
    return std::nullopt;
  };
  auto checked_again = [&](const Table& table, uint64_t t) {
    if (!table.bounded || table.bounded->kind != Operand::Kind::Register || t != table.after_bound ||
        (table.lea_at && table.lea_at < t))
      return false;
    bool any = false;
    for (const Part& p : parts)
      for (size_t k = 0; k < p.insns.size(); ++k) {
        const Scanned& s = p.insns[k];
        if (!is_direct_branch(s.cls) || relative_branch_target(s.d) != t) continue;
        // The first instruction of a part has no cmp before it.
        if (k == 0) return false;
        const uint8_t cc = s.d.enc.opcode & 0x0f;
        const Decoded& cmp = p.insns[k - 1].d;
        if (s.cls != InsnClass::Jcc || (cc != 0x6 && cc != 0x2) || cmp.mnemonic != "cmp" ||
            cmp.insn.address.value + cmp.insn.length != s.d.insn.address.value ||
            cmp.operands.size() != 2 || cmp.operands[0].kind != Operand::Kind::Register ||
            cmp.operands[0].reg != table.bounded->reg || cmp.operands[0].size != table.bounded->size ||
            cmp.operands[1].kind != Operand::Kind::Immediate || cmp.operands[1].value < 0 ||
            static_cast<uint64_t>(cmp.operands[1].value) + (cc == 0x6 ? 1 : 0) > table.entries ||
            targets.count(s.d.insn.address.value) || cases.count(s.d.insn.address.value) ||
            from_outside(s.d.insn.address.value - 1, s.d.insn.address.value))
          return false;
        any = true;
      }
    return any;
  };
  for (const Switch& sw : switches) {
    const Part& part = *sw.jmp.part;
    const uint64_t at = sw.jmp.at();
    auto unknown = [&](const std::string& why) {
      return fmt::format("the function has an indirect jump at {} {}", part.where(at), why);
    };
    for (size_t i = 0; i < sw.cases.size(); ++i)
      if (inside(sw.cases[i]))
        return fmt::format("case {} of the switch at {} lands inside the bytes a jump would overwrite", i,
                           part.where(at));
    for (auto t = targets.upper_bound(sw.table.first); t != targets.end() && *t <= at; ++t)
      if (!checked_again(sw.table, *t))
        return unknown(fmt::format("whose jump table's bound check can be bypassed (a branch lands at {})",
                                   part.where(*t)));
    if (auto t = cases.upper_bound(sw.table.first); t != cases.end() && *t <= at)
      return unknown(fmt::format("whose jump table's bound check can be bypassed (a switch's case lands at {})",
                                 part.where(*t)));
    if (auto t = from_outside(sw.table.first, at))
      return unknown(fmt::format("whose jump table's bound check can be bypassed (a branch at {:#x} lands at {})",
                                 t->second, part.where(t->first)));
    proven_sums.insert(part.insns[sw.table.sum_at].d.insn.address.value);
  }
  if (!other_jump) return {};
  const auto& [jump_part, jump_at] = *other_jump;
  auto unknown = [&](const std::string& why) {
    return fmt::format("the function has an indirect jump at {} whose targets are unknown{}", jump_part->where(jump_at),
                       why);
  };
  for (const Part& part : parts)
    for (size_t k = 0; k < part.insns.size(); ++k)
      if (adds_table_entry(part.insns, k) && !proven_sums.count(part.insns[k].d.insn.address.value))
        return unknown(fmt::format(": a table entry is added to its base at {}, a switch uptrace cannot bound",
                                   part.where(part.insns[k].d.insn.address.value)));
  if (!ctx.image) return unknown(" (the module's bytes are not known)");
  const std::optional<bool> stored = ctx.image->pointer_into(RuntimeAddr(lo), RuntimeAddr(hi));
  if (!stored)
    return unknown(" (the module is not position-independent, so the code addresses it stores cannot be told apart)");
  if (*stored) return unknown(": the module stores an address inside the bytes a jump would overwrite");
  return {};
}

}  // namespace uptrace::arch::x86_64
