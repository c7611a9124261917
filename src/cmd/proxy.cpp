// flux proxy TARGET [COMMAND...]: run COMMAND (default: $SHELL) connected
// to another instance, a job's (by id) or any URI's (local://, ssh://).
// COMMAND's FLUX_URI is a socket of ours; each client that connects to it
// (only our own user may) is relayed to the instance on a connection of
// its own, so the instance sees our credentials, as flux-core's proxy.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>

#include "cli.hpp"
#include "command.hpp"
#include "instance_uri.hpp"
#include "libflux/asio_reactor.hpp"
#include "libflux/child_reaper.hpp"
#include "libflux/connector.hpp"
#include "splice.hpp"

namespace flux::cmd {

namespace {

using asio::local::stream_protocol;

class Relay {
 public:
  Relay(Reactor& r, std::string upstream, const std::string& path)
      : r_(r),
        upstream_(std::move(upstream)),
        acceptor_(io_context(r), stream_protocol::endpoint(path)) {
    accept();
  }

 private:
  void accept() {
    acceptor_.async_accept([this](const asio::error_code& ec, stream_protocol::socket s) {
      if (ec) return;  // closed
      take(s.release());
      accept();
    });
  }

  // A client of the same user gets its own stream to the instance, whose
  // handshake byte answers the client's; others are refused (EPERM).
  void take(int fd) {
    ucred cred{};
    socklen_t len = sizeof(cred);
    unsigned char refuse = 0;
    Result<int> up = Error{};
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != ::getuid()) {
      refuse = EPERM;
    } else if (up = connect_stream(upstream_); !up) {
      refuse = static_cast<unsigned char>(up.error().errnum ? up.error().errnum : ECONNREFUSED);
    }
    if (refuse) {
      ssize_t n = ::write(fd, &refuse, 1);
      (void)n;
      ::close(fd);
      return;
    }
    int key = next_++;
    clients_[key] = std::make_unique<Splice>(
        r_, fd, fd, *up, *up, [this, key] { r_.post([this, key] { clients_.erase(key); }); });
  }

  Reactor& r_;
  std::string upstream_;
  stream_protocol::acceptor acceptor_;
  std::map<int, std::unique_ptr<Splice>> clients_;
  int next_ = 0;
};

}  // namespace

int cmd_proxy(int argc, char** argv) {
  CLI::App app{"Run a command (default: a shell) connected to another Flux instance."};
  std::string target;
  bool force = false, nohup = false;
  app.add_flag("-f,--force", force, "Accepted for flux-core compatibility");
  app.add_flag("-n,--nohup", nohup, "Do not send SIGHUP to the command if the connection is lost");
  app.add_option("TARGET", target, "A job id (of a Flux instance) or a URI")->required();
  app.prefix_command();
  app.footer("[COMMAND [ARGS...]] follows TARGET.");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  std::vector<std::string> command = app.remaining();
  if (!command.empty() && command[0] == "--") command.erase(command.begin());
  if (command.empty()) {
    const char* sh = std::getenv("SHELL");
    command = {sh && *sh ? sh : "/bin/sh"};
  }
  std::string uri = resolve_instance_uri(target);

  Reactor r;
  // Our own connection: it tells us when the instance goes away.
  auto watch = connect_uri(r, uri);
  if (!watch) throw FluxError(watch.error().errnum, uri + ": " + watch.error().message);

  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/flux-proxy-XXXXXX";
  if (!::mkdtemp(dir.data())) throw FluxError(errno, dir + ": " + std::strerror(errno));
  struct RemoveDir {
    std::string d;
    ~RemoveDir() {
      std::error_code ec;
      std::filesystem::remove_all(d, ec);
    }
  } remove_dir{dir};
  std::string sock = dir + "/local";
  Relay relay(r, uri, sock);

  ChildReaper reaper(r);
  pid_t pid = ::fork();
  if (pid < 0) throw FluxError(errno, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::setenv("FLUX_URI", ("local://" + sock).c_str(), 1);
    ::setenv("FLUX_PROXY_REMOTE", uri.c_str(), 1);
    std::vector<char*> args;
    for (auto& a : command) args.push_back(a.data());
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "flux-proxy: %s: %s\n", args[0], std::strerror(errno));
    ::_exit(errno == ENOENT ? 127 : 126);
  }
  // A client that hangs up while we write to it is its business, not a
  // signal that ends us (the command keeps the default).
  ::signal(SIGPIPE, SIG_IGN);
  int rc = 0;
  reaper.watch(pid, [&](int status) {
    rc = exit_code_of(status);
    r.stop();
  });
  (*watch)->start([](Message&&) {},
                  [&](const Error&) {
                    std::fprintf(stderr, "flux-proxy: Lost connection to Flux\n");
                    if (!nohup) {
                      std::fprintf(stderr, "flux-proxy: Sending SIGHUP to child processes\n");
                      ::kill(pid, SIGHUP);
                    }
                  });
  r.keep_alive(true);
  r.run();
  return rc;
}

}  // namespace flux::cmd
