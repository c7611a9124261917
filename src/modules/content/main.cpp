// content: the content cache module (RFC 10), loaded on every rank.
// See README.md for its protocol.
#include <string>

#include "content_service.hpp"
#include "libflux/module.hpp"
#include "modules/common/attr.hpp"

namespace {

using flux::content::ContentConfig;

// A byte count, all digits.
size_t parse_size(const std::string& what, const std::string& s) {
  size_t used = 0;
  unsigned long long n = 0;
  try {
    n = std::stoull(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != s.size() || s[0] == '-')
    throw flux::FluxError(EINVAL, what + ": not a byte count: " + s);
  return static_cast<size_t>(n);
}

// Configuration from broker attributes, then module arguments
// (purge-target-size=BYTES); throws FluxError if one is bad.
ContentConfig read_config(flux::Handle& h, int argc, char** argv) {
  ContentConfig cfg;
  cfg.rank = static_cast<uint32_t>(std::stoul(flux::modules::get_attr(h, "rank").value_or("0")));
  std::string hash = flux::modules::get_attr(h, "content.hash").value_or("sha1");
  auto alg = flux::hash_alg_from_name(hash);
  if (!alg) throw flux::FluxError(EINVAL, "content.hash: " + alg.error().message);
  cfg.hash = *alg;
  if (auto v = flux::modules::get_attr(h, "content.purge-target-size"))
    cfg.purge_target = parse_size("content.purge-target-size", *v);
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a.rfind("purge-target-size=", 0) != 0)
      throw flux::FluxError(EINVAL, "bad argument: " + a + " (expected purge-target-size=BYTES)");
    cfg.purge_target = parse_size("purge-target-size", a.substr(18));
  }
  return cfg;
}

}  // namespace

extern "C" int mod_main(flux::Handle* h, int argc, char** argv) {
  // Ready (module.load answers) once configured and serving.
  flux::module_defer_ready(*h);
  flux::modules::ModuleLog log(*h, "content");
  ContentConfig cfg;
  try {
    cfg = read_config(*h, argc, argv);
  } catch (const std::exception& e) {
    log.err(e.what());
    return EINVAL;
  }
  log.set_rank(cfg.rank);
  flux::content::ContentService service(*h, cfg, log);
  service.start();
  flux::module_ready(*h);
  h->reactor().run();
  service.stop();
  return 0;
}
