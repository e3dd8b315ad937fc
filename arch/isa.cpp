#include "arch/isa.h"

#include <cassert>

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "common/error.h"

namespace uptrace::arch {

#define UPTRACE_ISA(name) \
  namespace name {        \
  const Isa& name##_isa(); \
  }
#include "arch/isa_list.inc"
#undef UPTRACE_ISA

namespace {

constexpr std::array<std::string_view, 4> kExecModeNames = {"trap", "boost", "emulate", "jump"};
constexpr std::array<std::string_view, 5> kModeRequestNames = {"auto", "trap", "boost", "emulate", "jump"};

#if defined(__x86_64__)
constexpr IsaId kNativeIsa = IsaId::X86_64;
#elif defined(__aarch64__)
constexpr IsaId kNativeIsa = IsaId::AArch64;
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
constexpr IsaId kNativeIsa = IsaId::Ppc64le;
#elif defined(__riscv) && __riscv_xlen == 64
constexpr IsaId kNativeIsa = IsaId::Riscv64;
#else
#error "uptrace does not know this host's instruction set"
#endif

const std::vector<const Isa*>& registry() {
  static const std::vector<const Isa*> isas = {
#define UPTRACE_ISA(name) &name::name##_isa(),
#include "arch/isa_list.inc"
#undef UPTRACE_ISA
  };
  return isas;
}

}  // namespace

std::string_view to_string(ExecMode mode) { return kExecModeNames.at(static_cast<size_t>(mode)); }

std::string_view to_string(StepMechanism mechanism) {
  return mechanism == StepMechanism::HardwareStep ? "hardware single-step" : "run to a trap after the copy";
}

std::string_view to_string(ModeRequest mode) { return kModeRequestNames.at(static_cast<size_t>(mode)); }

std::optional<ModeRequest> parse_mode_request(std::string_view text) {
  const auto it = std::find(kModeRequestNames.begin(), kModeRequestNames.end(), text);
  if (it == kModeRequestNames.end()) return std::nullopt;
  return static_cast<ModeRequest>(it - kModeRequestNames.begin());
}

uint64_t read_register(const Regs& regs, RegisterRef ref) {
  const uint64_t word = regs.words.at(ref.word) >> ref.shift;
  return ref.bits >= 64 ? word : word & ((uint64_t{1} << ref.bits) - 1);
}

std::optional<RegisterRef> Isa::dwarf_register(unsigned dwarf_regno) const {
  for (const DwarfRegister& d : dwarf_register_map())
    if (d.number == dwarf_regno) return d.reg;
  return std::nullopt;
}

// Every ISA calls its stack pointer "sp" (x86-64: the low 16 bits of rsp,
// which live in rsp's word).
uint16_t Isa::sp_word() const {
  auto ref = register_by_name("sp");
  assert(ref && "every ISA names its stack pointer sp");
  return ref->word;
}

std::string elf64_lsb_refusal(const Isa& isa, uint8_t elf_class, uint8_t elf_data) {
  constexpr uint8_t kElfClass64 = 2, kElfData2Lsb = 1;  // <elf.h>'s ELFCLASS64, ELFDATA2LSB
  if (elf_class != kElfClass64) return fmt::format("a 32-bit {} file (ELF class {})", isa.name(), elf_class);
  if (elf_data != kElfData2Lsb) return fmt::format("a big-endian file for {}'s machine", isa.name());
  return {};
}

const Isa& native_isa() {
  for (const Isa* isa : registry()) {
    if (isa->id() == kNativeIsa) return *isa;
  }
  throw_runtime("uptrace was built without support for this host's instruction set");
}

std::span<const Isa* const> all_isas() { return registry(); }

const Isa* isa_for_elf_machine(uint16_t e_machine) {
  const auto& isas = registry();
  const auto it = std::find_if(isas.begin(), isas.end(), [&](const Isa* isa) { return isa->elf_machine() == e_machine; });
  return it == isas.end() ? nullptr : *it;
}

}  // namespace uptrace::arch
