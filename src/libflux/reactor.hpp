// Reactor: an event loop (one per thread). It wraps an asio::io_context so
// that code including this header does not compile Asio; code that needs the
// io_context itself includes asio_reactor.hpp.
#pragma once

#include <coroutine>
#include <functional>
#include <memory>

namespace flux {

class Timer {
 public:
  virtual ~Timer() = default;
  virtual void cancel() = 0;
};

class Reactor {
 public:
  Reactor();
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // Run handlers until stopped or, without keep_alive, until out of work.
  void run();
  // Run at most one handler, blocking until one is ready.
  bool run_one();
  void stop();
  bool stopped() const;
  // Keep run() going while there is nothing to do (for services).
  void keep_alive(bool on);
  // Queue fn to run on this reactor's thread. Safe from any thread.
  void post(std::function<void()> fn);
  // Call fn once after `seconds`; destroying the Timer cancels it.
  std::unique_ptr<Timer> after(double seconds, std::function<void()> fn);

  // co_await reactor.sleep(s)
  struct SleepAwaiter {
    Reactor& r;
    double seconds;
    std::unique_ptr<Timer> timer;
    bool await_ready() const noexcept { return seconds <= 0; }
    void await_suspend(std::coroutine_handle<> h) {
      timer = r.after(seconds, [h] { h.resume(); });
    }
    void await_resume() noexcept {}
  };
  SleepAwaiter sleep(double seconds) { return SleepAwaiter{*this, seconds, nullptr}; }

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Monotonic seconds, for timing.
double monotime();

}  // namespace flux
