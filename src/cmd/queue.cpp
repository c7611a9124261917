// flux queue: list, status, enable/disable submission, start/stop
// scheduling (one queue, all of them, or the anonymous one), wait for the
// queues to drain or go idle. The job-manager's queue-* topics; output and
// errors as flux-core's flux-queue.
#include <cmath>
#include <cstdio>

#include "cli.hpp"
#include "command.hpp"
#include "libflux/fsd.hpp"
#include "libflux/policy.hpp"
#include "libflux/rset.hpp"
#include "libflux/rset_constraint.hpp"
#include "output_format.hpp"

namespace flux::cmd {

namespace {

[[noreturn]] void fail(const std::string& msg) {
  std::fprintf(stderr, "flux-queue: ERROR: %s\n", msg.c_str());
  std::exit(1);
}

Json call(Handle& h, const char* what, const std::string& topic, const Json& req) {
  try {
    return h.rpc(topic, req, 0).get_json();
  } catch (const FluxError& e) {
    fail(std::string(what) + ": " + e.what());
  }
}

void print_enable(const std::string& name, const Json& st) {
  std::string prefix = name.empty() ? "" : name + ": ";
  if (st.value("enable", true))
    std::printf("%sJob submission is enabled\n", prefix.c_str());
  else
    std::printf("%sJob submission is disabled: %s\n", prefix.c_str(),
                st.value("disable_reason", "").c_str());
}

void print_start(const std::string& name, const Json& st) {
  std::string prefix = name.empty() ? "" : name + ": ";
  std::string line = st.value("start", true) ? "Scheduling is started" : "Scheduling is stopped";
  if (!st.value("start", true) && st.contains("stop_reason"))
    line += ": " + st["stop_reason"].get<std::string>();
  std::printf("%s%s\n", prefix.c_str(), line.c_str());
}

std::vector<std::string> queue_names(Handle& h) {
  Json l = call(h, "list", "job-manager.queue-list", Json::object());
  return l.value("queues", std::vector<std::string>{});
}

// (name, status) of the queue asked for, or of every queue (verbose too).
std::vector<std::pair<std::string, Json>> statuses(Handle& h, const std::string& queue,
                                                   bool verbose) {
  std::vector<std::pair<std::string, Json>> out;
  auto one = [&h](const std::string& name) {
    Json req = Json::object();
    if (!name.empty()) req["name"] = name;
    return call(h, "status", "job-manager.queue-status", req);
  };
  if (queue.empty() || verbose) {
    auto names = queue_names(h);
    for (const auto& n : names) out.emplace_back(n, one(n));
    if (names.empty()) out.emplace_back(queue, one(""));
  } else {
    out.emplace_back(queue, one(queue));
  }
  return out;
}

void alloc_query(Handle& h) {
  Json q = call(h, "alloc-query", "job-manager.alloc-query", Json::object());
  std::printf("%d alloc requests queued\n", q.value("queue_length", 0));
  std::printf("%d alloc requests pending to scheduler\n", q.value("alloc_pending", 0));
  std::printf("%d running jobs\n", q.value("running", 0));
}

// flux queue list: one line per queue (or the anonymous one).
int list(Handle& h, const std::string& format, const std::vector<std::string>& only,
         bool no_header) {
  Json config = h.rpc("config.get", Json::object()).get_json();
  Policy policy = Policy::from_config(config).value();
  Rset all;  // none without a scheduler
  try {
    if (auto r = h.rpc("sched.resource-status", Json::object()).get_json(); r.contains("all"))
      all = Rset::from_json(r["all"]).value();
  } catch (const FluxError& e) {
    if (e.errnum() != ENOSYS) throw;
  }
  std::vector<std::string> names;
  for (const auto& [n, q] : policy.queues())
    if (only.empty() || std::find(only.begin(), only.end(), n) != only.end()) names.push_back(n);
  if (names.empty() && !policy.has_queues()) names.push_back("");
  const Json empty = Json::object();
  auto limit = [&](const std::string& q, const std::vector<const char*>& path) -> const Json* {
    // A queue's policy over the instance's.
    const Json* own = &empty;
    if (!q.empty() && config.contains("queues") && config["queues"].contains(q))
      own = &config["queues"][q];
    for (const Json* table : std::initializer_list<const Json*>{own, &config}) {
      const Json* p = table;
      for (const char* k : path) {
        if (!p->is_object() || !p->contains(k)) {
          p = nullptr;
          break;
        }
        p = &(*p)[k];
      }
      if (p) return p;
    }
    return nullptr;
  };
  auto fsd = [](const Json* v) -> std::string {
    if (!v || !v->is_string()) return "inf";
    double d = fsd_parse(v->get<std::string>()).value();
    return std::isinf(d) || d == 0 ? "inf" : fsd_format(d);
  };
  struct Line {
    std::map<std::string, std::string> f;
  };
  std::vector<Line> lines;
  for (const auto& name : names) {
    Json req = Json::object();
    if (!name.empty()) req["name"] = name;
    Json st = call(h, "status", "job-manager.queue-status", req);
    Line l;
    bool en = st.value("enable", true), start = st.value("start", true);
    bool paused = st.value("blocked", "") == "parent";
    l.f["queue"] = name;
    l.f["queuem"] = name + (!name.empty() && name == policy.default_queue() ? "*" : "");
    l.f["parent"] = st.value("parent", "");
    l.f["submission"] = en ? "enabled" : "disabled";
    l.f["scheduling"] = start ? "started" : paused ? "stopped (parent)" : "stopped";
    l.f["enabled"] = en ? "\u2714" : "\u2717";
    l.f["enabled.ascii"] = en ? "y" : "n";
    l.f["started"] = start ? "\u2714" : paused ? "\u23f8" : "\u2717";
    l.f["started.ascii"] = start ? "y" : paused ? "p" : "n";
    l.f["defaults.timelimit"] =
        fsd(limit(name, {"policy", "jobspec", "defaults", "system", "duration"}));
    l.f["limits.timelimit"] = fsd(limit(name, {"policy", "limits", "duration"}));
    Rset mine = all;
    if (!name.empty()) {
      auto qp = policy.queues().at(name);
      if (!qp.required.empty())
        mine = rset_copy_constraint(all, {{"properties", qp.required}}).value();
    }
    std::map<std::string, size_t> have = {
        {"nnodes", mine.nnodes()}, {"ncores", mine.ncores()}, {"ngpus", mine.ngpus()}};
    for (const auto& [item, count] : have) {
      auto bound = [&](const char* b) -> int64_t {
        const Json* v = limit(name, {"policy", "limits", "job-size", b, item.c_str()});
        return v && v->is_number_integer() ? v->get<int64_t>() : -1;
      };
      int64_t lo = std::max<int64_t>(bound("min"), 0);
      int64_t hi = bound("max");
      std::string max = hi < 0 ? "inf" : std::to_string(hi);
      l.f["limits.min." + item] = std::to_string(lo);
      l.f["limits.max." + item] = max;
      l.f["limits.range." + item] = std::to_string(lo) + "-" + max;
      int64_t eff = hi < 0 ? static_cast<int64_t>(count) : std::min<int64_t>(hi, count);
      l.f["limits.range.effective." + item] = std::to_string(lo) + "-" + std::to_string(eff);
      l.f["resources.all." + item] = std::to_string(count);
    }
    lines.push_back(std::move(l));
  }
  std::map<std::string, std::string> headings = {{"queue", "QUEUE"},
                                                 {"queuem", "QUEUE"},
                                                 {"parent", "PARENT"},
                                                 {"submission", "SUBMIT"},
                                                 {"scheduling", "SCHED"},
                                                 {"enabled", "EN"},
                                                 {"started", "ST"},
                                                 {"enabled.ascii", "EN"},
                                                 {"started.ascii", "ST"},
                                                 {"defaults.timelimit", "TDEFAULT"},
                                                 {"limits.timelimit", "TLIMIT"},
                                                 {"resources.all.nnodes", "NODES"},
                                                 {"resources.all.ncores", "CORES"},
                                                 {"resources.all.ngpus", "GPUS"}};
  for (const char* item : {"nnodes", "ncores", "ngpus"}) {
    std::string up = std::string(item + 1);
    for (auto& c : up) c = static_cast<char>(std::toupper(c));
    headings[std::string("limits.range.") + item] = up;
    headings[std::string("limits.range.effective.") + item] = up;
    headings[std::string("limits.min.") + item] = "MIN" + up;
    headings[std::string("limits.max.") + item] = "MAX" + up;
  }
  std::string fmt = format;
  if (fmt == "default")
    fmt =
        "?:{queuem:<8.8} ?:{parent:<8.8} {enabled:>2} {started:>2} {defaults.timelimit:>8} "
        "{limits.timelimit:>8} {limits.range.effective.nnodes:>10} "
        "{limits.range.effective.ncores:>10} {limits.range.effective.ngpus:>10}";
  for (size_t p; (p = fmt.find("!F")) != std::string::npos;) fmt.erase(p, 2);  // already FSD
  OutputFormat of(fmt, headings);
  std::vector<OutputFormat::Getter> getters;
  for (const auto& l : lines)
    getters.push_back([&l](const std::string& f) {
      auto it = l.f.find(f);
      return it == l.f.end() ? std::string() : it->second;
    });
  of.print_items(getters, no_header);
  return 0;
}

}  // namespace

int cmd_queue(int argc, char** argv) {
  CLI::App app{"Manage the job queues."};
  app.require_subcommand(1);
  std::string queue, old_queue, message, timeout, format = "default";
  std::vector<std::string> only;
  bool all = false, quiet = false, verbose = false, nocheckpoint = false, no_header = false;

  auto* list_cmd = app.add_subcommand("list", "List queues with their limits");
  list_cmd->add_option("-q,--queue", only, "Include only the given queues")->delimiter(',');
  list_cmd->add_option("-o,--format", format, "Output format (a name or a format string)");
  list_cmd->add_flag("-n,--no-header", no_header, "Suppress the header");
  std::map<std::string, CLI::App*> common;
  for (const char* name : {"status", "enable", "disable", "start", "stop"}) {
    auto* c = app.add_subcommand(name, std::string(name) == "status"    ? "Show queue status"
                                       : std::string(name) == "enable"  ? "Allow job submission"
                                       : std::string(name) == "disable" ? "Refuse job submission"
                                       : std::string(name) == "start"   ? "Start scheduling"
                                                                        : "Stop scheduling");
    c->add_option("-q,--queue", old_queue)->group("");
    c->add_flag("-v,--verbose", verbose, "Show more of the job-manager's state");
    if (std::string(name) != "status") {
      c->add_flag("-a,--all", all, "Apply to all queues if none is named");
      c->add_flag("--quiet", quiet, "Display only errors");
    }
    if (std::string(name) == "stop" || std::string(name) == "disable") {
      c->add_flag("--nocheckpoint", nocheckpoint, "Do not keep the change across a restart");
      c->add_option("-m,--message", message, "Why (shown in status)");
    }
    c->add_option("queue", queue, "The queue");
    common[name] = c;
  }
  auto* drain = app.add_subcommand("drain", "Wait until no jobs are active");
  drain->add_option("-t,--timeout", timeout, "Give up after DURATION");
  auto* idle = app.add_subcommand("idle", "Wait until no jobs are running");
  idle->add_option("-t,--timeout", timeout, "Give up after DURATION");
  idle->add_flag("--quiet", quiet, "Display the pending count only if nonzero");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  if (!old_queue.empty()) {
    if (!queue.empty())
      fail("Conflicting queues specified as --queue=" + old_queue + " and " + queue);
    queue = old_queue;
  }
  auto h = open_instance();
  auto wait = [&](const char* what, const char* topic) {
    Rpc rpc = h->rpc(topic);
    if (!timeout.empty()) rpc.timeout(fsd_parse(timeout).value());
    try {
      return rpc.get_json();
    } catch (const FluxError& e) {
      fail(std::string(what) + ": " + (e.errnum() == ETIMEDOUT ? "timeout" : e.what()));
    }
  };
  if (list_cmd->parsed()) return list(*h, format, only, no_header);
  if (drain->parsed()) {
    wait("drain", "job-manager.drain");
  } else if (idle->parsed()) {
    int pending = wait("idle", "job-manager.idle").value("pending", 0);
    if (!quiet || pending > 0) std::printf("%d jobs\n", pending);
  } else if (common["status"]->parsed()) {
    for (const auto& [name, st] : statuses(*h, queue, verbose)) {
      print_enable(name, st);
      print_start(name, st);
    }
    if (verbose) alloc_query(*h);
  } else if (common["enable"]->parsed() || common["disable"]->parsed()) {
    bool enable = common["enable"]->parsed();
    Json req = {{"enable", enable}, {"all", all}};
    if (!queue.empty()) req["name"] = queue;
    if (!enable) req["reason"] = message.empty() ? "disabled by administrator" : message;
    call(*h, "enable", "job-manager.queue-enable", req);
    if (!quiet)
      for (const auto& [name, st] : statuses(*h, queue, verbose)) print_enable(name, st);
  } else {
    bool start = common["start"]->parsed();
    if (queue.empty() && !all && !queue_names(*h).empty())
      fail("Named queues are defined. Specify queues or use --all.");
    Json req = {{"start", start}, {"all", all}, {"nocheckpoint", nocheckpoint}};
    if (!queue.empty()) req["name"] = queue;
    if (!message.empty()) req["reason"] = message;
    call(*h, "start", "job-manager.queue-start", req);
    if (!quiet) {
      for (const auto& [name, st] : statuses(*h, queue, verbose)) print_start(name, st);
      if (verbose) alloc_query(*h);
    }
  }
  return 0;
}

}  // namespace flux::cmd
