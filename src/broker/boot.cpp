#include "boot.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "broker.hpp"
#include "libflux/boot_config.hpp"
#include "libflux/curve_cert.hpp"
#include "libflux/fsd.hpp"
#include "libflux/hostlist.hpp"
#include "libflux/jobid.hpp"
#include "libflux/pmi_client.hpp"
#include "libflux/taskmap.hpp"
#include "libflux/topology.hpp"

namespace flux::broker {

namespace {

constexpr const char* kDefaultTopo = "kary:32";

double duration_attr(const Attributes& attrs, const Json& config, const std::string& name,
                     double dflt) {
  std::string text;
  if (auto v = attrs.get("tbon." + name)) {
    text = *v;
  } else if (config.contains("tbon") && config["tbon"].is_object() &&
             config["tbon"].contains(name)) {
    const Json& j = config["tbon"][name];
    if (j.is_number()) return j.get<double>();
    if (!j.is_string()) throw FluxError(EINVAL, "config: tbon." + name + " must be a duration");
    text = j.get<std::string>();
  } else {
    return dflt;
  }
  auto d = fsd_parse(text);
  if (!d) throw FluxError(EINVAL, "tbon." + name + ": " + d.error().message);
  return *d;
}

// tbon.topo: attribute, then [tbon] topo in the config, then the default;
// tbon.fanout=K is the older spelling of kary:K.
std::string topo_uri(const Attributes& attrs, const Json& config, const std::string& dflt) {
  if (auto t = attrs.get("tbon.topo")) return *t;
  if (auto f = attrs.get("tbon.fanout")) return "kary:" + *f;
  if (config.contains("tbon") && config["tbon"].is_object() && config["tbon"].contains("topo")) {
    if (!config["tbon"]["topo"].is_string())
      throw FluxError(EINVAL, "config: tbon.topo must be a string");
    return config["tbon"]["topo"].get<std::string>();
  }
  return dflt;
}

// The IPv4 address of the interface holding the default route, else of the
// first interface that is up and not loopback, else loopback.
std::string default_address() {
  std::string iface;
  std::ifstream routes("/proc/net/route");
  std::string line;
  std::getline(routes, line);  // header
  while (std::getline(routes, line)) {
    std::istringstream in(line);
    std::string name, dest;
    in >> name >> dest;
    if (dest == "00000000") {
      iface = name;
      break;
    }
  }
  ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) < 0) return "127.0.0.1";
  std::string best, any;
  for (ifaddrs* i = ifs; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof(buf));
    if (!iface.empty() && iface == i->ifa_name) best = buf;
    if (any.empty() && !(i->ifa_flags & IFF_LOOPBACK) && (i->ifa_flags & IFF_UP)) any = buf;
  }
  freeifaddrs(ifs);
  if (!best.empty()) return best;
  return any.empty() ? "127.0.0.1" : any;
}

// Nodes in a PMI_process_mapping "(vector,(start,nnodes,ppn),...)", or 0
// if it cannot be read.
int pmi_mapping_nodes(const std::string& text) {
  if (text.rfind("(vector,", 0) != 0) return 0;
  int nodes = 0;
  size_t pos = 8;
  while ((pos = text.find('(', pos)) != std::string::npos) {
    int start = 0, count = 0, ppn = 0;
    if (std::sscanf(text.c_str() + pos, "(%d,%d,%d)", &start, &count, &ppn) != 3 || start < 0 ||
        count < 1 || ppn < 1)
      return 0;
    nodes = std::max(nodes, start + count);
    pos++;
  }
  return nodes;
}

// All ranks on one node, by PMI_process_mapping (absent: assume not).
bool single_node(PmiClient& pmi) {
  std::optional<std::string> mapping;
  try {
    mapping = pmi.get("PMI_process_mapping");
  } catch (const FluxError&) {
    return false;
  }
  if (!mapping || mapping->empty()) return pmi.size() == 1;
  return pmi_mapping_nodes(*mapping) == 1;
}

void set_tbon_attrs(Attributes& attrs, const Topology& topo, uint32_t rank) {
  attrs.set_internal("tbon.topo", topo.uri());
  attrs.set_internal("tbon.level", std::to_string(topo.level(rank)));
  attrs.set_internal("tbon.maxlevel", std::to_string(topo.maxlevel()));
  attrs.set_internal("tbon.descendants", std::to_string(topo.descendants(rank)));
}

// broker.mapping: consecutive ranks on the same host form one node.
std::string mapping_of(const std::vector<std::string>& hosts) {
  Taskmap map;
  size_t i = 0;
  int node = 0;
  while (i < hosts.size()) {
    size_t j = i;
    while (j < hosts.size() && hosts[j] == hosts[i]) j++;
    map.append(node++, 1, static_cast<int>(j - i));
    i = j;
  }
  return map.encode();
}

std::string hostlist_of(const std::vector<std::string>& hosts) {
  Hostlist hl;
  for (const auto& h : hosts) hl.push_back(h);
  return hl.encode();
}

void set_timeouts(OverlayOptions& o, const Attributes& attrs, const Json& config) {
  double torpid_min = duration_attr(attrs, config, "torpid_min", 5);
  double torpid_max = duration_attr(attrs, config, "torpid_max", 30);
  o.heartbeat = torpid_min > 0 ? torpid_min : 5;
  // With torpid checks off, a peer is still lost after a long silence.
  o.lost_timeout = torpid_max > 0 ? torpid_max : 600;
  if (o.heartbeat * 2 > o.lost_timeout) o.heartbeat = o.lost_timeout / 2;
  o.tcp_user_timeout = duration_attr(attrs, config, "tcp_user_timeout", 0);
  o.connect_timeout = duration_attr(attrs, config, "connect_timeout", 0);
}

std::unique_ptr<TbonOverlay> boot_pmi(Broker& b, const std::string& method) {
  auto pmi = pmi_open(method == "pmi" ? "" : method);
  uint32_t rank = static_cast<uint32_t>(pmi->rank());
  uint32_t size = static_cast<uint32_t>(pmi->size());
  b.attrs.set_internal("broker.boot-method", pmi->method());
  // Started as a Flux job: a job shell's PMI names the job (its kvsname),
  // which becomes the instance's jobid attribute in F58, as flux-core's.
  if (auto id = JobId::parse(pmi->kvsname());
      std::getenv("FLUX_JOB_ID") && pmi->method() == "simple" && id) {
    b.attrs.set_internal("jobid", id->encode(JobIdEncoding::kF58));
    // The job's guest namespace in the parent (flux --parent kvs ... uses it).
    if (!b.parent_kvs_namespace.empty())
      b.attrs.set_internal("parent-kvs-namespace", b.parent_kvs_namespace);
  }
  b.attrs.set_internal("rank", std::to_string(rank));
  b.attrs.set_internal("size", std::to_string(size));
  b.router.set_rank(rank, size);
  std::string hostname = b.attrs.get_or("hostname", "");
  if (size == 1) {
    pmi->finalize();
    return nullptr;
  }
  Topology topo(topo_uri(b.attrs, b.config, kDefaultTopo), size);
  set_tbon_attrs(b.attrs, topo, rank);

  OverlayOptions o;
  o.rank = rank;
  o.size = size;
  o.uuid = b.uuid;
  CurveCert cert = CurveCert::generate();
  o.public_key = cert.public_key;
  o.secret_key = cert.secret_key;
  set_timeouts(o, b.attrs, b.config);

  std::unique_ptr<TbonOverlay> ov;
  std::string uri;
  if (!topo.children(rank).empty()) {
    if (auto ep = b.attrs.get("tbon.endpoint")) {
      o.bind_uri = *ep;
    } else if (b.attrs.get_or("tbon.prefertcp", "0") == "0" && single_node(*pmi)) {
      o.bind_uri = "ipc://" + b.attrs.get_or("rundir", "/tmp") + "/tbon-" + std::to_string(rank);
    } else {
      o.bind_uri = "tcp://" + default_address() + ":*";
    }
  }
  // Bind before the exchange: the card carries the address we got.
  ov = std::make_unique<TbonOverlay>(b.reactor, b.router, topo, o);
  uri = ov->bind();
  if (!uri.empty()) b.attrs.set_internal("tbon.endpoint", uri);

  Json card = {{"hostname", hostname}, {"pubkey", o.public_key}, {"uri", uri}};
  pmi->put(std::to_string(rank), card.dump());
  pmi->barrier();

  std::vector<std::string> hosts(size);
  std::vector<Json> cards(size);
  for (uint32_t r = 0; r < size; r++) {
    auto v = pmi->get(std::to_string(r));
    if (!v) {
      // Not started (flux start --test-start-mode=leader): it cannot join,
      // and its host is presumed to be ours.
      hosts[r] = hostname;
      cards[r] = Json::object();
      continue;
    }
    try {
      cards[r] = Json::parse(*v);
      hosts[r] = cards[r].at("hostname").get<std::string>();
    } catch (const std::exception&) {
      throw FluxError(EPROTO, "PMI: rank " + std::to_string(r) + "'s business card is malformed");
    }
  }
  pmi->finalize();
  b.attrs.set_internal("hostlist", hostlist_of(hosts));
  b.attrs.set_internal("broker.mapping", mapping_of(hosts));

  std::set<std::string> keys;
  for (uint32_t c : topo.children(rank)) keys.insert(cards[c].value("pubkey", ""));
  std::string parent_uri, parent_key;
  if (auto p = topo.parent(rank)) {
    parent_uri = cards[*p].value("uri", "");
    parent_key = cards[*p].value("pubkey", "");
    b.attrs.set_internal("tbon.parent-endpoint", parent_uri);
  }
  ov->set_peers(parent_uri, parent_key, keys);
  return ov;
}

std::string my_hostname(const Broker& b) {
  return b.attrs.get_or("hostname", "");
}

std::unique_ptr<TbonOverlay> boot_config(Broker& b) {
  BootConfig bc = BootConfig::parse(b.config);
  std::string hostname = my_hostname(b);
  if (bc.hosts.empty()) {  // [bootstrap] without hosts: a singleton
    b.attrs.set_internal("broker.boot-method", "config");
    return nullptr;
  }
  auto rank_opt = bc.rank_of(hostname);
  if (!rank_opt)
    throw FluxError(ENOENT, "bootstrap: host " + hostname + " is not in the [bootstrap] hosts");
  uint32_t rank = *rank_opt;
  uint32_t size = static_cast<uint32_t>(bc.hosts.size());
  b.attrs.set_internal("broker.boot-method", "config");
  b.attrs.set_internal("rank", std::to_string(rank));
  b.attrs.set_internal("size", std::to_string(size));
  b.router.set_rank(rank, size);
  std::vector<std::string> hosts;
  for (const auto& h : bc.hosts) hosts.push_back(h.host);
  b.attrs.set_internal("hostlist", hostlist_of(hosts));
  b.attrs.set_internal("broker.mapping", mapping_of(hosts));
  if (size == 1) return nullptr;

  Topology topo(topo_uri(b.attrs, b.config, "custom"), size, bc.parents());
  set_tbon_attrs(b.attrs, topo, rank);
  if (bc.curve_cert.empty())
    throw FluxError(EINVAL, "bootstrap: curve_cert is required for an instance of size > 1");
  CurveCert cert = CurveCert::load(bc.curve_cert);

  OverlayOptions o;
  o.rank = rank;
  o.size = size;
  o.uuid = b.uuid;
  o.public_key = cert.public_key;
  o.secret_key = cert.secret_key;
  set_timeouts(o, b.attrs, b.config);
  if (!topo.children(rank).empty()) o.bind_uri = bc.hosts[rank].bind;
  auto ov = std::make_unique<TbonOverlay>(b.reactor, b.router, topo, o);
  std::string uri = ov->bind();
  if (!uri.empty()) b.attrs.set_internal("tbon.endpoint", uri);
  std::string parent_uri;
  if (auto p = topo.parent(rank)) {
    parent_uri = bc.hosts[*p].connect;
    b.attrs.set_internal("tbon.parent-endpoint", parent_uri);
  }
  // One certificate for all: a child proves it holds the same one.
  ov->set_peers(parent_uri, cert.public_key, {cert.public_key});
  return ov;
}

}  // namespace

std::unique_ptr<TbonOverlay> boot(Broker& b) {
  std::string method = b.attrs.get_or("broker.boot-method", "");
  if (method.empty()) method = b.config.contains("bootstrap") ? "config" : "pmi";
  if (method == "config") return boot_config(b);
  if (method == "single" || method == "pmi" || method == "simple" || method.rfind("libpmi", 0) == 0)
    return boot_pmi(b, method);
  throw FluxError(EINVAL, "unknown broker.boot-method '" + method + "'");
}

}  // namespace flux::broker
