#pragma once
// From what the user wrote (ProbeSpec) to sites in a process or a file:
// modules, symbols, source lines, the instruction-boundary check, and the
// error messages of SPEC.md ("no function 'x' (did you mean y?)", "inside the
// instruction at ...").
#include <sys/types.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "cmd/probe_spec.h"
#include "common/hit.h"
#include "core/address_space.h"
#include "core/probe_site.h"
#include "elf/elf_file.h"
#include "elf/module_map.h"

namespace uptrace::cmd {

class IfuncPicks;

// One site of one probe, with what --explain shows about it.
struct SiteInfo {
  std::string module_path;
  uint64_t load_bias = 0;
  FileAddr file_addr;
  std::string function;        // containing function (or "" when only an FDE covers it)
  uint64_t function_offset = 0;
  uint64_t function_size = 0;
  std::vector<std::string> variables;  // how each DWARF fetch argument is found ("len: int, DW_OP_reg4 (%rsi)")
  bool after_prologue = false;         // a FUNC probe moved past the prologue for its DWARF arguments
  // %return where the return address is in a register at the entry: where
  // the function keeps it after that ("the prologue saves it at ..."), for
  // --explain; empty otherwise.
  std::string return_where;
  // FUNC names an indirect function (STT_GNU_IFUNC): which code is probed
  // and why, for --explain; empty otherwise.
  std::string ifunc;
  // $argN in Go code, which does not pass arguments where $argN reads them:
  // where it does, for --explain; empty otherwise.
  std::string go_arguments;
  // ppc64 ELFv2: how far the function's local entry (where direct calls
  // enter, past the TOC setup) is from its global entry (the symbol); 0
  // when it has one entry.
  uint64_t local_entry_offset = 0;
  // A USDT marker: its name, arguments and semaphore, for --explain; empty
  // otherwise.
  std::string marker;
  // The module's file, while the Resolver lives: --explain asks it where
  // its debug information comes from (which loads its DWARF, so only then).
  const elf::ElfFile* elf = nullptr;
};

// Whether a MODULE: prefix names this file (by path, file name or a prefix of
// the file name), when probes are resolved against a file alone (-x).
bool module_names_file(std::string_view module, std::string_view path);

struct Resolution {
  std::vector<ProbeLabel> labels;
  std::vector<core::ProbeSite> sites;  // internal ones (label kInternalLabel) last
  std::vector<SiteInfo> info;  // parallel to sites
  // One line each, for stderr ("FUNC is also inlined at ...").
  std::vector<std::string> warnings;
  // MODULE:s whose probes wait for a library loaded later, or sit in one
  // mapped now (which may be unloaded and loaded again).
  std::vector<core::ModuleProbes> modules;
  // With %return probes: how returns are caught and how C++ exceptions are
  // dealt with, for --explain.
  std::string return_note;
};

class Resolver {
 public:
  Resolver(const arch::Isa& isa, std::vector<ProbeSpec> specs);
  ~Resolver();

  // Binds every fetch argument once: a usage error surfaces before anything
  // is attached or launched.
  void validate_fetch_args() const;
  // Against the modules mapped in `pid` now.
  Resolution resolve_in_process(pid_t pid);
  // A MODULE: named by `pending` (a Resolution's modules), against the
  // process as mapped now; nullopt while that module is not mapped.
  std::optional<Resolution> resolve_module(pid_t pid, const core::ModuleProbes& pending);
  // Against one ELF file, without a process (--explain -x): runtime
  // addresses are the file's own.
  Resolution resolve_in_file(const std::string& path);

  // The ELF file behind a module, opened once.
  const elf::ElfFile& elf_for(const std::string& access_path, const std::string& display_path);

 private:
  struct Module {
    std::string path;         // as the user / the target sees it
    std::string access_path;  // where we can read it
    uint64_t load_bias = 0;
    RuntimeAddr start, end;   // its mapped range (file range without a process)
    const elf::MappedModule* mapped = nullptr;  // in a process
  };
  // Where a function's code is, as FUNC, FUNC+OFF and FUNC%return see it.
  struct EntryCode {
    FileAddr start;  // FUNC+OFF counts from here
    FileAddr entry;  // FUNC
    uint64_t size = 0;  // 0 when not known
    std::string ifunc_note;  // SiteInfo::ifunc
  };
  // An indirect function's code in a process is the implementation its
  // resolver picked; when that is not known, nullopt, `why` says so and
  // `lazy` whether binding at start would tell.
  std::optional<EntryCode> entry_code(const Module& module, const elf::ElfFile& elf, const elf::Function& f,
                                      std::string& why, bool& lazy);
  struct ModuleRange {
    RuntimeAddr start, end;
  };
  static Module module_of(const elf::MappedModule& m);
  // The libraries the program needed to start (the executable's DT_NEEDED
  // closure): ld.so never unloads them.
  static std::set<const elf::MappedModule*> startup_libraries(const elf::ModuleMap& map);
  static void add_module(Resolution& out, const std::string& name, const std::string& file, size_t probes,
                         std::optional<ModuleRange> mapped);
  // A probe on a library not mapped yet, checked against `file` (as the
  // target names it; read through `access_path`).
  void check_pending(const ProbeSpec& spec, const std::string& file, const std::string& access_path, Resolution& out);
  void resolve_spec(const ProbeSpec& spec, const Module& module, Resolution& out);
  // `untyped_retval`: for the matches of a %return glob, where a $retval
  // DWARF refuses (void, struct, floating point) is left untyped and the
  // function's name added here instead of failing every match.
  // What a jump analysis needs beyond the function (core::ProbeSite).
  void add_jump_context(core::ProbeSite& s, const elf::ElfFile& elf, const Module& module, const std::string& function,
                        FileAddr start, FileAddr end);
  void add_site(const ProbeSpec& spec, const Module& module, const elf::ElfFile& elf, FileAddr addr,
                const std::string& shown_name, uint32_t label, Resolution& out, bool at_entry = false,
                std::vector<std::string>* untyped_retval = nullptr);
  uint32_t add_label(const ProbeSpec& spec, std::string_view matched);
  // [MODULE:]%PROVIDER:NAME: one site per marker that matches, one label per
  // PROVIDER:NAME.
  void resolve_marker(const ProbeSpec& spec, const loc::Marker& where, const Module& module, const elf::ElfFile& elf,
                      Resolution& out);
  // The fetch arguments of `spec` with each $argN replaced by where the
  // marker has its N-th argument; a bare $argN takes the argument's size
  // and signedness unless it has a :TYPE. Throws Error (Runtime) for an
  // argument the marker lacks or keeps where uptrace cannot read it.
  std::vector<FetchArg> marker_args(const ProbeSpec& spec, const elf::SdtMarker& marker, const Module& module) const;
  // %return on an ISA whose calls leave the return address in a register:
  // where the function saves it (ProbeSite::return_spill), and the same for
  // --explain in `where`; throws the refusal when it cannot be followed.
  std::optional<int64_t> return_spill(const std::string& shown_name, const Module& module, const elf::ElfFile& elf,
                                      FileAddr start, uint64_t size, const std::string& function,
                                      std::span<const arch::Instruction> code, std::string& where) const;
  // %return in Go code: refused (Go's runtime checks return addresses),
  // with the function's return instructions as the hint.
  [[noreturn]] void refuse_go_return(const std::string& shown_name, const Module& module, const elf::ElfFile& elf,
                                     const std::string& function, const std::string& go_version,
                                     std::span<const arch::Instruction> code, RuntimeAddr start) const;
  // Where Go passes the arguments $argN reads in the C convention; empty
  // when they are the same registers.
  std::string go_arguments_note(const std::string& function, const std::string& go_version) const;
  bool has_return_probes() const;
  // %return: refuses what cannot be hijacked safely, and adds uptrace's own
  // sites on the program's unwinder (core/return_probes.h).
  void check_return_probes(pid_t pid) const;
  void add_unwinder_hooks(const elf::ModuleMap& map, Resolution& out);

  const arch::Isa& isa_;
  std::vector<ProbeSpec> specs_;
  // One label table for every resolution: the same probe (spec and matched
  // name) in another process, or resolved again, keeps its number.
  std::vector<ProbeLabel> labels_;
  std::map<std::pair<const ProbeSpec*, std::string>, uint32_t> label_of_;
  // While resolve_in_process runs.
  pid_t pid_ = 0;
  std::unique_ptr<IfuncPicks> ifuncs_;
  std::map<std::string, std::shared_ptr<elf::ElfFile>> files_;
  // The module readers jump analyses share (add_jump_context), by file and load bias.
  std::map<std::pair<const elf::ElfFile*, uint64_t>, std::shared_ptr<const arch::ImageReader>> images_;
};

}  // namespace uptrace::cmd
