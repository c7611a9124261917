#include "subprocess.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "libflux/asio_reactor.hpp"
#include "libflux/path_search.hpp"
#include "libflux/result.hpp"

namespace flux::broker {

void init_spawn_attr(posix_spawnattr_t* attr, bool own_group) {
  posix_spawnattr_init(attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(attr, &none);
  posix_spawnattr_setsigdefault(attr, &all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (own_group) {
    posix_spawnattr_setpgroup(attr, 0);
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(attr, flags);
}

ChildWatcher::ChildWatcher(Reactor& r) : reaper_(r) {}

ChildWatcher::~ChildWatcher() = default;

void ChildWatcher::watch(pid_t pid, std::function<void(int)> on_exit) {
  reaper_.watch(pid, std::move(on_exit));
}

pid_t ChildWatcher::spawn(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env,
                          std::function<void(int)> on_exit) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> envs;
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawnattr_t attr;
  init_spawn_attr(&attr, false);
  // PATH for the search comes from the child's environment.
  std::string prog = argv[0];
  if (prog.find('/') == std::string::npos) {
    auto path = env.find("PATH");
    if (auto found = search_path(path != env.end() ? path->second : "/usr/bin:/bin", prog, X_OK))
      prog = *found;
  }
  pid_t pid;
  int rc = posix_spawn(&pid, prog.c_str(), nullptr, &attr, args.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw FluxError(rc, argv[0] + ": " + std::strerror(rc));
  reaper_.watch(pid, std::move(on_exit));
  return pid;
}

}  // namespace flux::broker
