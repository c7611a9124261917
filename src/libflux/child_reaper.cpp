#include "child_reaper.hpp"

#include <sys/wait.h>

#include "asio_reactor.hpp"

namespace flux {

struct ChildReaper::Impl {
  explicit Impl(asio::io_context& ctx) : sigchld(ctx, SIGCHLD) {}
  asio::signal_set sigchld;
};

ChildReaper::ChildReaper(Reactor& r) : impl_(std::make_unique<Impl>(io_context(r))) {
  impl_->sigchld.async_wait([this](const asio::error_code& ec, int) {
    if (!ec) reap();
  });
}

ChildReaper::~ChildReaper() {
  asio::error_code ignore;
  impl_->sigchld.cancel(ignore);
}

void ChildReaper::watch(pid_t pid, std::function<void(int)> on_exit) {
  exits_[pid] = std::move(on_exit);
  // The child may have exited before it was watched.
  asio::post(impl_->sigchld.get_executor(), [this] { reap_now(); });
}

void ChildReaper::reap() {
  reap_now();
  impl_->sigchld.async_wait([this](const asio::error_code& ec, int) {
    if (!ec) reap();
  });
}

void ChildReaper::reap_now() {
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
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace flux
