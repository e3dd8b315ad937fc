#include "insn_class.h"

#include "arch/x86_64/encoding.h"

namespace xol_diff {

using uptrace::arch::x86_64::InsnClass;
using uptrace::arch::x86_64::VexKind;

bool ClassInfo::stack_class() const {
  switch (cls) {
    case InsnClass::PushReg:
    case InsnClass::PushImm:
    case InsnClass::Pushf:
    case InsnClass::CallRel:
    case InsnClass::CallIndirect:
    case InsnClass::Ret: return true;
    default: return false;
  }
}

bool ClassInfo::conditional() const {
  return cls == InsnClass::Jcc || cls == InsnClass::Loop || cls == InsnClass::Jrcxz;
}

ClassInfo classify_insn(std::span<const uint8_t> bytes, bool rip_relative) {
  const auto enc = uptrace::arch::x86_64::parse_encoding(bytes);
  if (!enc) return {"unparsable", InsnClass::Plain};
  if (const auto* row = uptrace::arch::x86_64::classify(*enc, bytes)) return {std::string(row->name), row->cls};
  std::string name = "plain";
  switch (enc->vex) {
    case VexKind::None: break;
    case VexKind::Vex2:
    case VexKind::Vex3: name += " vex"; break;
    case VexKind::Xop: name += " xop"; break;
    case VexKind::Evex: name += " evex"; break;
  }
  if (rip_relative) name += ", rip-relative";
  return {name, InsnClass::Plain};
}

}  // namespace xol_diff
