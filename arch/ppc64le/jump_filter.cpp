#include "arch/ppc64le/jump_filter.h"

#include <algorithm>

#include "arch/ppc64le/registers.h"

namespace uptrace::arch::ppc64le {

using namespace p64;

bool p64::load_site_word(Words& c, uint16_t word, uint64_t site) {
  if (word == 0 || (word >= 3 && word <= 12)) {
    c.put(ld(kValue, 1, gpr_slot(static_cast<uint8_t>(word))));
  } else if (word == kSp) {
    c.put(addi(kValue, 1, kFrame));
  } else if (word < 32) {
    c.put(mr(kValue, static_cast<uint8_t>(word)));
  } else if (word == kNip) {
    c.mov_imm(kValue, site);
  } else if (word == kLink) {
    c.put(mfspr(kValue, kSprLr));
  } else if (word == kCtr) {
    c.put(ld(kValue, 1, kCtrSlot));
  } else if (word == kXer) {
    c.put(ld(kValue, 1, kXerSlot));
  } else if (word == kCcr) {
    c.put(ld(kValue, 1, kCrSlot));
  } else {
    return false;
  }
  return true;
}

namespace {

constexpr uint8_t kLiteral = 10;

// The bc that branches when `a op b` does NOT hold (after cmpd/cmpld,
// which pick signed or unsigned); 0 for a glob.
uint32_t branch_if_false(CompareOp op) {
  switch (op) {
    case CompareOp::Eq: return kBne;
    case CompareOp::Ne: return kBeq;
    case CompareOp::Lt: return kBge;
    case CompareOp::Le: return kBgt;
    case CompareOp::Gt: return kBle;
    case CompareOp::Ge: return kBlt;
    case CompareOp::Glob: break;
  }
  return 0;
}

bool emit_compare(Words& c, const JumpFilter& f, uint64_t site, Words::Label& on_false, std::string& why_not) {
  const uint32_t branch = branch_if_false(f.op);
  if (branch == 0) {
    why_not = "a glob match needs the string, which a trampoline cannot read";
    return false;
  }
  // The value into r9 as arch::read_register and the fetch TYPE make it:
  // the register's bits from `shift`, cut to the narrower of the register
  // and the type, sign-extended only when the type is signed and no wider
  // than the register (a wider one sees the register zero-extended).
  unsigned shift = 0, width = 64;
  bool sign = f.is_signed;
  if (f.reg) {
    if (!load_site_word(c, f.reg->word, site)) {
      why_not = "a condition names a register a trampoline cannot read";
      return false;
    }
    shift = f.reg->shift;
    const unsigned type_bits = f.bytes * 8u;
    width = std::min<unsigned>(f.reg->bits, type_bits);
    sign = f.is_signed && type_bits <= f.reg->bits;
  } else {
    c.mov_imm(kValue, site);  // $pc
    width = std::min<unsigned>(64, f.bytes * 8u);
  }
  if (width < 64 || shift != 0) {
    const unsigned left = 64 - shift - width;
    if (left != 0) c.put(sldi(kValue, kValue, left));
    const unsigned right = 64 - width;
    if (right != 0) c.put(sign ? sradi(kValue, kValue, right) : rldicl(kValue, kValue, 64 - right, right));
  }
  c.mov_imm(kLiteral, f.literal);
  c.put(f.is_signed ? cmpd(kValue, kLiteral) : cmpld(kValue, kLiteral));
  c.put(branch, on_false);
  return true;
}

}  // namespace

bool emit_jump_filter(Words& c, const JumpFilter& f, uint64_t site, Words::Label& on_false, std::string& why_not) {
  switch (f.kind) {
    case JumpFilter::Kind::Compare: return emit_compare(c, f, site, on_false, why_not);
    case JumpFilter::Kind::All:
      for (const JumpFilter& child : f.children)
        if (!emit_jump_filter(c, child, site, on_false, why_not)) return false;
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
        if (!emit_jump_filter(c, f.children[i], site, next, why_not)) return false;
        c.put(kB, holds);
        c.bind(next);
      }
      if (!emit_jump_filter(c, f.children.back(), site, on_false, why_not)) return false;
      c.bind(holds);
      return true;
    }
    case JumpFilter::Kind::Not: {
      if (f.children.size() != 1) {
        why_not = "a negation of other than one condition";
        return false;
      }
      Words::Label inner_false;
      if (!emit_jump_filter(c, f.children.front(), site, inner_false, why_not)) return false;
      c.put(kB, on_false);
      c.bind(inner_false);
      return true;
    }
  }
  return false;
}

}  // namespace uptrace::arch::ppc64le
