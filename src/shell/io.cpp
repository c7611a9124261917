#include "io.hpp"

#include "libflux/asio_reactor.hpp"

namespace flux::shell {

struct SignalWatch::Impl {
  Impl(asio::io_context& ctx) : set(ctx) {}
  asio::signal_set set;
  std::function<void(int)> fn;
  void wait() {
    set.async_wait([this](const asio::error_code& ec, int signo) {
      if (ec) return;
      fn(signo);
      wait();
    });
  }
};

SignalWatch::SignalWatch(Reactor& r, const std::vector<int>& signals, std::function<void(int)> fn)
    : impl_(std::make_unique<Impl>(io_context(r))) {
  for (int s : signals) impl_->set.add(s);
  impl_->fn = std::move(fn);
  impl_->wait();
}

SignalWatch::~SignalWatch() {
  asio::error_code ignore;
  impl_->set.cancel(ignore);
}

}  // namespace flux::shell
