// flux pstree: the instance's jobs as a tree. Today the tree has one level
// (jobs that are themselves instances will add levels when `flux batch`
// and `flux alloc` land); jobs with the same label are folded into
// "N*[label]", as flux-core does.
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "cli.hpp"
#include "command.hpp"
#include "libflux/jobid.hpp"

namespace flux::cmd {

namespace {

const char* state_letter(int state) {
  switch (state) {
    case 1:
      return "N";
    case 2:
      return "D";
    case 4:
      return "P";
    case 8:
      return "S";
    case 16:
      return "R";
    case 32:
      return "C";
    case 64:
      return "I";
  }
  return "?";
}

}  // namespace

int cmd_pstree(int argc, char** argv) {
  CLI::App app{"Show the instance's jobs as a tree."};
  bool all = false;
  bool skip_root = false;
  bool no_fold = false;
  bool details = false;
  app.add_flag("-a,--all", all, "Include inactive jobs");
  app.add_flag("--skip-root", skip_root, "Do not print the root (the instance)");
  app.add_flag("-X,--no-combine", no_fold, "Do not fold jobs with the same label");
  bool no_header = false;  // there is no details header yet: nothing to leave out
  app.add_flag("-n,--no-header", no_header, "Do not print the details header");
  app.add_flag("-x,--extended", details, "Label jobs with their id as well");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto h = open_instance();
  int states = all ? 127 : 1 | 2 | 4 | 8 | 16 | 32;
  Json constraint = {{"and", Json::array({Json{{"userid", Json::array({getuid()})}},
                                          Json{{"states", Json::array({states})}}})}};
  Json req = {
      {"max_entries", 0}, {"attrs", Json::array({"name", "state"})}, {"constraint", constraint}};
  Json jobs = h->rpc("job-list.list", req).get_json().at("jobs");
  std::vector<std::string> labels;
  for (const auto& j : jobs) {
    std::string label = j.value("name", "") + ":" + state_letter(j.value("state", 0));
    if (details) label = JobId{j.at("id").get<uint64_t>()}.encode() + " " + label;
    labels.push_back(label);
  }
  // Fold runs of equal labels.
  std::vector<std::string> nodes;
  for (size_t i = 0; i < labels.size();) {
    size_t k = i + 1;
    while (!no_fold && k < labels.size() && labels[k] == labels[i]) k++;
    nodes.push_back(k - i > 1 ? std::to_string(k - i) + "*[" + labels[i] + "]" : labels[i]);
    i = k;
  }
  std::string out = skip_root ? "" : ".\n";
  for (size_t i = 0; i < nodes.size(); i++) {
    if (skip_root)
      out += nodes[i] + "\n";
    else
      out += (i + 1 == nodes.size() ? "└── " : "├── ") + nodes[i] + "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace flux::cmd
