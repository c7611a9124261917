#include "cli.hpp"

namespace flux::cmd {

int parse(CLI::App& app, int argc, char** argv) {
  app.name(argv[0]);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::printf("%s", app.help().c_str());
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
    return 1;
  }
  return -1;
}

int run_subcommand(CLI::App& app, const Registry& reg, int argc, char** argv) {
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  for (const auto& sub : reg)
    if (sub.app->parsed()) return sub.run();
  throw FluxError(EINVAL, "no subcommand given");
}

}  // namespace flux::cmd
