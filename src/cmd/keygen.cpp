// flux keygen: generate the CURVE certificate that secures a system
// instance's overlay network (flux-keygen(1)).
#include <unistd.h>

#include <ctime>

#include "cli.hpp"
#include "command.hpp"
#include "libflux/curve_cert.hpp"
#include "libflux/version.hpp"

namespace flux::cmd {

namespace {

std::string local_hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) < 0)
    throw FluxError(errno, std::string("gethostname: ") + std::strerror(errno));
  return buf;
}

std::string now_iso8601() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  char buf[64] = {};
  if (!localtime_r(&now, &tm) || std::strftime(buf, sizeof buf, "%Y-%m-%dT%T", &tm) == 0)
    throw FluxError(EINVAL, "cannot format the current time");
  return buf;
}

}  // namespace

int cmd_keygen(int argc, char** argv) {
  CLI::App app{"Generate a CURVE certificate for the overlay network of a system instance."};
  std::string name;
  std::vector<std::string> meta;
  std::string path;
  app.add_option("-n,--name", name, "Set certificate name (default: hostname)");
  app.add_option("--meta", meta, "Add comma-separated KEY=VAL metadata")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->take_all();
  app.add_option("PATH", path, "Where to write the certificate");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;

  CurveCert cert = CurveCert::generate();
  // The first value given for a key wins: --name, then --meta in order,
  // then the defaults below.
  auto set = [&](const std::string& key, const std::string& value) {
    if (key.empty()) throw FluxError(EINVAL, "certificate metadata key may not be empty");
    cert.metadata.emplace(key, value);
  };
  if (!app.get_option("--name")->empty()) set("name", name);
  for (const auto& kv : meta) {
    auto eq = kv.find('=');
    set(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
  }
  std::string host = local_hostname();
  set("name", host);  // brokers log it when a peer authenticates
  set("keygen.hostname", host);
  set("keygen.time", now_iso8601());
  set("keygen.userid", std::to_string(getuid()));
  set("keygen.flux-core-version", kFluxVersion);
  set("keygen.zmq-version", curve_zmq_version());

  if (path.empty()) {
    std::fprintf(stderr, "%s: WARNING: add PATH argument to save generated certificate\n", argv[0]);
    (void)cert.encode();  // still report metadata it could not have saved
    return 0;
  }
  cert.save(path);
  return 0;
}

}  // namespace flux::cmd
