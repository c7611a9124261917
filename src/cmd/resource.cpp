// flux resource list|info|R|status|drain|undrain: dispatch and the helpers
// the subcommands share. list/info/R are in resource_list.cpp, status and
// drain/undrain in resource_status.cpp.
#include <cstdio>
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
               {"acquire-mute", acquire_mute}};
  if (argc < 2 || std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0) {
    std::FILE* f = argc < 2 ? stderr : stdout;
    std::fprintf(f, "Usage: flux resource {list,info,R,status,drain,undrain,acquire-mute} ...\n");
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
