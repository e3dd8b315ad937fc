#include "insn_facts.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <stdexcept>
#include <string_view>

#include "arch/x86_64/registers.h"

namespace xol_diff {
namespace {

namespace x86 = uptrace::arch::x86_64;

csh open_handle(bool detail) {
  csh h = 0;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) throw std::runtime_error("capstone: cannot open x86-64");
  if (detail) cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
  return h;
}

struct Insn {
  explicit Insn(csh h) : p(cs_malloc(h)) {}
  ~Insn() { cs_free(p, 1); }
  Insn(const Insn&) = delete;
  Insn& operator=(const Insn&) = delete;
  cs_insn* p;
};

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

void note_nondeterminism(csh h, InsnFacts& f, const cs_insn& insn) {
  const std::string_view m = f.mnemonic;
  if (m == "rdtsc" || m == "rdtscp") {
    // The time stamp counter; rdtscp's ecx (TSC_AUX) is stable on a pinned CPU.
    f.nondeterministic_words = {x86::kRax, x86::kRdx};
  } else if (m == "rdrand" || m == "rdseed") {
    // The destination, and the flags that say whether a value was available.
    const cs_x86& d = insn.detail->x86;
    if (d.op_count > 0 && d.operands[0].type == X86_OP_REG) {
      if (auto ref = x86::register_by_name(cs_reg_name(h, d.operands[0].reg))) f.nondeterministic_words = {ref->word};
    }
    f.nondeterministic_flags = 0x8d5;  // OF SF ZF AF PF CF
  }
}

}  // namespace

bool InsnFacts::rip_relative() const {
  return std::any_of(memory.begin(), memory.end(), [](const MemoryOperand& m) {
    return m.base == X86_REG_RIP || m.base == X86_REG_EIP;
  });
}

FactsDecoder::FactsDecoder() : handle_(open_handle(true)), light_(open_handle(false)) {}

FactsDecoder::~FactsDecoder() {
  csh h = handle_;
  cs_close(&h);
  h = light_;
  cs_close(&h);
}

std::optional<uint8_t> FactsDecoder::length(std::span<const uint8_t> code, uint64_t address) const {
  Insn insn(light_);
  const uint8_t* p = code.data();
  size_t size = code.size();
  if (!cs_disasm_iter(light_, &p, &size, &address, insn.p)) return std::nullopt;
  return static_cast<uint8_t>(insn.p->size);
}

std::optional<InsnFacts> FactsDecoder::decode(std::span<const uint8_t> code, uint64_t address) const {
  Insn insn(handle_);
  const uint8_t* p = code.data();
  size_t size = code.size();
  if (!cs_disasm_iter(handle_, &p, &size, &address, insn.p)) return std::nullopt;
  InsnFacts f;
  f.length = static_cast<uint8_t>(insn.p->size);
  f.mnemonic = insn.p->mnemonic;
  f.text = f.mnemonic;
  if (insn.p->op_str[0] != '\0') f.text += std::string(" ") + insn.p->op_str;
  const cs_x86& d = insn.p->detail->x86;
  f.address_size_32 = d.addr_size == 4;
  for (uint8_t i = 0; i < d.op_count; ++i) {
    const cs_x86_op& op = d.operands[i];
    if (op.type != X86_OP_MEM) continue;
    MemoryOperand m;
    m.segment = static_cast<uint16_t>(op.mem.segment);
    m.base = static_cast<uint16_t>(op.mem.base);
    m.index = static_cast<uint16_t>(op.mem.index);
    m.scale = op.mem.scale;
    m.disp = op.mem.disp;
    m.size = op.size;
    if (m.index != X86_REG_INVALID) {
      const std::string_view idx = cs_reg_name(handle_, m.index);
      m.vsib = starts_with(idx, "xmm") || starts_with(idx, "ymm") || starts_with(idx, "zmm");
    }
    f.memory.push_back(m);
  }
  note_nondeterminism(handle_, f, *insn.p);
  return f;
}

std::optional<uint64_t> FactsDecoder::effective_address(const InsnFacts& facts, const MemoryOperand& op,
                                                        const uptrace::arch::Regs& regs, uint64_t site) const {
  if (op.vsib) return std::nullopt;
  auto value = [&](uint16_t reg) -> uint64_t {
    if (reg == X86_REG_INVALID) return 0;
    if (reg == X86_REG_RIP) return site + facts.length;
    if (reg == X86_REG_EIP) return static_cast<uint32_t>(site + facts.length);
    const auto ref = x86::register_by_name(cs_reg_name(handle_, reg));
    return ref ? uptrace::arch::read_register(regs, *ref) : 0;
  };
  uint64_t ea = value(op.base) + value(op.index) * static_cast<uint64_t>(op.scale) + static_cast<uint64_t>(op.disp);
  if (facts.address_size_32) ea = static_cast<uint32_t>(ea);
  if (op.segment == X86_REG_FS) ea += regs.words[x86::kFsBase];
  if (op.segment == X86_REG_GS) ea += regs.words[x86::kGsBase];
  return ea;
}

}  // namespace xol_diff
