// flux resource list / info / R: the scheduler's view of resources, from
// resource.sched-status (or $FLUX_RESOURCE_LIST_RPC; sched.resource-status
// when that is not served), or from stdin (--from-stdin, for tests), with
// the queues of the instance config (or --config-file).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <set>

#include "cli.hpp"
#include "libflux/rset_constraint.hpp"
#include "output_format.hpp"
#include "resource_common.hpp"

namespace flux::cmd::resourcecmd {
namespace {

constexpr const char* kListDefault =
    "{state:>10} ?+:{queue:<5} ?:{propertiesx:<10.10+} {nnodes:>6} +:{ncores:>6} ?+:{ngpus:>5} "
    "{nodelist}";
constexpr const char* kListRlist =
    "{state:>10} ?+:{queue:<5} ?:{propertiesx:<10.10+} {nnodes:>6} +:{ncores:>6} ?+:{ngpus:>5} "
    "{rlist}";
constexpr const char* kInfoFormat = "{nnodes} Nodes, {ncores} Cores, {ngpus} GPUs";

const std::vector<std::string> kValidStates = {"up", "down", "allocated", "free", "all"};

struct Options {
  std::string states;
  std::string include;
  std::string queue;
  bool from_stdin = false;
  std::string config_file;
  bool skip_empty = false;
  bool no_skip_empty = false;
};

void add_common(CLI::App& app, Options& o) {
  app.add_option("-s,--states", o.states, "Resource states to show (comma separated)");
  app.add_option("-i,--include", o.include, "Include only these ranks or hosts");
  app.add_option("-q,--queue", o.queue, "Include only these queues (comma separated)");
  app.add_flag("--skip-empty", o.skip_empty, "Leave out lines with no resources");
  app.add_flag("--no-skip-empty", o.no_skip_empty, "Keep lines with no resources");
  // For tests, as flux-core's: the sched-status payload on stdin and the
  // queues from a JSON file.
  app.add_flag("--from-stdin", o.from_stdin)->group("");
  app.add_option("--config-file", o.config_file)->group("");
}

[[noreturn]] void fail(const std::string& msg) {
  std::fprintf(stderr, "flux-resource: ERROR: %s\n", msg.c_str());
  std::exit(1);
}

std::vector<std::string> states_of(const std::string& given, const char* dflt) {
  auto states = split_commas(given.empty() ? dflt : given);
  for (const auto& s : states)
    if (std::find(kValidStates.begin(), kValidStates.end(), s) == kValidStates.end())
      fail("Invalid resource state " + s + " specified");
  return states;
}

Rset rset_or_empty(const Json& o, const char* key) {
  if (!o.is_object() || !o.contains(key) || o[key].is_null()) return Rset{};
  auto r = Rset::from_json(o[key]);
  if (!r) fail(std::string(key) + ": " + r.error().message);
  return std::move(*r);
}

// The queue's entry, or its parent's for a virtual queue.
const Json& effective_entry(const Json& queues, const std::string& name) {
  const Json& entry = queues.at(name);
  if (entry.is_object() && entry.contains("parent") && entry["parent"].is_string()) {
    std::string parent = entry["parent"].get<std::string>();
    if (!queues.contains(parent))
      throw FluxError(EINVAL,
                      "queue '" + name + "': parent queue '" + parent + "' is not configured");
    return queues.at(parent);
  }
  return entry;
}

std::vector<std::string> requires_of(const Json& entry) {
  if (entry.is_object() && entry.contains("requires") && entry["requires"].is_array())
    return entry["requires"].get<std::vector<std::string>>();
  return {};
}

// The scheduler's view, restricted as the options say.
struct View {
  Rset all, allocated, down;
  Json config = Json::object();
  Rset up() const {
    Rset u = all;
    u.remove_ranks(down.ranks());
    return u;
  }
  Rset state(const std::string& s) const {
    if (s == "all") return all;
    if (s == "down") return down;
    if (s == "allocated") return allocated & all;
    if (s == "up") return up();
    return up() - allocated;  // free
  }
  void keep(const Idset& ranks) {
    all = all.copy_ranks(ranks);
    allocated = allocated.copy_ranks(ranks);
    down = down.copy_ranks(ranks);
  }
};

Json sched_status(Handle& h) {
  const char* env = std::getenv("FLUX_RESOURCE_LIST_RPC");
  std::string topic = env && *env ? env : "resource.sched-status";
  try {
    return h.rpc(topic, Json::object(), 0).get_json();
  } catch (const FluxError& e) {
    if (e.errnum() != ENOSYS) throw;
  }
  return h.rpc("sched.resource-status", Json::object(), 0).get_json();
}

View load(const Options& o) {
  View v;
  Json status;
  if (o.from_stdin) {
    std::string text(std::istreambuf_iterator<char>(std::cin), {});
    status = Json::parse(text, nullptr, false);
    if (status.is_discarded()) fail("input is not JSON");
    if (!o.config_file.empty()) {
      std::ifstream in(o.config_file);
      if (!in) fail(o.config_file + ": cannot open");
      v.config = Json::parse(in, nullptr, false);
      if (!v.config.is_object()) fail(o.config_file + ": not a JSON object");
    }
  } else {
    auto h = open_instance();
    Rpc config = h->rpc("config.get", Json::object());
    status = sched_status(*h);
    try {
      v.config = config.get_json();
    } catch (const FluxError& e) {
      std::fprintf(stderr, "flux-resource: WARNING: Could not get flux config: %s\n", e.what());
    }
  }
  v.all = rset_or_empty(status, "all");
  v.allocated = rset_or_empty(status, "allocated");
  v.down = rset_or_empty(status, "down");
  if (!o.queue.empty()) {
    const Json queues = v.config.value("queues", Json::object());
    Idset ranks;
    for (const auto& q : split_commas(o.queue)) {
      if (!queues.contains(q)) fail("--queue: " + q + ": no such queue");
      try {
        auto req = requires_of(effective_entry(queues, q));
        Json c = req.empty() ? Json::object() : Json{{"properties", req}};
        ranks |= constraint_ranks(v.all, c).value();
      } catch (const FluxError& e) {
        fail(std::string("--queue: ") + e.what());
      }
    }
    v.keep(ranks);
  }
  if (!o.include.empty()) {
    try {
      v.keep(include_ranks(v.all, o.include));
    } catch (const FluxError& e) {
      fail(std::string("--include: ") + e.what());
    }
  }
  return v;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

std::vector<std::string> property_names(const Rset& r) {
  std::vector<std::string> out;
  for (const auto& [name, ids] : r.properties)
    if (!(ids & r.ranks()).empty()) out.push_back(name);
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
  for (const auto& [kids, ranks] : groups)
    out += (out.empty() ? "" : " ") + std::string("rank") + ranks.encode(true) + "/" + kids;
  return out;
}

struct ListLine {
  std::string state;
  Rset r;
  std::string queue;  // the queue column
};

// flux-core's lines: each state's resources split by the exact set of
// properties of their ranks, lines that would print the same state,
// properties and queue merged, in state order then by first rank.
std::vector<ListLine> make_lines(const View& v, const std::vector<std::string>& states,
                                 const std::vector<std::string>& fields,
                                 const std::vector<std::string>& queue_filter) {
  static const std::set<std::string> kUniq = {"state", "properties", "propertiesx", "queue"};
  bool uniq = fields.size() > 1 || std::find(fields.begin(), fields.end(), "state") != fields.end();
  const Json queues = v.config.value("queues", Json::object());
  // The queues a set of properties belongs to.
  auto queues_of = [&](const std::vector<std::string>& props) {
    std::vector<std::string> out;
    for (const auto& [name, entry] : queues.items()) {
      if (!queue_filter.empty()) {
        if (std::find(queue_filter.begin(), queue_filter.end(), name) == queue_filter.end())
          continue;
      } else if (entry.is_object() && entry.contains("parent")) {
        continue;  // a virtual queue shares its parent's rows
      }
      auto req = requires_of(effective_entry(queues, name));
      bool all = std::all_of(req.begin(), req.end(), [&](const std::string& p) {
        return std::find(props.begin(), props.end(), p) != props.end();
      });
      if (all) out.push_back(name);
    }
    return join(out);
  };
  auto propertiesx = [&](const std::vector<std::string>& props) {
    std::vector<std::string> out;
    for (const auto& p : props)
      if (!queues.contains(p)) out.push_back(p);
    return join(out);
  };
  auto key_of = [&](const ListLine& l) {
    std::string k;
    if (!uniq) return k;
    auto props = property_names(l.r);
    for (const auto& f : fields) {
      if (!kUniq.count(f)) continue;
      if (f == "state") k += l.state;
      if (f == "properties") k += join(props);
      if (f == "propertiesx") k += propertiesx(props);
      if (f == "queue") k += l.queue;
      k += '\x1f';
    }
    return k;
  };
  std::vector<std::string> empty_queues = queue_filter;
  if (empty_queues.empty())
    for (const auto& [name, entry] : queues.items())
      if (!(entry.is_object() && entry.contains("parent"))) empty_queues.push_back(name);
  if (empty_queues.empty()) empty_queues.emplace_back();

  std::vector<ListLine> lines;
  std::map<std::string, size_t> index;
  auto add = [&](ListLine l) {
    std::string k = key_of(l);
    auto it = index.find(k);
    if (it == index.end()) {
      index[k] = lines.size();
      lines.push_back(std::move(l));
    } else {
      lines[it->second].r |= l.r;
    }
  };
  for (const auto& state : states) {
    Rset set = v.state(state);
    if (set.empty()) {
      for (const auto& q : empty_queues) add(ListLine{state, Rset{}, q});
      continue;
    }
    std::map<std::vector<std::string>, Idset> groups;  // by exact property set
    for (uint32_t rank : set.ranks()) {
      std::vector<std::string> props;
      for (const auto& [name, ids] : set.properties)
        if (ids.contains(rank)) props.push_back(name);
      groups[props].insert(rank);
    }
    for (const auto& [props, ranks] : groups)
      add(ListLine{state, set.copy_ranks(ranks), queues_of(props)});
  }
  std::stable_sort(lines.begin(), lines.end(), [&](const ListLine& a, const ListLine& b) {
    auto pa = std::find(states.begin(), states.end(), a.state) - states.begin();
    auto pb = std::find(states.begin(), states.end(), b.state) - states.begin();
    if (pa != pb) return pa < pb;
    auto fa = a.r.ranks().first(), fb = b.r.ranks().first();
    if (!fa || !fb) return false;
    return *fa < *fb;
  });
  return lines;
}

// The fields a format names, in order.
std::vector<std::string> fields_of(const std::string& fmt) {
  std::vector<std::string> out;
  for (size_t i = 0; (i = fmt.find('{', i)) != std::string::npos;) {
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      i += 2;
      continue;
    }
    size_t end = fmt.find_first_of(":!}", i);
    out.push_back(fmt.substr(i + 1, end - i - 1));
    i = end;
  }
  return out;
}

int print_list(const Options& o, std::string fmt, const char* default_states, bool no_header) {
  std::map<std::string, std::string> headings = {
      {"state", "STATE"},           {"queue", "QUEUE"},
      {"properties", "PROPERTIES"}, {"propertiesx", "PROPERTIES"},
      {"nnodes", "NNODES"},         {"ncores", "NCORES"},
      {"ngpus", "NGPUS"},           {"ranks", "RANKS"},
      {"nodelist", "NODELIST"},     {"rlist", "LIST"}};
  OutputFormat of(fmt, headings);
  auto states = states_of(o.states, default_states);
  View v = load(o);
  auto qfilter = o.queue.empty() ? std::vector<std::string>{} : split_commas(o.queue);
  const Json queues = v.config.value("queues", Json::object());
  std::vector<ListLine> lines = make_lines(v, states, fields_of(fmt), qfilter);
  if (o.skip_empty || (!o.include.empty() && !o.no_skip_empty))
    std::erase_if(lines, [](const ListLine& l) { return l.r.empty(); });
  std::vector<OutputFormat::Getter> getters;
  for (const auto& line : lines) {
    const ListLine* l = &line;
    getters.push_back([l, &queues](const std::string& f) -> std::string {
      if (f == "state") return l->state;
      if (f == "queue") return l->queue;
      if (f == "properties") return join(property_names(l->r));
      if (f == "propertiesx") {
        std::vector<std::string> out;
        for (const auto& p : property_names(l->r))
          if (!queues.contains(p)) out.push_back(p);
        return join(out);
      }
      if (f == "nnodes") return std::to_string(l->r.nnodes());
      if (f == "ncores") return std::to_string(l->r.ncores());
      if (f == "ngpus") return std::to_string(l->r.ngpus());
      if (f == "ranks") return l->r.ranks().encode();
      if (f == "nodelist") return l->r.nodelist().encode();
      if (f == "rlist") return rlist_of(l->r);
      return "";
    });
  }
  of.print_items(getters, no_header);
  return 0;
}

// json.dumps's text (", " and ": "), keys in R's customary order.
std::string py_dumps(const Json& j) {
  static const std::vector<std::string> kOrder = {
      "version", "execution", "R_lite",     "rank",     "children",  "core",
      "gpu",     "starttime", "expiration", "nodelist", "properties"};
  if (j.is_object()) {
    std::vector<std::string> keys;
    for (const auto& k : kOrder)
      if (j.contains(k)) keys.push_back(k);
    for (const auto& [k, val] : j.items())
      if (std::find(kOrder.begin(), kOrder.end(), k) == kOrder.end()) keys.push_back(k);
    std::string out = "{";
    for (size_t i = 0; i < keys.size(); i++)
      out += (i ? ", " : "") + Json(keys[i]).dump() + ": " + py_dumps(j.at(keys[i]));
    return out + "}";
  }
  if (j.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < j.size(); i++) out += (i ? ", " : "") + py_dumps(j[i]);
    return out + "]";
  }
  return j.dump();
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
  if (fmt.empty())
    if (const char* env = std::getenv("FLUX_RESOURCE_LIST_FORMAT_DEFAULT"); env && *env) fmt = env;
  if (fmt.empty() || fmt == "default") fmt = kListDefault;
  if (fmt == "rlist") fmt = kListRlist;
  return print_list(o, fmt, "free,allocated,down", no_header);
}

int info(int argc, char** argv) {
  CLI::App app{"Show a one-line summary of the scheduler view of resources."};
  Options o;
  add_common(app, o);
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  return print_list(o, kInfoFormat, "all", true);
}

int emit_r(int argc, char** argv) {
  CLI::App app{"Emit the scheduler view of resources as R (RFC 20)."};
  Options o;
  add_common(app, o);
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto states = states_of(o.states, "all");
  View v = load(o);
  Rset r;
  for (const auto& s : states) r |= v.state(s);
  Json j = r.to_json();
  Json& ex = j["execution"];
  ex["starttime"] = static_cast<double>(v.all.starttime);
  ex["expiration"] = static_cast<double>(v.all.expiration);
  std::printf("%s\n", py_dumps(j).c_str());
  return 0;
}

}  // namespace flux::cmd::resourcecmd
