#include "arch/x86_64/jump_frame.h"

#include "arch/x86_64/registers.h"

namespace uptrace::arch::x86_64 {

bool load_site_word(Code& c, uint16_t word, uint64_t site) {
  switch (word) {
    case kRax: c.put({0x48, 0x8b, 0x44, 0x24, kSavedRax}); return true;  // mov rax, [rsp + 32]
    case kRcx: c.put({0x48, 0x8b, 0x44, 0x24, kSavedRcx}); return true;  // mov rax, [rsp + 16]
    case kRdx: c.put({0x48, 0x8b, 0x44, 0x24, kSavedRdx}); return true;  // mov rax, [rsp + 8]
    case kRsi: c.put({0x48, 0x8b, 0x44, 0x24, kSavedRsi}); return true;  // mov rax, [rsp + 0]
    case kRsp:                                                          // lea rax, [rsp + 168]
      c.put({0x48, 0x8d, 0x84, 0x24});
      c.put_le<uint32_t>(kOriginalRspOffset);
      return true;
    case kRip:  // movabs rax, site
      c.put({0x48, 0xb8});
      c.put_le<uint64_t>(site);
      return true;
    default: break;
  }
  for (unsigned n = 0; n < 16; ++n) {
    if (gpr_word(n) != word) continue;
    // mov rax, rN (REX.W 89 /r, ModRM.reg the source): rbx, rbp, rdi,
    // r8-r15, untouched by the trampoline.
    c.put({static_cast<uint8_t>(0x48 | (n >= 8 ? 0x04 : 0x00)), 0x89, static_cast<uint8_t>(0xc0 | ((n & 7) << 3))});
    return true;
  }
  return false;
}

}  // namespace uptrace::arch::x86_64
