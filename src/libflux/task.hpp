// Task<T>: a lazily started coroutine whose result is awaited by another
// coroutine; spawn() runs one detached. Our own small type rather than
// asio::awaitable so that headers stay free of Asio (see doc/architecture.md).
#pragma once

#include <coroutine>
#include <cstdio>
#include <exception>
#include <optional>
#include <utility>

namespace flux {

namespace detail {

// Awaiting a task starts it inside await_suspend. A task that finishes
// before its first real suspension is noticed there, and the awaiting
// coroutine simply goes on (await_suspend returns false); only a task that
// finishes later resumes its awaiter from final_suspend. So a loop of
// awaits that complete at once runs in constant stack, whatever the
// optimizer does with symmetric transfer (at -O1 g++ makes no tail call of
// it, and such a loop overflowed the stack).
struct PromiseBase {
  std::coroutine_handle<> continuation;
  std::exception_ptr error;
  bool starting = false;       // inside the awaiter's await_suspend
  bool done_starting = false;  // reached final_suspend while starting

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      auto& p = h.promise();
      if (p.starting) {
        p.done_starting = true;
        return std::noop_coroutine();  // back to await_suspend's resume()
      }
      return p.continuation ? p.continuation : std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  std::suspend_always initial_suspend() noexcept { return {}; }
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() { error = std::current_exception(); }
};

template <class Promise>
class TaskBase {
 public:
  using Handle = std::coroutine_handle<Promise>;
  TaskBase(TaskBase&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  TaskBase& operator=(TaskBase&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  ~TaskBase() {
    if (h_) h_.destroy();
  }
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> c) noexcept {
    auto& p = h_.promise();
    p.continuation = c;
    p.starting = true;
    h_.resume();
    p.starting = false;
    return !p.done_starting;  // false: finished already, c goes on now
  }

 protected:
  explicit TaskBase(Handle h) : h_(h) {}
  void rethrow() const {
    if (h_.promise().error) std::rethrow_exception(h_.promise().error);
  }
  Handle h_;
};

}  // namespace detail

template <class T = void>
class [[nodiscard]] Task;

template <class T>
struct TaskPromise : detail::PromiseBase {
  std::optional<T> value;
  Task<T> get_return_object();
  template <class U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
};

template <>
struct TaskPromise<void> : detail::PromiseBase {
  Task<void> get_return_object();
  void return_void() {}
};

template <class T>
class [[nodiscard]] Task : public detail::TaskBase<TaskPromise<T>> {
 public:
  using promise_type = TaskPromise<T>;
  using Base = detail::TaskBase<promise_type>;
  explicit Task(typename Base::Handle h) : Base(h) {}
  T await_resume() {
    this->rethrow();
    return std::move(*this->h_.promise().value);
  }
};

template <>
class [[nodiscard]] Task<void> : public detail::TaskBase<TaskPromise<void>> {
 public:
  using promise_type = TaskPromise<void>;
  using Base = detail::TaskBase<promise_type>;
  explicit Task(Base::Handle h) : Base(h) {}
  void await_resume() { rethrow(); }
};

template <class T>
Task<T> TaskPromise<T>::get_return_object() {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() {
  return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}

namespace detail {
struct Detached {
  struct promise_type {
    Detached get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};
}  // namespace detail

// Start a task now and let it run to completion on its own. An exception
// that escapes it is reported on stderr: handlers turn errors into
// responses before that, so this is a last resort.
inline detail::Detached spawn(Task<void> t) {
  try {
    co_await std::move(t);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flux: unhandled exception in task: %s\n", e.what());
  }
}

}  // namespace flux
