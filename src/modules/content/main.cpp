// content: the content cache module (RFC 10), loaded on every rank.
// See README.md for its protocol.
#include <memory>
#include <string>
#include <vector>

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
flux::Task<ContentConfig> read_config(flux::Handle& h, std::vector<std::string> args) {
  using flux::modules::get_attr_async;
  ContentConfig cfg;
  cfg.rank = static_cast<uint32_t>(std::stoul((co_await get_attr_async(h, "rank")).value_or("0")));
  std::string hash = (co_await get_attr_async(h, "content.hash")).value_or("sha1");
  auto alg = flux::hash_alg_from_name(hash);
  if (!alg) throw flux::FluxError(EINVAL, "content.hash: " + alg.error().message);
  cfg.hash = *alg;
  if (auto v = co_await get_attr_async(h, "content.purge-target-size"))
    cfg.purge_target = parse_size("content.purge-target-size", *v);
  // flux-core's module options; purge-old-entry and flush-batch-limit are
  // checked and accepted (this cache purges by size and writes back at once).
  for (const auto& a : args) {
    size_t eq = a.find('=');
    std::string name = a.substr(0, eq), value = eq == std::string::npos ? "" : a.substr(eq + 1);
    if (name == "purge-target-size")
      cfg.purge_target = parse_size(name, value);
    else if (name == "blob-size-limit")
      cfg.blob_size_limit = std::min(parse_size(name, value), flux::content::kBlobSizeLimit);
    else if (name == "purge-old-entry" || name == "flush-batch-limit")
      (void)parse_size(name, value);
    else
      throw flux::FluxError(EINVAL, "unknown module option: " + a);
  }
  co_return cfg;
}

// The module's state between mod_start and mod_stop.
struct Content {
  explicit Content(flux::Handle& h) : log(h, "content") {}
  flux::modules::ModuleLog log;
  std::unique_ptr<flux::content::ContentService> service;
};

flux::Task<void> configure(flux::Handle& h, Content& c, std::vector<std::string> args) {
  int err = 0;
  try {
    ContentConfig cfg = co_await read_config(h, std::move(args));
    c.log.set_rank(cfg.rank);
    c.service = std::make_unique<flux::content::ContentService>(h, cfg, c.log);
    c.service->start();
  } catch (const flux::FluxError& e) {
    c.log.err(e.what());
    err = e.errnum();
  } catch (const std::exception& e) {
    c.log.err(e.what());
    err = EINVAL;
  }
  if (err)
    flux::module_failed(h, err);
  else
    flux::module_ready(h);
}

}  // namespace

// The content cache runs on the broker's thread (see libflux/module.hpp):
// every KVS commit passes through it several times.
extern "C" int mod_start(flux::Handle* h, int argc, char** argv, void** state) {
  flux::module_defer_ready(*h);
  auto* c = new Content(*h);
  *state = c;
  spawn(configure(*h, *c, std::vector<std::string>(argv + 1, argv + argc)));
  return 0;
}

extern "C" void mod_stop(flux::Handle* h, void* state) {
  auto* c = static_cast<Content*>(state);
  if (c->service) c->service->stop();
  delete c;
}
