// Connector: how a Handle reaches its broker. The local connector speaks over
// a UNIX socket; a module's connector posts messages between threads.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "message.hpp"
#include "reactor.hpp"

namespace flux {

class Connector {
 public:
  using OnMessage = std::function<void(Message&&)>;
  using OnLost = std::function<void(const Error&)>;
  virtual ~Connector() = default;
  // Begin delivering messages from the broker (on the handle's reactor).
  virtual void start(OnMessage on_message, OnLost on_lost) = 0;
  virtual void send(Message&& m) = 0;
};

// Connect to `local://PATH` (or a bare path): connect, read the broker's
// handshake byte, then speak framed messages.
Result<std::unique_ptr<Connector>> connect_local(Reactor& r, const std::string& uri);
// A connector over an already connected stream socket (handshake done).
std::unique_ptr<Connector> connect_fd(Reactor& r, int fd);

}  // namespace flux
