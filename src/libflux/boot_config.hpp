// BootConfig: flux-core's [bootstrap] table (flux-config-bootstrap(5)), how
// the brokers of a system instance find each other without PMI.
//
//   [bootstrap]
//   curve_cert = "/etc/flux/system/curve.cert"
//   default_port = 8050
//   default_bind = "tcp://en0:%p"
//   default_connect = "tcp://e%h:%p"
//   hosts = [
//     { host = "test0", bind = "tcp://en4:9001", connect = "tcp://mgmt:9001" },
//     { host = "test[1-255]" },
//     { host = "test[2-9]", parent = "test1" },
//   ]
//
// Rules (flux-core's, with its error cases made explicit):
//   - hosts is rank-ordered: a host's rank is the index of its first
//     appearance once every `host` (an RFC 29 hostlist) is expanded.
//   - A host named again adds keys it did not have yet (that is how the
//     man page's example gives `parent` to hosts listed before); naming a
//     key again with a different value is an error (flux-core keeps the
//     first silently).
//   - bind / connect default to default_bind / default_connect. In all of
//     them %h becomes the entry's host, %p default_port and %% a '%'; an
//     empty string means no URI is configured (flux-core leaves the key
//     out). URIs must be tcp:// or ipc://, without a port wildcard ':*'.
//   - host must be a domain name (RFC 1035 labels); parent must name a host
//     of the list other than itself; rank 0 may not have a parent, and the
//     parents may not form a cycle.
//   - Unknown keys, wrong types and default_port outside 0-65535 are
//     errors. curve_cert is required when there is more than one host.
//   - No hosts (or no [bootstrap] at all) is a singleton: size 1, and any
//     hostname is rank 0.
// Errors are FluxError(EINVAL) naming the key, e.g.
// "bootstrap.hosts[2].host: 'foo[1-': unterminated '['".
//
// With [bootstrap] present the default tbon.topo is "custom", whose tree is
// parents(); otherwise "kary:32".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json.hpp"
#include "topology.hpp"

namespace flux {

struct BootHost {
  std::string host;
  std::string bind;     // after substitution; "" if none configured
  std::string connect;  // after substitution; "" if none configured
  std::optional<std::string> parent;
};

struct BootConfig {
  static constexpr int kNoPort = -1;

  bool present = false;  // the config has a [bootstrap] table
  std::string curve_cert;
  int default_port = kNoPort;
  std::string default_bind;
  std::string default_connect;
  bool enable_ipv6 = false;
  std::vector<BootHost> hosts;  // expanded, in rank order

  // Parse the [bootstrap] table of a whole config (the broker's TOML as
  // JSON). Throws FluxError(EINVAL) on any malformed value.
  static BootConfig parse(const Json& config);

  // The instance size: hosts.size(), or 1 with no hosts.
  uint32_t size() const;
  // The rank of the broker on hostname: its index in hosts (or 0 with no
  // hosts); nullopt if it is not listed.
  std::optional<uint32_t> rank_of(std::string_view hostname) const;
  // Parent of each rank for Topology's custom scheme: rank 0 none, a host
  // with `parent` that host's rank, every other host 0. Empty with no
  // hosts (custom is then flat).
  Topology::Parents parents() const;
  // The tree for a tbon.topo uri (for "custom", from parents()).
  Topology topology(std::string_view uri) const;
};

// "%h" -> host, "%p" -> port, "%%" -> "%"; any other "%x" is kept as is.
// Throws FluxError(EINVAL) for %p when port is BootConfig::kNoPort.
std::string boot_format_uri(std::string_view tmpl, std::string_view host, int port);

}  // namespace flux
