#include "arch/ppc64le/decoder.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <memory>
#include <type_traits>

#include "arch/ppc64le/encoding.h"
#include "arch/ppc64le/text.h"
#include "common/error.h"

namespace uptrace::arch::ppc64le {
namespace {

static_assert(std::is_same_v<csh, size_t>, "Decoder stores the Capstone handle as size_t");

struct InsnFree {
  void operator()(cs_insn* insn) const { cs_free(insn, 1); }
};
using InsnPtr = std::unique_ptr<cs_insn, InsnFree>;

}  // namespace

Decoder::Decoder() {
  csh handle = 0;
  const auto mode = static_cast<cs_mode>(CS_MODE_64 | CS_MODE_LITTLE_ENDIAN);
  if (cs_err err = cs_open(CS_ARCH_PPC, mode, &handle); err != CS_ERR_OK) {
    throw_runtime("capstone: cannot open a ppc64le disassembler: {}", cs_strerror(err));
  }
  handle_ = handle;
}

Decoder::~Decoder() {
  csh handle = handle_;
  cs_close(&handle);
}

// Capstone's text for one 4-byte word, empty when it does not know the word.
std::string Decoder::capstone_text(std::span<const uint8_t> word, uint64_t address) const {
  InsnPtr insn(cs_malloc(handle_));
  if (!insn) throw_runtime("capstone: cannot allocate an instruction");
  const uint8_t* p = word.data();
  size_t size = kWordSize;
  uint64_t addr = address;
  if (!cs_disasm_iter(handle_, &p, &size, &addr, insn.get())) return {};
  std::string text = insn->mnemonic;
  if (insn->op_str[0] != '\0') {
    text += ' ';
    text += insn->op_str;
  }
  return text;
}

std::optional<Instruction> Decoder::decode_one(std::span<const uint8_t> code, RuntimeAddr address,
                                               Classified* classified) const {
  const Classified c = classify_at(code, address.value);
  if (c.length == 0 || code.size() < c.length) return std::nullopt;
  if (classified) *classified = c;
  Instruction out;
  out.address = address;
  out.length = c.length;
  std::copy_n(code.begin(), c.length, out.bytes.begin());
  const uint32_t word = *read_word(code);
  if (c.length == kPrefixedSize) {
    const uint32_t suffix = *read_word(code.subspan(kWordSize));
    const PrefixedRow* row = classify_prefixed(word, suffix);
    out.text = prefixed_text(*row, word, suffix, address.value);
    if (c.cls == InsnClass::Undecodable) out.text += " (crosses a 64-byte boundary)";
  } else if (c.cls == InsnClass::Undecodable) {
    out.text = undecoded_text(word, c.name);
  } else if (is_branch_class(c.cls)) {
    out.text = branch_text(word, address.value);
  } else if (auto own = isa3_text(word)) {
    out.text = std::move(*own);
  } else {
    out.text = capstone_text(code.first(kWordSize), address.value);
    if (out.text.empty()) out.text = undecoded_text(word, c.name);
  }
  return out;
}

std::vector<Instruction> Decoder::decode_all(std::span<const uint8_t> code, RuntimeAddr start) const {
  std::vector<Instruction> out;
  size_t off = 0;
  while (off + kWordSize <= code.size()) {
    auto insn = decode_one(code.subspan(off), start + off);
    if (!insn) break;  // a prefix whose suffix is past the end
    off += insn->length;
    out.push_back(std::move(*insn));
  }
  return out;
}

}  // namespace uptrace::arch::ppc64le
