// Splice: carry bytes both ways between two streams on a Reactor, as a
// relay does (flux proxy's clients to their broker, flux relay's stdin and
// stdout to a local socket). The messages pass through unparsed: the
// broker's handshake byte and framing are the two ends' business.
#pragma once

#include <functional>
#include <memory>

#include "libflux/fd_io.hpp"

namespace flux::cmd {

class Splice {
 public:
  // Takes the fds (a_in may equal a_out, b_in may equal b_out: a socket).
  // on_done runs once, when either side has hung up or left more than
  // 64 MiB unread (memory stays bounded when a peer stops reading).
  Splice(Reactor& r, int a_in, int a_out, int b_in, int b_out, std::function<void()> on_done);
  ~Splice();
  Splice(const Splice&) = delete;
  Splice& operator=(const Splice&) = delete;

 private:
  std::unique_ptr<FdWriter> to_a_, to_b_;
  std::unique_ptr<FdReader> from_a_, from_b_;
  std::function<void()> on_done_;
  bool done_ = false;
  void finish();
  void drop();
};

}  // namespace flux::cmd
