#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "connector.hpp"
#include "stream_channel.hpp"

namespace flux {
namespace {

class LocalConnector : public Connector {
 public:
  LocalConnector(Reactor& r, int fd) : chan_(r, fd) {}
  void start(OnMessage on_message, OnLost on_lost) override {
    chan_.start(std::move(on_message), std::move(on_lost));
  }
  void send(Message&& m) override { chan_.send(m); }

 private:
  StreamChannel chan_;
};

}  // namespace

namespace {

Result<int> connect_socket(const std::string& uri) {
  std::string path = uri;
  if (path.rfind("local://", 0) == 0) {
    path = path.substr(8);
  } else if (path.find("://") != std::string::npos) {
    return Error{EINVAL, "unsupported URI scheme: " + uri};
  }
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path))
    return Error{EINVAL, "bad socket path in URI: " + uri};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{errno, std::string("socket: ") + std::strerror(errno)};
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
    int e = errno;
    ::close(fd);
    return Error{e, "cannot connect to " + path + ": " + std::strerror(e)};
  }
  return fd;
}

}  // namespace

Result<std::unique_ptr<Connector>> connect_local(Reactor& r, const std::string& uri) {
  auto fd = connect_socket(uri);
  if (!fd) return fd.error();
  auto ok = read_handshake(*fd);
  if (!ok) return ok.error();
  return connect_fd(r, *fd);
}

Result<int> connect_stream(const std::string& uri) {
  if (uri.rfind("ssh://", 0) == 0) return spawn_ssh_relay(uri);
  return connect_socket(uri);
}

Result<int> read_handshake(int fd) {
  unsigned char status = 0;
  ssize_t n;
  do {
    n = ::read(fd, &status, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) {
    ::close(fd);
    return Error{ECONNRESET, "broker closed the connection during the handshake"};
  }
  if (status != 0) {
    ::close(fd);
    return Error{status, std::string("broker refused the connection: ") + std::strerror(status)};
  }
  return fd;
}

Result<std::unique_ptr<Connector>> connect_uri(Reactor& r, const std::string& uri) {
  if (uri.rfind("ssh://", 0) == 0) return connect_ssh(r, uri);
  return connect_local(r, uri);
}

std::unique_ptr<Connector> connect_fd(Reactor& r, int fd) {
  return std::make_unique<LocalConnector>(r, fd);
}

}  // namespace flux
