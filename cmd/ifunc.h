#pragma once
// Where the calls to an indirect function (STT_GNU_IFUNC) go in a live
// process. The symbol's address is its resolver, which the dynamic loader
// runs to pick an implementation (strlen -> __strlen_avx2) and then never
// again: a probe there counts bindings, not calls. The loader writes its pick
// into GOT slots: the defining module's own R_*_IRELATIVE slots whose addend
// is the resolver (applied at load, lazy binding or not), and, once bound,
// the R_*_JUMP_SLOT / R_*_GLOB_DAT slots of the modules that call it.
#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "elf/elf_file.h"
#include "elf/module_map.h"

namespace uptrace::core {
class TraceeMemory;
}

namespace uptrace::cmd {

struct IfuncPick {
  // The implementation, a file address in the defining module; empty when
  // it is not known (yet).
  std::optional<FileAddr> impl;
  // Where the pick was read ("libc.so.6's GOT slot at 0x1d5018
  // (R_X86_64_IRELATIVE)"), or why it is not known.
  std::string how;
  // Not known because a caller's slot is not bound yet (lazy binding): it
  // would be with LD_BIND_NOW=1.
  bool lazy = false;
};

class IfuncPicks {
 public:
  // The ELF file of a mapped module, or null when it is not one.
  using OpenElf = std::function<const elf::ElfFile*(const elf::MappedModule&)>;
  IfuncPicks(pid_t pid, const elf::ModuleMap& map, OpenElf open);
  ~IfuncPicks();
  IfuncPicks(const IfuncPicks&) = delete;
  IfuncPicks& operator=(const IfuncPicks&) = delete;

  // `ifunc` is a function of `owner` (whose ELF file is `owner_elf`).
  IfuncPick pick(const elf::MappedModule& owner, const elf::ElfFile& owner_elf, const elf::Function& ifunc);

 private:
  std::optional<uint64_t> read_slot(const elf::MappedModule& module, const elf::GotSlot& slot);

  pid_t pid_;
  const elf::ModuleMap& map_;
  OpenElf open_;
  std::unique_ptr<core::TraceeMemory> memory_;
  std::string memory_error_;
  bool memory_tried_ = false;
};

}  // namespace uptrace::cmd
