// flux shutdown [TARGET]: ask the broker (or the instance TARGET names, as
// flux proxy takes it) to stop, and wait until rc3 has run.
#include "cli.hpp"
#include "command.hpp"
#include "instance_uri.hpp"

namespace flux::cmd {

int cmd_shutdown(int argc, char** argv) {
  CLI::App app{"Shut down the Flux instance."};
  bool background = false, quiet = false, verbose = false;
  app.add_flag("--background", background, "Do not wait for the shutdown to finish");
  app.add_flag("-q,--quiet", quiet, "Show less");
  app.add_flag("-v,--verbose", verbose, "Show more");
  std::string target;
  app.add_option("TARGET", target, "An instance to shut down: a URI or a job id (path)");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto h = target.empty() ? open_instance() : Handle::open(resolve_instance_uri(target));
  int loglevel = quiet ? 4 : verbose ? 7 : 6;
  // The instance shuts down from rank 0, whichever broker we talk to.
  auto rpc = h->rpc("shutdown.start", {{"loglevel", loglevel}}, 0,
                    background ? 0 : msgflag::kStreaming);
  if (background) {
    rpc.get();
    return 0;
  }
  try {
    while (auto m = rpc.next()) {
      auto j = m->json();
      if (j && j->contains("log"))
        std::fprintf(stderr, "%s", (*j)["log"].get<std::string>().c_str());
    }
  } catch (const FluxError& e) {
    // Asked through a broker other than rank 0, which leaves (leaves first)
    // before rank 0 has finished: its going is the shutdown under way.
    if (e.errnum() != ECONNRESET) throw;
  }
  return 0;
}

}  // namespace flux::cmd
