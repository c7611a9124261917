// flux job eventlog | wait-event: a job's eventlogs through job-info.
#include <unistd.h>

#include <memory>
#include <optional>

#include "job_query.hpp"
#include "libflux/fsd.hpp"

namespace flux::cmd::jobcmd {

std::string eventlog_path(const std::string& name) {
  if (name == "exec") return "guest.exec.eventlog";
  if (name == "output") return "guest.output";
  if (name == "input") return "guest.input";
  return name;
}

Rpc eventlog_watch(Handle& h, JobId id, const std::string& path, int flags) {
  Json req = {{"id", id.value}, {"path", path}, {"flags", flags}};
  return h.rpc("job-info.eventlog-watch", req, kNodeidAny, msgflag::kStreaming);
}

void eventlog_watch_cancel(Handle& h, const Rpc& rpc) {
  h.rpc("job-info.eventlog-watch-cancel", {{"matchtag", rpc.matchtag()}}, kNodeidAny,
        msgflag::kNoResponse);
}

EventlogEntry watch_entry(const Message& m) {
  Json j = m.json().value();
  auto e = eventlog_entry_decode(j.at("event").get<std::string>());
  if (!e) throw FluxError(EPROTO, "job-info sent a bad entry: " + e.error().message);
  return std::move(*e);
}

void EventFormatOptions::add(CLI::App* cmd) {
  cmd->add_option("-f,--format", format, "Output format: text or json");
  cmd->add_option("-T,--time-format", time_format, "Time format: raw, iso, offset or human");
  cmd->add_flag("-H,--human", human, "Human-readable output (text with human times)");
  add_color_option(cmd, color);
}

namespace {
EventlogTimeFormat time_format(const std::string& name) {
  if (name == "raw") return EventlogTimeFormat::kRaw;
  if (name == "iso") return EventlogTimeFormat::kIso;
  if (name == "offset") return EventlogTimeFormat::kOffset;
  if (name == "human") return EventlogTimeFormat::kHuman;
  throw FluxError(EINVAL, "invalid time-format type '" + name + "'");
}

EventlogFormatter make_formatter(const EventFormatOptions& o) {
  std::string tf = o.human ? "human" : o.time_format;
  return EventlogFormatter(time_format(tf), color_wanted(o.human ? "auto" : o.color));
}
}  // namespace

EventPrinter::EventPrinter(const EventFormatOptions& o) : formatter_(make_formatter(o)) {
  std::string format = o.human ? "text" : o.format;
  if (format != "text" && format != "json")
    throw FluxError(EINVAL, "invalid format type '" + format + "'");
  json_ = format == "json";
}

void EventPrinter::print(const EventlogEntry& e) {
  if (json_) {
    std::fputs(eventlog_entry_encode(e).c_str(), stdout);
  } else {
    std::printf("%s\n", formatter_.format(e).c_str());
  }
  started_ = true;
}

void EventPrinter::seen(const EventlogEntry& e) {
  if (!started_ && !json_) (void)formatter_.format(e);  // sets the offset clock's zero
  started_ = true;
}

namespace {

// ---- eventlog --------------------------------------------------------------

struct EventlogOptions {
  EventFormatOptions fmt;
  std::string path = "eventlog";
  std::string id;
  bool follow = false;
};

int run_eventlog(const EventlogOptions& o) {
  EventPrinter printer(o.fmt);
  JobId id = parse_jobid(o.id);
  std::string path = eventlog_path(o.path);
  auto h = open_instance();
  auto not_found = [&](const FluxError& e) {
    if (e.errnum() != ENOENT) return e;
    if (path == "eventlog") return FluxError(ENOENT, "job " + o.id + " not found");
    return FluxError(ENOENT, "eventlog path " + path + " not found");
  };
  if (o.follow) {
    // Until the job is inactive (job-info ends the stream then).
    Rpc rpc = eventlog_watch(*h, id, path);
    try {
      while (auto m = rpc.next()) {
        printer.print(watch_entry(*m));
        std::fflush(stdout);
      }
    } catch (const FluxError& e) {
      throw not_found(e);
    }
    return 0;
  }
  Json req = {{"id", id.value}, {"keys", Json::array({path})}, {"flags", 0}};
  Json r;
  try {
    r = h->rpc("job-info.lookup", req).get_json();
  } catch (const FluxError& e) {
    throw not_found(e);
  }
  auto entries = eventlog_decode(r.at(path).get<std::string>());
  if (!entries) throw FluxError(entries.error().errnum, path + ": " + entries.error().message);
  for (const auto& e : *entries) printer.print(e);
  return 0;
}

void add_eventlog(CLI::App& job, Registry& reg) {
  auto o = std::make_shared<EventlogOptions>();
  auto* cmd = job.add_subcommand("eventlog", "Print a job's eventlog");
  o->fmt.add(cmd);
  cmd->add_option("-p,--path", o->path,
                  "Eventlog path under the job's directory (exec, output, input, or a key)");
  cmd->add_flag("-F,--follow", o->follow, "Follow events until the job is inactive");
  cmd->add_option("id", o->id, "Job id")->required();
  reg.push_back({cmd, [o] { return run_eventlog(*o); }});
}

// ---- wait-event ------------------------------------------------------------

struct WaitOptions {
  EventFormatOptions fmt;
  std::string path = "eventlog";
  std::string timeout;
  std::string match;
  int count = 1;
  bool quiet = false;
  bool verbose = false;
  bool waitcreate = false;
  std::string id;
  std::string event;
};

// -m KEY=VAL: the context has KEY whose compact JSON, or string value,
// is VAL (as flux-core compares).
bool context_matches(const Json& context, const std::string& key, const std::string& val) {
  if (!context.is_object() || !context.contains(key)) return false;
  const Json& v = context[key];
  if (v.dump() == val) return true;
  return v.is_string() && v.get<std::string>() == val;
}

int run_wait_event(const WaitOptions& o) {
  EventPrinter printer(o.fmt);
  JobId id = parse_jobid(o.id);
  if (o.count <= 0) throw FluxError(EINVAL, "count must be > 0");
  std::optional<std::pair<std::string, std::string>> match;
  if (!o.match.empty()) {
    size_t eq = o.match.find('=');
    if (eq == std::string::npos)
      throw FluxError(EINVAL, "must specify a context test as key=value");
    match.emplace(o.match.substr(0, eq), o.match.substr(eq + 1));
  }
  double timeout = -1;
  if (!o.timeout.empty()) timeout = fsd_parse(o.timeout).value();
  std::string path = eventlog_path(o.path);

  auto h = open_instance();
  Rpc rpc = eventlog_watch(*h, id, path, o.waitcreate ? 1 : 0);
  bool timed_out = false;
  std::unique_ptr<Timer> timer;
  if (timeout >= 0 && timeout != std::numeric_limits<double>::infinity()) {
    timer = h->reactor().after(timeout, [&] {
      timed_out = true;
      eventlog_watch_cancel(*h, rpc);
    });
  }
  int matched = 0;
  bool found = false;
  while (true) {
    std::optional<Message> m;
    try {
      m = rpc.next();
    } catch (const FluxError& e) {
      if (e.errnum() == ENOENT) {
        if (path == "eventlog") throw FluxError(ENOENT, "job " + o.id + " not found");
        throw FluxError(ENOENT, "eventlog path " + path + " not found");
      }
      throw;
    }
    if (!m) break;
    if (found) continue;  // draining after the cancel
    EventlogEntry e = watch_entry(*m);
    bool hit =
        e.name == o.event && (!match || context_matches(e.context, match->first, match->second));
    if (hit && ++matched == o.count) {
      found = true;
      if (!o.quiet)
        printer.print(e);
      else
        printer.seen(e);
      timer.reset();
      eventlog_watch_cancel(*h, rpc);
    } else if (o.verbose) {
      printer.print(e);
    } else {
      printer.seen(e);
    }
    std::fflush(stdout);
  }
  if (found) return 0;
  if (timed_out) throw FluxError(ETIMEDOUT, "wait-event timeout on event '" + o.event + "'");
  throw FluxError(ENODATA, "event '" + o.event + "' never received");
}

void add_wait_event(CLI::App& job, Registry& reg) {
  auto o = std::make_shared<WaitOptions>();
  auto* cmd = job.add_subcommand("wait-event", "Wait for an event in a job's eventlog");
  o->fmt.add(cmd);
  cmd->add_option("-p,--path", o->path,
                  "Eventlog path under the job's directory (exec, output, input, or a key)");
  cmd->add_option("-t,--timeout", o->timeout, "Give up after DURATION (RFC 23, e.g. 1.5s)");
  cmd->add_option("-m,--match-context", o->match, "Also require KEY=VAL in the context");
  cmd->add_option("-c,--count", o->count, "Wait for the COUNTth matching event (default 1)");
  cmd->add_flag("-q,--quiet", o->quiet, "Do not print the matching event");
  cmd->add_flag("-v,--verbose", o->verbose, "Also print the events before it");
  cmd->add_flag("-W,--waitcreate", o->waitcreate, "Wait for the eventlog to be created");
  cmd->add_option("id", o->id, "Job id")->required();
  cmd->add_option("event", o->event, "Event name")->required();
  reg.push_back({cmd, [o] { return run_wait_event(*o); }});
}

}  // namespace

void add_eventlog_cmds(CLI::App& job, Registry& reg) {
  add_eventlog(job, reg);
  add_wait_event(job, reg);
}

}  // namespace flux::cmd::jobcmd
