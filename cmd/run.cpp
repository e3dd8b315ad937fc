#include "cmd/run.h"

#include <fnmatch.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cmd/aggregate.h"
#include "cmd/probe_spec.h"
#include "cmd/resolver.h"
#include "arch/isa.h"
#include "elf/demangle.h"
#include "elf/elf_file.h"
#include "common/error.h"
#include "common/join.h"
#include "core/arming.h"
#include "core/site_check.h"
#include "core/site_plan.h"
#include "core/tracee_memory.h"
#include "core/return_stack.h"
#include "core/tracer.h"

namespace uptrace::cmd {

namespace {

// Connects the tracer's hits to a writer that exists once the probes are
// resolved (globs are expanded only then).
class WriterSink final : public core::HitSink {
 public:
  std::unique_ptr<HitWriter> writer;
  std::unique_ptr<Aggregator> aggregates;  // -c, --hist, --by
  bool on_hit(const Hit& hit) override {
    if (aggregates) aggregates->add(hit);
    return writer->hit(hit);
  }
  bool flush() override { return writer->flush(); }
  // Said even with -q: a count that is short must never look exact.
  void on_lost(pid_t pid, uint64_t hits, const std::string& why) override {
    print_status(fmt::format("warning: {} hits in pid {} were lost: {}", hits, pid, why));
    if (writer) (void)writer->lost(pid, hits, why);
  }
};

std::string hex_bytes(std::span<const uint8_t> bytes) {
  std::string out;
  for (uint8_t b : bytes) out += fmt::format("{}{:02x}", out.empty() ? "" : " ", b);
  return out;
}

int list_functions(const Options& o) {
  std::string glob = o.probes.empty() ? "*" : o.probes.front();
  std::optional<std::string> module_filter;
  // MODULE:GLOB; a marker's glob (%PROVIDER:NAME) has a ':' of its own.
  size_t colon = glob.starts_with('%') ? std::string::npos : glob.find(":%");
  if (colon == std::string::npos && !glob.starts_with('%')) colon = module_separator(glob);
  if (colon != std::string::npos) {
    module_filter = glob.substr(0, colon);
    glob = glob.substr(colon + 1);
  }
  struct Source {
    std::string access, shown;
  };
  std::vector<Source> sources;
  if (o.exe) {
    if (module_filter && !module_names_file(*module_filter, *o.exe))
      throw_runtime("'{}' names module '{}', but the file is {}", o.probes.front(), *module_filter, *o.exe);
    sources.push_back({*o.exe, *o.exe});
  } else {
    elf::ModuleMap map = elf::ModuleMap::read(*o.pid);
    if (module_filter) {
      const elf::MappedModule* m = map.find(*module_filter);
      if (!m) throw_runtime("no module '{}' is mapped in pid {}", *module_filter, *o.pid);
      sources.push_back({m->access_path, m->path});
    } else {
      for (const elf::MappedModule& m : map.modules()) sources.push_back({m.access_path, m.path});
    }
  }
  size_t listed = 0;
  for (const Source& s : sources) {
    std::unique_ptr<elf::ElfFile> file;
    try {
      file = elf::ElfFile::open(s.access, s.shown);
    } catch (const Error&) {
      if (o.exe) throw;
      continue;  // e.g. a mapping of a non-ELF file
    }
    // One line per address, under the name a glob probe would report; the
    // other names of the address after it.
    for (const elf::ElfFile::Entry& e : file->match_entries(glob)) {
      for (size_t i = 0; i < e.functions.size(); ++i) {
        const elf::Function* f = e.functions[i];
        const std::vector<std::string>& aliases = e.aliases[i];
        ++listed;
        if (o.format == OutputFormat::Json) {
          nlohmann::ordered_json j{{"name", e.name},
                                   {"addr", fmt::format("{:#x}", f->addr.value)},
                                   {"size", f->size},
                                   {"module", s.shown},
                                   {"aliases", aliases},
                                   {"ifunc", f->is_ifunc}};
          std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        } else {
          std::string line = fmt::format("{} {:#x} {} {}", e.name, f->addr.value, f->size, s.shown);
          std::vector<std::string> notes;
          if (!aliases.empty()) notes.push_back(fmt::format("aliases: {}", join(aliases, ", ")));
          // Its address is the resolver's; --explain -p names the implementation.
          if (f->is_ifunc) notes.emplace_back("indirect function");
          if (!notes.empty()) line += fmt::format(" ({})", join(notes, "; "));
          std::printf("%s\n", line.c_str());
        }
      }
    }
    // USDT markers, as %PROVIDER:NAME: a point in the code, so size 0.
    for (const elf::SdtMarker& m : file->markers()) {
      const std::string name = "%" + m.provider + ":" + m.name;
      if (fnmatch(glob.c_str(), name.c_str(), 0) != 0) continue;
      ++listed;
      if (o.format == OutputFormat::Json) {
        nlohmann::ordered_json j{{"name", name}, {"addr", fmt::format("{:#x}", m.pc.value)}, {"size", 0},
                                 {"module", s.shown}, {"args", m.args_text}};
        j["semaphore"] = m.semaphore ? nlohmann::ordered_json(fmt::format("{:#x}", m.semaphore->value)) : nullptr;
        std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      } else {
        std::printf("%s %s 0 %s\n", name.c_str(), fmt::format("{:#x}", m.pc.value).c_str(), s.shown.c_str());
      }
    }
  }
  if (listed == 0 && !o.quiet) print_status(fmt::format("no function matches '{}'", glob));
  return 0;
}

// Explains one probe; returns false when it cannot be placed.
bool explain_probe(const Options& o, const arch::Isa& isa, const ProbeSpec& spec) {
  Resolver resolver(isa, {spec});
  Resolution res;
  try {
    res = o.exe ? resolver.resolve_in_file(*o.exe) : resolver.resolve_in_process(*o.pid);
    if (!o.quiet)
      for (const std::string& w : res.warnings) print_status(w);
  } catch (const Error& e) {
    std::string why = e.hint().empty() ? e.what() : fmt::format("{}; hint: {}", e.what(), e.hint());
    if (o.format == OutputFormat::Json)
      std::printf("%s\n", nlohmann::ordered_json{{"probe", spec.text}, {"mode", nullptr}, {"refused", why}}
                              .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                              .c_str());
    else
      std::printf("%s\n  refused:     %s\n", spec.text.c_str(), why.c_str());
    return false;
  }
  // A library not loaded yet: checked against the file it would load.
  for (const core::ModuleProbes& m : res.modules) {
    if (m.loaded) continue;
    if (o.format == OutputFormat::Json)
      std::printf("%s\n", nlohmann::ordered_json{{"probe", spec.text}, {"module", m.file}, {"pending", true}}
                               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                               .c_str());
    else
      std::printf("%s\n  pending:     %s is not loaded in pid %d; checked against %s, armed when it is loaded\n",
                  spec.text.c_str(), m.name.c_str(), static_cast<int>(*o.pid), m.file.c_str());
  }
  std::unique_ptr<core::TraceeMemory> live;
  if (o.pid) {
    try {
      live = std::make_unique<core::TraceeMemory>(*o.pid);
    } catch (const Error&) {
      // Without access to its memory, explain from the file alone.
    }
  }
  // The same check arming makes (core/site_check.h), against every probe
  // being explained at once, and the same placement of their slots.
  std::set<uint64_t> addresses;
  for (const core::ProbeSite& s : res.sites) addresses.insert(s.addr.value);
  const core::SiteEnvironment env{live.get(), &addresses, nullptr};
  const core::PlanRequest request{o.mode, core::step_mechanism_for(isa)};
  std::string placement_refusal;
  if (o.pid && live) {
    std::vector<std::vector<const core::ProbeSite*>> groups;
    for (const core::ProbeSite& s : res.sites) groups.push_back({&s});
    const bool returns = std::any_of(res.sites.begin(), res.sites.end(),
                                     [](const core::ProbeSite& s) { return s.role == core::ProbeRole::Return; });
    try {
      placement_refusal = core::plan_slots(isa, groups, returns, *o.pid).error;
    } catch (const Error&) {
    }
  }
  bool refused_any = false;
  for (size_t i = 0; i < res.sites.size(); ++i) {
    const core::ProbeSite& s = res.sites[i];
    const SiteInfo& info = res.info[i];
    if (s.label == core::kInternalLabel) continue;  // uptrace's own (the unwinder, for %return)
    // %return: the entry instruction is probed, and the return is caught
    // through the return address.
    std::string returns;
    if (s.role == core::ProbeRole::Return)
      returns = fmt::format("at entry, the return address ({}) is replaced by uptrace's return trampoline, a trap in "
                            "its scratch mapping, and put back after the return is reported (at most {} pending per "
                            "thread); {}{}",
                            isa.return_address_name(), core::ReturnStack::kMaxDepth,
                            info.return_where.empty() ? "" : info.return_where + "; ", res.return_note);
    core::ProbeSite with_stack = s;
    if (o.stack && with_stack.jump_unavailable.empty())
      with_stack.jump_unavailable = "--stack unwinds the thread's stack at a stop";
    const core::ProbeSite* one[] = {&with_stack};
    core::SiteVerdict verdict =
        core::check_site(isa, one, core::provisional_slot(isa, s.addr), request, core::kProvisionalRing, 0, env);
    const arch::SiteAnalysis& a = verdict.plan.analysis;
    std::string refusal = !placement_refusal.empty() ? placement_refusal : verdict.refusal;
    refused_any |= !refusal.empty();
    // A C++ function as c++filt prints it: the mangled name is in --list.
    std::string function = elf::detail::demangle_function(info.function).signature;
    if (function.empty()) function = info.function;
    std::string where = info.function.empty() ? fmt::format("{:#x}", info.file_addr.value)
                                              : fmt::format("{}+{:#x}", function, info.function_offset);
    // ppc64 ELFv2: which of the function's two entries the probe is at.
    std::string entries;
    if (info.local_entry_offset && !info.function.empty()) {
      const uint64_t local = info.local_entry_offset;
      std::string probed;
      if (info.function_offset == local)
        probed = "the local entry, so calls through either entry hit once";
      else if (info.function_offset == 0)
        probed = "the global entry, which only calls through a pointer or the PLT pass";
      else
        probed = fmt::format("+{:#x}, counted from the global entry as objdump does", info.function_offset);
      entries = fmt::format("global {}+0x0 (sets up the TOC in r2), local {}+{:#x}; probed: {}", info.function,
                            info.function, local, probed);
    }
    if (o.format == OutputFormat::Json) {
      nlohmann::ordered_json j;
      j["probe"] = res.labels[s.label].name;
      j["module"] = info.module_path;
      j["file_addr"] = fmt::format("{:#x}", info.file_addr.value);
      j["addr"] = fmt::format("{:#x}", s.addr.value);
      j["location"] = where;
      if (!info.marker.empty()) j["marker"] = info.marker;
      if (std::string debug = info.elf ? info.elf->debug_file() : ""; !debug.empty()) j["debug_file"] = debug;
      j["bytes"] = hex_bytes(a.insn.code());
      j["insn"] = a.insn.text;
      if (refusal.empty()) {
        j["mode"] = arch::to_string(a.plan->mode());
        j["plan"] = a.plan->describe();
        j["refused"] = nullptr;
      } else {
        j["mode"] = nullptr;
        j["refused"] = refusal;
      }
      if (!returns.empty()) j["return"] = returns;
      if (!entries.empty()) j["entries"] = entries;
      if (!info.ifunc.empty()) j["ifunc"] = info.ifunc;
      nlohmann::ordered_json declined = nlohmann::json::array();
      for (const auto& [mode, why] : a.declined) declined.push_back({{"mode", arch::to_string(mode)}, {"reason", why}});
      j["declined"] = declined;
      if (!info.variables.empty()) j["fetch"] = info.variables;
      if (info.after_prologue) j["after_prologue"] = true;
      if (!info.go_arguments.empty()) j["go_arguments"] = info.go_arguments;
      std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      continue;
    }
    std::printf("%s\n", res.labels[s.label].name.c_str());
    std::printf("  at:          %s in %s (file address %#lx, runtime %#lx)\n", where.c_str(), info.module_path.c_str(),
                static_cast<unsigned long>(info.file_addr.value), static_cast<unsigned long>(s.addr.value));
    if (!info.marker.empty()) std::printf("  marker:      %s\n", info.marker.c_str());
    if (std::string debug = info.elf ? info.elf->debug_file() : ""; !debug.empty())
      std::printf("  debug file:  %s\n", debug.c_str());
    if (!entries.empty()) std::printf("  entries:     %s\n", entries.c_str());
    if (!info.ifunc.empty()) std::printf("  ifunc:       %s\n", info.ifunc.c_str());
    std::printf("  instruction: %s  %s\n", hex_bytes(a.insn.code()).c_str(), a.insn.text.c_str());
    if (refusal.empty())
      std::printf("  mode:        %s: %s\n", std::string(arch::to_string(a.plan->mode())).c_str(),
                  a.plan->describe().c_str());
    else
      std::printf("  refused:     %s\n", refusal.c_str());
    if (!returns.empty()) std::printf("  return:      %s\n", returns.c_str());
    for (const auto& [mode, why] : a.declined)
      std::printf("  not %-8s %s\n", (std::string(arch::to_string(mode)) + ":").c_str(), why.c_str());
    if (info.after_prologue)
      std::printf("  note:        after the prologue, where unoptimised code has stored the arguments\n");
    if (!info.go_arguments.empty()) std::printf("  note:        %s\n", info.go_arguments.c_str());
    for (const std::string& v : info.variables) std::printf("  fetch:       %s\n", v.c_str());
  }
  return !refused_any;
}

int explain(const Options& o, const arch::Isa& isa, const std::vector<ProbeSpec>& specs) {
  bool all_placeable = true;
  for (const ProbeSpec& spec : specs) all_placeable &= explain_probe(o, isa, spec);
  std::fflush(stdout);
  return all_placeable ? 0 : 1;
}

// --hist and --by name a value every probe has: said before anything is
// attached or launched, except for probes with $params, whose names only
// their DWARF knows (the Aggregator checks those once they are resolved).
void check_aggregate_names(const Options& o, const std::vector<ProbeSpec>& specs) {
  for (const ProbeSpec& spec : specs) {
    auto has = [&](const std::string& name) {
      return std::any_of(spec.args.begin(), spec.args.end(), [&](const FetchArg& a) {
        return a.name == name || std::holds_alternative<fetch::Params>(a.expr.node);
      });
    };
    std::string names;
    for (const FetchArg& a : spec.args) names += (names.empty() ? "" : " ") + a.name;
    const std::string values = names.empty() ? "it fetches none" : "its values: " + names;
    const bool returns = std::holds_alternative<loc::Return>(spec.location);
    if (o.hist && !has(*o.hist) && !(returns && *o.hist == "duration")) {
      if (*o.hist == "duration")
        throw_usage_hint(kAggregateNameHint,
                         "--hist duration: probe '{}' is no FUNC%return probe, whose hits alone have a duration",
                         spec.text);
      throw_usage_hint(kAggregateNameHint, "--hist {}: probe '{}' has no value named '{}' ({})", *o.hist, spec.text,
                       *o.hist, values);
    }
    if (o.hist) {
      for (const FetchArg& a : spec.args)
        if (a.name == *o.hist && a.type == FetchType::String)
          throw_usage_hint("a histogram counts integers: fetch it as one (NAME=EXPR:s64, or u64, x64 ...)",
                           "--hist {}: in probe '{}' it is a string; a histogram needs an integer", *o.hist, spec.text);
    }
    if (o.by && !has(*o.by) && *o.by != "pid" && *o.by != "tid")
      throw_usage_hint(kAggregateNameHint, "--by {}: probe '{}' has no value named '{}' ({}; or pid, tid)", *o.by,
                       spec.text, *o.by, values);
  }
}

int trace(const Options& o, const arch::Isa& isa, Resolver& resolver) {
  const bool count_only = o.count || o.hist;
  // A bad -o path is an error before anything is attached or launched.
  if (o.output_path) (void)HitWriter::open(o.format, count_only, *o.output_path, {});
  survive_closed_output();
  // The tracer waits for these with sigtimedwait; blocked, none is lost.
  // (The supervisor blocked them already; tracing without it works too.)
  sigset_t block;
  sigemptyset(&block);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&block, s);
  sigprocmask(SIG_BLOCK, &block, nullptr);

  WriterSink sink;
  core::TraceOptions topt;
  topt.mode = o.mode;
  topt.max_hits = o.max_hits;
  if (o.duration_seconds) topt.duration = std::chrono::nanoseconds(static_cast<int64_t>(*o.duration_seconds * 1e9));
  topt.follow_forks = o.follow;
  topt.stack = o.stack;
  topt.ready_file = o.ready_file.value_or("");
  if (!o.quiet) topt.status = print_status;

  core::Tracer tracer(isa, topt, sink);
  std::vector<ProbeLabel> labels;
  auto take_labels = [&](Resolution& res) {
    if (!o.quiet)
      for (const std::string& w : res.warnings) print_status(w);
    // Every resolution (one per process, and later ones for libraries
    // loaded later) names its probes in the resolver's one label table.
    labels = res.labels;
    if (!sink.writer) {
      if (count_only)
        sink.aggregates = std::make_unique<Aggregator>(AggregateOptions{o.count, o.hist, o.by}, res.labels);
      sink.writer = o.output_path ? HitWriter::open(o.format, count_only, *o.output_path, res.labels)
                                  : HitWriter::create(o.format, count_only, 1, res.labels);
    } else {
      if (sink.aggregates) sink.aggregates->set_labels(res.labels);
      sink.writer->set_labels(res.labels);
    }
  };
  auto resolve = [&](pid_t pid) {
    Resolution res = resolver.resolve_in_process(pid);
    take_labels(res);
    return core::ResolvedProbes{std::move(res.sites), std::move(res.modules)};
  };
  tracer.set_module_resolver([&](pid_t pid, const core::ModuleProbes& module) -> std::optional<std::vector<core::ProbeSite>> {
    std::optional<Resolution> res = resolver.resolve_module(pid, module);
    if (!res) return std::nullopt;
    take_labels(*res);
    return std::move(res->sites);
  });
  core::TraceResult result = o.pid ? tracer.attach(o.pids, resolve) : tracer.launch(o.command, resolve);

  if (sink.writer && !sink.writer->finish(tracer.hit_counts(), sink.aggregates.get()) && sink.writer->error() != EPIPE)
    throw_runtime("{}", sink.writer->error_message());
  // A histogram that leaves hits out says so, even with -q, as lost hits do.
  if (sink.aggregates && o.hist) {
    for (size_t i = 0; i < sink.aggregates->probes() && i < labels.size(); ++i) {
      uint64_t left_out = 0;
      for (const auto& [key, group] : sink.aggregates->groups(i)) left_out += group.not_counted;
      if (left_out)
        print_status(fmt::format("warning: {} hits of {} are not in its histogram: their {} was unreadable or not an "
                                 "integer",
                                 left_out, labels[i].name, *o.hist));
    }
  }
  if (o.pid) return 0;
  return result.term_signal ? 128 + result.term_signal : result.exit_code;
}

}  // namespace

void print_status(const std::string& message) { std::fprintf(stderr, "uptrace: %s\n", message.c_str()); }

namespace {

// A file named with -x is only read, so it may be for another ISA than the
// host's: every ISA's decoder is built in, so explain it as it would run.
const arch::Isa& isa_for(const Options& o) {
  if (!o.exe) return arch::native_isa();
  std::unique_ptr<elf::ElfFile> file;
  try {
    file = elf::ElfFile::open(*o.exe);
  } catch (const Error&) {
    return arch::native_isa();  // each probe is refused with the reason, as without a file
  }
  if (const arch::Isa* isa = arch::isa_for_elf_machine(file->machine())) {
    const elf::ElfAbi abi = file->abi();
    if (std::string why = isa->elf_refusal(abi.elf_class, abi.data, abi.flags); !why.empty())
      throw Error(ErrorKind::Runtime, fmt::format("{} is {}, which uptrace does not know", *o.exe, why),
                  fmt::format("uptrace probes {} ELF files for 64-bit little-endian Linux{}", isa->name(),
                              isa->id() == arch::IsaId::Ppc64le   ? " (ELFv2 ABI)"
                              : isa->id() == arch::IsaId::Riscv64 ? " (lp64d ABI)"
                                                                  : ""));
    return *isa;
  }
  std::string known;
  for (const arch::Isa* isa : arch::all_isas()) known += (known.empty() ? "" : ", ") + std::string(isa->name());
  throw Error(ErrorKind::Runtime, fmt::format("{} is for ELF machine {}, which uptrace does not know", *o.exe, file->machine()),
              fmt::format("uptrace probes {}", known));
}

}  // namespace

int run(const Options& o) {
  const arch::Isa& isa = isa_for(o);
  if (o.list) return list_functions(o);
  std::vector<ProbeSpec> specs;
  for (const std::string& word : o.probes) specs.push_back(parse_probe(word));
  Resolver resolver(isa, specs);
  resolver.validate_fetch_args();
  if (o.explain) return explain(o, isa, specs);
  check_aggregate_names(o, specs);
  return trace(o, isa, resolver);
}

}  // namespace uptrace::cmd
