// StreamChannel: Flux messages over a connected UNIX stream socket, in the
// local connector's framing. Used by both ends: the client connector and the
// broker's per-client endpoint.
#pragma once

#include <functional>
#include <memory>

#include "message.hpp"
#include "reactor.hpp"

namespace flux {

class StreamChannel {
 public:
  using OnMessage = std::function<void(Message&&)>;
  // Called once when the peer hangs up or sends something unreadable.
  using OnClose = std::function<void(const Error&)>;

  // Takes ownership of fd, which must be connected (and past the handshake).
  StreamChannel(Reactor& r, int fd);
  ~StreamChannel();
  void start(OnMessage on_message, OnClose on_close);
  void send(const Message& m);
  void close();
  // Incoming messages larger than n bytes close the channel (with an error).
  void set_max_message_size(size_t n);
  // A peer that leaves more than n bytes unread when another message is
  // sent is disconnected (ENOBUFS): one more message always fits.
  void set_max_backlog(size_t n);
  int fd() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace flux
