// flux kvs eventlog get | append | wait-event: RFC 18 eventlogs in the KVS.
#include <memory>
#include <optional>

#include "kvs_common.hpp"
#include "libflux/eventlog.hpp"

namespace flux::cmd::kvscmd {
namespace {

// Prints entries raw (-u: the RFC 18 line) or formatted
// ("TIMESTAMP NAME key=value ..."), with -H's human timestamps.
class EntryPrinter {
 public:
  EntryPrinter(bool unformatted, bool human, const std::string& color)
      : unformatted_(unformatted),
        formatter_(human ? EventlogTimeFormat::kHuman : EventlogTimeFormat::kRaw,
                   !unformatted && color_wanted(color)) {}
  void print(const EventlogEntry& e) {
    if (unformatted_)
      std::fputs(eventlog_entry_encode(e).c_str(), stdout);
    else
      std::printf("%s\n", formatter_.format(e).c_str());
  }

 private:
  bool unformatted_;
  EventlogFormatter formatter_;
};

// Splits the text of (watch) responses into entries. Each response holds
// whole lines (the KVS sends a whole value, then whole appends): one that
// does not is not an eventlog, and waiting for "the rest" would wait forever.
class EntryReader {
 public:
  explicit EntryReader(std::string key) : key_(std::move(key)) {}
  std::vector<EventlogEntry> add(std::string_view chunk) {
    if (chunk.empty()) return {};
    if (chunk.back() != '\n')
      throw FluxError(EINVAL, key_ + ": cannot decode eventlog: missing newline");
    auto entries = eventlog_decode(chunk);
    if (!entries)
      throw FluxError(entries.error().errnum,
                      key_ + ": cannot decode eventlog: " + entries.error().message);
    return std::move(*entries);
  }
  void finish() const {}

 private:
  std::string key_;
};

// The next response of a watch, nullopt at its end, or "KEY: reason".
std::optional<Message> next_or_fail(Rpc& rpc, const std::string& key) {
  try {
    return rpc.next();
  } catch (const FluxError& e) {
    fail(key, e);
  }
}

std::string value_of(const Message& m, const std::string& key) {
  try {
    return kvs::lookup_value(m);
  } catch (const FluxError& e) {
    fail(key, e);
  }
}

// ---- get -------------------------------------------------------------------

struct EventlogGetOptions {
  std::string ns;
  bool waitcreate = false;
  bool watch = false;
  int count = 0;
  bool unformatted = false;
  bool human = false;
  std::string color = "auto";  // -L/--color
  std::string key;
};

int run_eventlog_get(const EventlogGetOptions& o) {
  auto h = open_instance();
  EntryPrinter printer(o.unformatted, o.human, o.color);
  EntryReader reader(o.key);
  int shown = 0;
  // Print entries up to --count; true once the count is reached.
  auto show = [&](const Message& m) {
    for (const auto& e : reader.add(value_of(m, o.key))) {
      if (o.count > 0 && shown >= o.count) break;
      printer.print(e);
      shown++;
    }
    std::fflush(stdout);
    return o.count > 0 && shown >= o.count;
  };
  if (!o.watch) {
    show(o.waitcreate ? wait_create(*h, o.key, 0, o.ns) : lookup_or_fail(*h, o.key, 0, o.ns));
    reader.finish();
    return 0;
  }
  // Watching with the append flag: the whole log first, then what is added.
  int flags = kvs::kWatchAppend | (o.waitcreate ? kvs::kWaitCreate : 0);
  Rpc rpc = kvs::lookup_watch(*h, o.key, flags, o.ns);
  while (auto m = next_or_fail(rpc, o.key)) {
    if (show(*m)) {
      cancel_watch(*h, rpc);
      drain(rpc);
      break;
    }
  }
  return 0;
}

void add_eventlog_get(CLI::App& ev, Registry& reg) {
  auto o = std::make_shared<EventlogGetOptions>();
  auto* cmd = ev.add_subcommand("get", "Print an eventlog");
  add_namespace_option(cmd, o->ns);
  cmd->add_flag("-W,--waitcreate", o->waitcreate, "Wait for the eventlog to be created");
  cmd->add_flag("-w,--watch", o->watch, "Keep printing events as they are appended");
  cmd->add_option("-c,--count", o->count, "Exit after N events")->check(CLI::NonNegativeNumber);
  auto* u = cmd->add_flag("-u,--unformatted", o->unformatted, "Print events in raw RFC 18 form");
  auto* hu = cmd->add_flag("-H,--human", o->human, "Print human-readable timestamps");
  u->excludes(hu);
  add_color_option(cmd, o->color);
  cmd->add_option("key", o->key, "Eventlog key")->required();
  reg.push_back({cmd, [o] { return run_eventlog_get(*o); }});
}

// ---- append ----------------------------------------------------------------

struct AppendOptions {
  std::string ns;
  double timestamp = 0;
  bool have_timestamp = false;
  std::string key;
  std::string name;
  std::vector<std::string> context;
};

int run_append(const AppendOptions& o) {
  EventlogEntry e = eventlog_entry_make(o.name);
  if (o.have_timestamp) e.timestamp = o.timestamp;
  if (!o.context.empty()) {
    // Context words are joined with spaces, so it may be given unquoted.
    std::string text;
    for (const auto& w : o.context) text += (text.empty() ? "" : " ") + w;
    e.context = Json::parse(text, nullptr, false);
    if (e.context.is_discarded() || !e.context.is_object())
      throw FluxError(EINVAL, "context must be a JSON object: " + text);
  }
  if (auto err = eventlog_entry_validate(e)) throw FluxError(err->errnum, err->message);
  kvs::Txn txn;
  try {
    txn.append(o.key, eventlog_entry_encode(e));
  } catch (const FluxError& err) {
    fail(o.key, err);
  }
  auto h = open_instance();
  commit_or_fail(*h, txn, 0, o.ns);
  return 0;
}

void add_append(CLI::App& ev, Registry& reg) {
  auto o = std::make_shared<AppendOptions>();
  auto* cmd = ev.add_subcommand("append", "Append an event to an eventlog");
  add_namespace_option(cmd, o->ns);
  cmd->add_option("-t,--timestamp", o->timestamp,
                  "Seconds since the epoch (default: the current time)")
      ->each([o](const std::string&) { o->have_timestamp = true; });
  cmd->add_option("key", o->key, "Eventlog key")->required();
  cmd->add_option("name", o->name, "Event name")->required();
  cmd->add_option("context", o->context, "Event context, a JSON object");
  reg.push_back({cmd, [o] { return run_append(*o); }});
}

// ---- wait-event ------------------------------------------------------------

struct WaitOptions {
  std::string ns;
  double timeout = -1;
  bool unformatted = false;
  bool human = false;
  std::string color = "auto";  // -L/--color
  bool waitcreate = false;
  bool quiet = false;
  bool verbose = false;
  std::string key;
  std::string event;
};

int run_wait_event(const WaitOptions& o) {
  auto h = open_instance();
  EntryPrinter printer(o.unformatted, o.human, o.color);
  EntryReader reader(o.key);
  int flags = kvs::kWatchAppend | (o.waitcreate ? kvs::kWaitCreate : 0);
  Rpc rpc = kvs::lookup_watch(*h, o.key, flags, o.ns);
  // On timeout, cancel the watch: its end (ENODATA) wakes the loop below.
  bool timed_out = false;
  std::unique_ptr<Timer> timer;
  if (o.timeout >= 0) {
    timer = h->reactor().after(o.timeout, [&] {
      timed_out = true;
      cancel_watch(*h, rpc);
    });
  }
  bool found = false;
  while (!found) {
    std::optional<Message> m;
    try {
      m = rpc.next();
    } catch (const FluxError& e) {
      if (e.errnum() == ENOENT) throw FluxError(ENOENT, "eventlog path " + o.key + " not found");
      fail(o.key, e);
    }
    if (!m) break;
    for (const auto& e : reader.add(value_of(*m, o.key))) {
      if (e.name == o.event) {
        if (!o.quiet) printer.print(e);
        found = true;
        break;
      }
      if (o.verbose) printer.print(e);
    }
    std::fflush(stdout);
  }
  timer.reset();
  if (found) {
    cancel_watch(*h, rpc);
    drain(rpc);
    return 0;
  }
  if (timed_out) throw FluxError(ETIMEDOUT, "wait-event timeout on event '" + o.event + "'");
  throw FluxError(ENODATA, "event '" + o.event + "' never received");
}

void add_wait_event(CLI::App& ev, Registry& reg) {
  auto o = std::make_shared<WaitOptions>();
  auto* cmd = ev.add_subcommand("wait-event", "Wait for an event to appear in an eventlog");
  add_namespace_option(cmd, o->ns);
  cmd->add_option("-t,--timeout", o->timeout, "Give up after SEC seconds")
      ->check(CLI::NonNegativeNumber);
  auto* u = cmd->add_flag("-u,--unformatted", o->unformatted, "Print events in raw RFC 18 form");
  auto* hu = cmd->add_flag("-H,--human", o->human, "Print human-readable timestamps");
  u->excludes(hu);
  add_color_option(cmd, o->color);
  cmd->add_flag("-W,--waitcreate", o->waitcreate, "Wait for the eventlog to be created");
  cmd->add_flag("-q,--quiet", o->quiet, "Do not print the matching event");
  cmd->add_flag("-v,--verbose", o->verbose, "Also print the events before it");
  cmd->add_option("key", o->key, "Eventlog key")->required();
  cmd->add_option("event", o->event, "Event name to wait for")->required();
  reg.push_back({cmd, [o] { return run_wait_event(*o); }});
}

}  // namespace

void add_eventlog(CLI::App& kvs, Registry& reg) {
  auto* ev = kvs.add_subcommand("eventlog", "Read, append to and wait on RFC 18 eventlogs");
  ev->require_subcommand(1);
  add_eventlog_get(*ev, reg);
  add_append(*ev, reg);
  add_wait_event(*ev, reg);
}

}  // namespace flux::cmd::kvscmd
