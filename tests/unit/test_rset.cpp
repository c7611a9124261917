// Unit tests for Rset (RFC 20 R version 1).
#include <gtest/gtest.h>

#include "libflux/rset.hpp"

using flux::AllocMode;
using flux::Idset;
using flux::Json;
using flux::Rset;
using flux::RsetRequest;

namespace {

Rset make(const std::string& text) {
  auto r = Rset::decode(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : Rset{};
}

// 16 nodes "node[0-15]" x 32 cores, ranks 0-1 with 2 GPUs.
const char* kBig =
    R"({"version":1,"execution":{"R_lite":[{"rank":"0-1","children":{"core":"0-31","gpu":"0-1"}},)"
    R"({"rank":"2-15","children":{"core":"0-31"}}],"nodelist":["node[0-15]"],)"
    R"("starttime":0,"expiration":0}})";

std::string error_of(const std::string& text) {
  auto r = Rset::decode(text);
  EXPECT_FALSE(r.ok()) << text;
  if (r.ok()) return "";
  EXPECT_EQ(r.error().errnum, EINVAL);
  return r.error().message;
}

}  // namespace

TEST(Rset, DecodeCounts) {
  Rset r = make(kBig);
  EXPECT_EQ(r.nnodes(), 16u);
  EXPECT_EQ(r.ncores(), 512u);
  EXPECT_EQ(r.ngpus(), 4u);
  EXPECT_EQ(r.ranks().encode(), "0-15");
  EXPECT_EQ(r.nodelist().encode(), "node[0-15]");
  EXPECT_EQ(r.node(3)->host, "node3");
  EXPECT_EQ(r.node(1)->gpus.encode(), "0-1");
  EXPECT_EQ(r.node(16), nullptr);
}

TEST(Rset, EncodeRoundTrip) {
  Rset r = make(kBig);
  Json j = r.to_json();
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["execution"]["R_lite"].size(), 2u);
  EXPECT_EQ(j["execution"]["R_lite"][0]["rank"], "0-1");
  EXPECT_EQ(j["execution"]["R_lite"][0]["children"]["gpu"], "0-1");
  EXPECT_EQ(j["execution"]["R_lite"][1]["rank"], "2-15");
  EXPECT_FALSE(j["execution"]["R_lite"][1]["children"].contains("gpu"));
  EXPECT_EQ(j["execution"]["nodelist"], Json::array({"node[0-15]"}));
  EXPECT_EQ(make(r.encode()), r);
}

TEST(Rset, EncodeGroupsIdenticalChildren) {
  Rset r;
  r.add(0, "a", Idset{0, 1});
  r.add(1, "b", Idset{0});
  r.add(2, "c", Idset{0, 1});
  Json lite = r.to_json()["execution"]["R_lite"];
  ASSERT_EQ(lite.size(), 2u);
  EXPECT_EQ(lite[0]["rank"], "0,2");
  EXPECT_EQ(lite[0]["children"]["core"], "0-1");
  EXPECT_EQ(lite[1]["rank"], "1");
  EXPECT_EQ(r.to_json()["execution"]["nodelist"], Json::array({"a,b,c"}));
}

TEST(Rset, NodelistOmittedWithoutHosts) {
  Rset r;
  r.add(0, "", Idset{0});
  EXPECT_FALSE(r.to_json()["execution"].contains("nodelist"));
}

TEST(Rset, TimesAndProperties) {
  Rset r = make(R"({"version":1,"execution":{"R_lite":[{"rank":"0-3","children":{"core":"0"}}],)"
                R"("starttime":10.5,"expiration":20,"properties":{"debug":"0-1","big":"3"}}})");
  EXPECT_EQ(r.starttime, 10.5);
  EXPECT_EQ(r.expiration, 20);
  EXPECT_EQ(r.properties.at("debug").encode(), "0-1");
  Rset c = r.copy_ranks(Idset{2, 3});
  EXPECT_EQ(c.properties.count("debug"), 0u);
  EXPECT_EQ(c.properties.at("big").encode(), "3");
  EXPECT_EQ(c.to_json()["execution"]["properties"]["big"], "3");
  EXPECT_EQ(c.expiration, 20);
}

TEST(Rset, NodeKey) {
  Rset r = make(
      R"({"version":1,"execution":{"R_lite":[{"rank":"5","node":"foo","children":{"core":"0-3"}}]}})");
  EXPECT_EQ(r.node(5)->host, "foo");
}

TEST(Rset, SchedulingKept) {
  Rset r = make(
      R"({"version":1,"execution":{"R_lite":[]},"scheduling":{"graph":{}},"attributes":{"x":1}})");
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.to_json()["scheduling"], Json::parse(R"({"graph":{}})"));
  EXPECT_EQ(r.to_json()["attributes"]["x"], 1);
}

TEST(Rset, Errors) {
  EXPECT_EQ(error_of("[]"), "R: must be a JSON object");
  EXPECT_EQ(error_of("{").substr(0, 9), "R: JSON: ");
  EXPECT_EQ(error_of(R"({"execution":{}})"), "R: missing key 'version'");
  EXPECT_EQ(error_of(R"({"version":2,"execution":{}})"), "R: version: must be 1");
  EXPECT_EQ(error_of(R"({"version":1})"), "R: missing key 'execution'");
  EXPECT_EQ(error_of(R"({"version":1,"execution":{}})"), "R: execution: missing key 'R_lite'");
  EXPECT_EQ(error_of(R"({"version":1,"execution":{"R_lite":{}}})"),
            "R: execution.R_lite: must be an array");
  EXPECT_EQ(error_of(R"({"version":1,"execution":{"R_lite":[{"children":{"core":"0"}}]}})"),
            "R: execution.R_lite[0]: missing key 'rank'");
  EXPECT_EQ(error_of(R"({"version":1,"execution":{"R_lite":[{"rank":"0"}]}})"),
            "R: execution.R_lite[0]: missing key 'children'");
  EXPECT_EQ(error_of(R"({"version":1,"execution":{"R_lite":[{"rank":"0","children":{}}]}})"),
            "R: execution.R_lite[0].children: missing key 'core'");
  EXPECT_EQ(
      error_of(
          R"({"version":1,"execution":{"R_lite":[{"rank":"x\u0001","children":{"core":"0"}}]}})")
          .substr(0, 35),
      "R: execution.R_lite[0].rank: idset:");
  EXPECT_EQ(
      error_of(R"({"version":1,"execution":{"R_lite":[{"rank":0,"children":{"core":"0"}}]}})"),
      "R: execution.R_lite[0].rank: must be an idset string");
  EXPECT_EQ(
      error_of(R"({"version":1,"execution":{"R_lite":[{"rank":"0-1","children":{"core":"0"}},)"
               R"({"rank":"1","children":{"core":"0"}}]}})"),
      "R: execution.R_lite[1].rank: rank 1 appears twice");
  EXPECT_EQ(
      error_of(R"({"version":1,"execution":{"R_lite":[{"rank":"0-1","children":{"core":"0"}}],)"
               R"("nodelist":["a"]}})"),
      "R: execution.nodelist: 1 hosts for 2 ranks");
  EXPECT_EQ(error_of(R"({"version":1,"execution":{"R_lite":[],"starttime":-1}})"),
            "R: execution.starttime: must be a number >= 0");
  EXPECT_EQ(error_of(R"({"version":1,"execution":{"R_lite":[],"starttime":5,"expiration":1}})"),
            "R: execution.expiration: is before starttime");
  EXPECT_EQ(error_of(R"({"version":1,"execution":{"R_lite":[{"rank":"0","children":{"core":"0"}}],)"
                     R"("properties":{"x":"1"}}})"),
            "R: execution.properties.x: rank 1 is not in R");
  EXPECT_EQ(error_of(R"({"version":1,"execution":{"R_lite":[{"rank":"0","children":{"core":"0"}}],)"
                     R"("properties":{"a|b":"0"}}})"),
            "R: execution.properties.a|b: invalid property name");
  EXPECT_EQ(
      error_of(
          R"({"version":1,"execution":{"R_lite":[{"rank":"0-4000000000","children":{"core":"0"}}]}})"),
      "R: execution.R_lite[0].rank: more than 1048576 ranks");
  // Errors quote untrusted input printably.
  std::string m = error_of(
      R"({"version":1,"execution":{"R_lite":[{"rank":"0","children":{"core":"0"}}],"properties":{"\u0001":"0"}}})");
  EXPECT_NE(m.find("\\x01"), std::string::npos) << m;
}

TEST(Rset, SetOperations) {
  Rset a;
  a.add(0, "n0", Idset{0, 1, 2, 3});
  a.add(1, "n1", Idset{0, 1, 2, 3}, Idset{0});
  Rset b;
  b.add(1, "n1", Idset{0, 1}, Idset{0});
  b.add(2, "n2", Idset{0});

  Rset u = a | b;
  EXPECT_EQ(u.ranks().encode(), "0-2");
  EXPECT_EQ(u.ncores(), 9u);
  EXPECT_EQ(u.ngpus(), 1u);

  Rset d = a - b;
  EXPECT_EQ(d.ranks().encode(), "0-1");
  EXPECT_EQ(d.node(1)->cores.encode(), "2-3");
  EXPECT_TRUE(d.node(1)->gpus.empty());

  Rset i = a & b;
  EXPECT_EQ(i.ranks().encode(), "1");
  EXPECT_EQ(i.node(1)->cores.encode(), "0-1");
  EXPECT_EQ(i.ngpus(), 1u);

  EXPECT_TRUE(u.contains(a));
  EXPECT_FALSE(a.contains(u));
  EXPECT_TRUE((a - a).empty());

  Rset c = a.copy_ranks(Idset{1, 7});
  EXPECT_EQ(c.ranks().encode(), "1");
  c.remove_ranks(Idset{1});
  EXPECT_TRUE(c.empty());

  auto hosts = u.hosts_to_ranks(flux::Hostlist::decode("n[0,2]").value());
  ASSERT_TRUE(hosts.ok());
  EXPECT_EQ(hosts->encode(), "0,2");
  EXPECT_EQ(u.hosts_to_ranks(flux::Hostlist::decode("zz").value()).error().errnum, ENOENT);
}

TEST(Rset, AllocCores) {
  Rset all = make(kBig);
  auto r = all.alloc(RsetRequest{0, 4, 2, 0, false});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ranks().encode(), "0");
  EXPECT_EQ(r->node(0)->cores.encode(), "0-7");
  EXPECT_EQ(r->node(0)->host, "node0");

  // 20 slots of 2 cores: 16 on rank 0, 4 on rank 1.
  r = all.alloc(RsetRequest{0, 20, 2, 0, false});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ncores(), 40u);
  EXPECT_EQ(r->node(1)->cores.encode(), "0-7");

  // What is left after that.
  Rset free = all - *r;
  auto r2 = free.alloc(RsetRequest{0, 1, 1, 0, false});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->node(1)->cores.encode(), "8");

  // Too much.
  auto big = all.alloc(RsetRequest{0, 513, 1, 0, false});
  EXPECT_EQ(big.error().errnum, ENOSPC);
}

TEST(Rset, AllocGpus) {
  Rset all = make(kBig);
  auto r = all.alloc(RsetRequest{0, 3, 1, 1, false});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ngpus(), 3u);
  EXPECT_EQ(r->ranks().encode(), "0-1");
  EXPECT_EQ(all.alloc(RsetRequest{0, 5, 1, 1, false}).error().errnum, ENOSPC);
}

TEST(Rset, AllocNodes) {
  Rset all = make(kBig);
  auto r = all.alloc(RsetRequest{2, 2, 1, 0, false});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ranks().encode(), "0-1");
  EXPECT_EQ(r->ncores(), 2u);

  // Exclusive takes whole nodes, and only whole free nodes.
  Rset free = all - *r;
  auto x = free.alloc(RsetRequest{2, 2, 1, 0, true}, AllocMode::kFirstFit, &all);
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(x->ranks().encode(), "2-3");
  EXPECT_EQ(x->ncores(), 64u);

  EXPECT_EQ(all.alloc(RsetRequest{17, 17, 1, 0, false}).error().errnum, ENOSPC);
  EXPECT_EQ(all.alloc(RsetRequest{1, 33, 1, 0, false}).error().errnum, ENOSPC);
  EXPECT_EQ(all.alloc(RsetRequest{0, 0, 1, 0, false}).error().errnum, EINVAL);
}

TEST(Rset, AllocModes) {
  Rset all;
  all.add(0, "a", Idset{0, 1});
  all.add(1, "b", Idset{0, 1, 2, 3});
  auto w = all.alloc(RsetRequest{0, 1, 1, 0, false}, AllocMode::kWorstFit);
  EXPECT_EQ(w->ranks().encode(), "1");
  auto b = all.alloc(RsetRequest{0, 1, 1, 0, false}, AllocMode::kBestFit);
  EXPECT_EQ(b->ranks().encode(), "0");
  EXPECT_EQ(flux::alloc_mode_parse("worst-fit").value(), AllocMode::kWorstFit);
  EXPECT_FALSE(flux::alloc_mode_parse("nope").ok());
}

// Found by fuzz.rset: a rank with nothing in it decoded, and a & a then
// dropped it (set operations drop empty ranks).
TEST(Rset, RankWithNoCoresOrGpusIsRefused) {
  auto r = Rset::decode(
      R"({"version":1,"execution":{"R_lite":[{"rank":"2-3","children":{"core":""}}]}})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("holds no cores or GPUs"), std::string::npos);
}

// A job's R as its nested instance sees it: ranks 0..n-1, hosts, cores,
// times and properties carried along.
TEST(Rset, RemapRanks) {
  Rset r = make(kBig).copy_ranks(Idset::decode("3,7-8").value());
  r.expiration = 100;
  r.properties["big"] = Idset::decode("7-8").value();
  Rset m = r.remap_ranks();
  EXPECT_EQ(m.ranks().encode(), "0-2");
  EXPECT_EQ(m.node(0)->host, "node3");
  EXPECT_EQ(m.node(2)->host, "node8");
  EXPECT_EQ(m.ncores(), r.ncores());
  EXPECT_EQ(m.expiration, 100);
  EXPECT_EQ(m.properties["big"].encode(), "1-2");
}
