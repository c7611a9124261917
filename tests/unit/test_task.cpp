// Task and spawn: results, exceptions, and a task resumed later by hand,
// with no reactor; and long loops of awaits that finish at once, which must
// run in constant stack at any optimization level.
#include <gtest/gtest.h>

#include <stdexcept>

#include "libflux/task.hpp"

namespace {

using flux::spawn;
using flux::Task;

Task<int> value(int v) {
  co_return v;
}

Task<int> sum_of_values(int n) {
  int total = 0;
  for (int i = 0; i < n; i++) total += co_await value(1);
  co_return total;
}

Task<void> thrower() {
  throw std::runtime_error("boom");
  co_return;
}

// An awaitable the test resumes by hand, standing for an RPC in flight.
struct Gate {
  std::coroutine_handle<> waiter;
  bool await_ready() const { return false; }
  void await_suspend(std::coroutine_handle<> h) { waiter = h; }
  void await_resume() {}
};

Task<int> after_gate(Gate& g, int v) {
  co_await g;
  co_return v;
}

TEST(Task, ValueAndException) {
  int got = 0;
  bool caught = false;
  spawn([](int& got, bool& caught) -> Task<void> {
    got = co_await value(7);
    try {
      co_await thrower();
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()) == "boom";
    }
  }(got, caught));
  EXPECT_EQ(got, 7);
  EXPECT_TRUE(caught);
}

// Three million awaits in one loop: with the stack growing per await (as
// symmetric transfer does without a tail call) this overflows 8 MB.
TEST(Task, LongLoopOfImmediateAwaitsRunsInConstantStack) {
  int got = 0;
  spawn([](int& got) -> Task<void> { got = co_await sum_of_values(3'000'000); }(got));
  EXPECT_EQ(got, 3'000'000);
}

TEST(Task, SuspendedTaskResumesItsAwaiterLater) {
  Gate gate;
  int got = 0;
  spawn([](Gate& gate, int& got) -> Task<void> {
    got = co_await after_gate(gate, 5);
    got += co_await value(1);  // and immediate ones still work after it
  }(gate, got));
  EXPECT_EQ(got, 0);
  ASSERT_TRUE(gate.waiter);
  gate.waiter.resume();
  EXPECT_EQ(got, 6);
}

}  // namespace
