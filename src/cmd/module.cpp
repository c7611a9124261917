// flux module list|load|remove|stats
#include <climits>
#include <cstdlib>

#include "cli.hpp"
#include "command.hpp"

namespace flux::cmd {

int cmd_module(int argc, char** argv) {
  CLI::App app{"Manage broker modules."};
  app.require_subcommand(1);
  auto* list = app.add_subcommand("list", "List loaded modules");
  auto* load = app.add_subcommand("load", "Load a module by name or path");
  std::string target;
  std::vector<std::string> args;
  load->add_option("module", target, "Module name or path")->required();
  load->add_option("args", args, "Module arguments");
  auto* remove = app.add_subcommand("remove", "Remove a module");
  bool force = false;
  std::string name;
  remove->add_option("name", name, "Module name")->required();
  remove->add_flag("-f,--force", force, "Do not fail if the module is not loaded");
  auto* stats = app.add_subcommand("stats", "Print a module's message counters");
  stats->add_option("name", name, "Module name")->required();
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto h = open_instance();

  if (*list) {
    auto r = h->rpc("module.list").get_json();
    std::printf("%-24s %4s  %c %s %s %s\n", "Module", "Idle", 'S', "Sendq", "Recvq", "Service");
    for (const auto& m : r.at("mods")) {
      std::string mname = m.value("name", "");
      int idle = m.value("idle", 0);
      std::string idle_s = idle > 99 ? "idle" : std::to_string(idle);
      static const char kStates[] = "IRFX";
      int st = m.value("status", 0);
      char state = st >= 0 && st < 4 ? kStates[st] : '?';
      std::string services;
      for (const auto& s : m.value("services", Json::array())) {
        if (s.get<std::string>() == mname) continue;
        services += (services.empty() ? "" : ",") + s.get<std::string>();
      }
      std::printf("%-24.24s %4s  %c %5d %5d %s\n", mname.c_str(), idle_s.c_str(), state,
                  m.value("sendqueue", 0), m.value("recvqueue", 0), services.c_str());
    }
  } else if (*load) {
    std::string path = target;
    if (target.find('/') != std::string::npos || target.ends_with(".so")) {
      char* real = realpath(target.c_str(), nullptr);
      if (!real) throw FluxError(ENOENT, "load " + target + ": No such file or directory");
      path = real;
      free(real);
    }
    try {
      h->rpc("module.load", {{"path", path}, {"args", args}}).get();
    } catch (const FluxError& e) {
      throw FluxError(e.errnum(), "load " + target + ": " + e.what());
    }
  } else if (*remove) {
    try {
      h->rpc("module.remove", {{"name", name}}).get();
    } catch (const FluxError& e) {
      if (force && e.errnum() == ENOENT) return 0;
      throw FluxError(e.errnum(), "remove " + name + ": " + e.what());
    }
  } else if (*stats) {
    auto r = h->rpc(name + ".stats-get").get_json();
    std::printf("%s\n", r.dump(1).c_str());
  }
  return 0;
}

}  // namespace flux::cmd
