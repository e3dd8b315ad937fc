#include "arch/x86_64/jump_scan.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "arch/x86_64/encoding.h"
#include "arch/x86_64/registers.h"
#include "arch/x86_64/relocate.h"

namespace uptrace::arch::x86_64::jump_analysis {

std::optional<unsigned> family(const Operand& op) {
  if (op.kind != Operand::Kind::Register) return std::nullopt;
  return gpr_number(op.reg);
}

bool is_reg(const Operand& op, unsigned n, uint8_t size) {
  return op.kind == Operand::Kind::Register && op.size == size && gpr_number(op.reg) == n;
}

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

bool writes_only_first_operand(const Scanned& s) {
  static constexpr std::array<std::string_view, 12> kSimple{"mov", "movzx", "movsxd", "movsx", "lea", "xor",
                                                            "add", "sub",   "and",    "or",    "shl", "shr"};
  return s.cls == InsnClass::Plain && !s.d.operands.empty() && s.d.operands[0].kind == Operand::Kind::Register &&
         std::find(kSimple.begin(), kSimple.end(), s.d.mnemonic) != kSimple.end();
}

bool adjacent(const Scanned& before, const Scanned& after) {
  return before.d.insn.address.value + before.d.insn.length == after.d.insn.address.value;
}

uint16_t address_registers(const Operand& m) {
  uint16_t out = 0;
  if (auto n = gpr_number(m.reg)) out |= static_cast<uint16_t>(1u << *n);
  if (auto n = gpr_number(m.index)) out |= static_cast<uint16_t>(1u << *n);
  return out;
}

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

bool falls_through(const Scanned& s) {
  return s.cls != InsnClass::JmpRel && s.cls != InsnClass::JmpIndirect && s.cls != InsnClass::Ret;
}

}  // namespace uptrace::arch::x86_64::jump_analysis
