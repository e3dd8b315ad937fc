#include "arch/aarch64/decoder.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <memory>
#include <type_traits>

#include <fmt/format.h>

#include "arch/aarch64/encoding.h"
#include "arch/aarch64/insn_table.h"
#include "common/error.h"

namespace uptrace::arch::aarch64 {
namespace {

static_assert(std::is_same_v<csh, size_t>, "Decoder stores the Capstone handle as size_t");

struct InsnFree {
  void operator()(cs_insn* insn) const { cs_free(insn, 1); }
};
using InsnPtr = std::unique_ptr<cs_insn, InsnFree>;

Instruction make(RuntimeAddr address, uint32_t word, std::string text) {
  Instruction out;
  out.address = address;
  out.length = kInsnSize;
  const auto bytes = word_bytes(word);
  std::copy(bytes.begin(), bytes.end(), out.bytes.begin());
  out.text = std::move(text);
  return out;
}

}  // namespace

std::string undecoded_text(uint32_t word) {
  const InsnRow* row = classify(word);
  return row ? fmt::format(".inst {:#010x} ({})", word, row->name) : fmt::format(".inst {:#010x}", word);
}

Decoder::Decoder() {
  csh handle = 0;
  if (cs_err err = cs_open(CS_ARCH_ARM64, CS_MODE_LITTLE_ENDIAN, &handle); err != CS_ERR_OK) {
    throw_runtime("capstone: cannot open an aarch64 disassembler: {}", cs_strerror(err));
  }
  handle_ = handle;
}

Decoder::~Decoder() {
  csh handle = handle_;
  cs_close(&handle);
}

std::optional<Instruction> Decoder::decode_one(std::span<const uint8_t> code, RuntimeAddr address) const {
  const auto word = read_word(code);
  if (!word) return std::nullopt;
  InsnPtr insn(cs_malloc(handle_));
  if (!insn) throw_runtime("capstone: cannot allocate an instruction");
  const uint8_t* p = code.data();
  size_t size = kInsnSize;
  uint64_t addr = address.value;
  if (!cs_disasm_iter(handle_, &p, &size, &addr, insn.get())) return std::nullopt;
  std::string text = insn->mnemonic;
  if (insn->op_str[0] != '\0') {
    text += ' ';
    text += insn->op_str;
  }
  // Capstone 4 prints the pointer-authentication and bti hints as "hint #N".
  if (const InsnRow* row = classify(*word); row && text.starts_with("hint")) {
    static constexpr const char* kBti[4] = {"bti", "bti c", "bti j", "bti jc"};
    if (row->exact()) text = row->name;
    if (row->name == "bti") text = kBti[bits(*word, 7, 6)];
  }
  return make(address, *word, std::move(text));
}

std::vector<Instruction> Decoder::decode_all(std::span<const uint8_t> code, RuntimeAddr start) const {
  std::vector<Instruction> out;
  for (size_t off = 0; off + kInsnSize <= code.size(); off += kInsnSize) {
    const auto rest = code.subspan(off);
    const RuntimeAddr at = start + off;
    if (auto insn = decode_one(rest, at)) {
      out.push_back(std::move(*insn));
    } else {
      const uint32_t word = *read_word(rest);
      out.push_back(make(at, word, undecoded_text(word)));
    }
  }
  return out;
}

}  // namespace uptrace::arch::aarch64
