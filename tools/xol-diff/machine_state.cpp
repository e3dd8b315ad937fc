#include "machine_state.h"

#include <cpuid.h>

#include <cstring>

#include <fmt/format.h>

#include "arch/x86_64/registers.h"

namespace xol_diff {
namespace {

namespace x86 = uptrace::arch::x86_64;

struct Component {
  unsigned number;
  const char* name;
  unsigned stride;  // bytes per register
};
// The XSAVE components xol-diff fills and names.
constexpr Component kComponents[] = {{2, "ymm{}.hi", 16}, {5, "k{}", 8}, {6, "zmm{}.hi", 32}, {7, "zmm{}", 64}};

struct Placed {
  unsigned offset = 0, size = 0;
};

Placed placement(unsigned component) {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(0xd, component, &eax, &ebx, &ecx, &edx)) return {};
  return {ebx, eax};
}

uint64_t enabled_components() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) return 3;  // no OSXSAVE
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t{hi} << 32) | lo;
}

uint64_t mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

void fill(uint8_t* p, size_t n, uint64_t seed) {
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t v = mix(seed + i);
    std::memcpy(p + i, &v, std::min<size_t>(8, n - i));
  }
}

std::vector<uint8_t> words(uint64_t size, uint64_t seed) {
  std::vector<uint8_t> out(size);
  for (uint64_t i = 0; i < size / 8; ++i) {
    // Even words: an 8-aligned address in the sandbox's middle half, so a
    // loaded pointer, return address or jump target is canonical and mapped.
    const uint64_t v = i % 2 == 0 ? Layout::kSandbox + Layout::kSandboxSize / 4 +
                                        (mix(seed + i) % (Layout::kSandboxSize / 2) & ~uint64_t{7})
                                  : mix(seed ^ (i * 0x10001));
    std::memcpy(out.data() + 8 * i, &v, 8);
  }
  return out;
}

}  // namespace

std::string xstate_field(size_t offset) {
  if (offset < xsave::kXmm) {
    if (offset >= 32) return fmt::format("st{}", (offset - 32) / 16);
    if (offset >= 24) return "mxcsr";
    return "x87 control/status";
  }
  if (offset < xsave::kHeader) return offset < xsave::kXmm + 256 ? fmt::format("xmm{}", (offset - xsave::kXmm) / 16) : "fxsave reserved";
  if (offset < xsave::kHeader + 64) return "xsave header";
  for (const Component& c : kComponents) {
    const Placed p = placement(c.number);
    if (offset >= p.offset && offset < p.offset + p.size) {
      return fmt::format(fmt::runtime(c.name), (offset - p.offset) / c.stride + (c.number == 7 ? 16 : 0));
    }
  }
  return fmt::format("xstate+{:#x}", offset);
}

MachineState base_state(const MachineState& own) {
  MachineState s = own;
  auto& w = s.regs.words;
  for (unsigned n = 0; n < 16; ++n) {
    w[x86::gpr_word(n)] = Layout::kSandbox + 0x6000 + n * 0x400 + n * 8;
  }
  w[x86::kRsp] = Layout::kStack + Layout::kStackSize / 2;
  w[x86::kFsBase] = Layout::kSandbox + 0x8000;
  w[x86::kGsBase] = Layout::kSandbox + 0x9000;
  w[x86::kEflags] = 0x2d7;  // IF, bit 1, CF PF AF ZF SF
  w[x86::kOrigRax] = static_cast<uint64_t>(-1);  // never restart a system call
  w[x86::kRip] = 0;

  auto& x = s.xstate;
  if (x.size() >= xsave::kHeader) {
    fill(x.data() + xsave::kXmm, 256, 0x1000);  // xmm0-15
  }
  if (x.size() >= xsave::kHeader + 64) {
    uint64_t bv = 0;
    std::memcpy(&bv, x.data() + xsave::kHeader, 8);
    bv |= 2;  // SSE state is not in its init state any more
    const uint64_t xcr0 = enabled_components();
    for (const Component& c : kComponents) {
      const Placed p = placement(c.number);
      if (!(xcr0 & (uint64_t{1} << c.number)) || p.size == 0 || p.offset + p.size > x.size()) continue;
      fill(x.data() + p.offset, p.size, 0x2000 + c.number * 0x1000);
      bv |= uint64_t{1} << c.number;
    }
    std::memcpy(x.data() + xsave::kHeader, &bv, 8);
  }
  return s;
}

std::vector<uint8_t> sandbox_pattern() { return words(Layout::kSandboxSize, 0x5a5a); }
std::vector<uint8_t> stack_pattern() { return words(Layout::kStackSize, 0xa5a5); }

}  // namespace xol_diff
