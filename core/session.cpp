#include "core/session.h"

#include <cassert>

namespace uptrace::core {

Thread* Session::thread(pid_t tid) {
  auto it = threads_.find(tid);
  return it == threads_.end() ? nullptr : &it->second;
}

Process* Session::process(pid_t pid) {
  auto it = processes_.find(pid);
  return it == processes_.end() ? nullptr : &it->second;
}

Process& Session::add_process(pid_t pid) {
  Process& p = processes_[pid];
  p.pid = pid;
  return p;
}

Thread& Session::add_thread(pid_t tid, pid_t pid) {
  Process* p = process(pid);
  assert(p && "a thread belongs to a registered process");
  p->threads.insert(tid);
  Thread& t = threads_[tid];
  t.tid = tid;
  t.pid = pid;
  return t;
}

void Session::remove_thread(pid_t tid) {
  auto it = threads_.find(tid);
  if (it == threads_.end()) return;
  if (Process* p = process(it->second.pid)) p->threads.erase(tid);
  threads_.erase(it);
}

void Session::remove_process(pid_t pid) {
  if (Process* p = process(pid))
    for (pid_t tid : p->threads) threads_.erase(tid);
  processes_.erase(pid);
}

void Session::clear() {
  threads_.clear();
  processes_.clear();
}

std::vector<Thread*> Session::threads_of(pid_t pid) {
  std::vector<Thread*> out;
  if (Process* p = process(pid))
    for (pid_t tid : p->threads)
      if (Thread* t = thread(tid)) out.push_back(t);
  return out;
}

Thread* Session::any_thread_of(pid_t pid) {
  if (Thread* leader = thread(pid); leader && leader->pid == pid) return leader;
  Process* p = process(pid);
  return p && !p->threads.empty() ? thread(*p->threads.begin()) : nullptr;
}

std::vector<pid_t> Session::tids() const {
  std::vector<pid_t> out;
  out.reserve(threads_.size());
  for (const auto& [tid, t] : threads_) out.push_back(tid);
  return out;
}

}  // namespace uptrace::core
