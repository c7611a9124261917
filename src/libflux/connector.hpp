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
// Connect to `ssh://[USER@]HOST[:PORT]/PATH`: run `$FLUX_SSH (default ssh)
// [-p PORT] [USER@]HOST $FLUX_SSH_RCMD (default flux) relay PATH` and speak
// over its stdin and stdout, which `flux relay` joins to the socket there.
Result<std::unique_ptr<Connector>> connect_ssh(Reactor& r, const std::string& uri);
// The ssh process of connect_ssh, its stdin and stdout as one socket.
Result<int> spawn_ssh_relay(const std::string& uri);
// local:// (or a bare path) or ssh://, by the URI's scheme.
Result<std::unique_ptr<Connector>> connect_uri(Reactor& r, const std::string& uri);
// Read the broker's handshake byte from fd; on failure fd is closed.
Result<int> read_handshake(int fd);
// A stream to the broker at uri (local:// or ssh://) before the handshake
// byte is read: what a relay (flux proxy, flux relay) passes on as it is.
Result<int> connect_stream(const std::string& uri);

}  // namespace flux
