// flux resource list / info / R: the scheduler's view of resources.
#include <cstdio>
#include <map>

#include "cli.hpp"
#include "output_format.hpp"
#include "resource_common.hpp"

namespace flux::cmd::resourcecmd {
namespace {

constexpr const char* kListDefault =
    "{state:>10} ?:{queue:<10.10} ?:{propertiesx:<10.10+} {nnodes:>6} {ncores:>8} ?:{ngpus:>8} "
    "{nodelist}";
constexpr const char* kListRlist =
    "{state:>10} ?:{queue:<8.8} ?:{propertiesx:<10.10+} {nnodes:>6} {ncores:>8} {ngpus:>8} "
    "{rlist}";

const std::vector<std::string> kValidStates = {"up", "down", "allocated", "free", "all"};

// The resources in each state of the scheduler view.
std::map<std::string, Rset> by_state(const SchedView& v) {
  Rset up = v.all;
  up.remove_ranks(v.down.ranks());
  Rset free = up - v.allocated;
  return {{"all", v.all},
          {"up", up},
          {"down", v.down},
          {"allocated", v.allocated & v.all},
          {"free", free}};
}

struct Options {
  std::string states;
  std::string include;
  std::string queue;
};

void add_common(CLI::App& app, Options& o) {
  app.add_option("-s,--states", o.states, "Resource states to show (comma separated)");
  app.add_option("-i,--include", o.include, "Include only these ranks or hosts");
  app.add_option("-q,--queue", o.queue, "Include only these queues (none are configured)");
}

std::vector<std::string> states_of(const std::string& given, const char* dflt) {
  auto states = split_commas(given.empty() ? dflt : given);
  for (const auto& s : states) {
    bool ok = false;
    for (const auto& v : kValidStates) ok = ok || v == s;
    if (!ok) throw FluxError(EINVAL, "Invalid resource state " + s + " specified");
  }
  return states;
}

// The union of the states' resources, restricted to --include.
Rset selected(const SchedView& v, const Options& o, const char* dflt) {
  auto sets = by_state(v);
  Rset out;
  for (const auto& s : states_of(o.states, dflt)) out |= sets.at(s);
  if (!o.include.empty()) out = out.copy_ranks(include_ranks(v.all, o.include));
  return out;
}

std::string properties_of(const Rset& r) {
  std::string out;
  for (const auto& [name, ids] : r.properties) out += (out.empty() ? "" : ",") + name;
  return out;
}

// "rank0/core[0-3],gpu0 ..." short form of an R.
std::string rlist_of(const Rset& r) {
  std::map<std::string, Idset> groups;
  for (const auto& [rank, node] : r.nodes()) {
    std::string kids = "core" + node.cores.encode(true);
    if (!node.gpus.empty()) kids += ",gpu" + node.gpus.encode(true);
    groups[kids].insert(rank);
  }
  std::string out;
  for (const auto& [kids, ranks] : groups) {
    out += (out.empty() ? "" : " ") + std::string("rank") + ranks.encode(true) + "/" + kids;
  }
  return out;
}

}  // namespace

int list(int argc, char** argv) {
  CLI::App app{"Show the scheduler view of resources."};
  Options o;
  std::string fmt;
  bool no_header = false;
  add_common(app, o);
  app.add_option("-o,--format", fmt, "Output format (default, rlist, or a format string)");
  app.add_flag("-n,--no-header", no_header, "Suppress the header");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  if (fmt.empty() || fmt == "default") fmt = kListDefault;
  if (fmt == "rlist") fmt = kListRlist;
  std::map<std::string, std::string> headings = {
      {"state", "STATE"},           {"queue", "QUEUE"},
      {"properties", "PROPERTIES"}, {"propertiesx", "PROPERTIES"},
      {"nnodes", "NNODES"},         {"ncores", "NCORES"},
      {"ngpus", "NGPUS"},           {"ranks", "RANKS"},
      {"nodelist", "NODELIST"},     {"rlist", "LIST"}};
  OutputFormat of(fmt, headings);
  auto h = open_instance();
  SchedView v = sched_view(*h);
  auto sets = by_state(v);
  Idset include;
  if (!o.include.empty()) include = include_ranks(v.all, o.include);

  // One line per state and distinct properties (counts and names merged).
  struct Line {
    std::string state;
    Rset r;
  };
  std::vector<Line> lines;
  for (const auto& state : states_of(o.states, "free,allocated,down")) {
    Rset s = sets.at(state);
    if (!o.include.empty()) s = s.copy_ranks(include);
    std::map<std::string, Rset> groups;
    for (uint32_t rank : s.ranks()) {
      Rset one = s.copy_ranks(Idset{rank});
      groups[properties_of(one)] |= one;
    }
    if (groups.empty()) lines.push_back(Line{state, Rset{}});
    for (auto& [props, r] : groups) lines.push_back(Line{state, r});
  }
  std::vector<OutputFormat::Getter> getters;
  for (const auto& line : lines) {
    const Line* l = &line;
    getters.push_back([l](const std::string& f) -> std::string {
      if (f == "state") return l->state;
      if (f == "queue") return "";
      if (f == "properties" || f == "propertiesx") return properties_of(l->r);
      if (f == "nnodes") return std::to_string(l->r.nnodes());
      if (f == "ncores") return std::to_string(l->r.ncores());
      if (f == "ngpus") return std::to_string(l->r.ngpus());
      if (f == "ranks") return l->r.ranks().encode();
      if (f == "nodelist") return l->r.nodelist().encode();
      if (f == "rlist") return rlist_of(l->r);
      return "";
    });
  }
  of.filter_empty(getters);
  if (!no_header) std::printf("%s\n", of.header().c_str());
  for (const auto& g : getters) std::printf("%s\n", of.format(g).c_str());
  return 0;
}

int info(int argc, char** argv) {
  CLI::App app{"Show a one-line summary of the scheduler view of resources."};
  Options o;
  add_common(app, o);
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto h = open_instance();
  Rset r = selected(sched_view(*h), o, "all");
  std::printf("%zu Nodes, %zu Cores, %zu GPUs\n", r.nnodes(), r.ncores(), r.ngpus());
  return 0;
}

int emit_r(int argc, char** argv) {
  CLI::App app{"Emit the scheduler view of resources as R (RFC 20)."};
  Options o;
  add_common(app, o);
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto h = open_instance();
  SchedView v = sched_view(*h);
  Rset r = selected(v, o, "all");
  r.starttime = v.all.starttime;
  r.expiration = v.all.expiration;
  std::printf("%s\n", r.encode().c_str());
  return 0;
}

}  // namespace flux::cmd::resourcecmd
