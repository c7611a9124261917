// flux kvs getroot | version | wait | dropcache | namespace create|remove|list
#include <climits>
#include <cstdlib>
#include <memory>

#include "kvs_common.hpp"
#include "libflux/treeobj.hpp"

namespace flux::cmd::kvscmd {
namespace {

Json getroot_or_fail(Handle& h, const std::string& ns) {
  try {
    return kvs::getroot(h, ns).get_json();
  } catch (const FluxError& e) {
    fail("getroot", e);
  }
}

struct GetrootOptions {
  std::string ns;
  bool sequence = false;
  bool owner = false;
  bool blobref = false;
};

int run_getroot(const GetrootOptions& o) {
  auto h = open_instance();
  Json r = getroot_or_fail(*h, o.ns);
  std::string rootref = r.at("rootref").get<std::string>();
  if (o.owner)
    std::printf("%lu\n", static_cast<unsigned long>(r.at("owner").get<uint32_t>()));
  else if (o.sequence)
    std::printf("%d\n", r.at("rootseq").get<int>());
  else if (o.blobref)
    std::printf("%s\n", rootref.c_str());
  else
    std::printf("%s\n", treeobj::encode(treeobj::make_dirref(rootref)).c_str());
  return 0;
}

void add_getroot(CLI::App& kvs, Registry& reg) {
  auto o = std::make_shared<GetrootOptions>();
  auto* cmd = kvs.add_subcommand("getroot", "Print the root directory reference");
  add_namespace_option(cmd, o->ns);
  auto* s = cmd->add_flag("-s,--sequence", o->sequence, "Print the root sequence number");
  auto* w = cmd->add_flag("-o,--owner", o->owner, "Print the namespace owner's user ID");
  auto* b = cmd->add_flag("-b,--blobref", o->blobref, "Print the root as a blobref");
  s->excludes(w)->excludes(b);
  w->excludes(b);
  reg.push_back({cmd, [o] { return run_getroot(*o); }});
}

void add_version_wait(CLI::App& kvs, Registry& reg) {
  auto ns = std::make_shared<std::string>();
  auto* version = kvs.add_subcommand("version", "Print the KVS version (root sequence number)");
  add_namespace_option(version, *ns);
  reg.push_back({version, [ns] {
                   auto h = open_instance();
                   std::printf("%d\n", getroot_or_fail(*h, *ns).at("rootseq").get<int>());
                   return 0;
                 }});

  auto wns = std::make_shared<std::string>();
  auto want = std::make_shared<int>(0);
  auto* wait = kvs.add_subcommand("wait", "Wait until the KVS version reaches VERSION");
  add_namespace_option(wait, *wns);
  wait->add_option("version", *want, "Version to wait for")
      ->required()
      ->check(CLI::NonNegativeNumber);
  reg.push_back({wait, [wns, want] {
                   auto h = open_instance();
                   try {
                     kvs::wait_version(*h, *want, *wns).get();
                   } catch (const FluxError& e) {
                     fail("wait", e);
                   }
                   return 0;
                 }});
}

void add_dropcache(CLI::App& kvs, Registry& reg) {
  auto all = std::make_shared<bool>(false);
  auto* cmd = kvs.add_subcommand("dropcache", "Tell the KVS to drop its cache");
  cmd->add_flag("-a,--all", *all, "Also publish kvs.dropcache so every rank drops its cache");
  reg.push_back({cmd, [all] {
                   auto h = open_instance();
                   try {
                     // flux-core only publishes the event with --all; the
                     // local request as well makes sure this rank drops
                     // even where no module listens for the event.
                     h->rpc("kvs.dropcache").get();
                     if (*all) h->publish("kvs.dropcache").get();
                   } catch (const FluxError& e) {
                     fail("dropcache", e);
                   }
                   return 0;
                 }});
}

// ---- namespace -------------------------------------------------------------

uint32_t parse_owner(const std::string& s) {
  char* end = nullptr;
  errno = 0;
  unsigned long v = std::strtoul(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || s[0] == '-' || errno == ERANGE || v > UINT32_MAX)
    throw FluxError(EINVAL, "--owner requires an unsigned integer argument");
  return static_cast<uint32_t>(v);
}

struct NamespaceOptions {
  std::string owner;
  std::vector<std::string> names;
};

int run_ns_create(const NamespaceOptions& o) {
  uint32_t owner = o.owner.empty() ? kUseridUnknown : parse_owner(o.owner);
  auto h = open_instance();
  for (const auto& name : o.names) {
    try {
      kvs::namespace_create(*h, name, owner).get();
    } catch (const FluxError& e) {
      fail(name, e);
    }
  }
  return 0;
}

int run_ns_remove(const NamespaceOptions& o) {
  auto h = open_instance();
  for (const auto& name : o.names) {
    try {
      kvs::namespace_remove(*h, name).get();
    } catch (const FluxError& e) {
      fail(name, e);
    }
  }
  return 0;
}

int run_ns_list() {
  auto h = open_instance();
  Json r;
  try {
    r = kvs::namespace_list(*h).get_json();
  } catch (const FluxError& e) {
    fail("namespace list", e);
  }
  std::printf("%-36s %10s %10s\n", "NAMESPACE", "OWNER", "FLAGS");
  for (const auto& ns : r.at("namespaces")) {
    std::printf("%-36s %10u 0x%08X\n", ns.at("namespace").get<std::string>().c_str(),
                ns.at("owner").get<uint32_t>(), ns.value("flags", 0u));
  }
  return 0;
}

}  // namespace

void add_root(CLI::App& kvs, Registry& reg) {
  add_getroot(kvs, reg);
  add_version_wait(kvs, reg);
  add_dropcache(kvs, reg);
}

void add_namespace(CLI::App& kvs, Registry& reg) {
  auto* nsapp = kvs.add_subcommand("namespace", "Create, remove and list KVS namespaces");
  nsapp->require_subcommand(1);

  auto co = std::make_shared<NamespaceOptions>();
  auto* create = nsapp->add_subcommand("create", "Create namespaces");
  create->add_option("-o,--owner", co->owner, "User ID that owns the namespaces");
  create->add_option("name", co->names, "Namespaces to create")->required();
  reg.push_back({create, [co] { return run_ns_create(*co); }});

  auto ro = std::make_shared<NamespaceOptions>();
  auto* remove = nsapp->add_subcommand("remove", "Remove namespaces");
  remove->add_option("name", ro->names, "Namespaces to remove")->required();
  reg.push_back({remove, [ro] { return run_ns_remove(*ro); }});

  auto* list = nsapp->add_subcommand("list", "List namespaces with owner and flags");
  reg.push_back({list, [] { return run_ns_list(); }});
}

}  // namespace flux::cmd::kvscmd
