#include "arch/x86_64/jump_filter.h"

#include <algorithm>
#include <cstdint>

#include "arch/x86_64/jump_frame.h"

namespace uptrace::arch::x86_64 {
namespace {

// The jcc (0f 8x) taken when `a op b` does NOT hold.
uint8_t jump_if_false(CompareOp op, bool is_signed) {
  switch (op) {
    case CompareOp::Eq: return 0x85;                    // jne
    case CompareOp::Ne: return 0x84;                    // je
    case CompareOp::Lt: return is_signed ? 0x8d : 0x83;  // jge / jae
    case CompareOp::Le: return is_signed ? 0x8f : 0x87;  // jg / ja
    case CompareOp::Gt: return is_signed ? 0x8e : 0x86;  // jle / jbe
    case CompareOp::Ge: return is_signed ? 0x8c : 0x82;  // jl / jb
    case CompareOp::Glob: break;
  }
  return 0;
}

bool emit_compare(Code& c, const JumpFilter& f, uint64_t site, Code::Label& on_false, std::string& why_not) {
  const uint8_t jcc = jump_if_false(f.op, f.is_signed);
  if (jcc == 0) {
    why_not = "a glob match needs the string, which a trampoline cannot read";
    return false;
  }
  // The value into rax as arch::read_register and the fetch TYPE make it:
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
    c.put({0x48, 0xb8});  // movabs rax, site  ($pc)
    c.put_le<uint64_t>(site);
    width = std::min<unsigned>(64, f.bytes * 8u);
  }
  if (width < 64 || shift != 0) {
    const unsigned left = 64 - shift - width;
    if (left != 0) c.put({0x48, 0xc1, 0xe0, static_cast<uint8_t>(left)});  // shl rax, left
    const unsigned right = 64 - width;
    if (right != 0)
      c.put({0x48, 0xc1, static_cast<uint8_t>(sign ? 0xf8 : 0xe8), static_cast<uint8_t>(right)});  // sar / shr rax, right
  }
  const int64_t literal = static_cast<int64_t>(f.literal);
  if (literal >= INT32_MIN && literal <= INT32_MAX) {
    c.put({0x48, 0x3d});  // cmp rax, imm32 (sign-extended)
    c.put_le<int32_t>(static_cast<int32_t>(literal));
  } else {
    c.put({0x48, 0xba});  // movabs rdx, literal
    c.put_le<uint64_t>(f.literal);
    c.put({0x48, 0x39, 0xd0});  // cmp rax, rdx
  }
  c.jump_rel32({0x0f, jcc}, on_false);
  return true;
}

}  // namespace

bool emit_jump_filter(Code& c, const JumpFilter& f, uint64_t site, Code::Label& on_false, std::string& why_not) {
  switch (f.kind) {
    case JumpFilter::Kind::Compare: return emit_compare(c, f, site, on_false, why_not);
    case JumpFilter::Kind::All:
      for (const JumpFilter& child : f.children)
        if (!emit_jump_filter(c, child, site, on_false, why_not)) return false;
      return true;
    case JumpFilter::Kind::Any: {
      // Each but the last: on true, past the rest; on false, the next one.
      Code::Label holds;
      for (size_t i = 0; i + 1 < f.children.size(); ++i) {
        Code::Label next;
        if (!emit_jump_filter(c, f.children[i], site, next, why_not)) return false;
        c.jump_rel32({0xe9}, holds);
        c.bind(next);
      }
      if (f.children.empty() || !emit_jump_filter(c, f.children.back(), site, on_false, why_not)) {
        if (f.children.empty()) why_not = "an empty alternative";
        return false;
      }
      c.bind(holds);
      return true;
    }
    case JumpFilter::Kind::Not: {
      Code::Label inner_false;
      if (f.children.size() != 1 || !emit_jump_filter(c, f.children.front(), site, inner_false, why_not)) {
        if (f.children.size() != 1) why_not = "a negation of other than one condition";
        return false;
      }
      c.jump_rel32({0xe9}, on_false);
      c.bind(inner_false);
      return true;
    }
  }
  return false;
}

}  // namespace uptrace::arch::x86_64
