// flux pstree: the instance's jobs as a tree, as flux-core's: a job that
// is itself a Flux instance (flux batch, flux alloc) has that instance's
// jobs below it, to any depth (-L); identical leaves are folded into
// "N*[label]". Labels are flux jobs format strings.
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

#include "cli.hpp"
#include "command.hpp"
#include "instance_uri.hpp"
#include "jobs_format.hpp"
#include "libflux/jobid.hpp"

namespace flux::cmd {

namespace {

struct Node {
  std::string prefix;  // the details columns (-x), then a space; or ""
  std::string label;
  std::vector<Node> children;
};

struct TreeOptions {
  int states = 16 | 32;  // running; -a: all
  int count = 1000;
  int max_level = 999;
  bool fold = true;
  std::optional<jobs::JobFormat> label, parent_label, details;
  std::vector<std::pair<JobId, std::string>> ids;  // JOBID arguments (and as typed)
};

// flux-core's named -d formats (flux jobs fields), shown before the tree.
const char* details_format(const std::string& name) {
  if (name == "default")
    return "{id.f58:>12} {username:<8.8} {status_abbrev:>2.2} {ntasks:>6h} {nnodes:>6h} "
           "{runtime!F:>8h}";
  if (name == "resources")
    return "{id.f58:>12} {instance.resources.all.nnodes:>5} "
           "{instance.resources.allocated.nnodes:>5} {instance.resources.all.ncores:>5} "
           "{instance.resources.allocated.ncores:>5} {instance.resources.all.ngpus:>5} "
           "{instance.resources.allocated.ngpus:>5}";
  if (name == "progress")
    return "{id.f58:>12} {ntasks:>6h} {instance.stats.total:>6} {instance.progress!P:>5} "
           "{instance.utilization!P:>5} {instance.gpu_utilization!P:>5} {runtime!H:>10}";
  if (name == "stats") return "{id.f58:>12} {instance.stats:^25} {runtime!H:>10}";
  return nullptr;
}

struct Connectors {
  const char *pipe, *tee, *elbow, *blank;
};

// The enclosing instance, as flux-core's pstree labels the root: its job
// in the parent when it is one, else a stand-in named "." (whose id
// fields print "."), with its own instance.* information.
jobs::JobView root_view(const TreeOptions& o) {
  auto h = Handle::open();
  int size = std::atoi(attr_of(*h, "size").value_or("1").c_str());
  Json info;
  auto jobid = attr_of(*h, "jobid"), parent = attr_of(*h, "parent-uri");
  if (jobid && parent) {
    try {
      auto ph = Handle::open(*parent);
      Json req = {{"id", JobId::parse(*jobid).value().value}, {"attrs", Json::array({"all"})}};
      info = ph->rpc("job-list.list-id", req).get_json().at("job");
    } catch (const std::exception&) {
      info = nullptr;  // the stand-in below
    }
  }
  if (!info.is_object()) {
    info = {{"id", 0},
            {"root", true},
            {"userid", getuid()},
            {"state", 16},
            {"name", "."},
            {"ntasks", size},
            {"nnodes", size},
            {"nodelist", attr_of(*h, "hostlist").value_or("")},
            {"annotations", {{"user", {{"uri", attr_of(*h, "local-uri").value_or("")}}}}}};
    if (auto start = attr_of(*h, "broker.starttime")) info["t_run"] = std::atof(start->c_str());
  }
  info["ranks"] = "0-" + std::to_string(size - 1);
  std::vector<jobs::JobView> v{jobs::JobView(std::move(info))};
  if (o.details && o.details->uses("instance.")) add_instance_info(v);
  return v[0];
}

// The jobs of the instance at uri (empty: ours) as tree nodes; an
// instance that cannot be asked (not ours, still starting) has none.
// At the top, JOBID arguments (unknown ones are reported and skipped),
// and with the root left out only running jobs, as flux-core's.
std::vector<Node> load(const std::string& uri, const TreeOptions& o, int level, bool skip_root) {
  std::vector<Node> out;
  Json jobs;
  try {
    auto h = Handle::open(uri);
    if (level == 0 && !o.ids.empty()) {
      jobs = Json::array();
      for (const auto& [id, typed] : o.ids) {
        Json req = {{"id", id.value}, {"attrs", Json::array({"all"})}};
        try {
          jobs.push_back(h->rpc("job-list.list-id", req).get_json().at("job"));
        } catch (const FluxError& e) {
          if (e.errnum() != ENOENT) throw;
          std::fprintf(stderr, "flux-pstree: ERROR: JobID %s unknown\n", typed.c_str());
        }
      }
    } else {
      int states = level == 0 && skip_root ? 16 | 32 : o.states;
      Json constraint = {{"and", Json::array({Json{{"userid", Json::array({getuid()})}},
                                              Json{{"states", Json::array({states})}}})}};
      Json req = {
          {"max_entries", o.count}, {"attrs", Json::array({"all"})}, {"constraint", constraint}};
      jobs = h->rpc("job-list.list", req).get_json().at("jobs");
    }
  } catch (const std::exception&) {
    if (level == 0) throw;
    return out;
  }
  std::vector<jobs::JobView> views;
  for (auto& j : jobs) views.emplace_back(std::move(j));
  if (o.details && o.details->uses("instance.")) add_instance_info(views);
  for (const auto& view : views) {
    auto uri_below = running_instance_uri(view.raw());
    Node n;
    n.label = (uri_below ? *o.parent_label : *o.label).format(view);
    if (o.details) n.prefix = o.details->format(view) + " ";
    if (uri_below && level + 1 <= o.max_level)
      n.children = load(*uri_below, o, level + 1, skip_root);
    out.push_back(std::move(n));
  }
  if (!o.fold) return out;
  // Fold runs of identical leaves (details included, as flux-core's).
  std::vector<Node> folded;
  for (size_t i = 0; i < out.size();) {
    size_t k = i + 1;
    if (out[i].children.empty())
      while (k < out.size() && out[k].children.empty() && out[k].label == out[i].label &&
             out[k].prefix == out[i].prefix)
        k++;
    if (k - i > 1) out[i].label = std::to_string(k - i) + "*[" + out[i].label + "]";
    folded.push_back(std::move(out[i]));
    i = k;
  }
  return folded;
}

// One line per node: its details, the tree's connectors, its label; cut
// to `width` columns (0: never) with a "+" at the end, as flux-core's.
void line(const std::string& text, size_t width, std::string& out) {
  if (width > 0 && jobs::utf8_len(text) > width)
    out += jobs::utf8_prefix(text, width - 1) + "+\n";
  else
    out += text + "\n";
}

void render(const std::vector<Node>& nodes, const std::string& indent, const Connectors& c,
            size_t width, std::string& out) {
  for (size_t i = 0; i < nodes.size(); i++) {
    bool last = i + 1 == nodes.size();
    line(nodes[i].prefix + indent + (last ? c.elbow : c.tee) + nodes[i].label, width, out);
    render(nodes[i].children, indent + (last ? c.blank : c.pipe), c, width, out);
  }
}

}  // namespace

int cmd_pstree(int argc, char** argv) {
  CLI::App app{"Show the instance's jobs as a tree, through nested instances."};
  TreeOptions o;
  bool all = false, no_fold = false, parent_ids = false, extended = false, no_header = false;
  bool long_lines = false, compact = false, ascii = false;
  std::string details, detail_format;
  std::string skip_root, label, parent_label;
  app.add_flag("-a,--all", all, "Include jobs in all states (labels get the status)");
  app.add_option("-c,--count", o.count, "At most N jobs per instance (default 1000)");
  app.add_option("-L,--level", o.max_level, "Descend at most N levels of nested instances");
  app.add_flag("-X,--no-combine", no_fold, "Do not fold identical leaves");
  app.add_flag("-p,--parent-ids", parent_ids, "Prepend the job id to parents' labels");
  app.add_flag("-x,--extended", extended, "Print extended details before the tree");
  app.add_option("-d,--details", details,
                 "A named details format: default, resources, progress, stats (implies -x)");
  app.add_option("--detail-format", detail_format, "A details format of your own (implies -x)");
  app.add_flag("-n,--no-header", no_header, "No header line with -x");
  app.add_flag("-l,--long", long_lines, "Do not cut lines at the terminal's width");
  app.add_flag("-C,--compact", compact, "Compact tree connectors");
  app.add_flag("--ascii", ascii, "ASCII tree connectors");
  app.add_option("-o,--label", label, "Label format (flux jobs fields), default {name}");
  app.add_option("--parent-label", parent_label, "Label format for jobs that are instances");
  app.add_option("--skip-root", skip_root, "yes: leave out the root; no: show it")
      ->expected(0, 1)
      ->default_str("yes");
  std::vector<std::string> ids;
  app.add_option("JOBID", ids, "Only these jobs (and what runs in them)");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  for (const auto& text : ids) {
    auto id = JobId::parse(text);
    if (!id) throw FluxError(EINVAL, "invalid JobID value: '" + text + "'");
    o.ids.emplace_back(*id, text);
  }
  if (all) o.states = 127;
  o.fold = !no_fold;
  if (!label.empty() && parent_label.empty()) parent_label = label;
  if (label.empty()) label = all ? "{name}:{status_abbrev}" : "{name}";
  if (parent_label.empty()) parent_label = "{name}";
  if (parent_ids) parent_label = "{id.f58} " + parent_label;
  o.label.emplace(label);
  o.parent_label.emplace(parent_label);
  if (compact && ascii) throw FluxError(EINVAL, "Choose only one of --ascii, --compact");
  if (extended || !details.empty() || !detail_format.empty()) {
    if (detail_format.empty()) {
      const char* named = details_format(details.empty() ? "default" : details);
      if (!named) throw FluxError(EINVAL, "Unknown --details format '" + details + "'");
      detail_format = named;
    }
    o.details.emplace(detail_format);
  }
  if (app.count("--skip-root") && !skip_root.empty() && skip_root != "yes" && skip_root != "no")
    throw FluxError(EINVAL, "--skip-root: expected yes or no, got " + skip_root);
  // With details the root is left out unless asked for, as flux-core's.
  bool skip =
      app.count("--skip-root") > 0 ? skip_root != "no" : o.details.has_value() || !o.ids.empty();
  Connectors c = compact ? Connectors{"│ ", "├─", "└─", "  "}
                 : ascii ? Connectors{"|   ", "|-- ", "`-- ", "    "}
                         : Connectors{"│   ", "├── ", "└── ", "    "};
  // flux-core cuts at the terminal's width, COLUMNS, else 132.
  size_t width = 132;
  if (const char* cols = std::getenv("COLUMNS"); cols && std::atoi(cols) > 0)
    width = static_cast<size_t>(std::atoi(cols));
  else if (winsize ws{};
           isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    width = ws.ws_col;
  if (long_lines) width = 0;

  std::vector<Node> tree = load("", o, 0, skip);
  std::string out;
  if (o.details && !no_header) out = o.details->header() + "\n";
  if (skip) {
    for (const auto& n : tree) {
      line(n.prefix + n.label, width, out);
      render(n.children, "", c, width, out);
    }
  } else {
    jobs::JobView root = root_view(o);
    std::string root_prefix = o.details ? o.details->format(root) + " " : "";
    line(root_prefix + o.parent_label->format(root), width, out);
    render(tree, "", c, width, out);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace flux::cmd
