// The Asio side of Reactor, for code that owns sockets or signal sets.
#pragma once

#include <asio.hpp>
#include <optional>

#include "reactor.hpp"

namespace flux {

struct Reactor::Impl {
  asio::io_context ctx{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
};

inline asio::io_context& io_context(Reactor& r) {
  return r.impl().ctx;
}

}  // namespace flux
