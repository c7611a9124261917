// flux resource list|info|R|status|drain|undrain|reserve...: dispatch and the helpers
// the subcommands share. list/info/R are in resource_list.cpp, status and
// drain/undrain in resource_status.cpp.
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cli.hpp"
#include "command.hpp"
#include "libflux/printable.hpp"
#include "resource_common.hpp"

namespace flux::cmd {
namespace resourcecmd {

SchedView sched_view(Handle& h) {
  Json r = h.rpc("sched.resource-status").get_json();
  SchedView v;
  v.all = Rset::from_json(r.at("all")).value();
  v.allocated = Rset::from_json(r.at("allocated")).value();
  v.down = Rset::from_json(r.at("down")).value();
  return v;
}

Idset include_ranks(const Rset& r, const std::string& targets) {
  auto ids = Idset::decode(targets);
  if (ids) return *ids;
  auto hosts = Hostlist::decode(targets);
  if (!hosts) {
    throw FluxError(EINVAL, "invalid targets: '" + printable(targets) + "'");
  }
  Idset out;
  for (const auto& [rank, node] : r.nodes()) {
    if (hosts->contains(node.host)) out.insert(rank);
  }
  return out;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// flux resource acquire-mute: the scheduler gets no more resource updates
// (rc3 runs it before stopping the queues).
int acquire_mute(int argc, char** argv) {
  CLI::App app{"Stop resource updates to the scheduler."};
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  open_instance()->rpc("resource.acquire-mute", Json::object(), 0).get();
  return 0;
}

// flux resource reload [-x] [-f] PATH: replace the instance's R (the
// scheduler unloaded).
int reload(int argc, char** argv) {
  CLI::App app{"Reload the instance's resources from a file of R."};
  std::string path;
  bool xml = false, force = false;
  app.add_option("path", path, "R file (or hwloc XML directory with -x)")->required();
  app.add_flag("-x,--xml", xml, "PATH is a directory of hwloc <rank>.xml files");
  app.add_flag("-f,--force", force, "Allow ranks beyond the instance size");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  char real[PATH_MAX];
  if (!realpath(path.c_str(), real)) throw FluxError(errno, path + ": " + std::strerror(errno));
  open_instance()
      ->rpc("resource.reload", {{"path", std::string(real)}, {"xml", xml}, {"force", force}}, 0)
      .get();
  return 0;
}

}  // namespace resourcecmd

int cmd_resource(int argc, char** argv) {
  using namespace resourcecmd;
  static const struct {
    const char* name;
    int (*fn)(int, char**);
  } kSubs[] = {{"list", list},
               {"info", info},
               {"R", emit_r},
               {"status", status},
               {"drain", drain},
               {"undrain", undrain},
               {"acquire-mute", acquire_mute},
               {"reload", reload},
               {"reserve", reserve},
               {"reservations", reservations},
               {"unreserve", unreserve}};
  if (argc < 2 || std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0) {
    std::FILE* f = argc < 2 ? stderr : stdout;
    std::fprintf(
        f,
        "Usage: flux resource {list,info,R,status,drain,undrain,reload,acquire-mute,reserve,"
        "reservations,unreserve} ...\n");
    return argc < 2 ? 1 : 0;
  }
  for (const auto& s : kSubs) {
    if (std::strcmp(argv[1], s.name) == 0) {
      std::string name = std::string("flux-resource ") + s.name;
      std::vector<char*> args(argv + 1, argv + argc);
      args[0] = name.data();
      return s.fn(static_cast<int>(args.size()), args.data());
    }
  }
  std::fprintf(stderr, "flux-resource: unknown subcommand '%s'\n", printable(argv[1]).c_str());
  return 1;
}

}  // namespace flux::cmd
