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

}  // namespace flux::cmd
