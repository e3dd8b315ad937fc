#include "arch/aarch64/jump_filter.h"

#include <algorithm>
#include <iterator>

#include "arch/aarch64/registers.h"

namespace uptrace::arch::aarch64 {

using namespace a64;

bool a64::load_site_word(Words& c, uint16_t word, uint64_t site, uint32_t frame) {
  if (word <= 30) {
    const size_t saved_words = frame >= kFilterFrame ? std::size(kSaved) : kPlainFrame / 8;
    const auto* saved = std::find(std::begin(kSaved), std::begin(kSaved) + saved_words, word);
    if (saved != std::begin(kSaved) + saved_words)
      c.put(ldr(8, kSp31, static_cast<uint32_t>(8 * (saved - std::begin(kSaved)))));
    else c.put(mov(8, static_cast<uint8_t>(word)));
    return true;
  }
  if (word == kSp) {
    c.put(add_imm(8, kSp31, frame));
    return true;
  }
  if (word == kPc) {
    c.mov_imm(8, site);
    return true;
  }
  return false;
}

namespace {

// The b.cond condition (bits 3:0) under which `a op b` does NOT hold.
int branch_if_false(CompareOp op, bool is_signed) {
  switch (op) {
    case CompareOp::Eq: return 0x1;                    // ne
    case CompareOp::Ne: return 0x0;                    // eq
    case CompareOp::Lt: return is_signed ? 0xa : 0x2;  // ge / hs
    case CompareOp::Le: return is_signed ? 0xc : 0x8;  // gt / hi
    case CompareOp::Gt: return is_signed ? 0xd : 0x9;  // le / ls
    case CompareOp::Ge: return is_signed ? 0xb : 0x3;  // lt / lo
    case CompareOp::Glob: break;
  }
  return -1;
}

bool emit_compare(Words& c, const JumpFilter& f, uint64_t site, uint32_t frame, Words::Label& on_false,
                  std::string& why_not) {
  const int cond = branch_if_false(f.op, f.is_signed);
  if (cond < 0) {
    why_not = "a glob match needs the string, which a trampoline cannot read";
    return false;
  }
  // The value into x8 as arch::read_register and the fetch TYPE make it:
  // the register's bits from `shift`, cut to the narrower of the register
  // and the type, sign-extended only when the type is signed and no wider
  // than the register (a wider one sees the register zero-extended).
  unsigned shift = 0, width = 64;
  bool sign = f.is_signed;
  if (f.reg) {
    if (!load_site_word(c, f.reg->word, site, frame)) {
      why_not = "a condition names a register a trampoline cannot read";
      return false;
    }
    shift = f.reg->shift;
    const unsigned type_bits = f.bytes * 8u;
    width = std::min<unsigned>(f.reg->bits, type_bits);
    sign = f.is_signed && type_bits <= f.reg->bits;
  } else {
    c.mov_imm(8, site);  // $pc
    width = std::min<unsigned>(64, f.bytes * 8u);
  }
  if (width < 64 || shift != 0) {
    const unsigned left = 64 - shift - width;
    if (left != 0) c.put(lsl(8, 8, left));
    const unsigned right = 64 - width;
    if (right != 0) c.put(sign ? asr(8, 8, right) : lsr(8, 8, right));
  }
  c.mov_imm(0, f.literal);
  c.put(cmp(8, 0));
  c.put(b_cond(static_cast<unsigned>(cond)), on_false);
  return true;
}

}  // namespace

bool emit_jump_filter(Words& c, const JumpFilter& f, uint64_t site, uint32_t frame, Words::Label& on_false,
                      std::string& why_not) {
  switch (f.kind) {
    case JumpFilter::Kind::Compare: return emit_compare(c, f, site, frame, on_false, why_not);
    case JumpFilter::Kind::All:
      for (const JumpFilter& child : f.children)
        if (!emit_jump_filter(c, child, site, frame, on_false, why_not)) return false;
      return true;
    case JumpFilter::Kind::Any: {
      // Each but the last: on true, past the rest; on false, the next one.
      if (f.children.empty()) {
        why_not = "an empty alternative";
        return false;
      }
      Words::Label holds;
      for (size_t i = 0; i + 1 < f.children.size(); ++i) {
        Words::Label next;
        if (!emit_jump_filter(c, f.children[i], site, frame, next, why_not)) return false;
        c.put(kB, holds);
        c.bind(next);
      }
      if (!emit_jump_filter(c, f.children.back(), site, frame, on_false, why_not)) return false;
      c.bind(holds);
      return true;
    }
    case JumpFilter::Kind::Not: {
      if (f.children.size() != 1) {
        why_not = "a negation of other than one condition";
        return false;
      }
      Words::Label inner_false;
      if (!emit_jump_filter(c, f.children.front(), site, frame, inner_false, why_not)) return false;
      c.put(kB, on_false);
      c.bind(inner_false);
      return true;
    }
  }
  return false;
}

}  // namespace uptrace::arch::aarch64
