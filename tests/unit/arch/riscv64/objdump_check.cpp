#include "objdump_check.h"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "arch/riscv64/decoder.h"
#include "arch/riscv64/encoding.h"

namespace uptrace::arch::riscv64::test {
namespace {

const std::set<std::string> kBranches = {"beq",  "bne",  "blt",  "bge",  "bltu", "bgeu", "beqz", "bnez",
                                         "bltz", "bgez", "blez", "bgtz", "bgt",  "ble",  "bgtu", "bleu"};
const std::set<std::string> kJumps = {"j", "jal", "jr", "jalr", "ret"};
const std::set<std::string> kSystem = {"ecall",  "ebreak", "unimp",   "c.unimp", "frcsr",     "fscsr",  "frrm",
                                       "fsrm",   "fsrmi",  "frflags", "fsflags", "fsflagsi",  "rdcycle", "rdtime",
                                       "rdinstret", "wfi", "mret",    "sret",    "sfence.vma"};
// binutils 2.40 prints these immediate forms by the name of their register
// form ("add a0,a0,1"): the standard names.
const std::map<std::string, std::string> kImmediateSpelling = {
    {"add", "addi"},   {"and", "andi"},   {"or", "ori"},     {"xor", "xori"},   {"sll", "slli"},
    {"srl", "srli"},   {"sra", "srai"},   {"addw", "addiw"}, {"sllw", "slliw"}, {"srlw", "srliw"},
    {"sraw", "sraiw"}, {"slt", "slti"},   {"sltu", "sltiu"}, {"csrw", "csrwi"}, {"csrs", "csrsi"},
    {"csrc", "csrci"}, {"csrrw", "csrrwi"}, {"csrrs", "csrrsi"}, {"csrrc", "csrrci"}, {"ror", "rori"},
    {"rorw", "roriw"}, {"bclr", "bclri"}, {"bext", "bexti"}, {"binv", "binvi"}, {"bset", "bseti"}};

Category category_of(const Decoded& d) {
  if (!d.known()) return Category::Unknown;
  switch (d.row->cls) {
    case InsnClass::Branch: return Category::Branch;
    case InsnClass::Jal:
    case InsnClass::Jalr: return Category::Jump;
    case InsnClass::Auipc: return Category::Auipc;
    case InsnClass::LoadReserved: return Category::Lr;
    case InsnClass::StoreConditional: return Category::Sc;
    default: return opcode(d.word) == op::kSystem ? Category::System : Category::Other;
  }
}

bool all_of(std::string_view s, const char* digits) {
  return !s.empty() && s.find_first_not_of(digits) == std::string_view::npos;
}

// -?(0x[0-9a-f]+|[0-9]+)
bool is_number(std::string_view s) {
  if (s.starts_with('-')) s.remove_prefix(1);
  if (s.starts_with("0x")) return all_of(s.substr(2), "0123456789abcdef");
  return all_of(s, "0123456789");
}

std::string strip(std::string s, const std::string& chars) {
  s.erase(std::remove_if(s.begin(), s.end(), [&](char c) { return chars.find(c) != std::string::npos; }), s.end());
  return s;
}

std::string no_hex_prefix(std::string s) {
  for (size_t at; (at = s.find("0x")) != std::string::npos;) s.erase(at, 2);
  return s;
}

std::vector<std::string> split_operands(const std::string& normalised) {
  std::vector<std::string> out;
  const size_t tab = normalised.find('\t');
  if (tab == std::string::npos) return out;
  std::string ops = normalised.substr(tab + 1);
  for (size_t start = 0;;) {
    const size_t comma = ops.find(',', start);
    out.push_back(ops.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Where uptrace and binutils 2.40 disagree on purpose: the reason, or empty.
std::string documented_difference(const ObjdumpLine& l, const Decoded& d, Category theirs, Category mine) {
  if (theirs == Category::Unknown && d.known()) {
    const std::string_view ext = d.row->ext;
    if (ext == "Zba" || ext == "Zbb" || ext == "Zbs" || ext == "Zicond")
      return "Zba/Zbb/Zbs/Zicond, which objdump 2.40 decodes only in a file whose attributes name them";
    if ((d.row->format == Format::F2Exact || d.row->format == Format::FXExact) && funct3(d.word) != 0)
      return "an exact conversion (fcvt.d.s/w/wu) with a rounding mode other than rne, which binutils 2.40 rejects";
  }
  if (mine == Category::Unknown && theirs != Category::Unknown && l.length == 2 && (l.value & 0xef83) == 0x6101 &&
      c_imm_addi16sp(static_cast<uint32_t>(l.value)) == 0)
    return "c.addi16sp with a zero immediate, reserved by the ISA, which objdump 2.40 prints as addi sp, sp, 0";
  if (theirs == mine && d.known() && opcode(d.word) == op::kSystem) {
    // A CSR objdump names and uptrace prints as a number: compare the rest.
    const Format f = d.row->format;
    const int csr_operand = (f == Format::Csr || f == Format::CsrImm || f == Format::CsrRead)  ? 1
                            : (f == Format::CsrWrite || f == Format::CsrWriteImm)               ? 0
                                                                                                 : -1;
    if (csr_operand >= 0 && csr_name(bits(d.word, 31, 20)).starts_with("0x")) {
      auto a = split_operands(normalise_objdump(l)), b = split_operands(normalise_uptrace(d.insn.text));
      if (a.size() == b.size() && a.size() > static_cast<size_t>(csr_operand)) {
        a.erase(a.begin() + csr_operand);
        b.erase(b.begin() + csr_operand);
        if (a == b && normalise_objdump(l).substr(0, normalise_objdump(l).find('\t')) ==
                          normalise_uptrace(d.insn.text).substr(0, normalise_uptrace(d.insn.text).find('\t')))
          return "a CSR objdump names and uptrace prints as its number (uptrace names the ones user code uses)";
      }
    }
  }
  return {};
}

void note(CheckReport& r, size_t max, uint64_t address, std::string what) {
  if (r.examples.size() < max) r.examples.push_back({address, std::move(what)});
}

void check_run(const std::vector<ObjdumpLine>& run, CheckReport& r, size_t max_examples) {
  if (run.empty()) return;
  ++r.runs;
  std::vector<uint8_t> bytes;
  for (const ObjdumpLine& l : run)
    for (unsigned i = 0; i < l.length; ++i) bytes.push_back(static_cast<uint8_t>(l.value >> (8 * i)));
  const uint64_t start = run.front().address;
  const std::vector<Decoded> ours = decode_all(bytes, RuntimeAddr(start));
  r.uptrace_insns += ours.size();
  std::unordered_map<uint64_t, const Decoded*> at;
  for (const Decoded& d : ours) at[d.insn.address.value] = &d;

  for (const ObjdumpLine& l : run) {
    const Category theirs = objdump_category(l.mnemonic);
    ++r.objdump_by_category[theirs];
    if (theirs == Category::Unknown) ++r.objdump_unknown;
    auto it = at.find(l.address);
    if (it == at.end() || it->second->insn.length != l.length) {
      ++r.boundary_mismatches;
      note(r, max_examples, l.address,
           it == at.end() ? fmt::format("boundary: objdump has a {}-byte '{} {}' here, uptrace no instruction start",
                                        l.length, l.mnemonic, l.operands)
                          : fmt::format("length: objdump {} bytes '{} {}', uptrace {} bytes '{}'", l.length,
                                        l.mnemonic, l.operands, it->second->insn.length, it->second->insn.text));
      continue;
    }
    const Decoded& d = *it->second;
    if (!d.known()) ++r.unknown;
    const Category mine = category_of(d);
    if (std::string why = documented_difference(l, d, theirs, mine); !why.empty()) {
      ++r.documented[why];
      continue;
    }
    if (mine == theirs) {
      ++r.agreed_by_category[theirs];
    } else {
      ++r.class_mismatches;
      note(r, max_examples, l.address,
           fmt::format("class: objdump '{} {}' is {}, uptrace '{}' is {}", l.mnemonic, l.operands, to_string(theirs),
                       d.insn.text, to_string(mine)));
    }
    if (normalise_objdump(l) != normalise_uptrace(d.insn.text)) {
      ++r.text_mismatches;
      note(r, max_examples, l.address,
           fmt::format("text: objdump '{} {}', uptrace '{}'", l.mnemonic, l.operands, d.insn.text));
    }
  }
}

}  // namespace

const char* to_string(Category c) {
  switch (c) {
    case Category::Branch: return "branch";
    case Category::Jump: return "jump";
    case Category::Auipc: return "auipc";
    case Category::System: return "system";
    case Category::Lr: return "lr";
    case Category::Sc: return "sc";
    case Category::Other: return "other";
    case Category::Unknown: return "unknown";
  }
  return "?";
}

bool parse_objdump_line(const std::string& line, ObjdumpLine& out) {
  // "   27500:\t1141                \taddi\tsp,sp,-16": address, colon, tab,
  // the instruction's hex value padded with spaces, tab, mnemonic, and the
  // operands after another tab.
  std::string_view rest = line;
  const size_t first = rest.find_first_not_of(' ');
  if (first == std::string_view::npos) return false;
  rest.remove_prefix(first);
  const size_t colon = rest.find(":\t");
  if (colon == std::string_view::npos || !all_of(rest.substr(0, colon), "0123456789abcdef")) return false;
  const std::string_view address = rest.substr(0, colon);
  rest.remove_prefix(colon + 2);
  const size_t tab = rest.find('\t');
  if (tab == std::string_view::npos) return false;
  std::string_view hex = rest.substr(0, tab);
  while (!hex.empty() && hex.back() == ' ') hex.remove_suffix(1);
  if (!all_of(hex, "0123456789abcdef") || hex.size() % 2 != 0 || hex.size() > 16) return false;
  rest.remove_prefix(tab + 1);
  const size_t op_tab = rest.find('\t');
  std::string_view mnemonic = rest.substr(0, op_tab);
  while (!mnemonic.empty() && mnemonic.back() == ' ') mnemonic.remove_suffix(1);
  if (mnemonic.empty()) return false;
  std::string_view operands = op_tab == std::string_view::npos ? std::string_view() : rest.substr(op_tab + 1);
  while (!operands.empty() && std::isspace(static_cast<unsigned char>(operands.back()))) operands.remove_suffix(1);
  out.address = std::stoull(std::string(address), nullptr, 16);
  out.value = std::stoull(std::string(hex), nullptr, 16);
  out.length = static_cast<unsigned>(hex.size() / 2);
  out.mnemonic = std::string(mnemonic);
  out.operands = std::string(operands);
  return true;
}

Category objdump_category(const std::string& mnemonic) {
  if (mnemonic.starts_with(".")) return Category::Unknown;
  if (kBranches.count(mnemonic)) return Category::Branch;
  if (kJumps.count(mnemonic)) return Category::Jump;
  if (mnemonic == "auipc") return Category::Auipc;
  if (mnemonic.starts_with("lr.")) return Category::Lr;
  if (mnemonic.starts_with("sc.")) return Category::Sc;
  if (kSystem.count(mnemonic) || mnemonic.starts_with("csr")) return Category::System;
  return Category::Other;
}

std::string normalise_objdump(const ObjdumpLine& l) {
  std::string ops = l.operands;
  if (auto hash = ops.find(" #"); hash != std::string::npos) ops.erase(hash);
  for (size_t lt; (lt = ops.find(" <")) != std::string::npos;) {
    const size_t gt = ops.find('>', lt);
    ops.erase(lt, gt == std::string::npos ? std::string::npos : gt - lt + 1);
  }
  ops = strip(ops, " \t");
  std::string mnemonic = l.mnemonic;
  const std::string last = ops.substr(ops.rfind(',') == std::string::npos ? 0 : ops.rfind(',') + 1);
  if (auto it = kImmediateSpelling.find(mnemonic); it != kImmediateSpelling.end() && is_number(last)) mnemonic = it->second;
  // An empty fence set is "unknown" to objdump, "0" to uptrace; without
  // Zihintpause in the file's attributes objdump does not name pause.
  if (mnemonic == "fence") {
    // Spliced, not replace()d in place: GCC 12 at -O3 takes the in-place
    // replace for an overlapping memcpy of 2^63 bytes (-Wrestrict).
    for (size_t at; (at = ops.find("unknown")) != std::string::npos;)
      ops = ops.substr(0, at) + "0" + ops.substr(at + 7);
    if (ops == "w,0") return "pause";
  }
  return no_hex_prefix(ops.empty() ? mnemonic : mnemonic + '\t' + ops);
}

std::string normalise_uptrace(const std::string& text) {
  const size_t space = text.find(' ');
  if (space == std::string::npos) return no_hex_prefix(text);
  return no_hex_prefix(text.substr(0, space) + '\t' + strip(text.substr(space + 1), " \t"));
}

CheckReport check_objdump(std::istream& in, size_t max_examples) {
  CheckReport r;
  std::vector<ObjdumpLine> run;
  std::string line;
  while (std::getline(in, line)) {
    ObjdumpLine l;
    if (!parse_objdump_line(line, l)) {
      // A new section: the next instruction starts a new run.
      if (line.starts_with("Disassembly of section")) {
        check_run(run, r, max_examples);
        run.clear();
      }
      continue;
    }
    ++r.objdump_insns;
    if (!run.empty() && run.back().address + run.back().length != l.address) {
      check_run(run, r, max_examples);
      run.clear();
    }
    run.push_back(std::move(l));
  }
  check_run(run, r, max_examples);
  return r;
}

std::string summary(const CheckReport& r) {
  std::string out = fmt::format(
      "objdump instructions: {}\nuptrace instructions: {} (in {} runs of consecutive code)\n"
      "boundary/length mismatches: {}\nclass mismatches: {}\ntext mismatches: {}\n"
      "unknown to uptrace: {} (objdump: {})\n",
      r.objdump_insns, r.uptrace_insns, r.runs, r.boundary_mismatches, r.class_mismatches, r.text_mismatches, r.unknown,
      r.objdump_unknown);
  for (const auto& [cat, n] : r.objdump_by_category) {
    const auto agreed = r.agreed_by_category.find(cat);
    out += fmt::format("  {:8} objdump {:7}, same class in uptrace {:7}\n", to_string(cat), n,
                       agreed == r.agreed_by_category.end() ? 0 : agreed->second);
  }
  for (const auto& [why, n] : r.documented) out += fmt::format("  documented difference, {} times: {}\n", n, why);
  for (const Mismatch& m : r.examples) out += fmt::format("  {:#x}: {}\n", m.address, m.what);
  return out;
}

}  // namespace uptrace::arch::riscv64::test
