#include "arch/riscv64/decoder.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "arch/riscv64/encoding.h"
#include "arch/riscv64/registers.h"

namespace uptrace::arch::riscv64 {
namespace {

struct CsrName {
  unsigned number;
  std::string_view name;
};
// The unprivileged CSRs a user program may touch, and the supervisor ones
// objdump names in Linux code.
constexpr CsrName kCsrs[] = {
    {0x001, "fflags"},  {0x002, "frm"},       {0x003, "fcsr"},       {0x008, "vstart"}, {0x009, "vxsat"},
    {0x00a, "vxrm"},    {0x00f, "vcsr"},      {0x015, "seed"},       {0xc00, "cycle"},  {0xc01, "time"},
    {0xc02, "instret"}, {0xc20, "vl"},        {0xc21, "vtype"},      {0xc22, "vlenb"},  {0x100, "sstatus"},
    {0x104, "sie"},     {0x105, "stvec"},     {0x106, "scounteren"}, {0x140, "sscratch"}, {0x141, "sepc"},
    {0x142, "scause"},  {0x143, "stval"},     {0x144, "sip"},        {0x180, "satp"},   {0xf11, "mvendorid"},
    {0xf12, "marchid"}, {0xf13, "mimpid"},    {0xf14, "mhartid"},    {0x300, "mstatus"}, {0x301, "misa"},
};

std::string x(unsigned n) { return std::string(x_name(n)); }
std::string f(unsigned n) { return std::string(f_name(n)); }
std::string target(uint64_t address, int64_t offset) { return fmt::format("{:#x}", address + static_cast<uint64_t>(offset)); }

// fence's predecessor and successor sets: i, o, r, w.
std::string fence_set(unsigned set) {
  if (set == 0) return "0";
  std::string out;
  const char* letters = "iorw";
  for (unsigned bit = 0; bit < 4; ++bit)
    if (set & (8u >> bit)) out += letters[bit];
  return out;
}

// ".aq", ".rl", ".aqrl" from bits 26 and 25.
std::string_view ordering(uint32_t w) {
  static constexpr std::array<std::string_view, 4> kSuffix = {"", ".rl", ".aq", ".aqrl"};
  return kSuffix[bits(w, 26, 25)];
}

// A rounding-mode operand, printed only when it is not the dynamic one.
std::string rm_suffix(uint32_t w) {
  const unsigned rm = funct3(w);
  return rm == 7 ? std::string() : fmt::format(", {}", rounding_mode_name(rm));
}
std::string exact_rm_suffix(uint32_t w) {
  const unsigned rm = funct3(w);
  return rm == 0 ? std::string() : fmt::format(", {}", rounding_mode_name(rm));
}

std::string operands(const InsnRow& row, uint32_t w, uint64_t address) {
  using F = Format;
  switch (row.format) {
    case F::None: return {};
    case F::RdRs1Rs2: return fmt::format("{}, {}, {}", x(rd(w)), x(rs1(w)), x(rs2(w)));
    case F::RdRs1: return fmt::format("{}, {}", x(rd(w)), x(rs1(w)));
    case F::RdRs2: return fmt::format("{}, {}", x(rd(w)), x(rs2(w)));
    case F::RdRs1Imm: return fmt::format("{}, {}, {}", x(rd(w)), x(rs1(w)), imm_i(w));
    case F::RdImm: return fmt::format("{}, {}", x(rd(w)), imm_i(w));
    case F::RdRs1Shamt: {
      // The shift amount is the low bits of the immediate: 6 for the RV64
      // shifts (and slli.uw), whose pattern leaves bit 25 free; 5 for the W
      // forms, whose funct7 holds it.
      const unsigned shamt = (row.mask & (1u << 25)) ? bits(w, 24, 20) : bits(w, 25, 20);
      return fmt::format("{}, {}, {:#x}", x(rd(w)), x(rs1(w)), shamt);
    }
    case F::RdUimm20: return fmt::format("{}, {:#x}", x(rd(w)), bits(w, 31, 12));
    case F::Load: return fmt::format("{}, {}({})", x(rd(w)), imm_i(w), x(rs1(w)));
    case F::Store: return fmt::format("{}, {}({})", x(rs2(w)), imm_s(w), x(rs1(w)));
    case F::FLoad: return fmt::format("{}, {}({})", f(rd(w)), imm_i(w), x(rs1(w)));
    case F::FStore: return fmt::format("{}, {}({})", f(rs2(w)), imm_s(w), x(rs1(w)));
    case F::Branch: return fmt::format("{}, {}, {}", x(rs1(w)), x(rs2(w)), target(address, imm_b(w)));
    case F::BranchRs1: return fmt::format("{}, {}", x(rs1(w)), target(address, imm_b(w)));
    case F::BranchRs2: return fmt::format("{}, {}", x(rs2(w)), target(address, imm_b(w)));
    case F::Jump: return target(address, imm_j(w));
    case F::RdJump: return fmt::format("{}, {}", x(rd(w)), target(address, imm_j(w)));
    case F::Rs1: return x(rs1(w));
    case F::Rs1Offset: return fmt::format("{}({})", imm_i(w), x(rs1(w)));
    case F::RdRs1Jalr: return fmt::format("{}, {}", x(rd(w)), x(rs1(w)));
    case F::RdOffsetRs1: return fmt::format("{}, {}({})", x(rd(w)), imm_i(w), x(rs1(w)));
    case F::Amo: return fmt::format("{}, {}, ({})", x(rd(w)), x(rs2(w)), x(rs1(w)));
    case F::Lr: return fmt::format("{}, ({})", x(rd(w)), x(rs1(w)));
    case F::Fence: return fmt::format("{}, {}", fence_set(bits(w, 27, 24)), fence_set(bits(w, 23, 20)));
    case F::Csr: return fmt::format("{}, {}, {}", x(rd(w)), csr_name(bits(w, 31, 20)), x(rs1(w)));
    case F::CsrImm: return fmt::format("{}, {}, {}", x(rd(w)), csr_name(bits(w, 31, 20)), rs1(w));
    case F::CsrRead: return fmt::format("{}, {}", x(rd(w)), csr_name(bits(w, 31, 20)));
    case F::CsrWrite: return fmt::format("{}, {}", csr_name(bits(w, 31, 20)), x(rs1(w)));
    case F::CsrWriteImm: return fmt::format("{}, {}", csr_name(bits(w, 31, 20)), rs1(w));
    case F::Rd: return x(rd(w));
    case F::SfenceVma:
      if (rs2(w) != 0) return fmt::format("{}, {}", x(rs1(w)), x(rs2(w)));
      return rs1(w) != 0 ? x(rs1(w)) : std::string();
    case F::RdUimm: return fmt::format("{}, {}", x(rd(w)), rs1(w));
    case F::F3Rm: return fmt::format("{}, {}, {}{}", f(rd(w)), f(rs1(w)), f(rs2(w)), rm_suffix(w));
    case F::F3: return fmt::format("{}, {}, {}", f(rd(w)), f(rs1(w)), f(rs2(w)));
    case F::F4Rm:
      return fmt::format("{}, {}, {}, {}{}", f(rd(w)), f(rs1(w)), f(rs2(w)), f(rs3(w)), rm_suffix(w));
    case F::F2Rm: return fmt::format("{}, {}{}", f(rd(w)), f(rs1(w)), rm_suffix(w));
    case F::F2: return fmt::format("{}, {}", f(rd(w)), f(rs1(w)));
    case F::F2Exact: return fmt::format("{}, {}{}", f(rd(w)), f(rs1(w)), exact_rm_suffix(w));
    case F::XF: return fmt::format("{}, {}", x(rd(w)), f(rs1(w)));
    case F::XFRm: return fmt::format("{}, {}{}", x(rd(w)), f(rs1(w)), rm_suffix(w));
    case F::XFF: return fmt::format("{}, {}, {}", x(rd(w)), f(rs1(w)), f(rs2(w)));
    case F::FX: return fmt::format("{}, {}", f(rd(w)), x(rs1(w)));
    case F::FXExact: return fmt::format("{}, {}{}", f(rd(w)), x(rs1(w)), exact_rm_suffix(w));
    case F::FXRm: return fmt::format("{}, {}{}", f(rd(w)), x(rs1(w)), rm_suffix(w));
  }
  return {};
}

// Compressed HINTs (encodings that change no register, kept for future
// use) are printed the way objdump prints them, not as their 32-bit
// equivalent ("c.nop 5" rather than "li zero, 5").
std::optional<std::string> hint_text(const CompressedRow& row, uint16_t p) {
  const unsigned rd = c_rd(p);
  switch (row.expansion) {
    case Expansion::Nop: return std::nullopt;
    case Expansion::Addi:
      if (rd == 0) return fmt::format("c.nop {}", c_imm_ci(p));
      if (c_imm_ci(p) == 0) return fmt::format("addi {}, {}, 0", x(rd), x(rd));
      return std::nullopt;
    case Expansion::Li:
      if (rd == 0) return fmt::format("c.li zero, {}", c_imm_ci(p));
      return std::nullopt;
    case Expansion::Lui:
      if (rd == 0) return fmt::format("c.lui zero, {:#x}", static_cast<uint64_t>(c_imm_lui(p) >> 12) & 0xfffff);
      return std::nullopt;
    case Expansion::Srli:
    case Expansion::Srai:
      if (c_shamt(p) == 0) return fmt::format("{}64 {}", row.name, x(c_rs1_prime(p)));
      return std::nullopt;
    case Expansion::Slli:
      if (c_shamt(p) == 0) return fmt::format("c.slli64 {}", x(rd));
      if (rd == 0) return fmt::format("c.slli zero, {:#x}", c_shamt(p));
      return std::nullopt;
    case Expansion::Mv:
      if (rd == 0) return fmt::format("c.mv zero, {}", x(c_rs2(p)));
      return std::nullopt;
    case Expansion::Add:
      if (rd == 0) return fmt::format("c.add zero, {}", x(c_rs2(p)));
      return std::nullopt;
    default: return std::nullopt;
  }
}

Decoded unknown(RuntimeAddr address, std::span<const uint8_t> code, unsigned length) {
  Decoded d;
  d.insn.address = address;
  d.insn.length = static_cast<uint8_t>(length);
  std::copy_n(code.begin(), length, d.insn.bytes.begin());
  uint64_t value = 0;
  for (unsigned i = length; i-- > 0;) value = value << 8 | code[i];
  d.insn.text = length <= 4 ? fmt::format(".{}byte {:#x}", length, value) : fmt::format(".insn {}, {:#x}", length, value);
  return d;
}

}  // namespace

std::string_view Decoded::name() const {
  if (compressed) return compressed->name;
  return row ? row->name : std::string_view(".insn");
}

std::string csr_name(unsigned csr) {
  // The user-mode counters beyond cycle, time and instret.
  if (csr >= 0xc03 && csr <= 0xc1f) return fmt::format("hpmcounter{}", csr - 0xc00);
  const auto* it = std::find_if(std::begin(kCsrs), std::end(kCsrs), [&](const CsrName& c) { return c.number == csr; });
  return it == std::end(kCsrs) ? fmt::format("{:#x}", csr) : std::string(it->name);
}

std::string_view rounding_mode_name(unsigned rm) {
  // 5 and 6 are reserved (the instruction raises an illegal-instruction
  // exception); objdump calls them "unknown".
  static constexpr std::array<std::string_view, 8> kNames = {"rne", "rtz", "rdn", "rup", "rmm", "unknown", "unknown",
                                                             "dyn"};
  return kNames.at(rm & 7);
}

std::string format_insn(const InsnRow& row, uint32_t word, uint64_t address) {
  std::string text(row.name);
  if (row.format == Format::Amo || row.format == Format::Lr) text += ordering(word);
  std::string ops = operands(row, word, address);
  if (!ops.empty()) text += ' ' + ops;
  return text;
}

std::optional<Decoded> decode_one(std::span<const uint8_t> code, RuntimeAddr address) {
  const auto parcel = read_parcel(code);
  if (!parcel) return std::nullopt;
  const auto length = insn_length(*parcel);
  if (!length || code.size() < *length) return std::nullopt;

  Decoded d;
  if (*length == 2) {
    const CompressedRow* crow = classify_compressed(*parcel);
    const auto word = crow ? expand(*crow, *parcel) : std::nullopt;
    if (!word) return unknown(address, code, 2);
    d.compressed = crow;
    d.word = *word;
    d.row = classify(*word);
  } else if (*length == 4) {
    d.word = *read_word(code);
    d.row = classify(d.word);
  }
  if (!d.row) return unknown(address, code, *length);
  d.insn.address = address;
  d.insn.length = static_cast<uint8_t>(*length);
  std::copy_n(code.begin(), *length, d.insn.bytes.begin());
  auto hint = d.compressed ? hint_text(*d.compressed, *parcel) : std::nullopt;
  d.insn.text = hint ? std::move(*hint) : format_insn(*d.row, d.word, address.value);
  return d;
}

std::vector<Decoded> decode_all(std::span<const uint8_t> code, RuntimeAddr start) {
  std::vector<Decoded> out;
  size_t off = 0;
  while (off < code.size()) {
    auto d = decode_one(code.subspan(off), start + off);
    if (!d) break;
    off += d->insn.length;
    out.push_back(std::move(*d));
  }
  return out;
}

}  // namespace uptrace::arch::riscv64
