#include "splice.hpp"

#include <unistd.h>

namespace flux::cmd {

namespace {
// A side that leaves this much unread is dropped, as the broker drops a
// client that does not read (its default broker.max-client-backlog).
constexpr size_t kMaxBacklog = size_t{64} << 20;

// Reader and writer each own their fd: a socket gets a second descriptor.
int own(int in, int out) {
  return in == out ? ::dup(out) : out;
}
}  // namespace

Splice::Splice(Reactor& r, int a_in, int a_out, int b_in, int b_out, std::function<void()> on_done)
    : on_done_(std::move(on_done)) {
  to_a_ = std::make_unique<FdWriter>(r, own(a_in, a_out));
  to_b_ = std::make_unique<FdWriter>(r, own(b_in, b_out));
  auto carry = [this](std::unique_ptr<FdWriter>& to) {
    return [this, &to](std::string_view d) {
      to->write(std::string(d));
      if (to->pending() > kMaxBacklog) drop();
    };
  };
  from_a_ = std::make_unique<FdReader>(r, a_in, carry(to_b_), [this] { finish(); });
  from_b_ = std::make_unique<FdReader>(r, b_in, carry(to_a_), [this] { finish(); });
}

Splice::~Splice() = default;

// A peer that stopped reading: close both sides now, dropping what waits.
void Splice::drop() {
  if (done_) return;
  done_ = true;
  from_a_.reset();
  from_b_.reset();
  to_a_.reset();  // not closed first: the destructor drops the queue
  to_b_.reset();
  if (on_done_) on_done_();
}

// One side hung up: stop reading; what was read is still written out, then
// both are closed, so the survivor sees EOF too.
void Splice::finish() {
  if (done_) return;
  done_ = true;
  from_a_.reset();  // safe from their own callbacks: they stop reading
  from_b_.reset();
  to_a_->close();
  to_b_->close();
  if (on_done_) on_done_();
}

}  // namespace flux::cmd
