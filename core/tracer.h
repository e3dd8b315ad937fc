#pragma once
// The ptrace controller: attach to or launch a process, arm probes, run the
// event loop, report hits, and leave the process exactly as it was.
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "arch/isa.h"
#include "common/hit.h"
#include "core/address_space.h"
#include "core/cycle_clock.h"
#include "core/probe_site.h"
#include "core/shared_ring.h"
#include "core/return_probes.h"
#include "core/thread.h"

namespace uptrace::core {

class Backtracer;

class HitSink {
 public:
  virtual ~HitSink() = default;
  // Both return false when output can no longer be written: tracing ends.
  virtual bool on_hit(const Hit& hit) = 0;
  // Called before the tracer blocks waiting for events.
  virtual bool flush() = 0;
  // `hits` hits of process `pid` could not be reported, and why (one
  // phrase). Never expected; when it happens it must not go unsaid.
  virtual void on_lost(pid_t pid, uint64_t hits, const std::string& why) = 0;
};

// Resolves the user's probes against the process `pid` as it is mapped now.
// Throws Error when a probe cannot be resolved.
using SiteResolver = std::function<std::vector<ProbeSite>(pid_t pid)>;

struct TraceOptions {
  arch::ModeRequest mode = arch::ModeRequest::Auto;
  uint64_t max_hits = 0;  // 0: no limit
  std::optional<std::chrono::nanoseconds> duration;
  bool follow_forks = false;
  bool stack = false;  // --stack: a backtrace with each hit
  std::string ready_file;
  // Prints one status line ("uptrace: ..." is added by the callee); empty
  // function when quiet.
  std::function<void(const std::string&)> status;
  // Signals that end tracing (blocked by the caller; waited for here).
  std::vector<int> quit_signals{SIGINT, SIGTERM, SIGHUP};
};

struct TraceResult {
  bool target_exited = false;  // the (main) target ended while traced
  int exit_code = 0;           // its exit status, or
  int term_signal = 0;         // the signal that killed it
};

class Tracer {
 public:
  Tracer(const arch::Isa& isa, TraceOptions options, HitSink& sink);
  ~Tracer();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // -p PID. Throws Error before anything is changed in the target when a
  // probe cannot be resolved or placed.
  TraceResult attach(pid_t pid, const SiteResolver& resolve);
  // -- COMMAND. The command runs to its end; its status is returned.
  TraceResult launch(const std::vector<std::string>& argv, const SiteResolver& resolve);

  std::span<const uint64_t> hit_counts() const { return counts_; }
  uint64_t start_ns() const { return start_ns_; }

 private:
  struct Process {
    pid_t pid = 0;
    std::shared_ptr<AddressSpace> space;
    bool report_hits = true;  // false for children we only keep safe
    bool detach_on_exec = false;
    // Jump probes: the ring they write, what each record index means, and
    // which thread each thread pointer belongs to.
    std::unique_ptr<SharedRing> ring;
    struct JumpProbe {
      uint32_t site;
      uint32_t probe;  // index into the site's probes
      std::vector<uint16_t> words;
    };
    std::vector<JumpProbe> jump_probes;
    std::unordered_map<uint64_t, pid_t> thread_by_pointer;
    std::unordered_map<pid_t, uint64_t> pointer_of_thread;
    // A vfork child runs on its parent thread's stack and thread pointer
    // while that thread waits: records with this pointer are the child's.
    std::unordered_map<uint64_t, pid_t> vfork_child_by_pointer;
  };

  // Setting up.
  void seize_all_threads(pid_t pid);
  void arm(Process& proc, std::vector<ProbeSite> sites);
  void check_sites_before_attach(const std::vector<ProbeSite>& sites) const;
  RuntimeAddr map_scratch(Process& proc, pid_t tid, AddressRange near, uint64_t size);
  int64_t inject_syscall(Process& proc, pid_t tid, arch::Syscall call, std::initializer_list<uint64_t> args);
  // Creates the jump-probe ring in the target (at `at`, for a followed
  // child) and maps it here; `scratch` is memory of ours to put its name in.
  void create_ring(Process& proc, pid_t tid, RuntimeAddr scratch, std::optional<RuntimeAddr> at = std::nullopt);
  void learn_thread_pointer(Process& proc, pid_t tid);
  void enable_thread_ids(Process& proc, pid_t stopped_tid);
  // Report what the jump trampolines recorded, at most `limit` records per
  // ring; true if a ring may hold more.
  bool drain_rings(size_t limit = SIZE_MAX);
  bool drain_ring(Process& proc, size_t limit = SIZE_MAX);
  // Reports the records of `proc`'s ring handed to it.
  SharedRing::Taker ring_reporter(Process& proc);
  // Once no thread can write to the ring any more: every record, then the
  // count of those whose writer died half way, reported as lost.
  void finish_ring(Process& proc);
  // The process whose ring a (vfork child) process's trampolines write.
  Process* ring_owner(Process& proc);
  // Whether the thread stopped on the trap where a jump trampoline waits
  // for room in a full ring; then `trap` is its address.
  bool at_ring_full_trap(const Process& proc, const siginfo_t& si, const arch::Regs& regs, RuntimeAddr& trap) const;
  void on_ring_full(Thread& t, Process& proc, arch::Regs& regs, RuntimeAddr trap);
  // Frees room in the ring for a writer waiting at its trap; detaching, by
  // moving records aside unformatted.
  void make_ring_room(Process& proc);
  // Lets a waiting writer retry: pc past the trap.
  void release_ring_waiter(Thread& t);
  void resume_ring_waiters();
  void report_lost(pid_t pid, uint64_t hits, const std::string& why);
  // Counts and reports one hit; false once tracing must end (-n, output gone).
  bool report_hit(uint32_t label);
  // The time of a hit happening now, on the same clock as ring records.
  uint64_t hit_time_ns(const Process& proc);
  uint64_t record_key(Process& proc, pid_t tid);
  void announce_armed(pid_t pid, size_t probes);

  // The event loop.
  void run_loop();
  bool quit_signal_pending() const;
  void handle_wait_status(pid_t tid, int status);
  void dispatch(Thread& t, const Stop& stop);
  void on_signal(Thread& t, int signal);
  void on_probe_hit(Thread& t, Process& proc, uint32_t site_index, arch::Regs& regs);
  void on_signal_in_slot(Thread& t, const ArmedSite& site, int signal, siginfo_t& si, arch::Regs& regs);
  void finish_step(Thread& t, Process& proc, arch::Regs& regs);
  // Reports the probes of `site` that have `role`, with the values fetched
  // from `regs` and `pc` as $pc.
  void report(Thread& t, Process& proc, const ArmedSite& site, ProbeRole role, const arch::Regs& regs, uint64_t pc);
  void on_return_trap(Thread& t, Process& proc, arch::Regs& regs);
  void release_returns_for_detach();
  void on_thread_gone(Thread& t, const Stop& stop);
  void on_new_tracee(pid_t tid, const Stop& first_stop);
  void on_fork(Thread& parent, const Stop& stop);
  void settle_child(pid_t child, pid_t parent, bool shares_memory);
  void follow_child(pid_t child, Process& parent);
  void on_exec(Thread& t, const Stop& stop);
  void resume(Thread& t, int signal = 0);
  void run_thread(Thread& t, int signal = 0);
  void step_thread(Thread& t, int signal = 0);
  void listen_thread(Thread& t);
  void deliver_held_signals(Thread& t);

  // Stop the world; resume it; leave.
  void stop_world();
  void resume_world();
  void detach_all();
  void step_to_completion(Thread& t, Process& proc);
  void step_out_of_slot(Thread& t, Process& proc);
  // One single step and its stop (in t.pending); false when the thread is gone.
  bool step_and_wait(Thread& t);
  void emergency_cleanup() noexcept;

  Thread* thread(pid_t tid);
  Process* process(pid_t pid);
  Thread& add_thread(pid_t tid, pid_t pid);
  int wait_thread(pid_t tid, Stop& stop);  // blocking waitpid for one thread
  uint64_t now_ns() const;

  const arch::Isa& isa_;
  TraceOptions options_;
  HitSink& sink_;
  std::vector<uint64_t> counts_;
  uint64_t reported_ = 0;
  uint64_t start_ns_ = 0;

  pid_t main_pid_ = 0;
  bool launched_ = false;
  std::map<pid_t, Process> processes_;
  // Processes gone while detaching, kept until their rings are read.
  std::vector<Process> retired_;
  std::unordered_map<pid_t, Thread> threads_;
  // New tracees whose first stop came before their parent's fork event, and
  // fork events whose child has not stopped yet.
  std::map<pid_t, Stop> early_stops_;
  std::map<pid_t, std::pair<pid_t, bool>> expected_children_;  // child -> (parent, shares memory)

  bool world_stopped_ = false;
  bool reporting_ = true;
  bool quit_ = false;
  bool holding_rings_ = false;  // detaching: ring records are read after the target is let go
  TraceResult result_;
  Hit hit_;  // reused per hit, so its vectors keep their capacity
  CycleClock cycle_clock_;
  ReturnProbes returns_;
  std::unique_ptr<Backtracer> backtracer_;  // with --stack
};

}  // namespace uptrace::core
