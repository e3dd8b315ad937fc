#include "arch/x86_64/decoder.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <memory>
#include <type_traits>

#include "arch/x86_64/registers.h"
#include "common/error.h"

namespace uptrace::arch::x86_64 {
namespace {

static_assert(std::is_same_v<csh, size_t>, "Decoder stores the Capstone handle as size_t");

struct InsnFree {
  void operator()(cs_insn* insn) const { cs_free(insn, 1); }
};
using InsnPtr = std::unique_ptr<cs_insn, InsnFree>;

InsnPtr allocate(csh handle) {
  InsnPtr insn(cs_malloc(handle));
  if (!insn) throw_runtime("capstone: cannot allocate an instruction");
  return insn;
}

Instruction to_instruction(const cs_insn& insn) {
  Instruction out;
  out.address = RuntimeAddr(insn.address);
  out.length = static_cast<uint8_t>(std::min<size_t>(insn.size, out.bytes.size()));
  std::copy_n(insn.bytes, out.length, out.bytes.begin());
  out.text = insn.mnemonic;
  if (insn.op_str[0] != '\0') {
    out.text += ' ';
    out.text += insn.op_str;
  }
  return out;
}

}  // namespace

bool Decoded::rip_relative() const {
  return std::any_of(operands.begin(), operands.end(), [](const Operand& op) {
    return op.kind == Operand::Kind::Memory && (op.reg == "rip" || op.reg == "eip");
  });
}

Decoder::Decoder() {
  csh handle = 0;
  if (cs_err err = cs_open(CS_ARCH_X86, CS_MODE_64, &handle); err != CS_ERR_OK) {
    throw_runtime("capstone: cannot open an x86-64 disassembler: {}", cs_strerror(err));
  }
  // Operand and register-access details drive the analysis.
  cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
  handle_ = handle;
  try {
    insn_ = allocate(handle_).release();
  } catch (...) {
    cs_close(&handle);
    throw;
  }
}

Decoder::~Decoder() {
  cs_free(static_cast<cs_insn*>(insn_), 1);
  csh handle = handle_;
  cs_close(&handle);
}

std::optional<Decoded> Decoder::decode_shape(std::span<const uint8_t> code, RuntimeAddr address) const {
  cs_insn* insn = static_cast<cs_insn*>(insn_);
  const uint8_t* p = code.data();
  size_t size = code.size();
  uint64_t addr = address.value;
  if (!cs_disasm_iter(handle_, &p, &size, &addr, insn)) return std::nullopt;
  Decoded d;
  d.insn.address = RuntimeAddr(insn->address);
  d.insn.length = static_cast<uint8_t>(std::min<size_t>(insn->size, d.insn.bytes.size()));
  std::copy_n(insn->bytes, d.insn.length, d.insn.bytes.begin());
  auto enc = parse_encoding(d.insn.code());
  if (!enc) return std::nullopt;
  d.enc = *enc;
  return d;
}

std::optional<Decoded> Decoder::decode_one(std::span<const uint8_t> code, RuntimeAddr address) const {
  auto shape = decode_shape(code, address);
  if (!shape) return std::nullopt;
  const cs_insn* insn = static_cast<const cs_insn*>(insn_);
  Decoded d = std::move(*shape);
  d.insn = to_instruction(*insn);
  d.mnemonic = insn->mnemonic;

  const cs_x86& x86 = insn->detail->x86;
  d.operands.reserve(x86.op_count);
  for (uint8_t i = 0; i < x86.op_count; ++i) {
    const cs_x86_op& op = x86.operands[i];
    Operand out;
    out.size = op.size;
    switch (op.type) {
      case X86_OP_REG:
        out.kind = Operand::Kind::Register;
        out.reg = cs_reg_name(handle_, op.reg);
        break;
      case X86_OP_IMM:
        out.kind = Operand::Kind::Immediate;
        out.value = op.imm;
        break;
      case X86_OP_MEM:
        out.kind = Operand::Kind::Memory;
        if (op.mem.base != X86_REG_INVALID) out.reg = cs_reg_name(handle_, op.mem.base);
        if (op.mem.index != X86_REG_INVALID) out.index = cs_reg_name(handle_, op.mem.index);
        if (op.mem.segment != X86_REG_INVALID) out.segment = cs_reg_name(handle_, op.mem.segment);
        out.scale = static_cast<uint8_t>(op.mem.scale);
        out.value = op.mem.disp;
        break;
      default:
        continue;
    }
    d.operands.push_back(std::move(out));
  }

  cs_regs read, written;
  uint8_t nread = 0, nwritten = 0;
  if (cs_regs_access(handle_, insn, read, &nread, written, &nwritten) == CS_ERR_OK) {
    auto note = [&](uint16_t reg) {
      if (const char* name = cs_reg_name(handle_, reg)) {
        if (auto n = gpr_number(name)) d.gprs_accessed |= static_cast<uint16_t>(1u << *n);
      }
    };
    std::for_each(read, read + nread, note);
    std::for_each(written, written + nwritten, note);
    std::for_each(written, written + nwritten, [&](uint16_t reg) {
      if (const char* name = cs_reg_name(handle_, reg))
        if (auto n = gpr_number(name)) d.gprs_written |= static_cast<uint16_t>(1u << *n);
    });
  } else {
    // Unknown: count every register as used, so none is picked as scratch
    // or taken as unwritten.
    d.gprs_accessed = 0xffff;
    d.gprs_written = 0xffff;
  }
  return d;
}

std::vector<Instruction> Decoder::decode_all(std::span<const uint8_t> code, RuntimeAddr start) const {
  std::vector<Instruction> out;
  InsnPtr insn = allocate(handle_);
  const uint8_t* p = code.data();
  size_t size = code.size();
  uint64_t addr = start.value;
  while (size > 0 && cs_disasm_iter(handle_, &p, &size, &addr, insn.get())) {
    out.push_back(to_instruction(*insn));
  }
  return out;
}

}  // namespace uptrace::arch::x86_64
