#pragma once
// The registry of everything traced: processes, each knowing its threads,
// and the threads themselves (rr's Session). Only bookkeeping: no ptrace.
#include <sys/types.h>

#include <map>
#include <unordered_map>
#include <vector>

#include "core/process.h"
#include "core/thread.h"

namespace uptrace::core {

class Session {
 public:
  Thread* thread(pid_t tid);
  Process* process(pid_t pid);
  Process& add_process(pid_t pid);
  // A thread of process `pid`, which must be registered.
  Thread& add_thread(pid_t tid, pid_t pid);
  void remove_thread(pid_t tid);
  // The process and every thread of it.
  void remove_process(pid_t pid);
  void clear();

  std::vector<Thread*> threads_of(pid_t pid);
  // Any one thread of the process (the leader when it is traced), or null.
  Thread* any_thread_of(pid_t pid);
  std::vector<pid_t> tids() const;
  std::map<pid_t, Process>& processes() { return processes_; }
  std::unordered_map<pid_t, Thread>& threads() { return threads_; }
  bool no_threads() const { return threads_.empty(); }

 private:
  std::map<pid_t, Process> processes_;
  std::unordered_map<pid_t, Thread> threads_;
};

}  // namespace uptrace::core
