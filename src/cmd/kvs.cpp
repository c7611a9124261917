// flux kvs: the KVS from the command line. This file parses and dispatches
// and holds the helpers the subcommands share; the subcommands live in
// kvs_get_put.cpp, kvs_dir.cpp, kvs_ls.cpp, kvs_edit.cpp, kvs_root.cpp and
// kvs_eventlog.cpp.
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>

#include "command.hpp"
#include "kvs_common.hpp"
#include "libflux/treeobj.hpp"

namespace flux::cmd {
namespace kvscmd {

void add_namespace_option(CLI::App* app, std::string& ns) {
  app->add_option("-N,--namespace", ns, "KVS namespace (default: FLUX_KVS_NAMESPACE or primary)");
}

std::string error_text(const FluxError& e) {
  switch (e.errnum()) {
    case ENOENT:
    case EISDIR:
    case ENOTDIR:
    case ENOTEMPTY:
    case ELOOP:
    case EPERM:
    case ENOSYS:
    case ETIMEDOUT:
      return std::strerror(e.errnum());
    default:
      return e.what();
  }
}

void fail(const std::string& what, const FluxError& e) {
  throw FluxError(e.errnum(), what + ": " + error_text(e));
}

Message lookup_or_fail(Handle& h, const std::string& key, int flags, const std::string& ns,
                       const std::string& rootref) {
  try {
    return kvs::lookup(h, key, flags, ns, rootref).get();
  } catch (const FluxError& e) {
    fail(key, e);
  }
}

Json read_dir(Handle& h, const std::string& key, const std::string& ns,
              const std::string& rootref) {
  try {
    return kvs::lookup_dir(kvs::lookup(h, key, kvs::kReaddir, ns, rootref).get());
  } catch (const FluxError& e) {
    fail(key, e);
  }
}

int window_width(int opt_width) {
  if (opt_width >= 0) return opt_width;
  winsize w{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0) return w.ws_col;
  if (const char* s = std::getenv("COLUMNS")) {
    char* end = nullptr;
    long v = std::strtol(s, &end, 10);
    if (end != s && v >= 0) return static_cast<int>(v);
  }
  return 80;
}

bool is_dir_entry(const Json& obj) {
  return treeobj::is_dir(obj) || treeobj::is_dirref(obj);
}

std::string rootref_from_at(const std::string& at) {
  if (treeobj::is_blobref(at)) return at;
  auto obj = treeobj::decode(at);
  if (!obj || !treeobj::is_dirref(*obj))
    throw FluxError(EINVAL, "--at: expected an RFC 11 dirref object or a blobref: " + at);
  return (*obj)["data"][0].get<std::string>();
}

std::string key_at(const std::string& dir, const std::string& name) {
  return dir == "." ? name : dir + "." + name;
}

std::string read_stdin() {
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

std::string_view c_string(std::string_view bytes) {
  return bytes.substr(0, bytes.find('\0'));
}

void cancel_watch(Handle& h, const Rpc& rpc) {
  h.rpc("kvs-watch.cancel", {{"matchtag", rpc.matchtag()}}, kNodeidAny, msgflag::kNoResponse);
}

void drain(Rpc& rpc) {
  try {
    while (rpc.next()) {
    }
  } catch (const FluxError&) {
    // The stream ended with an error after we stopped caring: nothing to do.
  }
}

Message wait_create(Handle& h, const std::string& key, int flags, const std::string& ns) {
  Rpc rpc = kvs::lookup_watch(h, key, flags | kvs::kWaitCreate, ns);
  std::optional<Message> m;
  try {
    m = rpc.next();
  } catch (const FluxError& e) {
    fail(key, e);
  }
  if (!m) throw FluxError(ENODATA, key + ": watch ended before the key was created");
  cancel_watch(h, rpc);
  drain(rpc);
  return *m;
}

void CommitOutput::add_options(CLI::App* app) {
  auto* o = app->add_flag("-O,--treeobj-root", treeobj_root,
                          "Print the new root as an RFC 11 dirref object");
  auto* b = app->add_flag("-b,--blobref", blobref, "Print the new root's blobref");
  auto* s = app->add_flag("-s,--sequence", sequence, "Print the new root's sequence number");
  o->excludes(b)->excludes(s);
  b->excludes(s);
}

void CommitOutput::print(const Json& resp) const {
  if (treeobj_root)
    std::printf(
        "%s\n",
        treeobj::encode(treeobj::make_dirref(resp.at("rootref").get<std::string>())).c_str());
  else if (blobref)
    std::printf("%s\n", resp.at("rootref").get<std::string>().c_str());
  else if (sequence)
    std::printf("%d\n", resp.at("rootseq").get<int>());
}

Json commit_or_fail(Handle& h, const kvs::Txn& txn, int flags, const std::string& ns) {
  try {
    return kvs::commit(h, txn, flags, ns).get_json();
  } catch (const FluxError& e) {
    fail("commit", e);
  }
}

}  // namespace kvscmd

int cmd_kvs(int argc, char** argv) {
  CLI::App app{"Operate on the Flux key-value store (KVS)."};
  app.require_subcommand(1);
  Registry reg;
  kvscmd::add_get_put(app, reg);
  kvscmd::add_dir(app, reg);
  kvscmd::add_ls(app, reg);
  kvscmd::add_edit(app, reg);
  kvscmd::add_root(app, reg);
  kvscmd::add_namespace(app, reg);
  kvscmd::add_eventlog(app, reg);
  return run_subcommand(app, reg, argc, argv);
}

}  // namespace flux::cmd
