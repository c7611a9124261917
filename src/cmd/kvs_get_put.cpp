// flux kvs get | put
#include <memory>
#include <optional>

#include "kvs_common.hpp"
#include "libflux/treeobj.hpp"

namespace flux::cmd::kvscmd {
namespace {

struct GetOptions {
  std::string ns;
  bool raw = false;
  bool treeobj = false;
  std::string at;
  bool label = false;
  bool waitcreate = false;
  bool watch = false;
  int count = 0;
  bool uniq = false;
  bool append = false;
  bool full = false;
  std::vector<std::string> keys;
};

// One value in the chosen form: the treeobj, the raw bytes, or the value as
// a C string plus a newline (nothing at all when it is empty), as flux-core.
// Throws EISDIR for a directory (unless --treeobj).
void print_value(const std::string& key, const Message& m, const GetOptions& o) {
  std::string text;
  if (o.treeobj) {
    text = treeobj::encode(kvs::lookup_treeobj(m)) + "\n";
  } else if (o.raw) {
    text = kvs::lookup_value(m);
  } else {
    std::string v = kvs::lookup_value(m);
    if (!v.empty()) text = std::string(c_string(v)) + "\n";
  }
  if (o.label) std::printf("%s=", key.c_str());
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

int lookup_flags(const GetOptions& o) {
  int flags = o.treeobj ? kvs::kTreeobj : 0;
  if (o.watch) {
    if (o.full) flags |= kvs::kWatchFull;
    if (o.uniq) flags |= kvs::kWatchUniq;
    if (o.append) flags |= kvs::kWatchAppend;
  }
  if (o.waitcreate) flags |= kvs::kWaitCreate;
  return flags;
}

// Shared by the watch tasks: how many are still going, and the first error.
struct WatchState {
  int active = 0;
  std::optional<FluxError> error;
};

// Print one key's values until --count of them (then cancel and read up to
// the end of the stream) or until the stream ends.
Task<void> watch_one(Handle& h, Rpc rpc, std::string key, const GetOptions& o, WatchState& st) {
  int shown = 0;
  try {
    while (auto m = co_await rpc.next_async()) {
      if (o.count > 0 && shown >= o.count) continue;  // in flight before the cancel
      print_value(key, *m, o);
      if (o.count > 0 && ++shown == o.count) cancel_watch(h, rpc);
    }
  } catch (const FluxError& e) {
    if (!st.error) st.error = FluxError(e.errnum(), key + ": " + error_text(e));
  }
  st.active--;
}

int run_get(const GetOptions& o) {
  WatchState st;  // before h: watch tasks may still refer to it while h closes
  auto h = open_instance();
  std::string rootref = o.at.empty() ? "" : rootref_from_at(o.at);
  int flags = lookup_flags(o);
  if (!o.watch) {
    // One key at a time, so values come out in command line order.
    for (const auto& key : o.keys) {
      Message m = o.waitcreate ? wait_create(*h, key, flags, o.ns)
                               : lookup_or_fail(*h, key, flags, o.ns, rootref);
      try {
        print_value(key, m, o);
      } catch (const FluxError& e) {
        fail(key, e);
      }
    }
    return 0;
  }
  // Watch every key at once; each prints up to --count values.
  for (const auto& key : o.keys) {
    Rpc rpc = kvs::lookup_watch(*h, key, flags, o.ns);
    st.active++;
    spawn(watch_one(*h, rpc, key, o, st));
  }
  while (st.active > 0 && !st.error) h->reactor().run_one();
  if (st.error) throw *st.error;
  return 0;
}

void add_get(CLI::App& kvs, Registry& reg) {
  auto o = std::make_shared<GetOptions>();
  auto* get = kvs.add_subcommand("get", "Print the value stored under each KEY");
  add_namespace_option(get, o->ns);
  auto* raw = get->add_flag("-r,--raw", o->raw, "Print the value as is, without a newline");
  auto* tobj = get->add_flag("-t,--treeobj", o->treeobj, "Print the RFC 11 tree object");
  raw->excludes(tobj);
  auto* at =
      get->add_option("-a,--at", o->at, "Look up relative to this RFC 11 dirref (or blobref)");
  get->add_flag("-l,--label", o->label, "Print KEY= before the value");
  auto* wc = get->add_flag("-W,--waitcreate", o->waitcreate, "Wait for KEY to be created");
  auto* w = get->add_flag("-w,--watch", o->watch, "Print the value again each time KEY changes");
  get->add_option("-c,--count", o->count, "With --watch, exit after N values")
      ->check(CLI::NonNegativeNumber);
  get->add_flag("-u,--uniq", o->uniq, "With --watch, only print values that differ");
  get->add_flag("-A,--append", o->append, "With --watch, print only data appended to KEY");
  get->add_flag("-f,--full", o->full, "With --watch, notice indirect changes too");
  get->add_option("key", o->keys, "Keys to look up")->required();
  at->excludes(w)->excludes(wc);
  reg.push_back({get, [o] { return run_get(*o); }});
}

struct PutOptions {
  std::string ns;
  CommitOutput out;
  bool raw = false;
  bool treeobj = false;
  bool no_merge = false;
  bool append = false;
  bool sync = false;
  std::vector<std::string> pairs;
};

int run_put(const PutOptions& o) {
  kvs::Txn txn;
  bool stdin_used = false;
  for (const auto& pair : o.pairs) {
    size_t eq = pair.find('=');
    if (eq == std::string::npos)
      throw FluxError(EINVAL, "put: you must specify a value as key=value");
    std::string key = pair.substr(0, eq);
    std::string value = pair.substr(eq + 1);
    // As flux-core, "-" means standard input only for --raw and --treeobj.
    if ((o.raw || o.treeobj) && value == "-") {
      if (stdin_used) throw FluxError(EINVAL, "put: only one value may be read from stdin");
      value = read_stdin();
      stdin_used = true;
    }
    try {
      if (o.treeobj) {
        auto obj = treeobj::decode(value);
        if (!obj) throw FluxError(EINVAL, obj.error().message);
        txn.put_treeobj(key, *obj);
      } else if (o.append) {
        txn.append(key, value);
      } else {
        txn.put(key, value);
      }
    } catch (const FluxError& e) {
      fail(key, e);
    }
  }
  auto h = open_instance();
  int flags = (o.no_merge ? kvs::kNoMerge : 0) | (o.sync ? kvs::kSync : 0);
  o.out.print(commit_or_fail(*h, txn, flags, o.ns));
  return 0;
}

void add_put(CLI::App& kvs, Registry& reg) {
  auto o = std::make_shared<PutOptions>();
  auto* put = kvs.add_subcommand("put", "Store VALUE under KEY (all pairs in one commit)");
  add_namespace_option(put, o->ns);
  o->out.add_options(put);
  auto* raw = put->add_flag("-r,--raw", o->raw, "Store VALUE as is; \"-\" reads standard input");
  auto* tobj = put->add_flag("-t,--treeobj", o->treeobj,
                             "VALUE is an RFC 11 tree object; \"-\" reads standard input");
  raw->excludes(tobj);
  put->add_flag("-n,--no-merge", o->no_merge, "Do not merge this commit with others");
  auto* app = put->add_flag("-A,--append", o->append, "Append VALUE to the key's current value");
  app->excludes(tobj);
  put->add_flag("-S,--sync", o->sync, "Flush content and checkpoint to disk before returning");
  put->add_option("pairs", o->pairs, "KEY=VALUE pairs to store")->required();
  reg.push_back({put, [o] { return run_put(*o); }});
}

}  // namespace

void add_get_put(CLI::App& kvs, Registry& reg) {
  add_get(kvs, reg);
  add_put(kvs, reg);
}

}  // namespace flux::cmd::kvscmd
