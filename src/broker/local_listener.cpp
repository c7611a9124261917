#include "local_listener.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "libflux/asio_reactor.hpp"
#include "libflux/log_line.hpp"
#include "libflux/stream_channel.hpp"
#include "uuid.hpp"

namespace flux::broker {

namespace {

class ClientEndpoint : public Endpoint {
 public:
  ClientEndpoint(Reactor& r, int fd, std::string uuid)
      : Endpoint(std::move(uuid), "client", false), chan(r, fd) {}
  void deliver(Message&& m) override { chan.send(m); }
  StreamChannel chan;
};

}  // namespace

struct LocalListener::Impl {
  Impl(Reactor& r, Router& router, const std::string& path, uint32_t owner, AccessPolicy access)
      : reactor(r), router(router), acceptor(io_context(r)), owner(owner), access(access) {
    ::unlink(path.c_str());
    asio::local::stream_protocol::endpoint ep(path);
    acceptor.open(ep.protocol());
    acceptor.bind(ep);
    ::chmod(path.c_str(), 0777);
    acceptor.listen(128);
    // Not inherited by the initial program and other children.
    ::fcntl(acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
  }

  void accept_loop() {
    acceptor.async_accept(
        [this](const asio::error_code& ec, asio::local::stream_protocol::socket s) {
          if (ec == asio::error::operation_aborted) return;
          if (!ec) admit(std::move(s));
          accept_loop();
        });
  }

  void admit(asio::local::stream_protocol::socket s) {
    int fd = s.release();
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    ucred cred{};
    socklen_t len = sizeof(cred);
    unsigned char status = 0;
    uint32_t rolemask = role::kNone;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
      status = static_cast<unsigned char>(errno);
    } else {
      rolemask = role_of(cred.uid);
      if (rolemask == role::kNone) status = EPERM;
    }
    // The status byte fits in the socket buffer of a fresh connection.
    ssize_t n = ::send(fd, &status, 1, MSG_NOSIGNAL);
    if (status != 0 || n != 1) {
      if (router.log)
        router.log(kLogWarning, "refused local connection from uid " + std::to_string(cred.uid));
      ::close(fd);
      return;
    }
    auto ep = std::make_shared<ClientEndpoint>(reactor, fd, make_uuid());
    ep->userid = cred.uid;
    ep->rolemask = rolemask | role::kLocal;  // flux-core: accepted locally
    std::weak_ptr<ClientEndpoint> weak = ep;
    std::string id = ep->uuid();
    router.attach(ep);
    ep->chan.set_max_message_size(max_message);
    ep->chan.set_max_backlog(max_backlog);
    ep->chan.start(
        [this, weak](Message&& m) {
          if (auto e = weak.lock()) router.ingress(*e, std::move(m));
        },
        [this, id](const Error& e) {
          // A client that exits with responses still on their way (EPIPE)
          // or resets is ordinary; anything else is worth an error.
          if (router.log) {
            bool gone = e.errnum == ECONNRESET || e.errnum == EPIPE;
            router.log(gone ? kLogDebug : kLogErr, "client " + id.substr(0, 8) + ": " + e.message);
          }
          // Detach after this callback returns: the channel is still on the stack.
          reactor.post([this, id] { router.detach(id); });
        });
  }

  uint32_t role_of(uint32_t uid) const {
    if (uid == owner) return role::kOwner;
    if (uid == 0 && access.allow_root_owner) return role::kOwner;
    if (access.allow_guest_user) return role::kUser;
    return role::kNone;
  }

  Reactor& reactor;
  Router& router;
  asio::local::stream_protocol::acceptor acceptor;
  uint32_t owner;
  AccessPolicy access;
  size_t max_message = kMaxMessageSize;
  size_t max_backlog = SIZE_MAX;
};

LocalListener::LocalListener(Reactor& r, Router& router, std::string path, uint32_t owner,
                             AccessPolicy access, size_t max_message, size_t max_backlog)
    : impl_(std::make_unique<Impl>(r, router, path, owner, access)), path_(std::move(path)) {
  impl_->max_message = max_message;
  impl_->max_backlog = max_backlog;
  impl_->accept_loop();
}

LocalListener::~LocalListener() {
  asio::error_code ec;
  impl_->acceptor.close(ec);
  ::unlink(path_.c_str());
}

}  // namespace flux::broker
