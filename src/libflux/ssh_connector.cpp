// The ssh:// connector: a broker on another machine, through `flux relay`
// run there by ssh (or FLUX_SSH: tests use a stand-in that runs it here).
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "connector.hpp"

namespace flux {

Result<int> spawn_ssh_relay(const std::string& uri) {
  std::string rest = uri.substr(6);  // after ssh://
  size_t slash = rest.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == rest.size())
    return Error{EINVAL, "ssh URI must be ssh://[USER@]HOST[:PORT]/PATH: " + uri};
  std::string host = rest.substr(0, slash), path = rest.substr(slash);
  std::string port;
  if (size_t colon = host.rfind(':'); colon != std::string::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  const char* ssh = std::getenv("FLUX_SSH");
  const char* rcmd = std::getenv("FLUX_SSH_RCMD");
  std::vector<std::string> argv = {ssh && *ssh ? ssh : "ssh"};
  if (!port.empty()) argv.insert(argv.end(), {"-p", port});
  argv.insert(argv.end(), {host, rcmd && *rcmd ? rcmd : "flux", "relay", path});

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return Error{errno, std::string("socketpair: ") + std::strerror(errno)};
  // Run ssh as a grandchild, so that nobody has to reap it: it ends when
  // the connection is closed.
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(sv[0]);
    ::close(sv[1]);
    return Error{e, std::string("fork: ") + std::strerror(e)};
  }
  if (pid == 0) {
    if (::fork() != 0) ::_exit(0);
    ::dup2(sv[1], 0);
    ::dup2(sv[1], 1);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "flux: %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(sv[1]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return sv[0];
}

Result<std::unique_ptr<Connector>> connect_ssh(Reactor& r, const std::string& uri) {
  auto stream = spawn_ssh_relay(uri);
  if (!stream) return stream.error();
  auto fd = read_handshake(*stream);
  if (!fd) return Error{fd.error().errnum, "ssh connector: " + uri + ": " + fd.error().message};
  return connect_fd(r, *fd);
}

}  // namespace flux
