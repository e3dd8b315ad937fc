#include "cmd/ifunc.h"

#include <cstring>

#include <fmt/format.h>

#include "common/error.h"
#include "core/tracee_memory.h"

namespace uptrace::cmd {

namespace {

bool in_executable_mapping(const elf::MappedModule& m, uint64_t addr) {
  for (const elf::Mapping& map : m.mappings)
    if (map.executable && addr >= map.start.value && addr < map.end.value) return true;
  return false;
}

}  // namespace

IfuncPicks::IfuncPicks(pid_t pid, const elf::ModuleMap& map, OpenElf open)
    : pid_(pid), map_(map), open_(std::move(open)) {}

IfuncPicks::~IfuncPicks() = default;

std::optional<uint64_t> IfuncPicks::read_slot(const elf::MappedModule& module, const elf::GotSlot& slot) {
  if (!memory_tried_) {
    memory_tried_ = true;
    try {
      memory_ = std::make_unique<core::TraceeMemory>(pid_);
    } catch (const Error& e) {
      memory_error_ = e.what();
    }
  }
  if (!memory_) return std::nullopt;
  uint8_t bytes[8] = {};
  if (slot.width > sizeof bytes || !memory_->read(module.to_runtime(slot.slot), std::span(bytes, slot.width)))
    return std::nullopt;
  // The tracer runs on the target's ISA: the slot is in host byte order.
  uint64_t value = 0;
  if (slot.width == 8) {
    std::memcpy(&value, bytes, 8);
  } else {
    uint32_t v32 = 0;
    std::memcpy(&v32, bytes, 4);
    value = v32;
  }
  return value;
}

IfuncPick IfuncPicks::pick(const elf::MappedModule& owner, const elf::ElfFile& owner_elf,
                           const elf::Function& ifunc) {
  const uint64_t resolver = owner.to_runtime(ifunc.addr).value;
  std::string vdso;
  // A value the resolver can have returned: code in the defining module
  // that is not the resolver. An unbound lazy slot holds its own module's
  // PLT stub instead, which this leaves out.
  auto found = [&](const elf::MappedModule& m, const elf::GotSlot& s) -> std::optional<IfuncPick> {
    std::optional<uint64_t> v = read_slot(m, s);
    if (!v || *v == 0 || *v == resolver) return std::nullopt;
    if (in_executable_mapping(owner, *v))
      return IfuncPick{owner.to_file(RuntimeAddr(*v)),
                       fmt::format("{}'s GOT slot at {:#x} ({})", m.file_name(), s.slot.value, s.type_name)};
    for (const elf::Mapping& map : map_.mappings())
      if (map.path == "[vdso]" && *v >= map.start.value && *v < map.end.value)
        vdso = fmt::format("its resolver picked {:#x} in the vDSO (as {}'s GOT slot at {:#x} says), which uptrace "
                           "cannot probe: it is no file",
                           *v, m.file_name(), s.slot.value);
    return std::nullopt;
  };

  for (const elf::GotSlot& s : owner_elf.got_slots())
    if (s.kind == elf::GotSlot::Kind::Irelative && s.addend == ifunc.addr.value)
      if (auto p = found(owner, s)) return *p;

  const std::string name = ifunc.name.substr(0, ifunc.name.find('@'));
  size_t unbound = 0;
  for (const elf::MappedModule& m : map_.modules()) {
    if (&m == &owner) continue;  // its own calls are the IRELATIVE slots above
    const elf::ElfFile* file = open_(m);
    if (file == nullptr) continue;
    for (const elf::GotSlot& s : file->got_slots()) {
      if (s.kind == elf::GotSlot::Kind::Irelative || s.symbol != name) continue;
      // Another version of the name is another function (memcpy@GLIBC_2.2.5).
      if (!s.version.empty() && !ifunc.version.empty() && s.version != ifunc.version) continue;
      if (auto p = found(m, s)) return *p;
      ++unbound;
    }
  }
  if (!vdso.empty()) return {std::nullopt, vdso};
  if (memory_tried_ && !memory_)
    return {std::nullopt, fmt::format("uptrace cannot read the memory of pid {} ({})", pid_, memory_error_)};
  if (unbound > 0)
    return {std::nullopt,
            fmt::format("no module of pid {} has it bound yet: the dynamic loader binds a call through the PLT at its "
                        "first run (lazy binding), and only then runs the resolver",
                        pid_),
            true};
  return {std::nullopt, fmt::format("no module of pid {} refers to it through the GOT, where the loader would write "
                                    "the implementation it picks",
                                    pid_)};
}

}  // namespace uptrace::cmd
