#include "stream_channel.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "asio_reactor.hpp"

namespace flux {

using Socket = asio::local::stream_protocol::socket;

struct StreamChannel::Impl : std::enable_shared_from_this<StreamChannel::Impl> {
  Impl(asio::io_context& ctx, int fd) : sock(ctx, asio::local::stream_protocol(), fd) {}

  Socket sock;
  FrameReader reader;
  std::string outbuf;    // bytes waiting for the socket
  std::string inflight;  // bytes handed to async_write
  bool writing = false;
  bool closed = false;
  size_t max_backlog = SIZE_MAX;
  OnMessage on_message;
  OnClose on_close;
  char rbuf[65536];

  void fail(const Error& e) {
    if (closed) return;
    closed = true;
    asio::error_code ec;
    sock.close(ec);
    if (on_close) {
      auto cb = std::move(on_close);
      cb(e);
    }
  }

  void read_loop() {
    sock.async_read_some(asio::buffer(rbuf), [self = shared_from_this()](const asio::error_code& ec,
                                                                         size_t n) {
      if (self->closed) return;
      if (ec) {
        self->fail(Error{ECONNRESET, ec == asio::error::eof ? "connection closed" : ec.message()});
        return;
      }
      self->reader.feed(self->rbuf, n);
      while (!self->closed && self->reader.has_message()) {
        auto r = self->reader.next();
        if (!r) {
          self->fail(r.error());
          return;
        }
        self->on_message(std::move(*r));
      }
      if (!self->closed) self->read_loop();
    });
  }

  void flush() {
    if (writing || closed || outbuf.empty()) return;
    // Try the socket directly first: most messages go out without a turn of
    // the event loop.
    ssize_t n =
        ::send(sock.native_handle(), outbuf.data(), outbuf.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      fail(Error{errno, std::strerror(errno)});
      return;
    }
    if (n > 0) outbuf.erase(0, static_cast<size_t>(n));
    if (outbuf.empty()) return;
    writing = true;
    inflight.swap(outbuf);
    asio::async_write(sock, asio::buffer(inflight),
                      [self = shared_from_this()](const asio::error_code& ec, size_t) {
                        self->writing = false;
                        self->inflight.clear();
                        if (ec) {
                          self->fail(Error{ECONNRESET, ec.message()});
                          return;
                        }
                        self->flush();
                      });
  }
};

StreamChannel::StreamChannel(Reactor& r, int fd)
    : impl_(std::make_shared<Impl>(io_context(r), fd)) {}

StreamChannel::~StreamChannel() {
  close();
}

void StreamChannel::start(OnMessage on_message, OnClose on_close) {
  impl_->on_message = std::move(on_message);
  impl_->on_close = std::move(on_close);
  impl_->read_loop();
}

void StreamChannel::send(const Message& m) {
  if (impl_->closed) return;
  size_t unread = impl_->outbuf.size() + impl_->inflight.size();
  if (unread > impl_->max_backlog) {
    impl_->fail(Error{ENOBUFS, "the peer leaves " + std::to_string(unread) +
                                   " bytes unread (over the limit of " +
                                   std::to_string(impl_->max_backlog) + ")"});
    return;
  }
  m.frame_to(impl_->outbuf);
  impl_->flush();
}

void StreamChannel::set_max_message_size(size_t n) {
  impl_->reader.set_max_size(n);
}

void StreamChannel::set_max_backlog(size_t n) {
  impl_->max_backlog = n;
}

void StreamChannel::close() {
  if (impl_->closed) return;
  impl_->closed = true;
  impl_->on_close = nullptr;
  impl_->on_message = nullptr;
  asio::error_code ec;
  impl_->sock.close(ec);
}

int StreamChannel::fd() const {
  return impl_->sock.native_handle();
}

}  // namespace flux
