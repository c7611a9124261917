// flux version
#include <cstdlib>

#include "cli.hpp"
#include "command.hpp"
#include "libflux/version.hpp"

namespace flux::cmd {

int cmd_version(int argc, char** argv) {
  CLI::App app{"Print the version of flux and, inside an instance, of its broker."};
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  std::printf("commands:    \t\t%s\n", kFluxVersion);
  std::printf("libflux-core:\t\t%s\n", kFluxVersion);
  if (const char* uri = std::getenv("FLUX_URI"); uri && *uri) {
    auto h = open_instance();
    auto v = h->rpc("attr.get", {{"name", "version"}}).get_json().at("value").get<std::string>();
    std::printf("broker:      \t\t%s\n", v.c_str());
    std::printf("FLUX_URI:    \t\t%s\n", uri);
  }
  std::printf("build-options:\t\t+cpp\n");
  return 0;
}

}  // namespace flux::cmd
