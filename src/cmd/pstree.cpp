// flux pstree: the instance's jobs as a tree, as flux-core's: a job that
// is itself a Flux instance (flux batch, flux alloc) has that instance's
// jobs below it, to any depth (-L); identical leaves are folded into
// "N*[label]". Labels are flux jobs format strings.
#include <unistd.h>

#include <cstdio>
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
  std::string label;
  std::vector<Node> children;
};

struct TreeOptions {
  int states = 16 | 32;  // running; -a: all
  int count = 1000;
  int max_level = 999;
  bool fold = true;
  std::optional<jobs::JobFormat> label, parent_label;
};

// The jobs of the instance at uri (empty: ours) as tree nodes; an
// instance that cannot be asked (not ours, still starting) has none.
std::vector<Node> load(const std::string& uri, const TreeOptions& o, int level) {
  std::vector<Node> out;
  Json jobs;
  try {
    auto h = Handle::open(uri);
    Json constraint = {{"and", Json::array({Json{{"userid", Json::array({getuid()})}},
                                            Json{{"states", Json::array({o.states})}}})}};
    Json req = {
        {"max_entries", o.count}, {"attrs", Json::array({"all"})}, {"constraint", constraint}};
    jobs = h->rpc("job-list.list", req).get_json().at("jobs");
  } catch (const std::exception&) {
    if (level == 0) throw;
    return out;
  }
  for (auto& j : jobs) {
    auto uri_below = running_instance_uri(j);
    Node n;
    jobs::JobView view(j);
    n.label = (uri_below ? *o.parent_label : *o.label).format(view);
    if (uri_below && level + 1 <= o.max_level) n.children = load(*uri_below, o, level + 1);
    out.push_back(std::move(n));
  }
  if (!o.fold) return out;
  // Fold runs of identical leaves.
  std::vector<Node> folded;
  for (size_t i = 0; i < out.size();) {
    size_t k = i + 1;
    if (out[i].children.empty())
      while (k < out.size() && out[k].children.empty() && out[k].label == out[i].label) k++;
    if (k - i > 1) out[i].label = std::to_string(k - i) + "*[" + out[i].label + "]";
    folded.push_back(std::move(out[i]));
    i = k;
  }
  return folded;
}

void render(const std::vector<Node>& nodes, const std::string& prefix, std::string& out) {
  for (size_t i = 0; i < nodes.size(); i++) {
    bool last = i + 1 == nodes.size();
    out += prefix + (last ? "└── " : "├── ") + nodes[i].label + "\n";
    render(nodes[i].children, prefix + (last ? "    " : "│   "), out);
  }
}

}  // namespace

int cmd_pstree(int argc, char** argv) {
  CLI::App app{"Show the instance's jobs as a tree, through nested instances."};
  TreeOptions o;
  bool all = false, no_fold = false, parent_ids = false, details = false, no_header = false;
  bool long_lines = false;
  std::string skip_root, label, parent_label;
  app.add_flag("-a,--all", all, "Include jobs in all states (labels get the status)");
  app.add_option("-c,--count", o.count, "At most N jobs per instance (default 1000)");
  app.add_option("-L,--level", o.max_level, "Descend at most N levels of nested instances");
  app.add_flag("-X,--no-combine", no_fold, "Do not fold identical leaves");
  app.add_flag("-p,--parent-ids", parent_ids, "Prepend the job id to parents' labels");
  app.add_flag("-x,--extended", details, "Prepend the job id to every label");
  app.add_flag("-n,--no-header", no_header, "Accepted for flux-core compatibility");
  app.add_flag("-l,--long", long_lines, "Do not truncate lines (they never are)");
  app.add_option("-o,--label", label, "Label format (flux jobs fields), default {name}");
  app.add_option("--parent-label", parent_label, "Label format for jobs that are instances");
  app.add_option("--skip-root", skip_root, "yes: leave out the root; no: show it")
      ->expected(0, 1)
      ->default_str("yes");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  if (all) o.states = 127;
  o.fold = !no_fold;
  if (!label.empty() && parent_label.empty()) parent_label = label;
  if (label.empty()) label = all ? "{name}:{status_abbrev}" : "{name}";
  if (parent_label.empty()) parent_label = "{name}";
  if (details) {
    label = "{id.f58} " + label;
    parent_label = "{id.f58} " + parent_label;
  } else if (parent_ids) {
    parent_label = "{id.f58} " + parent_label;
  }
  o.label.emplace(label);
  o.parent_label.emplace(parent_label);
  if (app.count("--skip-root") && !skip_root.empty() && skip_root != "yes" && skip_root != "no")
    throw FluxError(EINVAL, "--skip-root: expected yes or no, got " + skip_root);
  bool skip = app.count("--skip-root") > 0 && skip_root != "no";

  std::vector<Node> tree = load("", o, 0);
  std::string out;
  if (skip) {
    for (const auto& n : tree) {
      out += n.label + "\n";
      render(n.children, "", out);
    }
  } else {
    out = ".\n";
    render(tree, "", out);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace flux::cmd
