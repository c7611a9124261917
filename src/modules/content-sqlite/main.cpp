// content-sqlite: the content backing store (RFC 10) on rank 0, in SQLite.
// See README.md for its protocol and durability contract.
#include <filesystem>
#include <memory>
#include <string>

#include "backing_service.hpp"
#include "libflux/module.hpp"
#include "modules/common/attr.hpp"

namespace {

namespace fs = std::filesystem;
using flux::FluxError;
using flux::modules::get_attr;

constexpr const char* kDbName = "content.sqlite";

// <statedir>/content.sqlite, kept across restarts; without a statedir,
// <rundir>/content.sqlite, which goes away with the instance.
std::string database_path(flux::Handle& h) {
  if (auto statedir = get_attr(h, "statedir")) {
    std::error_code ec;
    // Only the owner may read the instance's state (a new directory is 0700).
    if (fs::create_directories(*statedir, ec))
      fs::permissions(*statedir, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (ec) throw FluxError(ec.value(), "statedir " + *statedir + ": " + ec.message());
    return *statedir + "/" + kDbName;
  }
  auto rundir = get_attr(h, "rundir");
  if (!rundir) throw FluxError(EINVAL, "neither statedir nor rundir is set");
  return *rundir + "/" + kDbName;
}

struct Setup {
  flux::HashAlg hash = flux::HashAlg::Sha1;
  double commit_delay = flux::content_sqlite::kDefaultCommitDelay;
  std::unique_ptr<flux::content_sqlite::Database> db;
};

// Module arguments: commit-delay=SECONDS.
void parse_args(Setup& s, int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a.rfind("commit-delay=", 0) == 0) {
      try {
        size_t used = 0;
        s.commit_delay = std::stod(a.substr(13), &used);
        if (used == a.size() - 13 && s.commit_delay >= 0) continue;
      } catch (const std::exception&) {
      }
    }
    throw FluxError(EINVAL, "bad argument: " + a + " (expected commit-delay=SECONDS)");
  }
}

Setup setup(flux::Handle& h, int argc, char** argv) {
  Setup s;
  parse_args(s, argc, argv);
  if (get_attr(h, "rank").value_or("0") != "0")
    throw FluxError(EINVAL, "content-sqlite can only be loaded on rank 0");
  auto alg = flux::hash_alg_from_name(get_attr(h, "content.hash").value_or("sha1"));
  if (!alg) throw FluxError(EINVAL, "content.hash: " + alg.error().message);
  s.hash = *alg;
  s.db = std::make_unique<flux::content_sqlite::Database>(database_path(h));
  return s;
}

}  // namespace

extern "C" int mod_main(flux::Handle* h, int argc, char** argv) {
  // Ready (module.load answers) once registered with the content module.
  flux::module_defer_ready(*h);
  flux::modules::ModuleLog log(*h, "content-sqlite");
  Setup s;
  try {
    s = setup(*h, argc, argv);
  } catch (const FluxError& e) {
    log.err(e.what());
    return e.errnum() > 0 && e.errnum() < 256 ? e.errnum() : EINVAL;
  } catch (const std::exception& e) {
    log.err(e.what());
    return EINVAL;
  }
  log.debug("database " + s.db->path());
  flux::content_sqlite::BackingService service(*h, *s.db, s.hash, log, s.commit_delay);
  service.add_handlers();
  try {
    h->service_add("content-backing").get();
  } catch (const FluxError& e) {
    log.err(std::string("service.add content-backing: ") + e.what());
    return e.errnum() > 0 && e.errnum() < 256 ? e.errnum() : EINVAL;
  }
  try {
    h->rpc("content.register-backing", {{"name", "content-sqlite"}}).get();
  } catch (const FluxError& e) {
    // Without the content module yet: it asks for us when it loads.
    if (e.errnum() != ENOSYS) log.err(std::string("content.register-backing: ") + e.what());
  }

  flux::module_ready(*h);
  h->reactor().run();

  // Unloading. Tell the content module first, and keep serving until it
  // answers: every write-back it sent before that has then arrived here and
  // goes into the last commit.
  try {
    h->rpc("content.unregister-backing").timeout(10.0).get();
  } catch (const FluxError&) {
  }
  service.commit();
  return 0;
}
