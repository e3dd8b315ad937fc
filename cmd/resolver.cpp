#include "cmd/resolver.h"

#include <fnmatch.h>

#include <algorithm>
#include <functional>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "common/error.h"
#include "common/signed_hex.h"
#include "cmd/ifunc.h"
#include "core/proc_info.h"
#include "elf/demangle.h"
#include "elf/library_search.h"

namespace uptrace::cmd {

namespace {

bool is_return_probe(const ProbeSpec& spec) { return std::holds_alternative<loc::Return>(spec.location); }

// The condition's operands that are expressions of their own (not names
// of the probe's arguments).
void condition_operands(const Condition& c, std::vector<const FetchArg*>& out) {
  if (c.kind == Condition::Kind::Compare && !c.operand.arg_name) out.push_back(&c.operand.expr);
  for (const Condition& child : c.children) condition_operands(child, out);
}

// Every fetch expression of the probe: its arguments and its condition's own.
std::vector<const FetchArg*> all_fetch_args(const ProbeSpec& spec) {
  std::vector<const FetchArg*> out;
  for (const FetchArg& a : spec.args) out.push_back(&a);
  if (spec.condition) condition_operands(*spec.condition, out);
  return out;
}

bool reads_argument(const FetchExpr& e) {
  if (std::holds_alternative<fetch::Argument>(e.node)) return true;
  if (const auto* d = std::get_if<fetch::Deref>(&e.node)) return d->inner && reads_argument(*d->inner);
  return false;
}

// Whether a fetch argument or a condition's operand reads $argN, whose
// registers are the platform's C calling convention.
bool uses_arguments(const ProbeSpec& spec) {
  const std::vector<const FetchArg*> args = all_fetch_args(spec);
  return std::any_of(args.begin(), args.end(), [](const FetchArg* a) { return reads_argument(a->expr); });
}

bool uses_dwarf(const ProbeSpec& spec) {
  const std::vector<const FetchArg*> args = all_fetch_args(spec);
  return std::any_of(args.begin(), args.end(), [](const FetchArg* a) {
    return std::holds_alternative<fetch::Variable>(a->expr.node) || std::holds_alternative<fetch::Params>(a->expr.node);
  });
}

// A $retval that DWARF may type: one without :TYPE (`+OFF($retval)` reads
// memory and `$retval:string` a string, as the user wrote).
bool types_retval(const ProbeSpec& spec) {
  const std::vector<const FetchArg*> args = all_fetch_args(spec);
  return is_return_probe(spec) && std::any_of(args.begin(), args.end(), [](const FetchArg* a) {
           return !a->type && std::holds_alternative<fetch::ReturnValue>(a->expr.node);
         });
}

// The site's variables, except that a $retval DWARF refuses is left untyped
// (the s64 of the raw register) and the refusal kept.
class UntypedRefusedReturn final : public VariableSource {
 public:
  explicit UntypedRefusedReturn(std::unique_ptr<VariableSource> inner) : inner_(std::move(inner)) {}
  dwarf::VariablePlan variable(const VariablePath& path, const std::string& shown) const override {
    return inner_->variable(path, shown);
  }
  std::vector<dwarf::VariablePlan> params() const override { return inner_->params(); }
  std::optional<dwarf::ValueType> return_type() const override {
    try {
      return inner_->return_type();
    } catch (const Error&) {
      refused_ = true;
      return std::nullopt;
    }
  }
  bool refused() const { return refused_; }

 private:
  std::unique_ptr<VariableSource> inner_;
  mutable bool refused_ = false;
};

// The first few of a list, for a one-line message.
std::string list_some(const std::vector<std::string>& items) {
  constexpr size_t kShown = 5;
  std::string list;
  for (size_t i = 0; i < items.size() && i < kShown; ++i) list += (i ? ", " : "") + items[i];
  if (items.size() > kShown) list += ", ...";
  return list;
}

std::string ifunc_hint() {
  return "with LD_BIND_NOW=1 in the program's environment (LD_BIND_NOW=1 uptrace ... -- COMMAND) its loader binds "
         "every call at start; or attach with -p after its first call";
}

// Copies of FUNC inlined into other functions run none of FUNC's own code, so
// a FUNC probe never sees them; users expect it to (as with SRCFILE:LINE).
std::optional<std::string> inlined_warning(const elf::ElfFile& elf, const std::string& function) {
  std::vector<std::string> copies = elf.inlined_copies(function);
  if (copies.empty()) return std::nullopt;
  return fmt::format("warning: {} is also inlined at {} place{} ({}); those copies are not probed", function,
                     copies.size(), copies.size() == 1 ? "" : "s", list_some(copies));
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : std::string(sep)) + i;
  return out;
}

}  // namespace

void Resolver::refuse_go_return(const std::string& shown_name, const Module& module, const elf::ElfFile& elf,
                                const std::string& function, const std::string& go_version,
                                std::span<const arch::Instruction> code, RuntimeAddr start) const {
  (void)elf;
  std::vector<std::string> returns;
  const std::string name = function.empty() ? fmt::format("{:#x}", start.value - module.load_bias) : function;
  for (const arch::Instruction& i : code)
    if (isa_.is_return(i)) returns.push_back(fmt::format("{}+{:#x}", name, i.address.value - start.value));
  // The name of the register results come back in, for the hint.
  std::string result_register;
  const arch::RegisterRef rv = isa_.return_value();
  for (const std::string& r : isa_.register_names()) {
    auto ref = isa_.register_by_name(r);
    if (ref && ref->word == rv.word && ref->bits == 64 && ref->shift == 0) {
      result_register = "%" + r;
      break;
    }
  }
  std::string hint =
      returns.empty()
          ? "probe its return instructions with FUNC+OFF instead (go tool objdump -s FUNC shows them)"
          : fmt::format("probe its return instruction{} instead, where the results are in registers ({} for the "
                        "first): {}",
                        returns.size() == 1 ? "" : "s", result_register, join(returns, " "));
  throw Error(ErrorKind::Runtime,
              fmt::format("cannot probe {}: {} is Go code ({}), whose runtime moves goroutine stacks and checks the "
                          "return addresses on them, so one replaced by uptrace's return trampoline kills the program "
                          "(\"unexpected return pc\")",
                          shown_name, module.path, go_version.empty() ? "Go version unknown" : go_version),
              hint);
}

std::string Resolver::go_arguments_note(const std::string& function, const std::string& go_version) const {
  // Go passed arguments on the stack before its register ABI (1.17).
  unsigned minor = 0;
  bool old = go_version.starts_with("go1.") && std::sscanf(go_version.c_str() + 4, "%u", &minor) == 1 && minor < 17;
  std::string regs = isa_.go_argument_registers();
  if (old)
    return fmt::format("{} is Go code ({}), which passes arguments on the stack, not where $argN reads them: fetch "
                       "them from memory (+8($sp), +16($sp), ...)",
                       function, go_version);
  if (regs.empty()) return {};
  return fmt::format("{} is Go code ({}), whose register ABI passes integer arguments in {}, not where $argN reads "
                     "them: name the registers (%{} for the first)",
                     function, go_version.empty() ? "Go version unknown" : go_version, regs,
                     regs.substr(0, regs.find(',')));
}

bool module_names_file(std::string_view module, std::string_view path) {
  std::string_view file = path.substr(path.rfind('/') == std::string_view::npos ? 0 : path.rfind('/') + 1);
  return module == path || file.starts_with(module);
}

Resolver::Resolver(const arch::Isa& isa, std::vector<ProbeSpec> specs) : isa_(isa), specs_(std::move(specs)) {}

Resolver::~Resolver() = default;

void Resolver::validate_fetch_args() const {
  for (const ProbeSpec& spec : specs_) {
    core::FetchProgram args(isa_, spec.args, spec.text, is_return_probe(spec));
    if (spec.condition) core::Filter(isa_, *spec.condition, args, spec.text, is_return_probe(spec));
  }
}

const elf::ElfFile& Resolver::elf_for(const std::string& access_path, const std::string& display_path) {
  auto it = files_.find(access_path);
  if (it == files_.end()) it = files_.emplace(access_path, elf::ElfFile::open(access_path, display_path)).first;
  return *it->second;
}

bool Resolver::has_return_probes() const { return std::any_of(specs_.begin(), specs_.end(), is_return_probe); }

void Resolver::check_return_probes(pid_t pid) const {
  for (const ProbeSpec& spec : specs_) {
    if (!is_return_probe(spec)) continue;
    if (pid > 0 && core::proc::shadow_stack_enabled(pid))
      throw Error(ErrorKind::Runtime,
                  fmt::format("cannot probe {}: pid {} runs with a shadow stack (CET shstk), and a return address "
                              "replaced on its stack would make the return fault",
                              spec.text, pid),
                  "probe the function's ret instructions with FUNC+OFF (see objdump -d)");
  }
}

namespace {

// The program's unwinder, where a C++ throw (or a forced unwind: thread
// cancellation, pthread_exit) starts walking the stack by return addresses,
// and where a catch begins (core/return_probes.h). Names shared by libgcc
// and LLVM's libunwind / libc++abi.
constexpr std::string_view kUnwindStarts[] = {"_Unwind_RaiseException", "_Unwind_Resume", "_Unwind_Resume_or_Rethrow",
                                              "_Unwind_ForcedUnwind"};
constexpr std::string_view kCatchStarts[] = {"__cxa_begin_catch"};

}  // namespace

void Resolver::add_unwinder_hooks(const elf::ModuleMap& map, Resolution& out) {
  std::vector<std::string> where;
  for (const elf::MappedModule& m : map.modules()) {
    const elf::ElfFile* elf = nullptr;
    try {
      elf = &elf_for(m.access_path, m.path);
    } catch (const Error&) {
      continue;  // not an ELF file (a mapped data file)
    }
    Module module{m.path, m.access_path, m.load_bias, m.mappings.front().start, m.mappings.back().end, &m};
    for (const auto& mapping : m.mappings) {
      module.start = std::min(module.start, mapping.start);
      module.end = std::max(module.end, mapping.end);
    }
    std::vector<std::string> found;
    auto hook = [&](std::string_view name, core::ProbeRole role) {
      std::set<uint64_t> seen;
      for (const elf::Function* f : elf->find_function(name)) {
        if (!seen.insert(f->entry.value).second) continue;
        ProbeSpec internal;
        internal.text = std::string(name);
        internal.location = loc::Function{std::string(name)};
        add_site(internal, module, *elf, f->entry, internal.text, core::kInternalLabel, out);
        out.sites.back().role = role;
        found.emplace_back(name);
      }
    };
    for (std::string_view name : kUnwindStarts) hook(name, core::ProbeRole::UnwindStart);
    for (std::string_view name : kCatchStarts) hook(name, core::ProbeRole::CatchStart);
    if (!found.empty()) where.push_back(fmt::format("{} in {}", join(found, ", "), m.file_name()));
  }
  out.return_note = where.empty()
                        ? "no C++ unwinder is mapped now (a library loaded later that throws through a probed frame "
                          "would end the program in std::terminate)"
                        : fmt::format("C++ exceptions: the real return addresses are put back when the unwinder "
                                      "starts and hijacked again when a catch begins ({})",
                                      join(where, "; "));
}

Resolution Resolver::resolve_in_process(pid_t pid) {
  elf::ModuleMap map = elf::ModuleMap::read(pid);
  Resolution out;
  pid_ = pid;
  ifuncs_ = std::make_unique<IfuncPicks>(pid, map, [this](const elf::MappedModule& m) -> const elf::ElfFile* {
    try {
      return &elf_for(m.access_path, m.path);
    } catch (const Error&) {
      return nullptr;  // not an ELF file (a mapped data file)
    }
  });
  // The map lives only in this call.
  struct Reset {
    Resolver& r;
    ~Reset() { r.ifuncs_.reset(); }
  } reset{*this};
  check_return_probes(pid);
  std::optional<elf::LibrarySearch> search;
  std::optional<std::set<const elf::MappedModule*>> startup;
  for (const ProbeSpec& spec : specs_) {
    const elf::MappedModule* m = nullptr;
    if (spec.module) {
      m = map.find(*spec.module);
      if (!m) {
        // Not loaded yet: checked against the file the program would load,
        // and pending until it does (SPEC "Libraries loaded later").
        if (!search) search = elf::library_search(pid);
        const std::string file = elf::find_library(*search, pid, *spec.module);
        if (!file.empty()) {
          check_pending(spec, file, search->root + file, out);
          continue;
        }
        std::vector<std::string> names;
        for (const auto& mod : map.modules()) names.emplace_back(mod.file_name());
        throw Error(ErrorKind::Runtime,
                    fmt::format("no module '{}' is mapped in pid {}, nor found where it would load one", *spec.module,
                                pid),
                    fmt::format("mapped: {}; searched: its RPATH/RUNPATH, LD_LIBRARY_PATH, ld.so.cache and {}",
                                join(names, ", "), join(search->defaults, ", ")));
      }
    } else {
      m = map.main_module();
      if (!m) throw_runtime("cannot find the main executable of pid {} in /proc/{}/maps", pid, pid);
    }
    const Module module = module_of(*m);
    const size_t before = out.sites.size();
    resolve_spec(spec, module, out);
    // A library mapped now may be unloaded (and loaded again) while traced,
    // unless the program needed it to start (ld.so never unloads those).
    if (spec.module && m != map.main_module()) {
      if (!startup) startup = startup_libraries(map);
      if (!startup->count(m))
        add_module(out, *spec.module, m->path, out.sites.size() - before, ModuleRange{module.start, module.end});
    }
  }
  if (has_return_probes()) add_unwinder_hooks(map, out);
  out.labels = labels_;
  return out;
}

std::set<const elf::MappedModule*> Resolver::startup_libraries(const elf::ModuleMap& map) {
  // The executable's DT_NEEDED, and theirs, matched to the mapped modules by
  // file name or DT_SONAME (libfoo.so.1 may be a link to libfoo.so.1.2).
  std::map<std::string, const elf::MappedModule*> by_name;
  std::map<const elf::MappedModule*, elf::DynamicInfo> info;
  for (const elf::MappedModule& m : map.modules()) {
    elf::DynamicInfo d = elf::dynamic_info(m.access_path);
    by_name.emplace(std::string(m.file_name()), &m);
    if (!d.soname.empty()) by_name.emplace(d.soname, &m);
    info.emplace(&m, std::move(d));
  }
  std::set<const elf::MappedModule*> out;
  std::vector<const elf::MappedModule*> todo;
  if (const elf::MappedModule* exe = map.main_module()) todo.push_back(exe);
  while (!todo.empty()) {
    const elf::MappedModule* m = todo.back();
    todo.pop_back();
    for (const std::string& needed : info[m].needed) {
      auto it = by_name.find(needed);
      if (it != by_name.end() && out.insert(it->second).second) todo.push_back(it->second);
    }
  }
  return out;
}

Resolver::Module Resolver::module_of(const elf::MappedModule& m) {
  Module module{m.path, m.access_path, m.load_bias, m.mappings.front().start, m.mappings.back().end, &m};
  for (const auto& mapping : m.mappings) {
    module.start = std::min(module.start, mapping.start);
    module.end = std::max(module.end, mapping.end);
  }
  return module;
}

void Resolver::add_module(Resolution& out, const std::string& name, const std::string& file, size_t probes,
                          std::optional<ModuleRange> mapped) {
  auto it = std::find_if(out.modules.begin(), out.modules.end(),
                         [&](const core::ModuleProbes& m) { return m.name == name; });
  if (it == out.modules.end()) {
    core::ModuleProbes m;
    m.name = name;
    m.file = file;
    if (mapped) {
      m.loaded.emplace();
      m.loaded->path = file;
      m.loaded->range = {mapped->start, mapped->end};
    }
    out.modules.push_back(std::move(m));
    it = std::prev(out.modules.end());
  }
  it->probes += probes;
}

void Resolver::check_pending(const ProbeSpec& spec, const std::string& file, const std::string& access_path,
                             Resolution& out) {
  // As --explain -x checks a file: file addresses for runtime ones, so
  // every refusal the file alone can show is made now, before anything is
  // attached; the sites themselves are made again once it is mapped.
  const elf::ElfFile& elf = elf_for(access_path, file);
  Module module{file, access_path, 0, RuntimeAddr(~uint64_t{0}), RuntimeAddr(0), nullptr};
  for (const elf::LoadSegment& s : elf.load_segments()) {
    module.start = std::min(module.start, RuntimeAddr(s.vaddr.value));
    module.end = std::max(module.end, RuntimeAddr(s.vaddr.value + s.mem_size));
  }
  Resolution checked;
  resolve_spec(spec, module, checked);
  add_module(out, *spec.module, file, checked.sites.size(), std::nullopt);
}

std::optional<Resolution> Resolver::resolve_module(pid_t pid, const core::ModuleProbes& pending) {
  elf::ModuleMap map = elf::ModuleMap::read(pid);
  const elf::MappedModule* m = nullptr;
  try {
    m = map.find(pending.name);
  } catch (const Error&) {
    // A prefix that names more than one library now: the file checked decides.
  }
  if (!m)
    for (const elf::MappedModule& mod : map.modules())
      if (mod.path == pending.file) m = &mod;
  if (!m) return std::nullopt;
  pid_ = pid;
  ifuncs_ = std::make_unique<IfuncPicks>(pid, map, [this](const elf::MappedModule& mm) -> const elf::ElfFile* {
    try {
      return &elf_for(mm.access_path, mm.path);
    } catch (const Error&) {
      return nullptr;
    }
  });
  struct Reset {
    Resolver& r;
    ~Reset() { r.ifuncs_.reset(); }
  } reset{*this};
  const Module module = module_of(*m);
  Resolution out;
  for (const ProbeSpec& spec : specs_)
    if (spec.module && *spec.module == pending.name) resolve_spec(spec, module, out);
  out.labels = labels_;
  return out;
}

Resolution Resolver::resolve_in_file(const std::string& path) {
  const elf::ElfFile& elf = elf_for(path, path);
  Module module{path, path, 0, RuntimeAddr(~uint64_t{0}), RuntimeAddr(0), nullptr};
  for (const elf::LoadSegment& s : elf.load_segments()) {
    module.start = std::min(module.start, RuntimeAddr(s.vaddr.value));
    module.end = std::max(module.end, RuntimeAddr(s.vaddr.value + s.mem_size));
  }
  Resolution out;
  for (const ProbeSpec& spec : specs_) {
    if (spec.module && !module_names_file(*spec.module, path))
      throw_runtime("probe '{}' names module '{}', but the file is {}", spec.text, *spec.module, path);
    resolve_spec(spec, module, out);
  }
  if (has_return_probes())
    out.return_note = "C++ exceptions: in a process, uptrace also watches the unwinder (_Unwind_RaiseException, "
                      "__cxa_begin_catch) so a throw through a probed frame sees the real return addresses";
  out.labels = labels_;
  return out;
}

uint32_t Resolver::add_label(const ProbeSpec& spec, std::string_view matched) {
  auto [it, added] = label_of_.emplace(std::make_pair(&spec, std::string(matched)), static_cast<uint32_t>(labels_.size()));
  if (added) {
    ProbeLabel label;
    label.name = spec.display_name(matched);
    for (const FetchArg& a : spec.args) label.arg_names.push_back(a.name);
    labels_.push_back(std::move(label));
  }
  return it->second;
}

void Resolver::resolve_spec(const ProbeSpec& spec, const Module& module, Resolution& out) {
  const elf::ElfFile& elf = elf_for(module.access_path, module.path);

  auto no_function = [&](const std::string& name) {
    std::string message = fmt::format("no function '{}' in {}", name, module.path);
    std::vector<std::string> similar;
    // A C++ signature that is not there: the overloads that are.
    if (size_t params = elf::detail::parameter_list_start(name); params != std::string::npos) {
      for (const elf::Function* f : elf.find_function(name.substr(0, params)))
        similar.push_back(elf::detail::demangle_function(f->name).signature);
    }
    if (similar.empty()) similar = elf.similar_names(name);
    if (!similar.empty()) message += fmt::format(" (did you mean {}?)", join(similar, ", "));
    std::string hint;
    if (!elf.has_symtab())
      hint = "the file is stripped: only exported (.dynsym) functions are known, and no debug file has its .symtab "
             "(install its -dbg/-dbgsym package, or set DEBUGINFOD_URLS)";
    throw Error(ErrorKind::Runtime, message, hint);
  };

  std::visit(
      [&](const auto& where) {
        using T = std::decay_t<decltype(where)>;
        if constexpr (std::is_same_v<T, loc::Function> || std::is_same_v<T, loc::Return>) {
          constexpr bool is_return = std::is_same_v<T, loc::Return>;
          if (is_return && isa_.return_address_name().empty())
            throw Error(ErrorKind::Runtime,
                        fmt::format("cannot probe {}: return probes are not supported on {}", spec.text, isa_.name()),
                        "probe the function's return instructions with FUNC+OFF (see objdump -d)");
          uint64_t offset = 0;
          bool has_offset = false;
          if constexpr (!is_return) {
            offset = where.offset;
            has_offset = where.has_offset;
          }
          // One entry per glob match (one label each), or one for a name.
          std::vector<elf::ElfFile::Entry> entries;
          if (where.is_glob) {
            entries = elf.match_entries(where.name);
          } else {
            std::vector<const elf::Function*> found = elf.find_function(where.name);
            if (found.empty()) no_function(where.name);
            if (!is_return)
              if (auto w = inlined_warning(elf, found.front()->name)) out.warnings.push_back(*w);
            entries.push_back({{}, std::move(found), {}});
          }
          // Where each function's code is: an indirect function's is the
          // implementation its resolver picked. A glob leaves out the
          // indirect functions whose pick is not known, and the matches that
          // are the code of one it probes (__strlen_avx2 beside strlen).
          std::map<const elf::Function*, EntryCode> code;
          std::map<uint64_t, std::string> ifunc_sites;  // implementation -> the indirect function probing it
          std::vector<std::string> unknown_ifuncs, shared_ifuncs;
          bool any_lazy = false;
          for (const elf::ElfFile::Entry& e : entries) {
            for (const elf::Function* f : e.functions) {
              std::string why;
              bool lazy = false;
              std::optional<EntryCode> c = entry_code(module, elf, *f, why, lazy);
              if (!c) {
                if (!where.is_glob)
                  throw Error(ErrorKind::Runtime, fmt::format("cannot probe {}: {}", spec.display_name(e.name), why),
                              lazy ? ifunc_hint() : std::string());
                unknown_ifuncs.push_back(f->name);
                any_lazy |= lazy;
                continue;
              }
              if (f->is_ifunc && !c->ifunc_note.empty() && module.mapped) {
                auto [it, inserted] = ifunc_sites.try_emplace(c->entry.value, e.name.empty() ? f->name : e.name);
                if (!inserted && where.is_glob) {
                  shared_ifuncs.push_back(fmt::format("{} (as {})", e.name, it->second));
                  continue;
                }
              }
              code.emplace(f, std::move(*c));
            }
          }
          size_t before = out.sites.size();
          std::vector<std::string> untyped;
          for (const elf::ElfFile::Entry& e : entries) {
            std::vector<std::pair<const elf::Function*, const EntryCode*>> fits;
            for (const elf::Function* f : e.functions) {
              auto c = code.find(f);
              if (c == code.end()) continue;
              if (where.is_glob && !f->is_ifunc && ifunc_sites.count(c->second.entry.value)) continue;
              if (has_offset && c->second.size != 0 && offset >= c->second.size) {
                if (where.is_glob) continue;
                throw_runtime("{} is past the end of {} ({:#x} bytes) in {}", spec.display_name(), f->name,
                              c->second.size, module.path);
              }
              fits.emplace_back(f, &c->second);
            }
            if (fits.empty()) continue;
            uint32_t label = add_label(spec, e.name);
            for (const auto& [f, c] : fits) {
              FileAddr at = is_return || !has_offset ? c->entry : c->start + offset;
              add_site(spec, module, elf, at, labels_[label].name, label, out, !is_return && !has_offset,
                       is_return && where.is_glob ? &untyped : nullptr);
              out.info.back().ifunc = c->ifunc_note;
            }
          }
          if (!unknown_ifuncs.empty())
            out.warnings.push_back(fmt::format(
                "warning: probe '{}': {} indirect function{} (STT_GNU_IFUNC) {} not probed, because which "
                "implementation {} resolver picks is not known in pid {} (--explain says why): {}{}",
                spec.text, unknown_ifuncs.size(), unknown_ifuncs.size() == 1 ? "" : "s",
                unknown_ifuncs.size() == 1 ? "is" : "are",
                unknown_ifuncs.size() == 1 ? "its" : "their", pid_, list_some(unknown_ifuncs),
                any_lazy ? "; with LD_BIND_NOW=1 in the program's environment its loader binds them at start" : ""));
          if (!shared_ifuncs.empty())
            out.warnings.push_back(fmt::format("warning: probe '{}': indirect functions whose resolver picked the "
                                               "code another one probes are reported under that one: {}",
                                               spec.text, list_some(shared_ifuncs)));
          if (out.sites.size() == before) {
            if (!where.is_glob) throw_runtime("no function '{}' in {}", where.name, module.path);
            throw_runtime("no function matches '{}' in {}", where.name, module.path);
          }
          if (!untyped.empty())
            out.warnings.push_back(fmt::format(
                "warning: probe '{}': {} of the matches return{} no value $retval can print (void, a struct or "
                "floating point: {}); their $retval is the raw return register as s64",
                spec.text, untyped.size(), untyped.size() == 1 ? "s" : "", list_some(untyped)));
        } else if constexpr (std::is_same_v<T, loc::Address>) {
          uint32_t label = add_label(spec, {});
          add_site(spec, module, elf, FileAddr(where.addr), labels_[label].name, label, out);
        } else if constexpr (std::is_same_v<T, loc::Marker>) {
          resolve_marker(spec, where, module, elf, out);
        } else {
          static_assert(std::is_same_v<T, loc::SourceLine>);
          if (!elf.has_line_info())
            throw Error(ErrorKind::Runtime, fmt::format("no DWARF line information in {}", module.path),
                        "compile with -g to probe source lines");
          std::vector<elf::LineLocation> lines = elf.find_line(where.file, where.line);
          if (lines.empty()) {
            std::vector<std::string> near;
            for (unsigned l : elf.lines_near(where.file, where.line)) near.push_back(std::to_string(l));
            if (near.empty()) throw_runtime("no source file '{}' with code in {}", where.file, module.path);
            throw_runtime("no code at {}:{} in {}; lines with code nearby: {}", where.file, where.line, module.path,
                          join(near, ", "));
          }
          uint32_t label = add_label(spec, {});
          for (const elf::LineLocation& l : lines) add_site(spec, module, elf, l.addr, labels_[label].name, label, out);
        }
      },
      spec.location);
}

void Resolver::resolve_marker(const ProbeSpec& spec, const loc::Marker& where, const Module& module,
                              const elf::ElfFile& elf, Resolution& out) {
  const std::vector<elf::SdtMarker>& markers = elf.markers();
  auto matches = [&](const elf::SdtMarker& m) {
    if (!where.is_glob) return m.provider == where.provider && m.name == where.name;
    return fnmatch(where.provider.c_str(), m.provider.c_str(), 0) == 0 &&
           fnmatch(where.name.c_str(), m.name.c_str(), 0) == 0;
  };
  // One label per PROVIDER:NAME, in the order of the notes; a marker placed
  // at several addresses (an inlined function's) is one probe at each.
  std::map<std::string, uint32_t> labels;
  for (const elf::SdtMarker& m : markers) {
    if (!matches(m)) continue;
    const std::string key = m.provider + ":" + m.name;
    auto [it, inserted] = labels.try_emplace(key, 0);
    if (inserted) it->second = add_label(spec, where.is_glob ? key : std::string_view());
    const std::string shown = labels_[it->second].name;
    ProbeSpec at_marker = spec;
    at_marker.args = marker_args(spec, m, module);
    add_site(at_marker, module, elf, m.pc, shown, it->second, out);
    std::string semaphore;
    if (m.semaphore) {
      out.sites.back().semaphore = RuntimeAddr(m.semaphore->value + module.load_bias);
      semaphore = fmt::format("; semaphore at {:#x}, raised by one while the probe is armed", m.semaphore->value);
    }
    out.info.back().marker = fmt::format("%{}: arguments {}{}", key, m.args_text.empty() ? "(none)" : m.args_text,
                                         semaphore);
    for (size_t i = 0; i < m.args.size(); ++i) {
      const elf::SdtArg& a = m.args[i];
      if (a.kind == elf::SdtArg::Kind::Unsupported) {
        out.info.back().variables.push_back(fmt::format("$arg{}: {}, not readable: {}", i + 1, a.text, a.why));
        continue;
      }
      auto type = integer_fetch_type(a.size, a.is_signed);
      out.info.back().variables.push_back(
          fmt::format("$arg{}: {}, {}", i + 1, a.text, type ? std::string(to_string(*type)) : std::string("?")));
    }
  }
  if (!labels.empty()) return;
  const std::string what = spec.display_name();
  if (markers.empty())
    throw Error(ErrorKind::Runtime, fmt::format("no USDT marker '{}' in {}: it has none (no .note.stapsdt)", what,
                                                module.path),
                "markers are put in a program with <sys/sdt.h> (STAP_PROBE, DTRACE_PROBE)");
  std::vector<std::string> names;
  for (const elf::SdtMarker& m : markers) {
    std::string n = "%" + m.provider + ":" + m.name;
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(std::move(n));
  }
  constexpr size_t kShown = 8;
  if (names.size() > kShown) {
    names.resize(kShown);
    names.emplace_back("...");
  }
  throw Error(ErrorKind::Runtime, fmt::format("no USDT marker '{}' in {}", what, module.path),
              fmt::format("its markers: {}", join(names, ", ")));
}

std::vector<FetchArg> Resolver::marker_args(const ProbeSpec& spec, const elf::SdtMarker& marker,
                                            const Module& module) const {
  auto where = [&] {
    return fmt::format("marker {}:{} at {:#x} in {}", marker.provider, marker.name, marker.pc.value, module.path);
  };
  std::function<FetchExpr(const FetchExpr&)> substitute = [&](const FetchExpr& e) -> FetchExpr {
    if (const auto* d = std::get_if<fetch::Deref>(&e.node))
      return FetchExpr{fetch::Deref{d->offset, std::make_shared<const FetchExpr>(substitute(*d->inner))}};
    const auto* arg = std::get_if<fetch::Argument>(&e.node);
    if (!arg) return e;
    if (arg->index > marker.args.size())
      throw_runtime("probe '{}': there is no $arg{} at {}: it has {} argument{}{}", spec.text, arg->index, where(),
                    marker.args.size(), marker.args.size() == 1 ? "" : "s",
                    marker.args.empty() ? "" : fmt::format(" ({})", marker.args_text));
    const elf::SdtArg& a = marker.args[arg->index - 1];
    switch (a.kind) {
      case elf::SdtArg::Kind::Register:
      case elf::SdtArg::Kind::Memory:
        if (!isa_.register_by_name(a.reg))
          throw_runtime("probe '{}': cannot fetch $arg{} of {}: it is in %{} ({}), which uptrace does not read on {}",
                        spec.text, arg->index, where(), a.reg, a.text, isa_.name());
        if (a.kind == elf::SdtArg::Kind::Register) return FetchExpr{fetch::Register{a.reg}};
        return FetchExpr{fetch::Deref{a.offset, std::make_shared<const FetchExpr>(FetchExpr{fetch::Register{a.reg}})}};
      case elf::SdtArg::Kind::Constant: return FetchExpr{fetch::Constant{static_cast<uint64_t>(a.value)}};
      case elf::SdtArg::Kind::Unsupported: break;
    }
    throw_runtime("probe '{}': cannot fetch $arg{} of {}: '{}' is {}", spec.text, arg->index, where(), a.text, a.why);
  };
  std::vector<FetchArg> out;
  for (const FetchArg& a : spec.args) {
    FetchArg b = a;
    b.expr = substitute(a.expr);
    // A bare $argN is as wide and as signed as the marker says.
    if (const auto* arg = std::get_if<fetch::Argument>(&a.expr.node); arg && !a.type) {
      const elf::SdtArg& m = marker.args[arg->index - 1];
      b.type = integer_fetch_type(m.size, m.is_signed);
    }
    out.push_back(std::move(b));
  }
  return out;
}

std::optional<Resolver::EntryCode> Resolver::entry_code(const Module& module, const elf::ElfFile& elf,
                                                       const elf::Function& f, std::string& why, bool& lazy) {
  EntryCode c{f.addr, f.entry, f.size, {}};
  if (!f.is_ifunc) return c;
  if (!ifuncs_ || !module.mapped) {
    c.ifunc_note = fmt::format("{} is an indirect function (STT_GNU_IFUNC): this is its resolver, which the dynamic "
                               "loader runs to pick the implementation calls go to; in a process uptrace probes that "
                               "implementation, as the GOT says the resolver picked it",
                               f.name);
    return c;
  }
  IfuncPick pick = ifuncs_->pick(*module.mapped, elf, f);
  lazy = pick.lazy;
  if (!pick.impl) {
    why = fmt::format("{} is an indirect function (STT_GNU_IFUNC), and which implementation its resolver picks is not "
                      "known: {}",
                      f.name, pick.how);
    return std::nullopt;
  }
  c.start = c.entry = *pick.impl;
  c.size = 0;
  std::string impl;
  if (const elf::Function* named = elf.function_containing(*pick.impl); named && named->addr == *pick.impl) {
    c.size = named->size;
    // Calls through the GOT enter at the global entry, and run on to the
    // local entry where FUNC is probed (ppc64 ELFv2; the same address elsewhere).
    c.entry = named->entry;
    impl = fmt::format("{} ({:#x})", named->name, pick.impl->value);
  } else {
    if (auto range = elf.frame_range_containing(*pick.impl); range && range->first == *pick.impl)
      c.size = static_cast<uint64_t>(range->second - range->first);
    impl = fmt::format("the code at {:#x} (no symbol names it)", pick.impl->value);
  }
  c.ifunc_note = fmt::format("{} is an indirect function (STT_GNU_IFUNC): in pid {} its resolver picked {}, as {} "
                             "says; that is probed",
                             f.name, pid_, impl, pick.how);
  return c;
}

namespace {

// The module's file bytes by runtime address, for the jump analysis's reads
// of jump tables. It keeps the file open as long as any site needs it.
class ElfImage final : public arch::ImageReader {
 public:
  ElfImage(std::shared_ptr<const elf::ElfFile> elf, uint64_t load_bias) : elf_(std::move(elf)), bias_(load_bias) {}
  bool read(RuntimeAddr addr, std::span<uint8_t> out) const override {
    if (addr.value < bias_) return false;
    // What a writable segment holds at run time is the program's to change:
    // the file's bytes would prove nothing about a jump table kept there.
    const uint64_t file_addr = addr.value - bias_;
    const auto& segments = elf_->load_segments();
    if (std::none_of(segments.begin(), segments.end(), [&](const elf::LoadSegment& s) {
          return !s.writable && file_addr >= s.vaddr.value && file_addr - s.vaddr.value <= s.file_size &&
                 out.size() <= s.file_size - (file_addr - s.vaddr.value);
        }))
      return false;
    try {
      std::vector<uint8_t> bytes = elf_->read(FileAddr(addr.value - bias_), out.size());
      if (bytes.size() != out.size()) return false;
      std::copy(bytes.begin(), bytes.end(), out.begin());
      return true;
    } catch (const Error&) {
      return false;  // not in one segment's file-backed bytes
    }
  }
  std::optional<bool> pointer_into(RuntimeAddr lo, RuntimeAddr hi) const override {
    const auto& pointers = elf_->relocated_pointers();
    if (!pointers || lo.value < bias_) return std::nullopt;
    auto next = std::upper_bound(pointers->begin(), pointers->end(), FileAddr(lo.value - bias_));
    return next != pointers->end() && next->value + bias_ < hi.value;
  }
  std::optional<bool> landing_pads_in(RuntimeAddr lo, RuntimeAddr hi) const override {
    if (lo.value < bias_ || hi < lo) return std::nullopt;
    return elf_->may_have_landing_pads(FileAddr(lo.value - bias_), FileAddr(hi.value - bias_));
  }
  std::optional<bool> frame_starts_in(RuntimeAddr lo, RuntimeAddr hi) const override {
    if (lo.value < bias_ || hi < lo) return std::nullopt;
    for (uint64_t a = lo.value + 1; a < hi.value; ++a)
      if (auto range = elf_->frame_range_containing(FileAddr(a - bias_)); range && range->first.value == a - bias_)
        return true;
    return false;
  }
  bool functions_complete() const override { return elf_->has_symtab(); }
  std::vector<arch::CodePart> functions() const override {
    std::call_once(code_once_, [&] {
      uint64_t last = 0;
      for (const elf::Function& f : elf_->functions()) {
        if (f.size == 0 || f.addr.value == last) continue;  // aliases share their bytes
        last = f.addr.value;
        try {
          code_.push_back({RuntimeAddr(f.addr.value + bias_), elf_->read(f.addr, f.size)});
        } catch (const Error&) {
          // Not in a segment's file bytes (a symbol in .bss): no code.
        }
      }
    });
    std::vector<arch::CodePart> out;
    out.reserve(code_.size());
    for (const auto& [at, bytes] : code_) out.push_back({at, bytes});
    return out;
  }

 private:
  std::shared_ptr<const elf::ElfFile> elf_;
  uint64_t bias_;
  mutable std::once_flag code_once_;
  mutable std::vector<std::pair<RuntimeAddr, std::vector<uint8_t>>> code_;
};

constexpr uint64_t kMaxPadding = 16;
// Before a function: what 64-byte alignment pads, well within the reach of
// an x86-64 jmp rel8 at its start (ProbePlan::relay).
constexpr uint64_t kMaxPaddingBefore = 64;

// Whether `part` is "FUNCTION.cold" or "FUNCTION.cold.N".
bool is_part_of(std::string_view part, std::string_view function) {
  if (!part.starts_with(function)) return false;
  std::string_view rest = part.substr(function.size());
  if (rest == ".cold") return true;
  if (!rest.starts_with(".cold.") || rest.size() == 6) return false;
  return std::all_of(rest.begin() + 6, rest.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

void Resolver::add_jump_context(core::ProbeSite& s, const elf::ElfFile& elf, const Module& module,
                                const std::string& function, FileAddr start, FileAddr end) {
  // The bytes after the function that nothing else claims: no symbol's and
  // no unwind entry's (a static function has an FDE even in a stripped
  // library), so overwriting them can only touch padding.
  auto unclaimed = [&](FileAddr a) { return !elf.function_containing(a) && !elf.frame_range_containing(a); };
  uint64_t free = 0;
  while (free < kMaxPadding && unclaimed(end + free)) ++free;
  if (free) {
    try {
      s.after_function = elf.read(end, free);
    } catch (const Error&) {
      s.after_function.clear();  // past the segment's file bytes
    }
  }
  // Before it, the same, but only where a symbol's or an unwind entry's end
  // bounds them, so the padding starts where an instruction ends.
  uint64_t before = 0;
  while (before <= kMaxPaddingBefore && before < start.value && unclaimed(FileAddr(start.value - before - 1))) ++before;
  if (before > kMaxPaddingBefore || before == start.value) before = 0;
  if (before) {
    try {
      s.before_function = elf.read(FileAddr(start.value - before), before);
    } catch (const Error&) {
      s.before_function.clear();  // before the segment's file bytes
    }
  }
  // GCC's split-off parts (FUNC.cold, FUNC.cold.N) jump back into the
  // function from outside it: the analysis decodes them too.
  for (const elf::Function& f : elf.functions()) {
    if (!f.cold_part || !is_part_of(f.name, function)) continue;
    try {
      s.other_parts.push_back({RuntimeAddr(f.addr.value + module.load_bias), elf.read(f.addr, f.size)});
    } catch (const Error&) {
      s.jump_unavailable = fmt::format("{}, a part of the function placed elsewhere, cannot be read", f.name);
    }
  }
  // One reader per mapped file, shared by its sites: what the analysis
  // derives from the whole module is kept in it.
  auto& image = images_[{&elf, module.load_bias}];
  if (!image)
    for (auto& [path, file] : files_)
      if (file.get() == &elf) image = std::make_shared<ElfImage>(file, module.load_bias);
  s.image = image;
}

void Resolver::add_site(const ProbeSpec& spec, const Module& module, const elf::ElfFile& elf, FileAddr addr,
                        const std::string& shown_name, uint32_t label, Resolution& out, bool at_entry,
                        std::vector<std::string>* untyped_retval) {
  // The code to decode from: the containing function, or the FDE range of a
  // stripped binary. Without either, a boundary cannot be checked.
  FileAddr start;
  uint64_t size = 0;
  std::string function;
  uint64_t local_entry_offset = 0;
  if (const elf::Function* f = elf.function_containing(addr)) {
    start = f->addr;
    size = f->size;
    function = f->name;
    local_entry_offset = f->entry.value - f->addr.value;
  } else if (auto range = elf.frame_range_containing(addr)) {
    start = range->first;
    size = static_cast<uint64_t>(range->second - range->first);
  } else {
    throw Error(ErrorKind::Runtime,
                fmt::format("cannot probe {}: {:#x} is not inside any known function of {}", shown_name, addr.value,
                            module.path),
                "without a symbol or unwind entry covering it, uptrace cannot check it is an instruction boundary");
  }
  std::vector<uint8_t> code = elf.read(start, size);
  RuntimeAddr runtime_start(start.value + module.load_bias);
  RuntimeAddr site(addr.value + module.load_bias);

  std::vector<arch::Instruction> insns = isa_.decode(code, runtime_start);
  auto rel = [&](RuntimeAddr a) { return fmt::format("+{:#x}", a.value - runtime_start.value); };
  auto it = std::find_if(insns.begin(), insns.end(), [&](const arch::Instruction& i) { return i.address >= site; });
  if (it == insns.end() || it->address != site) {
    if (it != insns.begin()) {
      const arch::Instruction& inside = *std::prev(it);
      if (inside.address + inside.length > site)
        throw_runtime("{} is inside the instruction at {} ({}, {} bytes); nearest boundaries {}, {}", shown_name,
                      rel(inside.address), inside.text, inside.length, rel(inside.address),
                      rel(inside.address + inside.length));
    }
    uint64_t decoded_to = insns.empty() ? runtime_start.value : (insns.back().address + insns.back().length).value;
    throw_runtime("cannot probe {}: {} cannot be decoded past {} ({} bytes decoded), so {} cannot be checked as an "
                  "instruction boundary",
                  shown_name, function.empty() ? "the code" : function, rel(RuntimeAddr(decoded_to)),
                  decoded_to - runtime_start.value, rel(site));
  }

  std::optional<std::string> go = elf.go_version();
  if (go && is_return_probe(spec)) refuse_go_return(shown_name, module, elf, function, *go, insns, runtime_start);
  std::string go_note;
  if (go && uses_arguments(spec)) go_note = go_arguments_note(function.empty() ? shown_name : function, *go);

  core::ProbeSite s;
  s.label = label;
  s.name = shown_name;
  s.addr = site;
  s.function_start = runtime_start;
  s.function_code = std::move(code);
  s.module_path = module.path;
  s.module_start = module.start;
  s.module_end = module.end;
  // A jump probe checks every branch in the function; GCC's split-off cold
  // part (FUNC.cold) jumps back in from outside it, to places no branch
  // inside shows, and code without a symbol may have such parts too.
  if (function.empty()) {
    s.jump_unavailable = "the code has no function symbol, so branches into it from elsewhere cannot be ruled out";
  } else {
    add_jump_context(s, elf, module, function, start, start + size);
  }
  std::unique_ptr<VariableSource> variables;
  if (uses_dwarf(spec)) {
    try {
      variables = elf.variables_at(addr, module.load_bias, fmt::format("{} in {}", shown_name, module.path));
    } catch (const Error& e) {
      throw Error(e.kind(), fmt::format("probe '{}': {}", spec.text, e.what()), e.hint());
    }
  } else if (types_retval(spec)) {
    // Without DWARF for the function, $retval stays the untyped s64.
    try {
      variables = elf.variables_at(addr, module.load_bias, fmt::format("{} in {}", shown_name, module.path));
    } catch (const Error&) {
    }
  }
  const UntypedRefusedReturn* lenient = nullptr;
  if (variables && untyped_retval) {
    auto wrapped = std::make_unique<UntypedRefusedReturn>(std::move(variables));
    lenient = wrapped.get();
    variables = std::move(wrapped);
  }
  s.fetch = core::FetchProgram(isa_, spec.args, spec.text, is_return_probe(spec), variables.get());
  if (spec.condition)
    s.filter = core::Filter(isa_, *spec.condition, s.fetch, spec.text, is_return_probe(spec), variables.get());
  if (lenient && lenient->refused()) untyped_retval->push_back(function.empty() ? shown_name : function);
  // Unoptimised code keeps variables in stack slots that its prologue fills:
  // at the entry they hold garbage. Like gdb and perf probe, a FUNC probe
  // that reads them goes after the prologue instead (--explain says so).
  if (at_entry && (s.fetch.reads_frame_slots() || s.filter.reads_frame_slots())) {
    if (auto past = elf.after_prologue(addr, start + size); past && *past != addr) {
      add_site(spec, module, elf, *past, shown_name, label, out, false);
      out.info.back().after_prologue = true;
      return;
    }
  }
  // $params is known per site only; the sites of one label must agree on it.
  std::vector<std::string> names = s.fetch.names();
  std::vector<std::string>& label_names = labels_[label].arg_names;
  if (uses_dwarf(spec)) {
    bool first = std::none_of(out.sites.begin(), out.sites.end(), [&](const core::ProbeSite& o) { return o.label == label; });
    if (first) {
      label_names = names;
    } else if (label_names != names) {
      throw_runtime("probe '{}': its sites at {:#x} and before see different variables ({} vs {})", spec.text,
                    addr.value, join(names, " "), join(label_names, " "));
    }
  }
  std::vector<std::string> described = s.fetch.describe_variables();
  s.role = is_return_probe(spec) ? core::ProbeRole::Return : core::ProbeRole::Entry;
  std::string return_where;
  if (s.role == core::ProbeRole::Return &&
      isa_.return_address_slot(arch::Regs{}).kind == arch::ReturnAddressSlot::Kind::Register)
    s.return_spill = return_spill(shown_name, module, elf, start, size, function, insns, return_where);
  out.sites.push_back(std::move(s));
  out.info.push_back({module.path, module.load_bias, addr, function, addr.value - start.value, size, std::move(described),
                      false, std::move(return_where), {}, go_note, local_entry_offset, {}, &elf});
  if (!go_note.empty() && std::find(out.warnings.begin(), out.warnings.end(), "warning: " + go_note) == out.warnings.end())
    out.warnings.push_back("warning: " + go_note);
}

std::optional<int64_t> Resolver::return_spill(const std::string& shown_name, const Module& module,
                                              const elf::ElfFile& elf, FileAddr start, uint64_t size,
                                              const std::string& function, std::span<const arch::Instruction> code,
                                              std::string& where) const {
  const std::string_view reg = isa_.return_address_name();
  const std::string what = function.empty() ? fmt::format("the code at {:#x}", start.value) : function;
  auto refuse = [&](const std::string& why, const std::string& hint) {
    throw Error(ErrorKind::Runtime, fmt::format("cannot probe {}: {}", shown_name, why), hint);
  };
  const std::string by_hand = "probe its return instructions with FUNC+OFF instead (see objdump -d)";
  // Pointer authentication, by its instructions or by its CFI.
  if (std::string why = isa_.return_hijack_refusal(code); !why.empty())
    refuse(fmt::format("{} {}", what, why),
           by_hand + ", or build it with -mbranch-protection=none");
  elf::ReturnAddressRule rule = elf.return_address_rule(start, start + size);
  if (rule.signed_ra)
    refuse(fmt::format("{} signs its return address with pointer authentication (its CFI says so), so the "
                       "trampoline's address would be saved signed, and uptrace cannot sign the real one in its place "
                       "when it detaches",
                       what),
           by_hand + ", or build it with -mbranch-protection=none");
  if (!rule.has_cfi)
    refuse(fmt::format("no call-frame information (.eh_frame or .debug_frame) covers {} in {}, so uptrace cannot "
                       "tell where its prologue saves the return address ({})",
                       what, module.path, reg),
           by_hand + ", or build it with -fasynchronous-unwind-tables");
  if (!rule.unsupported.empty())
    refuse(fmt::format("{}: {}, which uptrace cannot follow to put the return address back", what, rule.unsupported),
           by_hand);
  auto ra = isa_.dwarf_register(rule.ra_column);
  auto cfa_reg = isa_.dwarf_register(rule.cfa_register);
  const arch::RegisterRef lr = isa_.return_address_slot(arch::Regs{}).reg;
  if (!ra || ra->word != lr.word)
    refuse(fmt::format("{}: its CFI names DWARF register {} as the return address, not {}", what, rule.ra_column, reg),
           by_hand);
  // A register it passes through (ppc64: mflr r0 before the save) holds the
  // trampoline too until the save; detach gives every register that holds
  // the trampoline the real address, so it only needs to be one uptrace can
  // write.
  std::string via;
  if (rule.via_register) {
    auto copy = isa_.dwarf_register(*rule.via_register);
    if (!copy)
      refuse(fmt::format("{}: its CFI moves the return address to DWARF register {} at +{:#x}, which uptrace cannot "
                         "write to put the return address back",
                         what, *rule.via_register, rule.via_from.value - start.value),
             by_hand);
    std::string name = fmt::format("DWARF register {}", *rule.via_register);
    for (const std::string& n : isa_.register_names())
      if (auto r = isa_.register_by_name(n); r && r->word == copy->word && r->bits == 64) {
        name = n;
        break;
      }
    via = fmt::format(" (and from +{:#x} {}, where the CFI has it until the save)", rule.via_from.value - start.value,
                      name);
  }
  if (!rule.saved_at) {
    where = fmt::format("{} holds it all through{}: the CFI of {} never saves it", reg, via, what);
    return std::nullopt;
  }
  if (!rule.cfa_known || !cfa_reg || cfa_reg->word != isa_.sp_word())
    refuse(fmt::format("{}: its CFI does not give its frame address from the stack pointer at the entry", what),
           by_hand);
  const int64_t spill = rule.cfa_offset + *rule.saved_at;
  where = fmt::format("the prologue saves {} at [entry sp{}] from +{:#x} (CFI: CFA{}), where uptrace checks and restores "
                      "it; until then {} holds it{}",
                      reg, signed_hex(spill), rule.saved_from.value - start.value, signed_hex(*rule.saved_at), reg, via);
  return spill;
}

}  // namespace uptrace::cmd
