#include "subprocess.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "libflux/asio_reactor.hpp"
#include "libflux/path_search.hpp"
#include "libflux/result.hpp"

namespace flux::broker {

struct ChildWatcher::Impl {
  explicit Impl(asio::io_context& ctx) : sigchld(ctx, SIGCHLD) {}
  asio::signal_set sigchld;
};

ChildWatcher::ChildWatcher(Reactor& r) : impl_(std::make_unique<Impl>(io_context(r))) {
  impl_->sigchld.async_wait([this](const asio::error_code& ec, int) {
    if (!ec) reap();
  });
}

ChildWatcher::~ChildWatcher() {
  asio::error_code ec;
  impl_->sigchld.cancel(ec);
}

void ChildWatcher::reap() {
  for (auto it = exits_.begin(); it != exits_.end();) {
    int status;
    pid_t p = waitpid(it->first, &status, WNOHANG);
    if (p == it->first) {
      auto fn = std::move(it->second);
      it = exits_.erase(it);
      fn(status);
    } else {
      ++it;
    }
  }
  impl_->sigchld.async_wait([this](const asio::error_code& ec, int) {
    if (!ec) reap();
  });
}

void ChildWatcher::watch(pid_t pid, std::function<void(int)> on_exit) {
  exits_[pid] = std::move(on_exit);
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
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
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
  exits_[pid] = std::move(on_exit);
  return pid;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace flux::broker
