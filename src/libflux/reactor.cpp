#include "reactor.hpp"

#include <chrono>

#include "asio_reactor.hpp"

namespace flux {
namespace {

class SteadyTimer : public Timer {
 public:
  SteadyTimer(asio::io_context& ctx, double seconds, std::function<void()> fn)
      : state_(std::make_shared<State>(ctx)) {
    // Beyond about 292 years the clock's nanoseconds overflow and the timer
    // would fire at once; 30 years is never enough for any timer here.
    constexpr double kMaxSeconds = 30.0 * 365 * 86400;
    if (!(seconds > 0)) seconds = 0;
    if (seconds > kMaxSeconds) seconds = kMaxSeconds;
    state_->timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(seconds)));
    state_->timer.async_wait([s = state_, fn = std::move(fn)](const asio::error_code& ec) {
      if (!ec && !s->cancelled) fn();
    });
  }
  ~SteadyTimer() override { cancel(); }
  void cancel() override {
    state_->cancelled = true;
    state_->timer.cancel();
  }

 private:
  struct State {
    explicit State(asio::io_context& ctx) : timer(ctx) {}
    asio::steady_timer timer;
    bool cancelled = false;
  };
  std::shared_ptr<State> state_;
};

}  // namespace

Reactor::Reactor() : impl_(std::make_unique<Impl>()) {}
Reactor::~Reactor() = default;

void Reactor::run() {
  if (impl_->ctx.stopped()) impl_->ctx.restart();
  impl_->ctx.run();
}

bool Reactor::run_one() {
  if (impl_->ctx.stopped()) impl_->ctx.restart();
  return impl_->ctx.run_one() > 0;
}

void Reactor::stop() {
  impl_->ctx.stop();
}
bool Reactor::stopped() const {
  return impl_->ctx.stopped();
}

void Reactor::keep_alive(bool on) {
  if (on)
    impl_->guard.emplace(impl_->ctx.get_executor());
  else
    impl_->guard.reset();
}

void Reactor::post(std::function<void()> fn) {
  asio::post(impl_->ctx, std::move(fn));
}

std::unique_ptr<Timer> Reactor::after(double seconds, std::function<void()> fn) {
  return std::make_unique<SteadyTimer>(impl_->ctx, seconds, std::move(fn));
}

double monotime() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace flux
