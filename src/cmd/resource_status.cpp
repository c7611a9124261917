// flux resource status / drain / undrain: the resource service's view.
#include <cstdio>
#include <map>
#include <set>

#include "cli.hpp"
#include "output_format.hpp"
#include "resource_common.hpp"

namespace flux::cmd::resourcecmd {
namespace {

constexpr const char* kStatusDefault = "{state:>10} {up:>2} {nnodes:>6} {nodelist}";
constexpr const char* kStatusLong = "{state:>10} {up:>2} {nnodes:>6} {reason:<30.30+} {nodelist}";
constexpr const char* kDrainDefault =
    "{timestamp!d:%b%d %R::<12} {state:<8.8} {reason:<30.30+} {nodelist}";
constexpr const char* kDrainLong =
    "{timestamp!d:%FT%T::<20} {state:<8.8} {ranks:<8.8+} {reason:<30.30+} {nodelist}";

const std::vector<std::string> kStatusStates = {"all",     "online",    "avail",       "offline",
                                                "exclude", "drain",     "draining",    "drained",
                                                "torpid",  "allocated", "housekeeping"};

struct Line {
  std::string state;
  bool online = true;
  Idset ranks;
  Hostlist hosts;
  std::string reason;
  std::string timestamp;
};

Idset idset_of(const Json& j, const char* key) {
  return Idset::decode(j.value(key, "")).value();
}

std::string format_name(const std::string& fmt, bool drain_list) {
  if (fmt.empty() || fmt == "default") return drain_list ? kDrainDefault : kStatusDefault;
  if (fmt == "long") return drain_list ? kDrainLong : kStatusLong;
  return fmt;
}

int show(Handle& h, const std::string& states_arg, const std::string& include,
         const std::string& fmt, bool no_header, bool skip_empty_opt, bool drain_list) {
  std::vector<std::string> states =
      split_commas(states_arg.empty() ? "avail,exclude,draining,drained" : states_arg);
  auto valid_states = [] {
    std::string all;
    for (const auto& v : kStatusStates) all += (all.empty() ? "" : ",") + v;
    std::fprintf(stderr, "flux-resource: INFO: valid states: %s\n", all.c_str());
  };
  if (states_arg == "help") {
    valid_states();
    return 0;
  }
  for (const auto& s : states) {
    bool ok = false;
    for (const auto& v : kStatusStates) ok = ok || v == s;
    if (!ok) {
      std::fprintf(stderr, "flux-resource: ERROR: Invalid resource state %s specified\n",
                   s.c_str());
      valid_states();
      return 1;
    }
  }
  std::set<std::string> want(states.begin(), states.end());
  if (!(want.size() > want.count("online") + want.count("offline"))) {
    for (auto s : {"avail", "exclude", "draining", "drained"}) want.insert(s);
  }
  bool include_online = want.count("online") || !want.count("offline");
  bool include_offline = want.count("offline") || !want.count("online");
  bool skip_empty = skip_empty_opt || states_arg.empty();
  bool skip_empty_offline = !want.count("offline");
  auto any = [&](std::initializer_list<const char*> names) {
    for (auto n : names) {
      if (want.count(n)) return true;
    }
    return false;
  };

  Json st = h.rpc("resource.status").get_json();
  Rset all = Rset::from_json(st.at("R")).value();
  Idset online = idset_of(st, "online");
  Idset exclude = idset_of(st, "exclude");
  std::map<uint32_t, std::pair<double, std::string>> drained;
  Json drain_info = st.value("drain", Json::object());
  for (const auto& [ids, info] : drain_info.items()) {
    Idset ranks = Idset::decode(ids).value();
    for (uint32_t rank : ranks) {
      drained[rank] = {info.value("timestamp", 0.0), info.value("reason", "")};
    }
  }
  // Drained ranks still allocated are "draining".
  Idset allocated;
  try {
    allocated = sched_view(h).allocated.ranks();
  } catch (const FluxError&) {
    // No scheduler: nothing is allocated.
  }
  Idset drain_ids;
  for (const auto& [rank, info] : drained) drain_ids.insert(rank);
  Idset avail = all.ranks() - exclude - drain_ids;
  Idset keep = all.ranks();
  if (!include.empty()) keep = include_ranks(all, include);

  std::vector<Line> lines;
  auto add = [&](const std::string& state, bool on, const Idset& ids) {
    Line l;
    l.state = state;
    l.online = on;
    l.ranks = ids;
    l.hosts = all.copy_ranks(ids).nodelist();
    return l;
  };
  for (const char* state : {"avail", "exclude"}) {
    if (!any({state, "all"})) continue;
    const Idset& set = std::string(state) == "avail" ? avail : exclude;
    for (bool on : {true, false}) {
      if (!(on ? include_online : include_offline)) continue;
      Idset ids = set & (on ? online : all.ranks() - online) & keep;
      lines.push_back(add(state, on, ids));
    }
  }
  // Torpid nodes are not tracked here (none); allocated ones are the
  // scheduler's; housekeeping does not exist (none).
  for (const char* state : {"torpid", "allocated"}) {
    if (!any({state, "all"})) continue;
    Idset ids = std::string(state) == "allocated" ? allocated & keep : Idset{};
    for (bool on : {true, false}) {
      if (!(on ? include_online : include_offline)) continue;
      lines.push_back(add(state, on, ids & (on ? online : all.ranks() - online)));
    }
  }
  for (const char* state : {"draining", "drained"}) {
    if (!any({state, "all", "drain"})) continue;
    bool draining = std::string(state) == "draining";
    Idset ids = (draining ? drain_ids & allocated : drain_ids - allocated) & keep;
    if (ids.empty() && include_online) lines.push_back(add(state, true, {}));
    for (uint32_t rank : ids) {
      bool on = online.contains(rank);
      if (!(on ? include_online : include_offline)) continue;
      Line l = add(state, on, Idset{rank});
      l.reason = drained[rank].second;
      char ts[64];
      std::snprintf(ts, sizeof ts, "%.6f", drained[rank].first);
      l.timestamp = ts;
      lines.push_back(std::move(l));
    }
  }

  if (any({"housekeeping", "all"}) && include_online)
    lines.push_back(add("housekeeping", true, {}));

  std::map<std::string, std::string> headings = {
      {"state", "STATE"},    {"statex", "STATE"},      {"nnodes", "NNODES"},
      {"ranks", "RANKS"},    {"nodelist", "NODELIST"}, {"reason", "REASON"},
      {"timestamp", "TIME"}, {"status", "STATUS"},     {"up", "UP"},
      {"up.ascii", "UP"}};
  OutputFormat of(format_name(fmt, drain_list), headings);
  auto getter = [](const Line* l) {
    return [l](const std::string& f) -> std::string {
      if (f == "state") return l->state + (l->online ? "" : "*");
      if (f == "statex") return l->state;
      if (f == "nnodes") return std::to_string(l->hosts.size());
      if (f == "ranks") return l->ranks.encode();
      if (f == "nodelist") return l->hosts.encode();
      if (f == "reason") return l->reason;
      if (f == "timestamp") return l->timestamp;
      if (f == "status") return l->online ? "online" : "offline";
      if (f == "up") return l->online ? "\u2714" : "\u2717";
      if (f == "up.ascii") return l->online ? "y" : "n";
      return "";
    };
  };
  // Combine lines that print the same apart from their nodes.
  std::vector<Line> merged;
  std::map<std::string, size_t> index;
  for (auto& l : lines) {
    if (l.hosts.empty() && l.ranks.empty()) {
      if (skip_empty || (!l.online && skip_empty_offline)) continue;
    }
    std::string key = of.key(getter(&l), {"nodelist", "ranks", "nnodes"});
    auto it = index.find(key);
    if (it == index.end()) {
      index[key] = merged.size();
      merged.push_back(std::move(l));
    } else {
      Line& m = merged[it->second];
      m.ranks |= l.ranks;
      m.hosts = all.copy_ranks(m.ranks).nodelist();
    }
  }
  std::vector<OutputFormat::Getter> getters;
  for (const auto& l : merged) getters.push_back(getter(&l));
  of.print_items(getters, no_header);
  return 0;
}

}  // namespace

int status(int argc, char** argv) {
  CLI::App app{"Show the system view of resources."};
  std::string states, include, fmt, queue;
  bool no_header = false, skip_empty = false;
  app.add_option("-s,--states", states, "Resource states to show (comma separated)");
  app.add_option("-i,--include", include, "Include only these ranks or hosts");
  app.add_option("-q,--queue", queue, "Include only these queues (none are configured)");
  app.add_option("-o,--format", fmt, "Output format (default, long, or a format string)");
  app.add_flag("-n,--no-header", no_header, "Suppress the header");
  app.add_flag("--skip-empty", skip_empty, "Suppress empty lines");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto h = open_instance();
  return show(*h, states, include, fmt, no_header, skip_empty, false);
}

int drain(int argc, char** argv) {
  CLI::App app{"Drain nodes, or list the drained nodes."};
  std::vector<std::string> args;
  std::string include, fmt, queue;
  bool no_header = false, update = false;
  int force = 0;
  app.add_flag("-f,--force", force,
               "Overwrite the reason of drained targets (twice: and the timestamp)");
  app.add_flag("-u,--update", update, "Drain only the targets not already drained");
  app.add_option("-i,--include", include, "List only these ranks or hosts");
  app.add_option("-q,--queue", queue, "List only these queues (none are configured)");
  app.add_option("-o,--format", fmt, "Output format (default, long, or a format string)");
  app.add_flag("-n,--no-header", no_header, "Suppress the header");
  app.add_option("targets_reason", args, "TARGETS [REASON...]");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto h = open_instance();
  if (args.empty()) return show(*h, "drain", include, fmt, no_header, true, true);
  if (update && force) throw FluxError(EINVAL, "Only one of --force and --update may be specified");
  Json req = {{"targets", args[0]}};
  std::string reason;
  for (size_t i = 1; i < args.size(); i++) reason += (i > 1 ? " " : "") + args[i];
  if (!reason.empty()) req["reason"] = reason;
  if (update) req["mode"] = "update";
  if (force == 1) req["mode"] = "overwrite";
  if (force >= 2) req["mode"] = "force-overwrite";
  try {
    h->rpc("resource.drain", req, 0).get();
  } catch (const FluxError& e) {
    std::fprintf(stderr, "flux-resource: %s\n", e.what());
    if (e.errnum() == EEXIST)
      std::fprintf(stderr, "Use --force to overwrite existing drain reason\n");
    return 1;
  }
  return 0;
}

int undrain(int argc, char** argv) {
  CLI::App app{"Undrain nodes."};
  std::string targets;
  bool force = false;
  app.add_flag("-f,--force", force, "Do not fail if some targets are not drained");
  app.add_option("targets", targets, "IDSET or HOSTLIST")->required();
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto h = open_instance();
  Json req = {{"targets", targets}};
  if (force) req["mode"] = "force";
  h->rpc("resource.undrain", req, 0).get();
  return 0;
}

}  // namespace flux::cmd::resourcecmd
