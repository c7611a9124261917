// ChildReaper: hear when child processes exit, on a Reactor (SIGCHLD
// through Asio), each with its own callback. The broker (rc scripts,
// initial program, rexec) and flux-shell (tasks) both reap with it.
#pragma once
#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>

#include "reactor.hpp"

namespace flux {

class ChildReaper {
 public:
  explicit ChildReaper(Reactor& r);
  ~ChildReaper();
  ChildReaper(const ChildReaper&) = delete;
  ChildReaper& operator=(const ChildReaper&) = delete;

  // Call on_exit(wait status) when pid exits. Safe for a child that has
  // already exited by the time it is watched.
  void watch(pid_t pid, std::function<void(int wait_status)> on_exit);
  bool running(pid_t pid) const { return exits_.count(pid) != 0; }
  size_t count() const { return exits_.size(); }

 private:
  void reap();
  void reap_now();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::map<pid_t, std::function<void(int)>> exits_;
};

// 0..255 exit code of a wait status: WEXITSTATUS, or 128+N for death by
// signal N (as shells report it).
int exit_code_of(int wait_status);

}  // namespace flux
