// flux module list|load|remove|stats, on the local broker or, with
// -r/--rank (and -x/--exclude), on a set of ranks: the module.* requests go
// to each rank at once, and list merges the answers into one line per
// module with the ranks it is on (as flux-core's flux module did before it
// dropped these options).
#include <climits>
#include <cstdlib>
#include <functional>
#include <map>

#include "cli.hpp"
#include "command.hpp"
#include "libflux/idset.hpp"

namespace flux::cmd {

namespace {

// -r/--rank and -x/--exclude as given; "all" means every rank.
struct RankOptions {
  std::string rank;
  std::string exclude;
  void add(CLI::App* sub) {
    sub->add_option("-r,--rank", rank, "Act on the brokers of IDSET (or all)");
    sub->add_option("-x,--exclude", exclude, "Leave out the ranks of IDSET (or all)");
  }
  bool given() const { return !rank.empty() || !exclude.empty(); }
};

uint32_t local_rank(Handle& h) {
  return std::stoul(
      h.rpc("attr.get", {{"name", "rank"}}).get_json().at("value").get<std::string>());
}

Idset decode_ranks(Handle& h, const std::string& arg, const char* option) {
  if (arg == "all") {
    uint32_t size =
        std::stoul(h.rpc("attr.get", {{"name", "size"}}).get_json().at("value").get<std::string>());
    Idset all;
    all.insert(0, size - 1);
    return all;
  }
  auto ids = Idset::decode(arg);
  if (!ids) throw FluxError(EINVAL, std::string("could not parse ") + option + " option");
  return *ids;
}

// The target ranks: --rank (default the local rank) less --exclude.
Idset target_ranks(Handle& h, const RankOptions& o) {
  Idset ranks = o.rank.empty() ? Idset{local_rank(h)} : decode_ranks(h, o.rank, "--rank");
  if (!o.exclude.empty()) ranks -= decode_ranks(h, o.exclude, "--exclude");
  return ranks;
}

// The request sent to every rank at once; each failure printed, with its
// rank, as it is read. Returns the number of failures.
template <class OnResponse>
int on_ranks(Handle& h, const Idset& ranks, const std::string& topic, const Json& payload,
             OnResponse on_response) {
  std::vector<std::pair<uint32_t, Rpc>> rpcs;
  for (uint32_t rank : ranks) rpcs.emplace_back(rank, h.rpc(topic, payload, rank));
  int errors = 0;
  for (auto& [rank, rpc] : rpcs) {
    if (!on_response(rank, rpc)) errors++;
  }
  return errors;
}

constexpr char kStates[] = "IRFX";

char state_char(int st) {
  return st >= 0 && st < 4 ? kStates[st] : '?';
}

std::string services_of(const Json& m, const std::string& name) {
  std::string services;
  for (const auto& s : m.value("services", Json::array())) {
    if (s.get<std::string>() == name) continue;
    services += (services.empty() ? "" : ",") + s.get<std::string>();
  }
  return services;
}

std::string idle_string(int idle) {
  return idle > 99 ? "idle" : std::to_string(idle);
}

void print_local_list(Handle& h) {
  auto r = h.rpc("module.list").get_json();
  std::printf("%-24s %4s  %c %s %s %s\n", "Module", "Idle", 'S', "Sendq", "Recvq", "Service");
  for (const auto& m : r.at("mods")) {
    std::string mname = m.value("name", "");
    std::printf("%-24.24s %4s  %c %5d %5d %s\n", mname.c_str(),
                idle_string(m.value("idle", 0)).c_str(), state_char(m.value("status", 0)),
                m.value("sendqueue", 0), m.value("recvqueue", 0), services_of(m, mname).c_str());
  }
}

// One line per module (name and services) over the ranks that have it: the
// smallest idle time, the least advanced state among I, X, F, R (so a rank
// still starting or already gone shows), the largest queues.
struct MergedModule {
  std::string name, services;
  int idle = INT_MAX;
  int status = -1;
  int sendq = 0, recvq = 0;
  Idset ranks;
};

int state_rank(int status) {
  switch (status) {
    case 0:  // init
      return 0;
    case 3:  // exited
      return 1;
    case 2:  // finalizing
      return 2;
    case 1:  // running
      return 3;
  }
  return 4;
}

int print_ranks_list(Handle& h, const Idset& ranks) {
  std::vector<MergedModule> mods;
  std::map<std::string, size_t> index;
  int errors = on_ranks(h, ranks, "module.list", Json::object(), [&](uint32_t rank, Rpc& rpc) {
    Json r;
    try {
      r = rpc.get_json();
    } catch (const FluxError& e) {
      std::fprintf(stderr, "flux-module: module.list on rank %u: %s\n", rank, e.what());
      return false;
    }
    for (const auto& m : r.value("mods", Json::array())) {
      std::string name = m.value("name", "");
      std::string services = services_of(m, name);
      auto [it, added] = index.try_emplace(name + '\0' + services, mods.size());
      if (added) {
        mods.emplace_back();
        mods.back().name = name;
        mods.back().services = services;
      }
      MergedModule& mm = mods[it->second];
      mm.idle = std::min(mm.idle, m.value("idle", 0));
      int st = m.value("status", 0);
      if (mm.status < 0 || state_rank(st) < state_rank(mm.status)) mm.status = st;
      mm.sendq = std::max(mm.sendq, m.value("sendqueue", 0));
      mm.recvq = std::max(mm.recvq, m.value("recvqueue", 0));
      mm.ranks.insert(rank);
    }
    return true;
  });
  std::printf("%-24s %4s  %c %s %s %8s %s\n", "Module", "Idle", 'S', "Sendq", "Recvq", "Nodeset",
              "Service");
  for (const auto& m : mods) {
    std::printf("%-24.24s %4s  %c %5d %5d %8s %s\n", m.name.c_str(), idle_string(m.idle).c_str(),
                state_char(m.status), m.sendq, m.recvq, m.ranks.encode(true).c_str(),
                m.services.c_str());
  }
  return errors ? 1 : 0;
}

// A path (with a '/' or ending in .so) is made absolute here, so that every
// rank loads the same file; a name is looked up by each broker.
std::string module_path(const std::string& target) {
  if (target.find('/') == std::string::npos && !target.ends_with(".so")) return target;
  char* real = realpath(target.c_str(), nullptr);
  if (!real) throw FluxError(ENOENT, "load " + target + ": No such file or directory");
  std::string path = real;
  free(real);
  return path;
}

// The request on the local broker, or on each target rank; failures are
// "VERB NAME: error" (with " on rank N" for a rank), ignored when ignore()
// says so. Exit code 1 if any failed.
int run_on_targets(Handle& h, const RankOptions& ro, const std::string& topic, const Json& req,
                   const std::string& what, std::function<bool(const FluxError&)> ignore) {
  if (!ro.given()) {
    try {
      h.rpc(topic, req).get();
    } catch (const FluxError& e) {
      if (ignore(e)) return 0;
      throw FluxError(e.errnum(), what + ": " + e.what());
    }
    return 0;
  }
  int errors = on_ranks(h, target_ranks(h, ro), topic, req, [&](uint32_t rank, Rpc& rpc) {
    try {
      rpc.get();
    } catch (const FluxError& e) {
      if (ignore(e)) return true;
      std::fprintf(stderr, "flux-module: %s on rank %u: %s\n", what.c_str(), rank, e.what());
      return false;
    }
    return true;
  });
  return errors ? 1 : 0;
}

}  // namespace

int cmd_module(int argc, char** argv) {
  CLI::App app{"Manage broker modules."};
  app.require_subcommand(1);
  RankOptions ro;
  auto* list = app.add_subcommand("list", "List loaded modules");
  ro.add(list);
  auto* load = app.add_subcommand("load", "Load a module by name or path");
  std::string target;
  std::vector<std::string> args;
  ro.add(load);
  load->add_option("module", target, "Module name or path")->required();
  load->add_option("args", args, "Module arguments");
  auto* remove = app.add_subcommand("remove", "Remove a module");
  remove->alias("unload");  // flux-core's older name, still taken
  bool force = false;
  std::string name;
  ro.add(remove);
  remove->add_option("name", name, "Module name")->required();
  remove->add_flag("-f,--force", force, "Do not fail if the module is not loaded");
  auto* reload = app.add_subcommand("reload", "Remove a module, then load it again");
  ro.add(reload);
  reload->add_option("module", target, "Module name or path")->required();
  reload->add_option("args", args, "Module arguments");
  reload->add_flag("-f,--force", force, "Load it even if it was not loaded");
  auto* debug = app.add_subcommand("debug", "Get or set a module's debug flags");
  std::string set_mask, setbit, clearbit;
  bool clear = false;
  debug->add_flag("-C,--clear", clear, "Set the debug flags to 0");
  debug->add_option("-S,--set", set_mask, "Set the debug flags to MASK");
  debug->add_option("-s,--setbit", setbit, "Set one debug flag");
  debug->add_option("-c,--clearbit", clearbit, "Clear one debug flag");
  debug->add_option("name", name, "Module name")->required();
  auto* stats = app.add_subcommand("stats", "Print a module's message counters");
  uint32_t stats_rank = 0;
  auto* stats_rank_opt =
      stats->add_option("-r,--rank", stats_rank, "Ask the module on broker RANK");
  stats->add_option("name", name, "Module name")->required();
  std::string stats_parse, stats_type;
  double stats_scale = 1.0;
  stats->add_option("-p,--parse", stats_parse, "Print only the value at this dotted path");
  stats->add_option("-t,--type", stats_type, "Print the value as int or double")
      ->check(CLI::IsMember({"int", "double"}));
  stats->add_option("-s,--scale", stats_scale, "Multiply the (int or double) value by N");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto h = open_instance();

  if (*list) {
    if (!ro.given()) {
      print_local_list(*h);
      return 0;
    }
    Idset ranks = target_ranks(*h, ro);
    return ranks.empty() ? 0 : print_ranks_list(*h, ranks);
  }
  if (*load) {
    Json req = {{"path", module_path(target)}, {"args", args}};
    return run_on_targets(*h, ro, "module.load", req, "load " + target,
                          [](const FluxError&) { return false; });
  }
  if (*reload) {
    // The name a module registers under is its file's base name.
    std::string mod = target.substr(target.rfind('/') + 1);
    if (mod.ends_with(".so")) mod.resize(mod.size() - 3);
    Json rm = {{"name", mod}};
    int rc = run_on_targets(*h, ro, "module.remove", rm, "remove " + mod,
                            [force](const FluxError& e) { return force && e.errnum() == ENOENT; });
    if (rc != 0) return rc;
    Json req = {{"path", module_path(target)}, {"args", args}};
    return run_on_targets(*h, ro, "module.load", req, "load " + target,
                          [](const FluxError&) { return false; });
  }
  if (*debug) {
    std::string op = "setbit";
    int flags = 0;
    auto mask = [](const std::string& v) { return static_cast<int>(std::stoul(v, nullptr, 0)); };
    if (clear) {
      op = "clr";
    } else if (!set_mask.empty()) {
      op = "set";
      flags = mask(set_mask);
    } else if (!clearbit.empty()) {
      op = "clrbit";
      flags = mask(clearbit);
    } else if (!setbit.empty()) {
      flags = mask(setbit);
    }
    Json r = h->rpc(name + ".debug", {{"op", op}, {"flags", flags}}).get_json();
    std::printf("0x%x\n", r.value("flags", 0));
    return 0;
  }
  if (*remove) {
    Json req = {{"name", name}};
    return run_on_targets(*h, ro, "module.remove", req, "remove " + name,
                          [force](const FluxError& e) { return force && e.errnum() == ENOENT; });
  }
  if (*stats) {
    uint32_t nodeid = stats_rank_opt->count() ? stats_rank : kNodeidAny;
    auto r = h->rpc(name + ".stats-get", Json::object(), nodeid).get_json();
    const Json* v = &r;
    for (size_t start = 0; !stats_parse.empty() && start <= stats_parse.size();) {
      size_t dot = stats_parse.find('.', start);
      std::string part = stats_parse.substr(start, dot == std::string::npos ? dot : dot - start);
      if (!v->is_object() || !v->contains(part))
        throw FluxError(ENOENT, "'" + stats_parse + "' not found");
      v = &(*v)[part];
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    if (v->is_number() && (!stats_type.empty() || stats_scale != 1.0)) {
      double d = v->get<double>() * stats_scale;
      bool as_int = stats_type == "int" || (stats_type.empty() && v->is_number_integer());
      if (as_int)
        std::printf("%lld\n", static_cast<long long>(d));
      else
        std::printf("%f\n", d);
    } else if (v->is_object() || v->is_array()) {
      std::printf("%s\n", v->dump(1).c_str());
    } else {
      std::printf("%s\n", v->dump().c_str());
    }
  }
  return 0;
}

}  // namespace flux::cmd
