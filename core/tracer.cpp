#include "core/tracer.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "common/error.h"
#include "core/backtrace.h"
#include "core/proc_info.h"
#include "core/ptrace.h"
#include "core/site_plan.h"
#include "common/ring_layout.h"
#include "elf/module_map.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

namespace uptrace::core {

namespace {

uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Signals the CPU raises for the instruction that was executing.
// Generated slot code is straight-line but for jump trampolines' short
// retry loop; this bounds the steps spent leaving one.
constexpr unsigned kMaxStepsOutOfSlot = 10000;

// How often an idle loop looks at jump-probe rings. A full 2^18-record ring
// takes 26 ms at 10 M hits/s.
constexpr uint64_t kRingPollNs = 1000000;
// Records formatted between looks at the quit signals and new stops.
constexpr size_t kRingDrainChunk = 16384;

bool is_fault_signal(int sig) {
  return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP;
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

// Re-raises a signal that arrived while another one is being delivered,
// keeping its siginfo where the kernel allows it.
void requeue_signal(pid_t pid, pid_t tid, const siginfo_t& info) {
  siginfo_t copy = info;
  if (::syscall(SYS_rt_tgsigqueueinfo, pid, tid, info.si_signo, &copy) != 0) ::syscall(SYS_tgkill, pid, tid, info.si_signo);
}

}  // namespace

Tracer::Tracer(const arch::Isa& isa, TraceOptions options, HitSink& sink)
    : isa_(isa), options_(std::move(options)), sink_(sink), start_ns_(monotonic_ns()), returns_(isa) {
  if (options_.stack) backtracer_ = std::make_unique<Backtracer>(isa);
}

Tracer::~Tracer() = default;

uint64_t Tracer::now_ns() const { return monotonic_ns() - start_ns_; }

Thread* Tracer::thread(pid_t tid) {
  auto it = threads_.find(tid);
  return it == threads_.end() ? nullptr : &it->second;
}

Tracer::Process* Tracer::process(pid_t pid) {
  auto it = processes_.find(pid);
  return it == processes_.end() ? nullptr : &it->second;
}

Thread& Tracer::add_thread(pid_t tid, pid_t pid) {
  Thread& t = threads_[tid];
  t.tid = tid;
  t.pid = pid;
  return t;
}

int Tracer::wait_thread(pid_t tid, Stop& stop) {
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(tid, &status, __WALL);
    if (r == tid) break;
    if (r < 0 && errno == EINTR) continue;
    throw_runtime("waiting for thread {} failed: {}", tid, errno_text(errno));
  }
  stop = Stop::from_wait_status(tid, status);
  if (Stop::needs_event_message(status)) {
    unsigned long msg = 0;
    if (ptrace::get_event_message(tid, msg)) stop.set_event_message(msg);
  }
  return status;
}

// ---------------------------------------------------------------------------
// Attaching and launching

TraceResult Tracer::attach(pid_t pid, const SiteResolver& resolve) {
  main_pid_ = pid;
  if (pid <= 0 || !proc::exists(pid)) throw_runtime("no process with pid {}", pid);
  if (pid_t tracer = proc::tracer_of(pid))
    throw_runtime("pid {} is already traced by pid {} ({})", pid, tracer, proc::command_name(tracer));
  if (pid == ::getpid()) throw_runtime("uptrace cannot trace itself (pid {})", pid);
  // Reading its maps needs the same permission as ptrace: say so now, with
  // the hint, rather than fail on /proc/PID/maps.
  if (UniqueFd probe(::open(fmt::format("/proc/{}/mem", pid).c_str(), O_RDONLY | O_CLOEXEC)); !probe) {
    if (errno == EACCES || errno == EPERM) {
      std::string hint;
      std::string message = proc::explain_attach_failure(pid, EPERM, hint);
      throw Error(ErrorKind::Runtime, message, hint);
    }
  }

  // Everything that can be refused is refused before the target is touched.
  std::vector<ProbeSite> sites = resolve(pid);
  check_sites_before_attach(sites);
  // Told to quit while resolving (the front end killed, Ctrl-C): the target
  // is still untouched, so leave it that way.
  if (quit_signal_pending()) return result_;

  Process& proc = processes_[pid];
  proc.pid = pid;
  proc.space = std::make_shared<AddressSpace>(pid);
  try {
    seize_all_threads(pid);
    stop_world();
    if (!process(pid)) throw_runtime("pid {} exited before its probes were armed", pid);
    size_t n = sites.size();
    arm(*process(pid), std::move(sites));
    announce_armed(pid, n);
    resume_world();
    run_loop();
    detach_all();
  } catch (...) {
    emergency_cleanup();
    throw;
  }
  return result_;
}

void Tracer::seize_all_threads(pid_t pid) {
  // Threads may be created while we seize; those created by an already
  // seized thread are attached by the kernel (PTRACE_O_TRACECLONE), the
  // others show up in the next listing.
  for (;;) {
    std::vector<pid_t> tids = proc::threads(pid);
    if (tids.empty()) throw_runtime("no process with pid {}", pid);
    bool added = false;
    for (pid_t tid : tids) {
      if (threads_.count(tid)) continue;
      int err = ptrace::seize(tid, ptrace::default_options());
      if (err == ESRCH) continue;
      if (err == EPERM && proc::tracer_of(tid) == ::getpid()) err = 0;  // auto-attached already
      if (err != 0) {
        std::string hint;
        std::string message = proc::explain_attach_failure(pid, err, hint);
        throw Error(ErrorKind::Runtime, message, hint);
      }
      add_thread(tid, pid);
      added = true;
    }
    if (!added) break;
  }
}

TraceResult Tracer::launch(const std::vector<std::string>& argv, const SiteResolver& resolve) {
  launched_ = true;
  int go[2], err_pipe[2];
  if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0)
    throw_runtime("cannot create a pipe: {}", errno_text(errno));
  pid_t pid = ::fork();
  if (pid < 0) throw_runtime("cannot fork: {}", errno_text(errno));
  if (pid == 0) {
    // The command must not inherit the tracer's blocked signals.
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, SIGCHLD);
    for (int s : options_.quit_signals) sigaddset(&unblock, s);
    ::sigprocmask(SIG_UNBLOCK, &unblock, nullptr);
    ::close(go[1]);
    ::close(err_pipe[0]);
    char c;
    while (::read(go[0], &c, 1) < 0 && errno == EINTR) {
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    int e = errno;
    (void)!::write(err_pipe[1], &e, sizeof e);
    ::_exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
  }
  ::close(go[0]);
  ::close(err_pipe[1]);
  UniqueFd go_fd(go[1]), err_fd(err_pipe[0]);
  main_pid_ = pid;

  int e = ptrace::seize(pid, ptrace::default_options());
  if (e != 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    std::string hint;
    std::string message = proc::explain_attach_failure(pid, e, hint);
    throw Error(ErrorKind::Runtime, message, hint);
  }
  Process& proc = processes_[pid];
  proc.pid = pid;
  add_thread(pid, pid);
  (void)!::write(go_fd.get(), "g", 1);
  go_fd.reset();

  auto kill_child = [&] {
    ::kill(pid, SIGKILL);
    for (int status; ::waitpid(pid, &status, __WALL) > 0 || errno == EINTR;) {
    }
    processes_.clear();
    threads_.clear();
  };

  try {
    // Until exec, the child is still uptrace's own code.
    Stop stop;
    for (;;) {
      wait_thread(pid, stop);
      if (stop.kind == Stop::Kind::Exec) break;
      if (stop.thread_gone()) {
        int child_errno = 0;
        processes_.clear();
        threads_.clear();
        if (::read(err_fd.get(), &child_errno, sizeof child_errno) == sizeof child_errno)
          throw Error(child_errno == ENOENT || child_errno == ENOTDIR ? 127 : 126,
                      fmt::format("cannot run '{}': {}", argv[0], errno_text(child_errno)));
        throw_runtime("'{}' ended before it started", argv[0]);
      }
      ptrace::cont(pid, stop.kind == Stop::Kind::Signal ? stop.signal : 0);
    }
    err_fd.reset();

    // Run the dynamic loader up to the program's entry point, so the
    // libraries it loads at start are mapped when probes are resolved.
    proc.space = std::make_shared<AddressSpace>(pid);
    auto entry = proc::aux_value(pid, AT_ENTRY);
    if (!entry) throw_runtime("cannot read the entry point of pid {} from /proc/{}/auxv", pid, pid);
    size_t entry_patch = proc.space->journal.patch(RuntimeAddr(*entry), isa_.breakpoint());
    ptrace::cont(pid);
    arch::Regs regs;
    for (;;) {
      wait_thread(pid, stop);
      if (stop.thread_gone()) {
        result_.target_exited = true;
        result_.exit_code = stop.kind == Stop::Kind::Exited ? stop.exit_code : 0;
        result_.term_signal = stop.kind == Stop::Kind::Killed ? stop.signal : 0;
        processes_.clear();
        threads_.clear();
        return result_;
      }
      if (stop.kind == Stop::Kind::Signal && stop.signal == SIGTRAP) {
        siginfo_t si{};
        ptrace::get_siginfo(pid, si);
        ptrace::get_regs(pid, isa_, regs);
        auto bp = isa_.breakpoint_address(isa_.pc(regs), si.si_code);
        if (bp && bp->value == *entry) break;
      }
      ptrace::cont(pid, stop.kind == Stop::Kind::Signal ? stop.signal : 0);
    }
    proc.space->journal.revert(entry_patch);
    isa_.set_pc(regs, *entry);
    ptrace::set_regs(pid, isa_, regs);

    Thread& t = *thread(pid);
    t.stopped = true;
    t.pending = Stop{Stop::Kind::Interrupt, pid};
    world_stopped_ = true;
    std::vector<ProbeSite> sites = resolve(pid);
    check_sites_before_attach(sites);
    size_t n = sites.size();
    arm(proc, std::move(sites));
    announce_armed(pid, n);
  } catch (...) {
    kill_child();
    throw;
  }

  try {
    resume_world();
    run_loop();
    detach_all();
    if (!result_.target_exited) {
      // Detached, the command runs on; its status is ours.
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      result_.target_exited = true;
      result_.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
      result_.term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
  } catch (...) {
    emergency_cleanup();
    throw;
  }
  return result_;
}

void Tracer::announce_armed(pid_t pid, size_t probes) {
  if (options_.status) options_.status(fmt::format("{} probes armed in pid {}", probes, pid));
  if (!options_.ready_file.empty()) {
    UniqueFd fd(::open(options_.ready_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) throw_runtime("cannot create ready file {}: {}", options_.ready_file, errno_text(errno));
  }
}

// ---------------------------------------------------------------------------
// Arming

void Tracer::check_sites_before_attach(const std::vector<ProbeSite>& sites) const {
  for (const ProbeSite& s : sites) {
    // The slot is not mapped yet; assume one near the site, as it will be.
    const ProbeSite* one[] = {&s};
    SitePlan plan = plan_site(isa_, one, provisional_slot(s.addr), options_.mode, kProvisionalRing, 0);
    if (!plan.analysis.plan) throw_runtime("cannot probe {}: {}", s.name, plan.analysis.refusal);
  }
}

RuntimeAddr Tracer::map_scratch(Process& proc, pid_t tid, AddressRange near, uint64_t size) {
  std::vector<AddressRange> used;
  for (const elf::Mapping& m : elf::ModuleMap::read_maps(proc.pid)) used.push_back({m.start, m.end});
  uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  size = (size + page - 1) / page * page;
  auto at = choose_scratch_address(used, near, size, page);
  if (!at)
    throw_runtime("no free address range of {} bytes within 1 GiB of {:#x}-{:#x} in pid {} for uptrace's slots", size,
                  near.start.value, near.end.value, proc.pid);
  int64_t r = inject_syscall(proc, tid, arch::Syscall::Mmap,
                             {at->value, size, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                              static_cast<uint64_t>(-1), 0});
  if (r < 0 && r > -4096) throw_runtime("mmap of uptrace's slots in pid {} failed: {}", proc.pid, errno_text(static_cast<int>(-r)));
  proc.space->scratch.push_back({RuntimeAddr(static_cast<uint64_t>(r)), RuntimeAddr(static_cast<uint64_t>(r) + size)});
  if (static_cast<uint64_t>(r) != at->value)
    throw_runtime("mmap of uptrace's slots in pid {} ignored the address {:#x}", proc.pid, at->value);
  // A forked child must not inherit the slots (DESIGN rule 6).
  inject_syscall(proc, tid, arch::Syscall::Madvise, {at->value, size, MADV_DONTFORK});
  return *at;
}

void Tracer::arm(Process& proc, std::vector<ProbeSite> sites) {
  AddressSpace& space = *proc.space;
  pid_t injector = proc.pid;
  if (!thread(injector)) {
    auto any = std::find_if(threads_.begin(), threads_.end(), [&](auto& kv) { return kv.second.pid == proc.pid; });
    if (any == threads_.end()) throw_runtime("pid {} has no thread left to arm probes with", proc.pid);
    injector = any->first;
  }

  // Sites at one address share one trap and one plan.
  std::vector<std::vector<ProbeSite*>> by_address;
  std::map<uint64_t, size_t> index;
  for (ProbeSite& s : sites) {
    auto [it, inserted] = index.emplace(s.addr.value, by_address.size());
    if (inserted) by_address.emplace_back();
    by_address[it->second].push_back(&s);
  }
  // One scratch mapping per module, near it.
  std::map<std::string, std::vector<size_t>> by_module;
  for (size_t i = 0; i < by_address.size(); ++i) by_module[by_address[i].front()->module_path].push_back(i);
  std::vector<RuntimeAddr> slot_of(by_address.size());
  // %return needs one more slot, for the return trampoline.
  bool returns = std::any_of(sites.begin(), sites.end(), [](const ProbeSite& s) { return s.role == ProbeRole::Return; });
  for (auto& [module, members] : by_module) {
    const ProbeSite& first = *by_address[members.front()].front();
    size_t extra = returns && !space.return_trampoline.value ? 1 : 0;
    RuntimeAddr base = map_scratch(proc, injector, {first.module_start, first.module_end}, (members.size() + extra) * isa_.slot_size());
    for (size_t k = 0; k < members.size(); ++k) slot_of[members[k]] = base + k * isa_.slot_size();
    if (extra) {
      space.return_trampoline = base + members.size() * isa_.slot_size();
      space.memory.write_or_throw(space.return_trampoline, isa_.breakpoint());
    }
  }

  // Jump mode: every thread's pc (none may be inside the bytes a jump
  // overwrites) and thread pointer; the ring comes once a site can use it.
  const bool want_jump = options_.mode == arch::ModeRequest::Auto || options_.mode == arch::ModeRequest::Jump;
  if (options_.stack)
    for (ProbeSite& s : sites)
      if (s.jump_unavailable.empty()) s.jump_unavailable = "--stack unwinds the thread's stack at a stop";
  std::map<pid_t, uint64_t> pcs;
  if (want_jump) {
    for (auto& [tid, t] : threads_) {
      if (t.pid != proc.pid) continue;
      arch::Regs regs;
      if (!ptrace::get_regs(tid, isa_, regs)) continue;
      pcs[tid] = isa_.pc(regs);
    }
  }
  // Analysed once with a provisional ring address to learn whether any site
  // can jump at all, then again with the real one.
  auto analyze_at = [&](size_t i, std::optional<RuntimeAddr> ring_at) {
    ProbeSite& s = *by_address[i].front();
    SitePlan plan = plan_site(isa_, by_address[i], slot_of[i], options_.mode, ring_at,
                              static_cast<uint32_t>(proc.jump_probes.size()));
    const arch::SiteAnalysis& a = plan.analysis;
    if (a.plan && a.plan->mode() == arch::ExecMode::Jump) {
      const uint64_t patched = a.plan->site_patch().size();
      // The trampoline runs the file's bytes: they must be what is in memory.
      std::vector<uint8_t> live(patched);
      const size_t at = static_cast<size_t>(s.addr - s.function_start);
      if (!space.memory.read(s.addr, live) || at + patched > s.function_code.size() ||
          !std::equal(live.begin(), live.end(), s.function_code.begin() + static_cast<long>(at))) {
        s.jump_unavailable = "the bytes a jump would overwrite differ in memory from the file";
        return plan_site(isa_, by_address[i], slot_of[i], options_.mode, ring_at, 0);
      }
      // Another probe inside the overwritten bytes would be overwritten too.
      auto next = index.upper_bound(s.addr.value);
      if (next != index.end() && next->first < s.addr.value + patched) {
        s.jump_unavailable = fmt::format("the probe at {:#x} is inside the bytes a jump would overwrite", next->first);
        return plan_site(isa_, by_address[i], slot_of[i], options_.mode, ring_at, 0);
      }
      for (auto [tid, pc] : pcs) {
        if (pc > s.addr.value && pc < s.addr.value + patched) {
          s.jump_unavailable = fmt::format("thread {} is stopped inside the bytes a jump would overwrite", tid);
          return plan_site(isa_, by_address[i], slot_of[i], options_.mode, ring_at, 0);
        }
      }
    }
    return plan;
  };
  if (want_jump && !proc.ring) {
    for (size_t i = 0; i < by_address.size(); ++i) {
      auto [a, jump] = analyze_at(i, kProvisionalRing);
      if (!a.plan || a.plan->mode() != arch::ExecMode::Jump) continue;
      try {
        create_ring(proc, injector, slot_of[i]);
      } catch (const Error& e) {
        if (options_.mode == arch::ModeRequest::Jump) throw;
        for (ProbeSite& site : sites) site.jump_unavailable = fmt::format("no ring for jump probes: {}", e.what());
      }
      break;
    }
  }

  for (size_t i = 0; i < by_address.size(); ++i) {
    ProbeSite& s = *by_address[i].front();
    auto [a, jump] = analyze_at(i, proc.ring ? std::optional(proc.ring->target_address()) : std::nullopt);
    if (!a.plan) throw_runtime("cannot probe {}: {}", s.name, a.refusal);
    if (a.plan->mode() == arch::ExecMode::Jump) {
      for (size_t k = 0; k < jump.records.size(); ++k)
        proc.jump_probes.push_back({static_cast<uint32_t>(space.sites.size()), static_cast<uint32_t>(k),
                                    std::move(jump.records[k].words)});
    }
    // What runs is what is in memory: it must be what we analysed. Read as
    // much as the longest instruction, so a trap someone wrote over a
    // shorter one (cd 03 over a 1-byte push) still decodes.
    std::vector<uint8_t> live(std::max<size_t>(a.insn.length, 16));
    if (!space.memory.read(s.addr, std::span(live).first(a.insn.length)))
      throw_runtime("cannot probe {}: cannot read {:#x} in pid {}", s.name, s.addr.value, proc.pid);
    for (size_t n = live.size(); n > a.insn.length; --n)
      if (space.memory.read(s.addr, std::span(live).first(n))) {
        live.resize(n);
        break;
      }
    if (!std::equal(a.insn.bytes.begin(), a.insn.bytes.begin() + a.insn.length, live.begin())) {
      auto decoded = isa_.decode(live, s.addr);
      if (!decoded.empty() && isa_.is_trap(decoded.front()))
        throw_runtime("cannot probe {}: {} in memory is already a breakpoint instruction (another debugger's?)", s.name,
                      decoded.front().text);
      throw_runtime("cannot probe {}: the code at {:#x} in pid {} differs from the file", s.name, s.addr.value, proc.pid);
    }
    std::vector<uint8_t> code = a.plan->slot_code();
    if (code.size() > isa_.slot_size())
      throw_runtime("cannot probe {}: its slot code needs {} bytes, more than {}", s.name, code.size(), isa_.slot_size());
    if (!code.empty()) space.memory.write_or_throw(slot_of[i], code);
    if (a.plan->mode() == arch::ExecMode::Boost || a.plan->mode() == arch::ExecMode::Jump) space.free_running = true;
    ArmedSite armed{s.addr, slot_of[i], std::move(a.plan), {}, std::nullopt};
    for (ProbeSite* p : by_address[i]) {
      if (p->label != kInternalLabel && p->label >= counts_.size()) counts_.resize(p->label + 1);
      armed.probes.push_back({p->label, std::move(p->fetch), p->role});
      if (p->role == ProbeRole::Return) armed.return_spill = p->return_spill;
    }
    space.site_at[s.addr.value] = static_cast<uint32_t>(space.sites.size());
    space.sites.push_back(std::move(armed));
  }
  // Traps last: until here nothing the program runs has changed.
  for (const ArmedSite& s : space.sites) {
    std::vector<uint8_t> patch = s.plan->site_patch();
    if (patch.empty()) patch.assign(isa_.breakpoint().begin(), isa_.breakpoint().end());
    space.journal.patch(s.addr, patch);
  }
}

void Tracer::create_ring(Process& proc, pid_t tid, RuntimeAddr scratch, std::optional<RuntimeAddr> at) {
  static constexpr char kName[] = "uptrace-ring";
  proc.space->memory.write_or_throw(scratch, std::span(reinterpret_cast<const uint8_t*>(kName), sizeof kName));
  const uint64_t capacity = jump_ring_capacity();
  const uint64_t bytes = SharedRing::bytes(capacity);
  const int64_t fd = inject_syscall(proc, tid, arch::Syscall::MemfdCreate, {scratch.value, MFD_CLOEXEC});
  if (fd < 0) throw_runtime("memfd_create in pid {} failed: {}", proc.pid, errno_text(static_cast<int>(-fd)));
  auto close_fd = [&] { inject_syscall(proc, tid, arch::Syscall::Close, {static_cast<uint64_t>(fd)}); };
  int64_t got = inject_syscall(proc, tid, arch::Syscall::Ftruncate, {static_cast<uint64_t>(fd), bytes});
  if (got < 0) {
    close_fd();
    throw_runtime("sizing the ring in pid {} failed: {}", proc.pid, errno_text(static_cast<int>(-got)));
  }
  got = inject_syscall(proc, tid, arch::Syscall::Mmap,
                       {at ? at->value : 0, bytes, PROT_READ | PROT_WRITE,
                        static_cast<uint64_t>(MAP_SHARED | (at ? MAP_FIXED_NOREPLACE : 0)), static_cast<uint64_t>(fd), 0});
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  if (got < 0 || static_cast<uint64_t>(got) % page != 0 || (at && static_cast<uint64_t>(got) != at->value)) {
    if (got > 0) inject_syscall(proc, tid, arch::Syscall::Munmap, {static_cast<uint64_t>(got), bytes});
    close_fd();
    throw_runtime("mapping the ring in pid {} failed: {}", proc.pid, got < 0 ? errno_text(static_cast<int>(-got)) : "wrong address");
  }
  const RuntimeAddr address(static_cast<uint64_t>(got));
  proc.space->ring = AddressRange{address, address + bytes};
  try {
    proc.ring = std::make_unique<SharedRing>(proc.pid, static_cast<int>(fd), address, capacity);
  } catch (...) {
    close_fd();
    throw;
  }
  close_fd();
  inject_syscall(proc, tid, arch::Syscall::Madvise, {address.value, bytes, MADV_DONTFORK});
  // Trampolines name their thread only when every thread has a thread
  // pointer to read; until then a record's thread is the process's.
  bool all_have_pointers = true;
  for (auto& [other, t] : threads_) {
    if (t.pid != proc.pid) continue;
    learn_thread_pointer(proc, other);
    all_have_pointers = all_have_pointers && proc.pointer_of_thread[other] != 0;
  }
  proc.ring->set_thread_ids(all_have_pointers);
}

// A launched program gets its thread pointer after the entry point, so
// trampolines start without thread ids; by the time it makes a second
// thread, the first has one.
void Tracer::enable_thread_ids(Process& proc, pid_t stopped_tid) {
  learn_thread_pointer(proc, stopped_tid);
  for (auto& [tid, t] : threads_)
    if (t.pid == proc.pid && proc.pointer_of_thread[tid] == 0) return;
  proc.ring->set_thread_ids(true);
}

void Tracer::learn_thread_pointer(Process& proc, pid_t tid) {
  if (!proc.ring) return;
  arch::Regs regs;
  if (!ptrace::get_regs(tid, isa_, regs)) return;
  const uint64_t pointer = isa_.thread_pointer(regs);
  // Records written under the old owner of a reused pointer go to it.
  drain_ring(proc);
  proc.pointer_of_thread[tid] = pointer;
  if (pointer != 0) proc.thread_by_pointer[pointer] = tid;
  else proc.ring->set_thread_ids(false);
}

namespace {

// Jump records carry registers only (FetchProgram::register_captures): any
// memory read is a bug, and fails as a fault value.
class NoMemory final : public MemoryAccess {
 public:
  bool read(RuntimeAddr, std::span<uint8_t>) override { return false; }
  bool write(RuntimeAddr, std::span<const uint8_t>) override { return false; }
};

}  // namespace

SharedRing::Taker Tracer::ring_reporter(Process& proc) {
  // Who wrote a record, by its thread pointer: looked up again only when the
  // pointer changes, as runs of records mostly come from one thread (the
  // maps do not change while draining).
  struct Writer {
    uint64_t pointer = 0;
    pid_t pid = 0, tid = 0;
    bool unreported = false;  // a vfork child's, without -f
  };
  struct State {
    std::optional<Writer> last;
    arch::Regs regs;
    NoMemory no_memory;
  };
  auto state = std::make_shared<State>();
  return [this, &proc, state](const ring::Record& r) {
    if (!reporting_ || !proc.report_hits || r.probe >= proc.jump_probes.size()) return reporting_;
    if (!state->last || state->last->pointer != r.thread) {
      Writer w{r.thread, proc.pid, proc.pid, false};
      auto owner = proc.thread_by_pointer.find(r.thread);
      if (r.thread != 0 && owner != proc.thread_by_pointer.end()) w.tid = owner->second;
      if (auto child = proc.vfork_child_by_pointer.find(r.thread); child != proc.vfork_child_by_pointer.end()) {
        w.unreported = !options_.follow_forks;  // as with traps: vfork children are reported only with -f
        w.pid = w.tid = child->second;
      }
      state->last = w;
    }
    if (state->last->unreported) return true;
    const Process::JumpProbe& jp = proc.jump_probes[r.probe];
    const ArmedSite& site = proc.space->sites[jp.site];
    const ArmedSite::Probe& probe = site.probes[jp.probe];
    for (size_t i = 0; i < jp.words.size() && i < ring::kMaxValues; ++i) state->regs.words[jp.words[i]] = r.values[i];
    const uint64_t at = cycle_clock_.to_monotonic_ns(r.time);
    hit_.time_ns = at > start_ns_ ? at - start_ns_ : 0;
    hit_.pid = state->last->pid;
    hit_.tid = state->last->tid;
    hit_.addr = site.addr;
    probe.fetch.evaluate(state->regs, site.addr.value, state->no_memory, hit_.values);
    return report_hit(probe.label);
  };
}

bool Tracer::drain_ring(Process& proc, size_t limit) {
  if (!proc.ring || holding_rings_) return false;
  cycle_clock_.recalibrate();
  limit = std::min(limit, proc.ring->capacity());
  return proc.ring->drain(ring_reporter(proc), limit) == limit;
}

void Tracer::finish_ring(Process& proc) {
  if (!proc.ring) return;
  if (holding_rings_) {
    // Read once the target is let go (detach_all).
    retired_.push_back(std::move(proc));
    return;
  }
  cycle_clock_.recalibrate();
  const uint64_t unfinished = proc.ring->finish(ring_reporter(proc));
  proc.ring.reset();
  if (unfinished)
    report_lost(proc.pid, unfinished, "their threads ended while the jump trampoline was writing their records");
}

void Tracer::report_lost(pid_t pid, uint64_t hits, const std::string& why) { sink_.on_lost(pid, hits, why); }

Tracer::Process* Tracer::ring_owner(Process& proc) {
  if (proc.ring) return &proc;
  for (auto& [pid, other] : processes_)
    if (other.ring && other.space == proc.space) return &other;
  return nullptr;
}

bool Tracer::at_ring_full_trap(const Process& proc, const siginfo_t& si, const arch::Regs& regs,
                               RuntimeAddr& trap) const {
  if (!proc.space || !proc.space->free_running) return false;
  auto bp = isa_.breakpoint_address(isa_.pc(regs), si.si_code);
  if (!bp) return false;
  const ArmedSite* site = proc.space->slot_owner(bp->value, isa_.slot_size());
  if (!site || !site->plan->is_ring_full_trap(*bp)) return false;
  trap = *bp;
  return true;
}

void Tracer::make_ring_room(Process& proc) {
  Process* owner = ring_owner(proc);
  if (!owner) return;
  if (holding_rings_) owner->ring->make_room();
  else drain_ring(*owner, kRingDrainChunk);
}

// A trampoline found the ring full: it waits, stopped, until the reader has
// made room, then tries again. Guarantee 2: a full ring costs time, never a
// hit.
void Tracer::on_ring_full(Thread& t, Process& proc, arch::Regs& regs, RuntimeAddr trap) {
  make_ring_room(proc);
  t.waiting_for_ring = trap;
  Process* owner = ring_owner(proc);
  // Room is still short while another writer holds a reservation it has
  // not published (preempted half way): wait for the next drain.
  if (owner && owner->ring->full()) return;
  (void)regs;
  release_ring_waiter(t);
}

void Tracer::release_ring_waiter(Thread& t) {
  arch::Regs regs;
  const RuntimeAddr trap = *t.waiting_for_ring;
  t.waiting_for_ring.reset();
  if (!ptrace::get_regs(t.tid, isa_, regs)) return;
  isa_.set_pc(regs, trap.value + isa_.breakpoint().size());
  if (!ptrace::set_regs(t.tid, isa_, regs)) return;
  if (world_stopped_) {
    t.pending = Stop{Stop::Kind::Interrupt, t.tid};
    return;
  }
  // Stepping out of the trampoline for a held signal goes on stepping.
  if (t.leaving_slot) step_thread(t);
  else run_thread(t);
}

void Tracer::resume_ring_waiters() {
  std::vector<pid_t> waiting;
  for (auto& [tid, t] : threads_)
    if (t.waiting_for_ring) waiting.push_back(tid);
  for (pid_t tid : waiting) {
    Thread* t = thread(tid);
    Process* p = t ? process(t->pid) : nullptr;
    Process* owner = p ? ring_owner(*p) : nullptr;
    if (!t || !t->waiting_for_ring || (owner && owner->ring->full())) continue;
    release_ring_waiter(*t);
  }
}

bool Tracer::drain_rings(size_t limit) {
  bool more = false;
  for (auto& [pid, p] : processes_) more |= drain_ring(p, limit);
  return more;
}

uint64_t Tracer::hit_time_ns(const Process& proc) {
  if (!proc.ring) return now_ns();
  const uint64_t at = cycle_clock_.to_monotonic_ns(read_cycle_counter());
  return at > start_ns_ ? at - start_ns_ : 0;
}

// What a thread writes as its thread in ring records right now.
uint64_t Tracer::record_key(Process& proc, pid_t tid) {
  if (!proc.ring || !proc.ring->thread_ids()) return 0;
  learn_thread_pointer(proc, tid);
  return proc.pointer_of_thread[tid];
}

bool Tracer::report_hit(uint32_t label) {
  ++counts_[label];
  hit_.probe = label;
  if (!sink_.on_hit(hit_) || (options_.max_hits && ++reported_ >= options_.max_hits)) {
    reporting_ = false;
    quit_ = true;
    return false;
  }
  return true;
}

int64_t Tracer::inject_syscall(Process& proc, pid_t tid, arch::Syscall call, std::initializer_list<uint64_t> args) {
  Thread& t = *thread(tid);
  assert(t.stopped);
  arch::Regs saved;
  if (!ptrace::get_regs(tid, isa_, saved)) throw_runtime("thread {} of pid {} vanished", tid, proc.pid);
  // The stop the thread is in may carry a siginfo someone will read later.
  siginfo_t saved_info{};
  bool had_info = t.pending && t.pending->kind == Stop::Kind::Signal && ptrace::get_siginfo(tid, saved_info);

  // The program's entry point runs once at start; while every thread is
  // stopped it is a safe place for one borrowed instruction (as gdb does).
  auto entry = proc::aux_value(proc.pid, AT_ENTRY);
  if (!entry) throw_runtime("cannot read the entry point of pid {}", proc.pid);
  auto insn = isa_.syscall_instruction();
  size_t patch = proc.space->journal.patch(RuntimeAddr(*entry), insn);
  arch::Regs regs = saved;
  std::vector<uint64_t> a(args);
  isa_.prepare_syscall(regs, RuntimeAddr(*entry), isa_.syscall_number(call), a);
  if (!ptrace::set_regs(tid, isa_, regs)) throw_runtime("thread {} of pid {} vanished", tid, proc.pid);

  for (;;) {
    if (!ptrace::single_step(tid)) throw_runtime("pid {} exited while uptrace was setting up", proc.pid);
    Stop stop;
    wait_thread(tid, stop);
    if (stop.thread_gone()) {
      threads_.erase(tid);
      throw_runtime("pid {} exited while uptrace was setting up", proc.pid);
    }
    if (stop.kind != Stop::Kind::Signal) continue;
    siginfo_t si{};
    ptrace::get_siginfo(tid, si);
    ptrace::get_regs(tid, isa_, regs);
    if (stop.signal == SIGTRAP && isa_.is_syscall_step_trap(si.si_code) && isa_.pc(regs) == *entry + insn.size())
      break;
    t.held_signals.push_back(si);  // delivered when the thread next runs
  }
  int64_t result = isa_.syscall_result(regs);
  ptrace::set_regs(tid, isa_, saved);
  proc.space->journal.revert(patch);
  if (had_info) ptrace::set_siginfo(tid, saved_info);
  // Stepping took the thread out of its group-stop: the stop signal, sent
  // again when it resumes, puts it back (PTRACE_LISTEN would fail now).
  if (t.pending && t.pending->kind == Stop::Kind::GroupStop)
    t.pending = Stop{Stop::Kind::Signal, tid, t.pending->signal};
  return result;
}

// ---------------------------------------------------------------------------
// The event loop

bool Tracer::quit_signal_pending() const {
  sigset_t pending;
  sigpending(&pending);
  for (int s : options_.quit_signals)
    if (sigismember(&pending, s)) return true;
  return false;
}

void Tracer::run_loop() {
  sigset_t waitset;
  sigemptyset(&waitset);
  sigaddset(&waitset, SIGCHLD);
  for (int s : options_.quit_signals) sigaddset(&waitset, s);
  std::optional<uint64_t> deadline;
  if (options_.duration) deadline = now_ns() + static_cast<uint64_t>(options_.duration->count());

  auto finished = [&] {
    return result_.target_exited && (!options_.follow_forks || processes_.empty());
  };
  while (!quit_ && !finished()) {
    // Handle every event that is ready; look at the clock and the quit
    // signals now and then, so a busy target cannot starve them.
    unsigned handled = 0;
    for (;;) {
      int status = 0;
      pid_t tid = ::waitpid(-1, &status, __WALL | WNOHANG);
      if (tid > 0) {
        handle_wait_status(tid, status);
        if (quit_ || finished()) break;
        if (++handled % 256 == 0) {
          drain_rings(kRingDrainChunk);
          if (!sink_.flush() || quit_signal_pending() || (deadline && now_ns() >= *deadline)) {
            quit_ = true;
            break;
          }
        }
        continue;
      }
      if (tid == 0) break;
      if (errno == EINTR) continue;
      if (errno == ECHILD) {
        result_.target_exited = true;
        break;
      }
      throw_runtime("waitpid failed: {}", errno_text(errno));
    }
    // In chunks: a full ring takes long to format, and a quit signal must
    // not wait for all of it.
    const bool ring_backlog = drain_rings(kRingDrainChunk);
    resume_ring_waiters();
    if (quit_ || finished() || processes_.empty()) break;
    if (!sink_.flush()) break;
    // Jump probes report through rings nobody signals about: poll them.
    const bool polling = std::any_of(processes_.begin(), processes_.end(), [](auto& kv) { return kv.second.ring != nullptr; });
    std::optional<uint64_t> wait_ns;
    if (polling) wait_ns = ring_backlog ? 0 : kRingPollNs;
    if (deadline) {
      uint64_t now = now_ns();
      if (now >= *deadline) break;
      wait_ns = std::min(wait_ns.value_or(UINT64_MAX), *deadline - now);
    }
    siginfo_t si;
    int sig;
    if (wait_ns) {
      timespec ts{static_cast<time_t>(*wait_ns / 1000000000ull), static_cast<long>(*wait_ns % 1000000000ull)};
      sig = ::sigtimedwait(&waitset, &si, &ts);
    } else {
      sig = ::sigwaitinfo(&waitset, &si);
    }
    if (sig < 0 || sig == SIGCHLD) continue;
    quit_ = true;
  }
  (void)sink_.flush();
}

void Tracer::handle_wait_status(pid_t tid, int status) {
  Stop stop = Stop::from_wait_status(tid, status);
  if (Stop::needs_event_message(status)) {
    unsigned long msg = 0;
    if (ptrace::get_event_message(tid, msg)) stop.set_event_message(msg);
  }
  Thread* t = thread(tid);
  if (!t) {
    if (!stop.thread_gone()) on_new_tracee(tid, stop);
    return;
  }
  if (stop.thread_gone()) {
    dispatch(*t, stop);
    return;
  }
  t->stopped = true;
  t->pending = stop;
  if (!world_stopped_) dispatch(*t, stop);
}

// Every resumption of a thread that stopped goes through these, so a thread
// is marked stopped from the moment its stop is seen until it really runs
// again, even when handling the stop fails half way.
void Tracer::run_thread(Thread& t, int signal) {
  t.stopped = false;
  t.pending.reset();
  ptrace::cont(t.tid, signal);
}

void Tracer::step_thread(Thread& t, int signal) {
  t.stopped = false;
  t.pending.reset();
  ptrace::single_step(t.tid, signal);
}

void Tracer::listen_thread(Thread& t) {
  t.stopped = false;
  t.pending.reset();
  ptrace::listen(t.tid);
}

void Tracer::dispatch(Thread& t, const Stop& stop) {
  switch (stop.kind) {
    case Stop::Kind::Exited:
    case Stop::Kind::Killed:
      on_thread_gone(t, stop);
      return;
    case Stop::Kind::Signal:
      on_signal(t, stop.signal);
      return;
    case Stop::Kind::GroupStop:
      // Job control: stay stopped until SIGCONT, without a ptrace-stop.
      listen_thread(t);
      return;
    case Stop::Kind::Fork:
    case Stop::Kind::Vfork:
    case Stop::Kind::Clone:
      on_fork(t, stop);
      resume(t);
      return;
    case Stop::Kind::Exec:
      on_exec(t, stop);
      return;
    case Stop::Kind::VforkDone:
      if (Process* p = process(t.pid); p && p->ring) {
        drain_ring(*p);  // the last of the child's records
        p->vfork_child_by_pointer.erase(record_key(*p, t.tid));
      }
      resume(t);
      return;
    case Stop::Kind::Interrupt:
    case Stop::Kind::Exit:
      resume(t);
      return;
  }
}

void Tracer::resume(Thread& t, int signal) {
  if (t.stepping_site >= 0) {
    step_thread(t, signal);
  } else if (!t.held_signals.empty() && signal == 0) {
    deliver_held_signals(t);
  } else {
    run_thread(t, signal);
  }
}

void Tracer::deliver_held_signals(Thread& t) {
  if (t.held_signals.empty()) {
    run_thread(t);
    return;
  }
  const siginfo_t first = t.held_signals.front();
  for (size_t i = 1; i < t.held_signals.size(); ++i) requeue_signal(t.pid, t.tid, t.held_signals[i]);
  t.held_signals.clear();
  ptrace::set_siginfo(t.tid, first);
  run_thread(t, first.si_signo);
}

void Tracer::on_signal(Thread& t, int signal) {
  Process* p = process(t.pid);
  AddressSpace* space = p ? p->space.get() : nullptr;
  const bool may_be_in_slot = space && space->free_running;
  if (signal != SIGTRAP && t.stepping_site < 0 && !may_be_in_slot) {
    run_thread(t, signal);  // not ours: on its way, unchanged
    return;
  }
  siginfo_t si{};
  arch::Regs regs;
  if (!ptrace::get_siginfo(t.tid, si) || !ptrace::get_regs(t.tid, isa_, regs)) return;

  if (RuntimeAddr trap; signal == SIGTRAP && may_be_in_slot && t.stepping_site < 0 && at_ring_full_trap(*p, si, regs, trap)) {
    on_ring_full(t, *p, regs, trap);
    return;
  }
  if (may_be_in_slot && t.stepping_site < 0) {
    if (const ArmedSite* site = space->slot_owner(isa_.pc(regs), isa_.slot_size())) {
      on_signal_in_slot(t, *site, signal, si, regs);
      return;
    }
    if (t.leaving_slot) {  // out: what arrived meanwhile can be delivered now
      t.leaving_slot = false;
      if (!(signal == SIGTRAP && isa_.is_step_trap(si.si_code))) t.held_signals.push_back(si);
      deliver_held_signals(t);
      return;
    }
    if (signal != SIGTRAP) {
      run_thread(t, signal);
      return;
    }
  }

  if (t.stepping_site >= 0 && space) {
    const ArmedSite& site = space->sites[t.stepping_site];
    if (signal == SIGTRAP && isa_.is_step_trap(si.si_code)) {
      finish_step(t, *p, regs);
      return;
    }
    if (si.si_code > 0 && is_fault_signal(signal) && isa_.pc(regs) == site.slot.value) {
      // The displaced instruction itself faulted: the program sees the
      // fault at the probe address, as if there were no probe.
      site.plan->abort_step(regs, t.step);
      ptrace::set_regs(t.tid, isa_, regs);
      if (reinterpret_cast<uint64_t>(si.si_addr) == site.slot.value) si.si_addr = reinterpret_cast<void*>(site.addr.value);
      ptrace::set_siginfo(t.tid, si);
      t.stepping_site = -1;
      for (const siginfo_t& held : t.held_signals) requeue_signal(t.pid, t.tid, held);
      t.held_signals.clear();
      run_thread(t, signal);
      return;
    }
    // Rule 5: a signal waits until the step is done.
    t.held_signals.push_back(si);
    step_thread(t);
    return;
  }

  if (space) {
    if (auto bp = isa_.breakpoint_address(isa_.pc(regs), si.si_code)) {
      if (space->return_trampoline.value && *bp == space->return_trampoline) {
        on_return_trap(t, *p, regs);
        return;
      }
      int idx = space->site_index(*bp);
      if (idx >= 0) {
        on_probe_hit(t, *p, static_cast<uint32_t>(idx), regs);
        return;
      }
    }
  }
  run_thread(t, SIGTRAP);  // the program's own trap, with its own siginfo
}

// A signal stop with pc inside a boost or jump slot. A fault raised by the
// copied instruction is delivered at the probe address, as if there were no
// probe; anything else waits until the thread has stepped out of the slot,
// so no handler ever sees (or returns into) slot addresses (rule 5).
void Tracer::on_signal_in_slot(Thread& t, const ArmedSite& site, int signal, siginfo_t& si, arch::Regs& regs) {
  const uint64_t pc = isa_.pc(regs);
  const bool our_step = t.leaving_slot && signal == SIGTRAP && isa_.is_step_trap(si.si_code);
  if (!our_step && si.si_code > 0 && is_fault_signal(signal)) {
    if (auto original = site.plan->original_pc(pc)) {
      isa_.set_pc(regs, *original);
      ptrace::set_regs(t.tid, isa_, regs);
      if (reinterpret_cast<uint64_t>(si.si_addr) == pc) si.si_addr = reinterpret_cast<void*>(*original);
      ptrace::set_siginfo(t.tid, si);
      t.leaving_slot = false;
      for (const siginfo_t& held : t.held_signals) requeue_signal(t.pid, t.tid, held);
      t.held_signals.clear();
      run_thread(t, signal);
      return;
    }
  }
  if (!our_step) t.held_signals.push_back(si);
  if (!t.leaving_slot) t.slot_steps = 0;
  t.leaving_slot = true;
  if (++t.slot_steps > kMaxStepsOutOfSlot) {
    // Cannot happen for code we generate; never hold a signal forever.
    t.leaving_slot = false;
    deliver_held_signals(t);
    return;
  }
  step_thread(t);
}

void Tracer::on_probe_hit(Thread& t, Process& proc, uint32_t site_index, arch::Regs& regs) {
  AddressSpace& space = *proc.space;
  const ArmedSite& site = space.sites[site_index];
  isa_.set_pc(regs, site.addr.value);
  report(t, proc, site, ProbeRole::Entry, regs, site.addr.value);
  // Before the displaced instruction runs: it may move the stack pointer.
  returns_.on_site_hit(t, space, site_index, regs);
  arch::HitAction action = site.plan->begin_hit(regs, space.memory, t.step);
  if (!ptrace::set_regs(t.tid, isa_, regs)) return;
  if (action == arch::HitAction::SingleStep) {
    t.stepping_site = static_cast<int>(site_index);
    step_thread(t);
  } else {
    run_thread(t);
  }
}

void Tracer::report(Thread& t, Process& proc, const ArmedSite& site, ProbeRole role, const arch::Regs& regs,
                    uint64_t pc) {
  if (!reporting_ || !proc.report_hits) return;
  // Jump probes' records from before this hit are reported before it.
  drain_ring(proc);
  uint64_t now = hit_time_ns(proc);
  bool stack_taken = false;
  for (const ArmedSite::Probe& probe : site.probes) {
    if (!reporting_) break;
    if (probe.role != role) continue;
    hit_.time_ns = now;
    hit_.pid = t.pid;
    hit_.tid = t.tid;
    hit_.addr = site.addr;
    probe.fetch.evaluate(regs, pc, proc.space->memory, hit_.values);
    if (backtracer_ && !stack_taken) {
      backtracer_->capture(t, *proc.space, regs, returns_, hit_.stack);
      stack_taken = true;
    }
    report_hit(probe.label);
  }
}

void Tracer::on_return_trap(Thread& t, Process& proc, arch::Regs& regs) {
  std::vector<Thread*> others;
  for (auto& [tid, other] : threads_)
    if (other.pid == t.pid && tid != t.tid) others.push_back(&other);
  std::vector<ReturnFrame> frames = returns_.on_trampoline(t, *proc.space, regs, others);
  if (frames.empty()) {
    // Its return address is lost: as the kernel does, the thread gets a
    // fatal signal rather than run on from a wrong place.
    if (options_.status)
      options_.status(fmt::format("warning: thread {} of pid {} returned through uptrace's return trampoline with no "
                                  "record of its return address",
                                  t.tid, t.pid));
    run_thread(t, SIGILL);
    return;
  }
  for (const ReturnFrame& f : frames) report(t, proc, proc.space->sites[f.site], ProbeRole::Return, regs, f.orig_ret);
  if (!ptrace::set_regs(t.tid, isa_, regs)) return;
  run_thread(t);
}

void Tracer::finish_step(Thread& t, Process& proc, arch::Regs& regs) {
  const ArmedSite& site = proc.space->sites[t.stepping_site];
  site.plan->finish_step(regs, proc.space->memory, t.step);
  t.stepping_site = -1;
  if (!ptrace::set_regs(t.tid, isa_, regs)) return;
  deliver_held_signals(t);
}

void Tracer::on_thread_gone(Thread& t, const Stop& stop) {
  pid_t tid = t.tid, pid = t.pid;
  // Its records (and, for the leader, the whole ring) go before it does.
  if (Process* p = process(pid)) drain_ring(*p);
  threads_.erase(tid);
  if (tid != pid) return;
  // The leader reports last: the whole process is gone.
  for (auto it = threads_.begin(); it != threads_.end();)
    it = it->second.pid == pid ? threads_.erase(it) : std::next(it);
  if (Process* p = process(pid)) finish_ring(*p);
  processes_.erase(pid);
  if (pid != main_pid_) return;
  result_.target_exited = true;
  result_.exit_code = stop.kind == Stop::Kind::Exited ? stop.exit_code : 0;
  result_.term_signal = stop.kind == Stop::Kind::Killed ? stop.signal : 0;
  // A launched command's normal exit is its own business (its status is
  // ours); a death by signal is worth a line in both modes.
  if (options_.status) {
    if (stop.kind == Stop::Kind::Killed)
      options_.status(fmt::format("pid {} was killed by {}", pid, signal_name(stop.signal)));
    else if (!launched_)
      options_.status(fmt::format("pid {} exited with status {}", pid, stop.exit_code));
  }
}

void Tracer::on_new_tracee(pid_t tid, const Stop& first_stop) {
  pid_t tgid = proc::thread_group_of(tid);
  if (tgid != 0 && processes_.count(tgid)) {
    Thread& t = add_thread(tid, tgid);
    t.stopped = true;
    t.pending = first_stop;
    learn_thread_pointer(*process(tgid), tid);
    if (!world_stopped_) dispatch(t, first_stop);
    return;
  }
  // A new process: settle it once its parent's fork event says how it was made.
  auto it = expected_children_.find(tid);
  if (it == expected_children_.end() || world_stopped_) {
    early_stops_[tid] = first_stop;
    return;
  }
  auto [parent, shares_memory] = it->second;
  expected_children_.erase(it);
  settle_child(tid, parent, shares_memory);
}

void Tracer::on_fork(Thread& parent, const Stop& stop) {
  pid_t child = stop.new_tid;
  if (child <= 0) return;
  if (stop.kind == Stop::Kind::Clone) {
    // A new thread is added at its first stop; a clone without
    // CLONE_THREAD makes a process that shares our code pages.
    pid_t tgid = proc::thread_group_of(child);
    if (tgid == 0 || tgid == parent.pid) {
      if (Process* p = process(parent.pid); p && p->ring) enable_thread_ids(*p, parent.tid);
      return;
    }
  }
  bool shares_memory = stop.kind != Stop::Kind::Fork;
  if (Process* p = process(parent.pid); p && p->ring && stop.kind == Stop::Kind::Vfork) {
    drain_ring(*p);
    p->vfork_child_by_pointer[record_key(*p, parent.tid)] = child;
  }
  if (!shares_memory) {
    std::vector<const Thread*> all;
    for (auto& [tid, other] : threads_)
      if (other.pid == parent.pid) all.push_back(&other);
    returns_.note_fork(child, parent, all);
  }
  if (early_stops_.erase(child)) {
    settle_child(child, parent.pid, shares_memory);
  } else {
    expected_children_[child] = {parent.pid, shares_memory};
  }
}

void Tracer::settle_child(pid_t child, pid_t parent, bool shares_memory) {
  Process* pp = process(parent);
  if (!shares_memory && options_.follow_forks && pp && pp->space) {
    follow_child(child, *pp);
    return;
  }
  if (!shares_memory) {
    // Rule 6: the child's copy of the code gets the original bytes back
    // before it runs. Our slots were not copied (MADV_DONTFORK).
    if (pp && pp->space) {
      TraceeMemory child_memory(child);
      pp->space->journal.revert_all_in(child_memory);
      returns_.release_child(child, child_memory, pp->space->return_trampoline);
    }
    ptrace::detach(child);
    return;
  }
  // A vfork child runs on its parent's (patched) memory until it execs or
  // exits: its probe hits must execute correctly; they are reported with -f.
  Process& cp = processes_[child];
  cp.pid = child;
  cp.space = pp ? pp->space : nullptr;
  cp.report_hits = options_.follow_forks;
  cp.detach_on_exec = true;
  Thread& t = add_thread(child, child);
  t.stopped = true;
  resume(t);
}

void Tracer::follow_child(pid_t child, Process& parent) {
  // The child has the parent's patched code but not its slots: give it the
  // same slots at the same addresses, and a journal of its own.
  Process& cp = processes_[child];
  cp.pid = child;
  cp.space = std::make_shared<AddressSpace>(child);
  AddressSpace& space = *cp.space;
  space.journal.inherit(parent.space->journal);
  Thread& t = add_thread(child, child);
  t.stopped = true;
  t.pending = Stop{Stop::Kind::Interrupt, child};
  // A child that cannot be followed gets its original code and stack back,
  // and goes on untraced.
  auto let_go = [&](const std::string& why) {
    if (options_.status) options_.status(fmt::format("cannot follow pid {}: {}", child, why));
    space.journal.revert_all();
    returns_.release_child(child, space.memory, parent.space->return_trampoline);
    for (const AddressRange& mine : space.scratch)
      inject_syscall(cp, child, arch::Syscall::Munmap, {mine.start.value, mine.end.value - mine.start.value});
    threads_.erase(child);
    processes_.erase(child);
    ptrace::detach(child);
  };
  uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  for (const AddressRange& r : parent.space->scratch) {
    uint64_t size = r.end.value - r.start.value;
    int64_t got = inject_syscall(cp, child, arch::Syscall::Mmap,
                                 {r.start.value, size, PROT_READ | PROT_EXEC,
                                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, static_cast<uint64_t>(-1), 0});
    if (got > 0 && static_cast<uint64_t>(got) % page == 0) space.scratch.push_back({RuntimeAddr(static_cast<uint64_t>(got)), RuntimeAddr(static_cast<uint64_t>(got) + size)});
    if (static_cast<uint64_t>(got) != r.start.value) {
      // Without its slots the child cannot run the probed instructions.
      let_go("its slots cannot be mapped");
      return;
    }
    inject_syscall(cp, child, arch::Syscall::Madvise, {r.start.value, size, MADV_DONTFORK});
  }
  // Before the slots are written: the ring's name borrows the first one.
  if (parent.ring && !space.scratch.empty()) {
    try {
      create_ring(cp, child, space.scratch.front().start, parent.ring->target_address());
      cp.jump_probes = parent.jump_probes;
    } catch (const Error& e) {
      // Its trampolines would write to nowhere.
      let_go(e.what());
      return;
    }
  }
  for (const ArmedSite& site : parent.space->sites) {
    std::vector<uint8_t> code = site.plan->slot_code();
    if (!code.empty()) space.memory.write_or_throw(site.slot, code);
    space.site_at[site.addr.value] = static_cast<uint32_t>(space.sites.size());
    space.sites.push_back(ArmedSite{site.addr, site.slot, site.plan, site.probes, site.return_spill});
  }
  space.free_running = parent.space->free_running;
  if (parent.space->return_trampoline.value) {
    space.return_trampoline = parent.space->return_trampoline;
    space.memory.write_or_throw(space.return_trampoline, isa_.breakpoint());
    returns_.adopt_child(child, t, space.memory, space.return_trampoline);
  }
  resume(t);
}

void Tracer::on_exec(Thread& t, const Stop& stop) {
  pid_t pid = t.pid;
  // Every other thread is gone; the exec'ing thread now has the leader's tid.
  for (auto it = threads_.begin(); it != threads_.end();)
    it = (it->second.pid == pid && it->first != t.tid) ? threads_.erase(it) : std::next(it);
  (void)stop;
  Process* p = process(pid);
  if (p) finish_ring(*p);  // what it recorded before the exec; no other thread is left to write
  if (p && (p->detach_on_exec || (pid != main_pid_ && options_.follow_forks))) {
    if (options_.status && pid != main_pid_ && options_.follow_forks)
      options_.status(fmt::format("pid {} executed a new program; uptrace detached from it", pid));
    processes_.erase(pid);
    threads_.erase(t.tid);
    ptrace::detach(pid);
    return;
  }
  if (p && p->space && !p->space->sites.empty() && options_.status)
    options_.status(fmt::format("pid {} executed a new program; its {} probes are gone", pid, p->space->sites.size()));
  if (p) {
    p->space = std::make_shared<AddressSpace>(pid);
    p->ring.reset();
    p->jump_probes.clear();
    p->thread_by_pointer.clear();
    p->pointer_of_thread.clear();
  }
  t.stepping_site = -1;
  t.waiting_for_ring.reset();
  t.returns.clear();
  run_thread(t);
}

// ---------------------------------------------------------------------------
// Stopping the world, and leaving

void Tracer::stop_world() {
  world_stopped_ = true;
  for (auto& [tid, t] : threads_)
    if (!t.stopped) ptrace::interrupt(tid);
  for (;;) {
    bool all = std::all_of(threads_.begin(), threads_.end(), [](auto& kv) { return kv.second.stopped; });
    if (all) break;
    int status = 0;
    pid_t tid = ::waitpid(-1, &status, __WALL);
    if (tid < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) {
        threads_.clear();
        processes_.clear();
        break;
      }
      throw_runtime("waitpid failed: {}", errno_text(errno));
    }
    handle_wait_status(tid, status);
  }
}

void Tracer::resume_world() {
  world_stopped_ = false;
  std::vector<pid_t> stopped;
  for (auto& [tid, t] : threads_)
    if (t.stopped) stopped.push_back(tid);
  for (pid_t tid : stopped) {
    Thread* t = thread(tid);
    if (!t) continue;
    Stop stop = t->pending.value_or(Stop{Stop::Kind::Interrupt, tid});
    dispatch(*t, stop);
  }
  // Children that stopped while the world was stopped.
  for (auto it = early_stops_.begin(); it != early_stops_.end();) {
    auto exp = expected_children_.find(it->first);
    if (exp == expected_children_.end()) {
      ++it;
      continue;
    }
    auto [parent, shares] = exp->second;
    pid_t child = it->first;
    expected_children_.erase(exp);
    it = early_stops_.erase(it);
    settle_child(child, parent, shares);
  }
}

void Tracer::step_to_completion(Thread& t, Process& proc) {
  const ArmedSite& site = proc.space->sites[t.stepping_site];
  for (;;) {
    Stop stop = t.pending.value_or(Stop{Stop::Kind::Interrupt, t.tid});
    if (stop.thread_gone()) return;
    if (stop.kind == Stop::Kind::Signal) {
      siginfo_t si{};
      arch::Regs regs;
      ptrace::get_siginfo(t.tid, si);
      ptrace::get_regs(t.tid, isa_, regs);
      if (stop.signal == SIGTRAP && isa_.is_step_trap(si.si_code)) {
        site.plan->finish_step(regs, proc.space->memory, t.step);
        ptrace::set_regs(t.tid, isa_, regs);
        t.stepping_site = -1;
        t.pending = Stop{Stop::Kind::Interrupt, t.tid};
        return;
      }
      if (si.si_code > 0 && is_fault_signal(stop.signal) && isa_.pc(regs) == site.slot.value) {
        site.plan->abort_step(regs, t.step);
        ptrace::set_regs(t.tid, isa_, regs);
        if (reinterpret_cast<uint64_t>(si.si_addr) == site.slot.value) si.si_addr = reinterpret_cast<void*>(site.addr.value);
        t.stepping_site = -1;
        t.held_signals.insert(t.held_signals.begin(), si);
        t.pending = Stop{Stop::Kind::Interrupt, t.tid};
        return;
      }
      t.held_signals.push_back(si);
    }
    if (!step_and_wait(t)) return;
  }
}

bool Tracer::step_and_wait(Thread& t) {
  if (!ptrace::single_step(t.tid)) return false;
  Stop next;
  wait_thread(t.tid, next);
  if (next.thread_gone()) {
    on_thread_gone(t, next);
    return false;
  }
  t.pending = next;
  return true;
}

// At detach the slots go away: a thread inside one is moved to the
// equivalent original address, or stepped until it is out, holding the
// signals that arrive meanwhile.
void Tracer::step_out_of_slot(Thread& t, Process& proc) {
  for (unsigned steps = 0;; ++steps) {
    if (!t.pending || t.pending->thread_gone()) return;
    arch::Regs regs;
    if (!ptrace::get_regs(t.tid, isa_, regs)) return;
    // A tiny ring can fill again while trampolines are stepped out.
    if (siginfo_t si{}; t.pending->kind == Stop::Kind::Signal && t.pending->signal == SIGTRAP && ptrace::get_siginfo(t.tid, si)) {
      if (RuntimeAddr trap; at_ring_full_trap(proc, si, regs, trap)) {
        make_ring_room(proc);
        t.waiting_for_ring = trap;
        release_ring_waiter(t);
        continue;
      }
    }
    const uint64_t pc = isa_.pc(regs);
    const ArmedSite* site = proc.space->slot_owner(pc, isa_.slot_size());
    if (!site) return;
    if (auto original = site->plan->original_pc(pc)) {
      isa_.set_pc(regs, *original);
      ptrace::set_regs(t.tid, isa_, regs);
      return;
    }
    if (steps > kMaxStepsOutOfSlot) {
      if (options_.status) options_.status(fmt::format("warning: thread {} could not be moved out of a slot", t.tid));
      return;
    }
    if (t.pending->kind == Stop::Kind::Signal) {
      siginfo_t si{};
      ptrace::get_siginfo(t.tid, si);
      if (!(t.pending->signal == SIGTRAP && isa_.is_step_trap(si.si_code))) t.held_signals.push_back(si);
    }
    t.pending = Stop{Stop::Kind::Interrupt, t.tid};
    if (!step_and_wait(t)) return;
    if (const Stop next = *t.pending; next.kind == Stop::Kind::Signal && next.signal == SIGTRAP) {
      siginfo_t si{};
      ptrace::get_siginfo(t.tid, si);
      if (isa_.is_step_trap(si.si_code)) t.pending = Stop{Stop::Kind::Interrupt, t.tid};
    }
  }
}

void Tracer::detach_all() {
  // Jump hits recorded until the threads stop count. They are read from
  // uptrace's own mapping of each ring after the target is let go: a full
  // ring takes long to format, and the target must not wait for that (nor
  // for uptrace's end, when the front end was killed).
  const bool report_ring_rest = reporting_;
  reporting_ = false;
  holding_rings_ = true;  // no drain on the way (a thread's exit, say) may consume them unreported
  auto drain_rest = [&] {
    holding_rings_ = false;
    reporting_ = report_ring_rest;
    for (auto& [pid, p] : processes_) finish_ring(p);
    for (Process& p : retired_) finish_ring(p);
    retired_.clear();
    reporting_ = false;
  };
  if (options_.status)
    for (const std::string& line : returns_.take_summary()) options_.status(line);
  if (threads_.empty()) {
    drain_rest();
    return;
  }
  stop_world();

  // Children forked just now must not keep our traps either.
  for (auto& [tid, t] : threads_) {
    if (!t.pending) continue;
    Stop::Kind k = t.pending->kind;
    if (k == Stop::Kind::Fork || k == Stop::Kind::Vfork || k == Stop::Kind::Clone) {
      pid_t child = t.pending->new_tid;
      if (!early_stops_.count(child) && !threads_.count(child)) {
        Stop first;
        wait_thread(child, first);
        if (first.thread_gone()) continue;
      }
      early_stops_.erase(child);
      if (k == Stop::Kind::Clone && proc::thread_group_of(child) == t.pid) continue;
      // Here even a vfork child is detached: its parent's code is restored below.
      Process* pp = process(t.pid);
      if (k == Stop::Kind::Fork && pp && pp->space) {
        TraceeMemory child_memory(child);
        pp->space->journal.revert_all_in(child_memory);
        // The parent is still at its fork stop: its frames are the child's.
        for (auto& [otid, other] : threads_) {
          if (other.pid != t.pid) continue;
          ReturnStack copy = other.returns;
          returns_.restore(copy, child_memory, pp->space->return_trampoline);
        }
      }
      ptrace::detach(child);
      t.pending = Stop{Stop::Kind::Interrupt, tid};
    }
  }

  std::vector<pid_t> tids;
  for (auto& [tid, t] : threads_) tids.push_back(tid);
  // PTRACE_INTERRUPT is reported before a signal already queued, so a thread
  // may show an interrupt-stop right after our trap or step with its SIGTRAP
  // still pending. Detached like that, it would die of that SIGTRAP: let the
  // signal surface as a stop of its own, to be handled below.
  for (pid_t tid : tids) {
    Thread* t = thread(tid);
    if (!t || !t->pending || t->pending->kind == Stop::Kind::Signal || !proc::thread_signal_pending(tid, SIGTRAP))
      continue;
    if (!ptrace::cont(tid)) continue;
    Stop next;
    wait_thread(tid, next);
    if (next.thread_gone()) {
      on_thread_gone(*t, next);
      continue;
    }
    t->pending = next;
  }
  // Writers waiting at a ring-full trap: room is made (records set aside,
  // formatted later) and they finish their records when stepped out below.
  for (pid_t tid : tids) {
    Thread* t = thread(tid);
    Process* p = t ? process(t->pid) : nullptr;
    if (!t || !p || !t->pending || t->pending->kind != Stop::Kind::Signal || t->pending->signal != SIGTRAP) continue;
    siginfo_t si{};
    arch::Regs regs;
    RuntimeAddr trap;
    if (!ptrace::get_siginfo(tid, si) || !ptrace::get_regs(tid, isa_, regs) || !at_ring_full_trap(*p, si, regs, trap))
      continue;
    make_ring_room(*p);
    t->waiting_for_ring = trap;
    release_ring_waiter(*t);
  }
  // No thread may be left inside a slot (rule 2).
  for (pid_t tid : tids) {
    Thread* t = thread(tid);
    Process* p = t ? process(t->pid) : nullptr;
    if (t && p && p->space && t->stepping_site >= 0) step_to_completion(*t, *p);
  }
  for (pid_t tid : tids) {
    Thread* t = thread(tid);
    Process* p = t ? process(t->pid) : nullptr;
    if (t && p && p->space && p->space->free_running) step_out_of_slot(*t, *p);
  }
  // A thread stopped on one of our traps executes the original instruction
  // once the code is restored.
  for (pid_t tid : tids) {
    Thread* t = thread(tid);
    Process* p = t ? process(t->pid) : nullptr;
    if (!t || !p || !p->space || !t->pending || t->pending->kind != Stop::Kind::Signal || t->pending->signal != SIGTRAP)
      continue;
    siginfo_t si{};
    arch::Regs regs;
    if (!ptrace::get_siginfo(tid, si) || !ptrace::get_regs(tid, isa_, regs)) continue;
    auto bp = isa_.breakpoint_address(isa_.pc(regs), si.si_code);
    if (bp && p->space->site_index(*bp) >= 0) {
      isa_.set_pc(regs, bp->value);
      ptrace::set_regs(tid, isa_, regs);
      t->pending = Stop{Stop::Kind::Interrupt, tid};
    }
  }
  release_returns_for_detach();
  // Put the code back and remove the slots, once per address space.
  std::vector<AddressSpace*> done;
  for (auto& [pid, p] : processes_) {
    if (!p.space || std::find(done.begin(), done.end(), p.space.get()) != done.end()) continue;
    done.push_back(p.space.get());
    size_t failed = p.space->journal.revert_all();
    if (failed && options_.status)
      options_.status(fmt::format("warning: {} patches could not be restored in pid {}", failed, pid));
    if (p.space->ring) p.space->scratch.push_back(*p.space->ring);
    p.space->ring.reset();
    for (const AddressRange& r : p.space->scratch) {
      auto it = std::find_if(threads_.begin(), threads_.end(), [&](auto& kv) { return kv.second.pid == pid; });
      if (it == threads_.end()) break;
      try {
        inject_syscall(p, it->first, arch::Syscall::Munmap, {r.start.value, r.end.value - r.start.value});
      } catch (const Error& e) {
        if (options_.status) options_.status(fmt::format("warning: {}", e.what()));
      }
    }
    p.space->scratch.clear();
  }
  // Let every thread go, with the signal it was about to receive.
  for (auto& [tid, t] : threads_) {
    int sig = 0;
    if (t.pending && t.pending->kind == Stop::Kind::Signal) sig = t.pending->signal;
    if (sig == 0 && !t.held_signals.empty()) {
      ptrace::set_siginfo(tid, t.held_signals.front());
      sig = t.held_signals.front().si_signo;
      t.held_signals.erase(t.held_signals.begin());
    }
    ptrace::detach(tid, sig);
    for (const siginfo_t& held : t.held_signals) requeue_signal(t.pid, tid, held);
  }
  drain_rest();
  threads_.clear();
  processes_.clear();
  world_stopped_ = false;
}

// Before the trampoline goes: no thread may stand on it, and no stack slot
// may still point to it.
void Tracer::release_returns_for_detach() {
  // Each process's mappings, read once: a thread's stack ends where the
  // mapping that holds its sp ends.
  std::map<pid_t, std::vector<elf::Mapping>> maps;
  auto stack_end = [&](pid_t pid, uint64_t sp) -> uint64_t {
    auto it = maps.find(pid);
    if (it == maps.end()) {
      std::vector<elf::Mapping> m;
      try {
        m = elf::ModuleMap::read_maps(pid);
      } catch (const Error&) {
      }
      it = maps.emplace(pid, std::move(m)).first;
    }
    for (const elf::Mapping& m : it->second)
      if (sp >= m.start.value && sp < m.end.value) return m.end.value;
    return sp;  // unknown: nothing is scanned
  };
  for (auto& [tid, t] : threads_) {
    Process* p = process(t.pid);
    if (!p || !p->space || !p->space->return_trampoline.value) continue;
    RuntimeAddr trampoline = p->space->return_trampoline;
    arch::Regs regs;
    if (ptrace::get_regs(tid, isa_, regs)) {
      bool at = isa_.pc(regs) == trampoline.value;
      // Stopped by the trampoline's trap, whose SIGTRAP must not be
      // delivered: pc is after it (x86-64's int3) or at it (aarch64's brk).
      bool trapped = false;
      if (t.pending && t.pending->kind == Stop::Kind::Signal && t.pending->signal == SIGTRAP) {
        siginfo_t si{};
        auto bp = ptrace::get_siginfo(tid, si) ? isa_.breakpoint_address(isa_.pc(regs), si.si_code) : std::nullopt;
        trapped = bp && *bp == trampoline;
      }
      if (at || trapped) {
        if (returns_.leave_trampoline(t, regs, trampoline)) {
          ptrace::set_regs(tid, isa_, regs);
          if (trapped) t.pending = Stop{Stop::Kind::Interrupt, tid};
        } else if (options_.status) {
          options_.status(fmt::format("warning: thread {} of pid {} is at uptrace's return trampoline with no record "
                                      "of its return address",
                                      tid, t.pid));
        }
      } else if (returns_.restore_register(t, regs, trampoline)) {
        // A hijacked function whose return address is in its register now.
        ptrace::set_regs(tid, isa_, regs);
      }
      if (std::any_of(t.returns.frames().begin(), t.returns.frames().end(), [](const ReturnFrame& f) { return f.moves; }))
        returns_.restore_moved(t.returns, isa_.sp(regs), stack_end(t.pid, isa_.sp(regs)), p->space->memory, trampoline);
    }
    size_t failed = returns_.restore(t.returns, p->space->memory, trampoline);
    if (failed && options_.status)
      options_.status(fmt::format("warning: {} return addresses could not be restored in thread {} of pid {}", failed,
                                  tid, t.pid));
  }
}

void Tracer::emergency_cleanup() noexcept {
  try {
    detach_all();
  } catch (const std::exception& e) {
    if (options_.status) options_.status(fmt::format("warning: cleanup failed: {}", e.what()));
  }
}

}  // namespace uptrace::core
