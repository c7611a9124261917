// flux relay PATH: join stdin and stdout to the broker socket PATH. The
// ssh:// connector runs it on the broker's machine.
#include <csignal>
#include <cstdio>

#include "cli.hpp"
#include "command.hpp"
#include "libflux/connector.hpp"
#include "splice.hpp"

namespace flux::cmd {

int cmd_relay(int argc, char** argv) {
  CLI::App app{"Relay stdin and stdout to a local broker socket (for the ssh connector)."};
  std::string path;
  app.add_option("PATH", path, "The broker's socket (local-N in its rundir)")->required();
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto fd = connect_stream("local://" + path);
  if (!fd) throw FluxError(fd.error());
  ::signal(SIGPIPE, SIG_IGN);  // a side that hangs up ends the relay, quietly
  Reactor r;
  // Runs until one side hangs up and what was read is written out.
  Splice splice(r, 0, 1, *fd, *fd, nullptr);
  r.run();
  return 0;
}

}  // namespace flux::cmd
