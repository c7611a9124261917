// The [bootstrap] table of flux-config-bootstrap(5).
#include <gtest/gtest.h>

#include "libflux/boot_config.hpp"
#include "libflux/result.hpp"

using namespace flux;

namespace {

Json config(Json bootstrap) {
  return Json{{"bootstrap", std::move(bootstrap)}};
}

std::string parse_error(const Json& bootstrap) {
  try {
    BootConfig::parse(config(bootstrap));
  } catch (const FluxError& e) {
    EXPECT_EQ(e.errnum(), EINVAL);
    return e.what();
  }
  return "accepted";
}

std::vector<std::string> host_names(const BootConfig& bc) {
  std::vector<std::string> out;
  for (const auto& h : bc.hosts) out.push_back(h.host);
  return out;
}

const Json kCert = "/etc/flux/system/curve.cert";

}  // namespace

TEST(BootConfig, AbsentOrEmptyIsSingleton) {
  BootConfig none = BootConfig::parse(Json::object());
  EXPECT_FALSE(none.present);
  EXPECT_EQ(none.size(), 1u);
  EXPECT_EQ(none.rank_of("anyhost"), 0u);
  EXPECT_TRUE(none.parents().empty());
  EXPECT_EQ(none.default_port, BootConfig::kNoPort);

  BootConfig empty = BootConfig::parse(config(Json::object()));
  EXPECT_TRUE(empty.present);
  EXPECT_EQ(empty.size(), 1u);
  BootConfig no_hosts = BootConfig::parse(config({{"hosts", Json::array()}}));
  EXPECT_EQ(no_hosts.size(), 1u);
  EXPECT_EQ(no_hosts.topology("custom").size(), 1u);
}

// The first example of flux-config-bootstrap(5).
TEST(BootConfig, TwoNodeExample) {
  BootConfig bc = BootConfig::parse(
      config({{"curve_cert", kCert},
              {"hosts",
               {{{"host", "foo"}, {"bind", "tcp://eth0:9001"}, {"connect", "tcp://10.0.1.1:9001"}},
                {{"host", "bar"}}}}}));
  EXPECT_EQ(bc.curve_cert, "/etc/flux/system/curve.cert");
  EXPECT_EQ(bc.size(), 2u);
  EXPECT_EQ(bc.rank_of("foo"), 0u);
  EXPECT_EQ(bc.rank_of("bar"), 1u);
  EXPECT_EQ(bc.rank_of("baz"), std::nullopt);
  EXPECT_EQ(bc.hosts[0].bind, "tcp://eth0:9001");
  EXPECT_EQ(bc.hosts[0].connect, "tcp://10.0.1.1:9001");
  EXPECT_EQ(bc.hosts[1].bind, "");  // nothing configured
  EXPECT_EQ(bc.hosts[1].connect, "");
  EXPECT_FALSE(bc.enable_ipv6);
  Topology t = bc.topology("custom");
  EXPECT_EQ(t.parent(1), 0u);
}

// The 256-node example: hostlists, defaults and %h / %p.
TEST(BootConfig, CompactHostsAndSubstitution) {
  BootConfig bc = BootConfig::parse(config(
      {{"curve_cert", kCert},
       {"default_port", 8050},
       {"default_bind", "tcp://en0:%p"},
       {"default_connect", "tcp://e%h:%p"},
       {"enable_ipv6", true},
       {"hosts",
        {{{"host", "test0"}, {"bind", "tcp://en4:9001"}, {"connect", "tcp://test-mgmt:9001"}},
         {{"host", "test[1-255]"}}}}}));
  EXPECT_EQ(bc.size(), 256u);
  EXPECT_TRUE(bc.enable_ipv6);
  EXPECT_EQ(bc.default_port, 8050);
  EXPECT_EQ(bc.hosts[0].bind, "tcp://en4:9001");
  EXPECT_EQ(bc.hosts[0].connect, "tcp://test-mgmt:9001");
  EXPECT_EQ(bc.hosts[7].host, "test7");
  EXPECT_EQ(bc.hosts[7].bind, "tcp://en0:8050");
  EXPECT_EQ(bc.hosts[7].connect, "tcp://etest7:8050");
  EXPECT_EQ(bc.rank_of("test255"), 255u);
  // Hostlist order is kept, not sorted.
  BootConfig order = BootConfig::parse(
      config({{"curve_cert", kCert}, {"hosts", {{{"host", "foo[0-3,18,4,20]"}}}}}));
  EXPECT_EQ(host_names(order),
            (std::vector<std::string>{"foo0", "foo1", "foo2", "foo3", "foo18", "foo4", "foo20"}));
  EXPECT_EQ(order.rank_of("foo18"), 4u);
}

TEST(BootConfig, FormatUri) {
  EXPECT_EQ(boot_format_uri("tcp://%h:%p", "node1", 80), "tcp://node1:80");
  EXPECT_EQ(boot_format_uri("ipc:///tmp/%h-%%-%x%", "n", BootConfig::kNoPort),
            "ipc:///tmp/n-%-%x%");
  EXPECT_THROW(boot_format_uri("tcp://*:%p", "n", BootConfig::kNoPort), FluxError);
}

// The three-level example: repeated hosts gain parent keys.
TEST(BootConfig, ParentsMakeCustomTopology) {
  BootConfig bc =
      BootConfig::parse(config({{"curve_cert", kCert},
                                {"default_port", 8050},
                                {"default_bind", "tcp://en0:%p"},
                                {"default_connect", "tcp://e%h:%p"},
                                {"hosts",
                                 {{{"host", "test[0-255]"}},
                                  {{"host", "test[1,128]"}, {"parent", "test0"}},
                                  {{"host", "test[2-127]"}, {"parent", "test1"}},
                                  {{"host", "test[129-255]"}, {"parent", "test128"}}}}}));
  EXPECT_EQ(bc.size(), 256u);
  EXPECT_EQ(bc.hosts[0].parent, std::nullopt);
  EXPECT_EQ(bc.hosts[1].parent, "test0");
  EXPECT_EQ(bc.hosts[200].parent, "test128");
  EXPECT_EQ(bc.hosts[200].connect, "tcp://etest200:8050");  // defaults still apply
  auto parents = bc.parents();
  EXPECT_EQ(parents[0], std::nullopt);
  EXPECT_EQ(parents[5], 1u);
  EXPECT_EQ(parents[128], 0u);
  Topology t = bc.topology("custom");
  EXPECT_EQ(t.maxlevel(), 2u);
  EXPECT_EQ(std::vector<uint32_t>(t.children(0).begin(), t.children(0).end()),
            (std::vector<uint32_t>{1, 128}));
  EXPECT_EQ(t.descendants(128), 127u);
  EXPECT_EQ(t.next_hop(0, 200), 128u);
  // Another tbon.topo ignores the parents.
  EXPECT_EQ(bc.topology("kary:2").parent(5), 2u);
  // A parent may come later in the list (no parents at all: flat).
  BootConfig later = BootConfig::parse(
      config({{"curve_cert", kCert},
              {"hosts", {{{"host", "a"}}, {{"host", "b"}, {"parent", "c"}}, {{"host", "c"}}}}}));
  EXPECT_EQ(later.topology("custom").parent(1), 2u);
}

TEST(BootConfig, RepeatedHosts) {
  // Naming a host again with the same values is fine.
  BootConfig bc = BootConfig::parse(config(
      {{"curve_cert", kCert},
       {"hosts",
        {{{"host", "a[0-2]"}, {"bind", "tcp://*:1"}}, {{"host", "a1"}, {"bind", "tcp://*:1"}}}}}));
  EXPECT_EQ(bc.size(), 3u);
  // ... but a different value for the same key is an error.
  EXPECT_EQ(parse_error({{"curve_cert", kCert},
                         {"hosts",
                          {{{"host", "a[0-2]"}, {"bind", "tcp://en0:1"}},
                           {{"host", "a1"}, {"bind", "tcp://en4:1"}}}}}),
            "bootstrap.hosts[1].bind: host a1 already has bind 'tcp://en0:1' from hosts[0]");
  EXPECT_EQ(parse_error({{"curve_cert", kCert},
                         {"hosts",
                          {{{"host", "a[0-3]"}},
                           {{"host", "a[2-3]"}, {"parent", "a0"}},
                           {{"host", "a3"}, {"parent", "a1"}}}}}),
            "bootstrap.hosts[2].parent: host a3 already has parent 'a0' from hosts[1]");
}

TEST(BootConfig, ErrorsNameTheKey) {
  EXPECT_EQ(parse_error("x"), "bootstrap: must be a table, not a string");
  EXPECT_EQ(parse_error({{"nosuch", 1}}), "bootstrap.nosuch: unknown key");
  EXPECT_EQ(parse_error({{"curve_cert", 5}}),
            "bootstrap.curve_cert: must be a string, not an integer");
  EXPECT_EQ(parse_error({{"curve_cert", ""}}), "bootstrap.curve_cert: must not be empty");
  EXPECT_EQ(parse_error({{"default_port", "8050"}}),
            "bootstrap.default_port: must be an integer, not a string");
  EXPECT_EQ(parse_error({{"default_port", 70000}}),
            "bootstrap.default_port: 70000 is not in the range 0-65535");
  EXPECT_EQ(parse_error({{"default_port", -1}}),
            "bootstrap.default_port: -1 is not in the range 0-65535");
  EXPECT_EQ(parse_error({{"enable_ipv6", 1}}),
            "bootstrap.enable_ipv6: must be a boolean, not an integer");
  EXPECT_EQ(parse_error({{"hosts", Json::array({Json::array({"host", "a"})})}}),
            "bootstrap.hosts[0]: must be a table, not an array");
  EXPECT_EQ(parse_error({{"hosts", Json::object()}}),
            "bootstrap.hosts: must be an array, not a table");
  EXPECT_EQ(parse_error({{"hosts", {"a"}}}), "bootstrap.hosts[0]: must be a table, not a string");
  EXPECT_EQ(parse_error({{"hosts", {{{"bind", "tcp://*:1"}}}}}),
            "bootstrap.hosts[0]: the host key is required");
  EXPECT_EQ(parse_error({{"hosts", {{{"host", "a"}, {"port", 1}}}}}),
            "bootstrap.hosts[0].port: unknown key");
  EXPECT_EQ(parse_error({{"hosts", {{{"host", 1}}}}}),
            "bootstrap.hosts[0].host: must be a string, not an integer");
  EXPECT_EQ(parse_error({{"curve_cert", kCert},
                         {"hosts", {{{"host", "a"}}, {{"host", "b"}}, {{"host", "foo[1-"}}}}}),
            "bootstrap.hosts[2].host: hostlist: 'foo[1-': unterminated '['");
  EXPECT_EQ(parse_error({{"hosts", {{{"host", ""}}}}}), "bootstrap.hosts[0].host: names no host");
  EXPECT_EQ(parse_error({{"hosts", {{{"host", "a_b"}}}}}),
            "bootstrap.hosts[0].host: 'a_b': invalid character '_'");
  EXPECT_EQ(parse_error({{"hosts", {{{"host", "-ab"}}}}}),
            "bootstrap.hosts[0].host: '-ab': domain labels must not start or end with '-'");
  EXPECT_EQ(parse_error({{"hosts", {{{"host", "a..b"}}}}}),
            "bootstrap.hosts[0].host: 'a..b': domain labels must be 1-63 characters");
  EXPECT_NE(parse_error({{"hosts", {{{"host", std::string(64, 'a')}}}}}).find("1-63 characters"),
            std::string::npos);
}

TEST(BootConfig, UriErrors) {
  EXPECT_EQ(parse_error({{"hosts", {{{"host", "a"}, {"bind", "eth0:9001"}}}}}),
            "bootstrap.hosts[0].bind (host a): 'eth0:9001' has no URI scheme");
  EXPECT_EQ(parse_error({{"hosts", {{{"host", "a"}, {"bind", "tcp://*:*"}}}}}),
            "bootstrap.hosts[0].bind (host a): 'tcp://*:*' has a 0MQ port wildcard");
  EXPECT_EQ(parse_error({{"hosts", {{{"host", "a"}, {"connect", "udp://a:1"}}}}}),
            "bootstrap.hosts[0].connect (host a): 'udp://a:1': the URI scheme must be tcp or ipc");
  EXPECT_EQ(parse_error({{"hosts", {{{"host", "a"}, {"connect", "tcp://"}}}}}),
            "bootstrap.hosts[0].connect (host a): 'tcp://': the address is empty");
  EXPECT_EQ(parse_error({{"hosts", {{{"host", "a"}, {"bind", "ipc://" + std::string(109, 'x')}}}}})
                    .find("socket path is longer than 108 bytes") != std::string::npos,
            true);
  EXPECT_EQ(parse_error({{"default_bind", "tcp://en0:%p"}, {"hosts", {{{"host", "a"}}}}}),
            "bootstrap.default_bind: %p is used but bootstrap.default_port is not set");
  EXPECT_EQ(parse_error({{"default_connect", "tcp:%h"}, {"hosts", {{{"host", "a"}}}}}),
            "bootstrap.default_connect (host a): 'tcp:a' has no URI scheme");
  // ipc works, with %h.
  BootConfig bc = BootConfig::parse(
      config({{"default_bind", "ipc:///tmp/flux-%h"}, {"hosts", {{{"host", "a"}}}}}));
  EXPECT_EQ(bc.hosts[0].bind, "ipc:///tmp/flux-a");
}

TEST(BootConfig, ParentErrors) {
  auto hosts = [](Json list) { return Json{{"curve_cert", kCert}, {"hosts", std::move(list)}}; };
  EXPECT_EQ(parse_error(hosts({{{"host", "a"}}, {{"host", "b"}, {"parent", "b"}}})),
            "bootstrap.hosts[1].parent: host b may not be its own parent");
  EXPECT_EQ(parse_error(hosts({{{"host", "a"}}, {{"host", "b"}, {"parent", "z"}}})),
            "bootstrap.hosts[1].parent: 'z' (parent of b) is not one of the hosts");
  EXPECT_EQ(parse_error(hosts({{{"host", "a"}, {"parent", "b"}}, {{"host", "b"}}})),
            "bootstrap.hosts[0].parent: rank 0 (a) may not have a parent: it is the root of the "
            "tree");
  std::string cycle = parse_error(
      hosts({{{"host", "a"}}, {{"host", "b"}, {"parent", "c"}}, {{"host", "c"}, {"parent", "b"}}}));
  EXPECT_NE(cycle.find("makes a cycle"), std::string::npos) << cycle;
  EXPECT_EQ(cycle.rfind("bootstrap.hosts[", 0), 0u) << cycle;
}

TEST(BootConfig, CurveCertRequiredAboveSizeOne) {
  EXPECT_EQ(parse_error({{"hosts", {{{"host", "a"}}, {{"host", "b"}}}}}),
            "bootstrap.curve_cert: is required when hosts lists more than one host");
  EXPECT_NO_THROW(BootConfig::parse(config({{"hosts", {{{"host", "a"}}}}})));
}
