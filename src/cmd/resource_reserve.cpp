// flux resource reserve / reservations / unreserve: advance reservations
// of sched-graph (sched.reserve, sched.reservations, sched.unreserve).
#include <pwd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "cli.hpp"
#include "libflux/fsd.hpp"
#include "libflux/printable.hpp"
#include "libflux/wallclock.hpp"
#include "resource_common.hpp"

namespace flux::cmd::resourcecmd {

namespace {

// "now", an offset ("+2h", "30m": FSD from now) or a local date and time
// ("2026-12-24T08:00[:00]", "2026-12-24 08:00").
double parse_start(const std::string& text, double now) {
  if (text.empty() || text == "now") return now;
  std::string offset = text[0] == '+' ? text.substr(1) : text;
  if (auto d = fsd_parse(offset)) return now + *d;
  for (const char* fmt :
       {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"}) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), fmt, &tm);
    if (end && *end == '\0') {
      tm.tm_isdst = -1;
      return static_cast<double>(std::mktime(&tm));
    }
  }
  throw FluxError(EINVAL, "invalid start time: '" + printable(text) + "'");
}

uint32_t user_id(const std::string& name) {
  if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos &&
      name.size() < 11) {
    unsigned long uid = std::stoul(name);
    if (uid <= UINT32_MAX) return static_cast<uint32_t>(uid);
  }
  if (const passwd* pw = getpwnam(name.c_str())) return pw->pw_uid;
  throw FluxError(EINVAL, "unknown user: '" + printable(name) + "'");
}

std::string user_name(uint32_t uid) {
  if (const passwd* pw = getpwuid(uid)) return pw->pw_name;
  return std::to_string(uid);
}

std::string local_time(double t) {
  auto secs = static_cast<std::time_t>(t);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

}  // namespace

int reserve(int argc, char** argv) {
  CLI::App app{"Hold nodes out of scheduling for a time (sched-graph)."};
  std::string name, start, duration, hosts, ranks, users;
  int count = 0;
  app.add_option("name", name, "The reservation's name")->required();
  app.add_option("-s,--start", start, "When it starts: now (default), +FSD, or a local time");
  app.add_option("-t,--duration", duration, "How long it lasts (FSD, e.g. 2h)")->required();
  app.add_option("-N,--nodes", count, "Reserve this many nodes, chosen by the scheduler");
  app.add_option("--hosts", hosts, "Reserve these hosts (a hostlist)");
  app.add_option("--ranks", ranks, "Reserve these ranks (an idset)");
  app.add_option("-u,--users", users, "Users whose jobs may run in it (comma separated)");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  if ((count > 0) + !hosts.empty() + !ranks.empty() != 1) {
    std::fprintf(stderr, "flux-resource: give one of --nodes, --hosts or --ranks\n");
    return 1;
  }
  auto d = fsd_parse(duration);
  if (!d || *d <= 0) {
    std::fprintf(stderr, "flux-resource: invalid duration: '%s'\n", printable(duration).c_str());
    return 1;
  }
  double now = wallclock();
  double t0 = parse_start(start, now);
  Json req = {{"name", name}, {"start", t0}, {"end", t0 + *d}};
  if (count > 0) req["count"] = count;
  if (!hosts.empty()) req["hosts"] = hosts;
  if (!ranks.empty()) req["ranks"] = ranks;
  Json uids = Json::array();
  if (!users.empty()) {
    for (const auto& u : split_commas(users)) uids.push_back(user_id(u));
  }
  req["users"] = uids;
  Json r = open_instance()->rpc("sched.reserve", req, 0).get_json();
  std::printf("%s: %s from %s to %s\n", r.value("name", "").c_str(),
              r.value("nodelist", "").c_str(), local_time(r.value("start", 0.0)).c_str(),
              local_time(r.value("end", 0.0)).c_str());
  return 0;
}

int reservations(int argc, char** argv) {
  CLI::App app{"List the advance reservations (sched-graph)."};
  bool no_header = false;
  app.add_flag("-n,--no-header", no_header, "Do not print a header");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  Json r = open_instance()->rpc("sched.reservations", Json::object(), 0).get_json();
  if (!no_header)
    std::printf("%-12s %-19s %-19s %6s %-16s %s\n", "NAME", "START", "END", "NNODES", "NODELIST",
                "USERS");
  for (const auto& res : r.value("reservations", Json::array())) {
    auto ids = Idset::decode(res.value("ranks", ""));
    std::string who;
    for (const auto& u : res.value("users", Json::array())) {
      if (!who.empty()) who += ',';
      who += user_name(u.get<uint32_t>());
    }
    std::printf("%-12s %-19s %-19s %6zu %-16s %s\n", res.value("name", "").c_str(),
                local_time(res.value("start", 0.0)).c_str(),
                local_time(res.value("end", 0.0)).c_str(), ids ? ids->count() : 0,
                res.value("nodelist", "").c_str(), who.empty() ? "-" : who.c_str());
  }
  return 0;
}

int unreserve(int argc, char** argv) {
  CLI::App app{"Remove advance reservations by name (sched-graph)."};
  std::vector<std::string> names;
  app.add_option("name", names, "Reservation names")->required();
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto h = open_instance();
  int rc = 0;
  for (const auto& name : names) {
    try {
      h->rpc("sched.unreserve", {{"name", name}}, 0).get();
    } catch (const FluxError& e) {
      std::fprintf(stderr, "flux-resource: %s\n", e.what());
      rc = 1;
    }
  }
  return rc;
}

}  // namespace flux::cmd::resourcecmd
