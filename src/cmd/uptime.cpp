// flux uptime: one line about the instance, in the manner of uptime(1) and
// in flux-core's format:
//    14:02:31 run 3.2h,  owner alice,  depth 0,  size 8,  1 drained,  2 offline
//   submit disabled,  scheduler stopped        (a second line, only if so)
#include <pwd.h>
#include <sys/time.h>

#include <cstdio>
#include <ctime>

#include "cli.hpp"
#include "command.hpp"
#include "libflux/fsd.hpp"
#include "libflux/idset.hpp"
#include "libflux/wallclock.hpp"

namespace flux::cmd {

namespace {

std::string attr_get(Handle& h, const std::string& name, uint32_t nodeid = kNodeidAny) {
  try {
    return h.rpc("attr.get", {{"name", name}}, nodeid).get_json().at("value").get<std::string>();
  } catch (const FluxError& e) {
    throw FluxError(e.errnum(), "Error fetching " + name + " attribute: " + e.what());
  }
}

long attr_get_int(Handle& h, const std::string& name) {
  std::string s = attr_get(h, name);
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s.c_str(), &end, 10);
  if (errno || s.empty() || *end) throw FluxError(EINVAL, "Error parsing " + name);
  return v;
}

std::string user_name(long uid) {
  struct passwd pwd, *result = nullptr;
  char buf[16384];
  if (getpwuid_r(static_cast<uid_t>(uid), &pwd, buf, sizeof buf, &result) == 0 && result)
    return result->pw_name;
  return std::to_string(uid);
}

std::string clock_time(double t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  char buf[32];
  if (!localtime_r(&tt, &tm) || strftime(buf, sizeof buf, "%T", &tm) == 0)
    throw FluxError(EINVAL, "Error formatting current time");
  return buf;
}

// Drained ranks: the drain object's keys are idsets. Without the resource
// service (an instance that does not load it), none.
size_t drained_count(Handle& h) {
  Json status;
  try {
    status = h.rpc("resource.status", Json::object(), 0).get_json();
  } catch (const FluxError& e) {
    if (e.errnum() == ENOSYS) return 0;
    throw FluxError(e.errnum(), std::string("Error fetching resource status: ") + e.what());
  }
  size_t n = 0;
  Json drain = status.value("drain", Json::object());
  for (const auto& [key, value] : drain.items()) {
    auto ids = Idset::decode(key);
    if (!ids) throw FluxError(EPROTO, "Error fetching resource status: bad drain key");
    n += ids->count();
  }
  return n;
}

struct QueueState {
  bool disabled = false;
  bool stopped = false;
};

// Submission disabled / scheduling stopped on every queue (named, or the
// anonymous one). Without a job-manager, neither.
QueueState queue_state(Handle& h) {
  QueueState q;
  std::vector<std::string> names;
  try {
    Json l = h.rpc("job-manager.queue-list", Json::object(), 0).get_json();
    names = l.value("queues", std::vector<std::string>{});
  } catch (const FluxError& e) {
    if (e.errnum() == ENOSYS) return q;
    throw FluxError(e.errnum(), std::string("queue-list: ") + e.what());
  }
  if (names.empty()) names.emplace_back();
  q.disabled = q.stopped = true;
  for (const auto& name : names) {
    Json req = Json::object();
    if (!name.empty()) req["name"] = name;
    Json r;
    try {
      r = h.rpc("job-manager.queue-status", req, 0).get_json();
    } catch (const FluxError& e) {
      throw FluxError(e.errnum(), std::string("Error fetching queue status: ") + e.what());
    }
    q.disabled = q.disabled && !r.value("enable", true);
    q.stopped = q.stopped && !r.value("start", true);
  }
  return q;
}

}  // namespace

int cmd_uptime(int argc, char** argv) {
  CLI::App app{"Show how long this Flux instance has been running."};
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto h = open_instance();
  double t_now = wallclock();
  long owner = attr_get_int(*h, "security.owner");
  long size = attr_get_int(*h, "size");
  long level = attr_get_int(*h, "instance-level");

  // Out of the run state (starting up or shutting down), only the time in
  // the local broker's state: the other services may not answer.
  Json sm;
  try {
    sm = h->rpc("state-machine.get").get_json();
  } catch (const FluxError& e) {
    throw FluxError(e.errnum(), std::string("Error fetching broker state: ") + e.what());
  }
  std::string state = sm.value("state", "");
  double duration = sm.value("duration", 0.0);
  size_t drained = 0, offline = 0;
  QueueState queue;
  if (state == "run") {
    std::string start = attr_get(*h, "broker.starttime", 0);
    char* end = nullptr;
    double t_start = std::strtod(start.c_str(), &end);
    if (start.empty() || *end) throw FluxError(EINVAL, "Error parsing broker.starttime");
    duration = t_now - t_start;
    drained = drained_count(*h);
    auto online = Idset::decode(attr_get(*h, "broker.online", 0));
    if (!online) throw FluxError(EPROTO, "Error parsing broker.online");
    if (static_cast<long>(online->count()) < size) offline = size - online->count();
    queue = queue_state(*h);
  }

  std::string extra;
  if (drained > 0) extra += ",  " + std::to_string(drained) + " drained";
  if (offline > 0) extra += ",  " + std::to_string(offline) + " offline";
  std::printf(" %s %s %s,  owner %s,  depth %ld,  size %ld%s\n", clock_time(t_now).c_str(),
              state.c_str(), fsd_format_digits(duration, 2).c_str(), user_name(owner).c_str(),
              level, size, extra.c_str());
  std::string notes;
  if (queue.disabled) notes += "submit disabled";
  if (queue.stopped) notes += std::string(notes.empty() ? "" : ",  ") + "scheduler stopped";
  if (!notes.empty()) std::printf("  %s\n", notes.c_str());
  return 0;
}

}  // namespace flux::cmd
