// Child processes of the broker (rc1, the initial program, rc3, rexec's
// processes): spawn with an environment and hear when each exits, on the
// broker's reactor. This is the broker's one SIGCHLD path: it reaps only
// the pids it was given, so every child must be spawned or watched here.
#pragma once

#include <spawn.h>
#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "libflux/child_reaper.hpp"
#include "libflux/reactor.hpp"

namespace flux::broker {

class ChildWatcher {
 public:
  explicit ChildWatcher(Reactor& r);
  ~ChildWatcher();
  // Start argv[0] (searched on PATH) with `env` as its whole environment.
  // Returns the pid, or throws FluxError.
  pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
              std::function<void(int wait_status)> on_exit);
  // Hear when `pid`, a child started elsewhere (rexec), exits. Call before
  // returning to the reactor after starting it.
  void watch(pid_t pid, std::function<void(int wait_status)> on_exit);
  bool running(pid_t pid) const { return reaper_.running(pid); }

 private:
  ChildReaper reaper_;
};

using flux::exit_code_of;

// posix_spawn attributes for a child of the broker: no blocked signals,
// every signal at its default, and (own_group) a process group of its own.
// The caller destroys them (posix_spawnattr_destroy).
void init_spawn_attr(posix_spawnattr_t* attr, bool own_group);

}  // namespace flux::broker
