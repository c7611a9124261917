// TBON topologies: kary, binomial, mincrit and custom trees, as flux-core
// numbers them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "libflux/result.hpp"
#include "libflux/topology.hpp"

using namespace flux;

namespace {

constexpr int64_t kRoot = -1;

// flux-core's numbering, written the way its sources state it, to compare
// against: kary_parentof(), the recursive binomial generator, and mincrit.
std::vector<int64_t> reference_parents(const std::string& scheme, uint32_t size, uint32_t k = 0) {
  std::vector<int64_t> parent(size, 0);
  parent[0] = kRoot;
  if (scheme == "kary" && k > 0) {
    for (uint32_t i = 1; i < size; i++)
      parent[i] = k == 1 ? i - 1 : (int64_t{k} + (i + 1) - 2) / k - 1;
  } else if (scheme == "binomial") {
    int order = 0;
    while ((int64_t{1} << order) < size) order++;
    auto generate = [&](auto&& self, int64_t root, int j_max) -> void {
      for (int j = 0; j < j_max; j++) {
        int64_t child = root + (int64_t{1} << j);
        if (child < size) {
          parent[child] = root;
          self(self, child, j);
        }
      }
    };
    generate(generate, 0, order);
  } else if (scheme == "mincrit" && k > 0) {
    for (uint32_t i = k + 1; i < size; i++) parent[i] = (i - k - 1) % k + 1;
  }
  return parent;
}

std::vector<int64_t> parents_of(const Topology& t) {
  std::vector<int64_t> out;
  for (uint32_t r = 0; r < t.size(); r++) {
    auto p = t.parent(r);
    out.push_back(p ? int64_t{*p} : kRoot);
  }
  return out;
}

std::vector<uint32_t> vec(std::span<const uint32_t> s) {
  return {s.begin(), s.end()};
}

// next_hop by walking up from `to`, the obvious O(depth) way.
std::optional<uint32_t> slow_next_hop(const Topology& t, uint32_t from, uint32_t to) {
  if (from == to) return std::nullopt;
  for (uint32_t r = to; t.parent(r); r = *t.parent(r))
    if (*t.parent(r) == from) return r;
  return t.parent(from);
}

std::string internal(const Topology& t) {
  std::string s;
  for (uint32_t r : t.internal_ranks()) s += (s.empty() ? "" : ",") + std::to_string(r);
  return s;
}

// Every structural invariant, checked the slow way.
void check_consistent(const Topology& t) {
  uint32_t total_children = 0;
  uint32_t maxlevel = 0;
  for (uint32_t r = 0; r < t.size(); r++) {
    for (uint32_t c : t.children(r)) EXPECT_EQ(t.parent(c), r);
    total_children += static_cast<uint32_t>(t.children(r).size());
    uint32_t depth = 0;
    for (uint32_t a = r; t.parent(a); a = *t.parent(a)) depth++;
    EXPECT_EQ(t.level(r), depth) << r;
    maxlevel = std::max(maxlevel, depth);
    uint32_t desc = 0;
    for (uint32_t c : t.children(r)) desc += t.descendants(c) + 1;
    EXPECT_EQ(t.descendants(r), desc) << r;
    auto sub = t.subtree_ranks(r);
    ASSERT_EQ(sub.size(), desc + 1);
    EXPECT_EQ(sub[0], r);
    for (uint32_t s : sub) EXPECT_TRUE(t.in_subtree(s, r));
  }
  EXPECT_EQ(total_children, t.size() - 1);
  EXPECT_EQ(t.maxlevel(), maxlevel);
}

}  // namespace

TEST(Topology, MatchesFluxCoreNumbering) {
  for (uint32_t size : {1u, 2u, 3u, 7u, 16u, 64u, 100u, 1000u}) {
    for (uint32_t k : {0u, 1u, 2u, 3u, 16u, 32u})
      EXPECT_EQ(parents_of(Topology("kary:" + std::to_string(k), size)),
                reference_parents("kary", size, k))
          << "kary:" << k << " size " << size;
    EXPECT_EQ(parents_of(Topology("binomial", size)), reference_parents("binomial", size))
        << "binomial size " << size;
    for (uint32_t k : {1u, 2u, 5u, 40u})
      EXPECT_EQ(parents_of(Topology("mincrit:" + std::to_string(k), size)),
                reference_parents("mincrit", size, k))
          << "mincrit:" << k << " size " << size;
  }
}

TEST(Topology, Size1) {
  for (const char* uri : {"kary:0", "kary:2", "binomial", "mincrit", "custom"}) {
    Topology t(uri, 1);
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(t.parent(0), std::nullopt);
    EXPECT_TRUE(t.children(0).empty());
    EXPECT_EQ(t.maxlevel(), 0u);
    EXPECT_EQ(t.descendants(0), 0u);
    EXPECT_EQ(t.next_hop(0, 0), std::nullopt);
    EXPECT_EQ(t.to_json(), (Json{{"rank", 0}, {"size", 1}, {"children", Json::array()}}));
  }
}

TEST(Topology, Size2) {
  Topology t("kary:32", 2);
  EXPECT_EQ(t.parent(1), 0u);
  EXPECT_EQ(vec(t.children(0)), std::vector<uint32_t>{1});
  EXPECT_EQ(t.next_hop(0, 1), 1u);
  EXPECT_EQ(t.next_hop(1, 0), 0u);
  EXPECT_EQ(t.level(1), 1u);
  EXPECT_EQ(t.maxlevel(), 1u);
}

// The cases flux-core's own unit test checks, for size 16.
TEST(Topology, Size16Flat) {
  Topology t("kary:0", 16);
  EXPECT_EQ(t.children(0).size(), 15u);
  EXPECT_EQ(t.maxlevel(), 1u);
  EXPECT_EQ(t.descendants(0), 15u);
  EXPECT_EQ(t.next_hop(0, 5), 5u);
  EXPECT_EQ(t.to_json(0)["size"], 16);
  EXPECT_EQ(t.to_json(0)["children"].size(), 15u);
  EXPECT_EQ(t.to_json(15), (Json{{"rank", 15}, {"size", 1}, {"children", Json::array()}}));
  check_consistent(t);
}

TEST(Topology, Size16Chain) {
  Topology t("kary:1", 16);
  EXPECT_EQ(vec(t.children(0)), std::vector<uint32_t>{1});
  EXPECT_EQ(t.maxlevel(), 15u);
  EXPECT_EQ(t.next_hop(0, 5), 1u);
  EXPECT_EQ(t.next_hop(5, 2), 4u);
  EXPECT_EQ(t.to_json(1)["size"], 15);
  check_consistent(t);
}

TEST(Topology, Size16Binary) {
  Topology t("kary:2", 16);
  EXPECT_EQ(vec(t.children(0)), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(vec(t.children(1)), (std::vector<uint32_t>{3, 4}));
  EXPECT_EQ(t.maxlevel(), 4u);
  EXPECT_EQ(t.descendants(1), 7u);
  EXPECT_EQ(t.level(1), 1u);
  EXPECT_EQ(t.next_hop(0, 5), 2u);
  EXPECT_EQ(t.next_hop(1, 10), 4u);
  EXPECT_EQ(t.next_hop(1, 5), 0u);  // not below 1: up
  for (auto [rank, size, nkids] : std::vector<std::array<int, 3>>{
           {0, 16, 2}, {1, 8, 2}, {2, 7, 2}, {3, 4, 2}, {4, 3, 2}, {15, 1, 0}}) {
    Json j = t.to_json(rank);
    EXPECT_EQ(j["rank"], rank);
    EXPECT_EQ(j["size"], size) << rank;
    EXPECT_EQ(j["children"].size(), size_t(nkids)) << rank;
  }
  check_consistent(t);
}

TEST(Topology, BinomialShape) {
  Topology t("binomial", 16);
  EXPECT_EQ(vec(t.children(0)), (std::vector<uint32_t>{1, 2, 4, 8}));
  EXPECT_EQ(vec(t.children(8)), (std::vector<uint32_t>{9, 10, 12}));
  EXPECT_EQ(vec(t.children(12)), (std::vector<uint32_t>{13, 14}));
  EXPECT_EQ(t.parent(15), 14u);
  EXPECT_EQ(t.maxlevel(), 4u);
  EXPECT_EQ(t.next_hop(0, 15), 8u);
  EXPECT_EQ(t.next_hop(8, 15), 12u);
  // Size 13: the order-4 tree cut short.
  Topology cut("binomial", 13);
  EXPECT_EQ(vec(cut.children(8)), (std::vector<uint32_t>{9, 10, 12}));
  EXPECT_TRUE(cut.children(12).empty());
  check_consistent(cut);
}

TEST(Topology, MincritShape) {
  Topology t("mincrit:2", 7);
  EXPECT_EQ(vec(t.children(0)), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(vec(t.children(1)), (std::vector<uint32_t>{3, 5}));
  EXPECT_EQ(vec(t.children(2)), (std::vector<uint32_t>{4, 6}));
  EXPECT_EQ(t.maxlevel(), 2u);
  // Without k: flat while rank 0 can take everyone, then k >= 2.
  EXPECT_EQ(Topology("mincrit", 1025).maxlevel(), 1u);
  EXPECT_EQ(Topology("mincrit", 1026).children(0).size(), 2u);
  EXPECT_EQ(Topology("mincrit:", 1026).children(0).size(), 2u);
  EXPECT_EQ(Topology("mincrit", 10800).children(0).size(), 11u);
  EXPECT_EQ(Topology("mincrit", 64).maxlevel(), 1u);
}

// flux-core's internal-ranks test table.
TEST(Topology, InternalRanks) {
  struct Case {
    uint32_t size;
    const char* uri;
    const char* expected;
  };
  for (auto c : std::vector<Case>{{1, "kary:2", ""},
                                  {2, "kary:2", "0"},
                                  {4, "kary:2", "0,1"},
                                  {4, "kary:0", "0"},
                                  {48, "kary:16", "0,1,2"},
                                  {4, "binomial", "0,2"},
                                  {8, "binomial", "0,2,4,6"},
                                  {4096, "mincrit:0", "0"},
                                  {1, "mincrit:2", ""},
                                  {3, "mincrit:2", "0"},
                                  {4, "mincrit:2", "0,1"},
                                  {1024, "mincrit:2", "0,1,2"},
                                  {1025, "mincrit", "0"},
                                  {1026, "mincrit", "0,1,2"},
                                  {2051, "mincrit", "0,1,2"},
                                  {2052, "mincrit", "0,1,2,3"},
                                  {10800, "mincrit", "0,1,2,3,4,5,6,7,8,9,10,11"}})
    EXPECT_EQ(internal(Topology(c.uri, c.size)), c.expected) << c.uri << " size " << c.size;
}

TEST(Topology, NextHopMatchesWalk) {
  for (const char* uri : {"kary:0", "kary:1", "kary:2", "kary:3", "binomial", "mincrit:3"}) {
    Topology t(uri, 64);
    check_consistent(t);
    for (uint32_t from = 0; from < 64; from++)
      for (uint32_t to = 0; to < 64; to++)
        ASSERT_EQ(t.next_hop(from, to), slow_next_hop(t, from, to))
            << uri << " " << from << "->" << to;
  }
  for (const char* uri : {"kary:32", "kary:2", "binomial", "mincrit:7"}) {
    Topology t(uri, 1000);
    check_consistent(t);
    for (uint32_t from = 0; from < 1000; from += 7)
      for (uint32_t to = 0; to < 1000; to += 3)
        ASSERT_EQ(t.next_hop(from, to), slow_next_hop(t, from, to))
            << uri << " " << from << "->" << to;
  }
}

TEST(Topology, Size1000Kary32) {
  Topology t("kary:32", 1000);
  EXPECT_EQ(t.children(0).size(), 32u);
  EXPECT_EQ(t.parent(999), 31u);  // (999-1)/32
  EXPECT_EQ(t.maxlevel(), 2u);
  EXPECT_EQ(t.descendants(0), 999u);
  EXPECT_EQ(t.next_hop(0, 999), 31u);
  EXPECT_EQ(t.next_hop(31, 999), 999u);
  EXPECT_EQ(t.next_hop(999, 5), 31u);
  EXPECT_EQ(t.next_hop(0, 1000), std::nullopt);
  EXPECT_EQ(t.next_hop(1000, 0), std::nullopt);
}

TEST(Topology, JsonNesting) {
  Topology t("kary:2", 5);
  Json expect = {{"rank", 0},
                 {"size", 5},
                 {"children",
                  {{{"rank", 1},
                    {"size", 3},
                    {"children",
                     {{{"rank", 3}, {"size", 1}, {"children", Json::array()}},
                      {{"rank", 4}, {"size", 1}, {"children", Json::array()}}}}},
                   {{"rank", 2}, {"size", 1}, {"children", Json::array()}}}}};
  EXPECT_EQ(t.to_json(), expect);
  // A long chain must not recurse.
  Topology chain("kary:1", 100000);
  EXPECT_EQ(chain.maxlevel(), 99999u);
  EXPECT_EQ(chain.to_json(99998)["children"][0]["rank"], 99999);
  EXPECT_EQ(chain.next_hop(0, 99999), 1u);
}

TEST(Topology, Custom) {
  // The 3-level example of flux-config-bootstrap(5), shrunk: 0 <- {1, 4},
  // 1 <- {2, 3}, 4 <- {5, 6}.
  Topology::Parents p = {std::nullopt, 0, 1, 1, 0, 4, 4};
  Topology t("custom", 7, p);
  EXPECT_EQ(t.uri(), "custom");
  EXPECT_EQ(vec(t.children(0)), (std::vector<uint32_t>{1, 4}));
  EXPECT_EQ(vec(t.children(4)), (std::vector<uint32_t>{5, 6}));
  EXPECT_EQ(vec(t.subtree_ranks(1)), (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(t.next_hop(0, 6), 4u);
  EXPECT_EQ(t.next_hop(2, 6), 1u);
  check_consistent(t);
  // A parent may have a higher rank than its child.
  Topology up = Topology::from_parents({std::nullopt, 3, 0, 0});
  EXPECT_EQ(vec(up.children(3)), std::vector<uint32_t>{1});
  EXPECT_EQ(up.level(1), 2u);
  check_consistent(up);
  // Custom without parents is flat; other schemes ignore them.
  EXPECT_EQ(Topology("custom", 5).children(0).size(), 4u);
  EXPECT_EQ(Topology("kary:1", 7, p).maxlevel(), 6u);
}

TEST(Topology, CustomRejectsBadTrees) {
  auto message = [](const Topology::Parents& p) -> std::string {
    try {
      Topology::from_parents(p);
    } catch (const FluxError& e) {
      EXPECT_EQ(e.errnum(), EINVAL);
      return e.what();
    }
    return "accepted";
  };
  EXPECT_NE(message({0, 0}).find("rank 0 may not have a parent"), std::string::npos);
  EXPECT_NE(message({std::nullopt, std::nullopt}).find("rank 1 has no parent"), std::string::npos);
  EXPECT_NE(message({std::nullopt, 5}).find("parent 5 is not a rank"), std::string::npos);
  EXPECT_NE(message({std::nullopt, 1}).find("rank 1 is its own parent"), std::string::npos);
  EXPECT_NE(message({std::nullopt, 0, 3, 4, 2}).find("cycle"), std::string::npos);
  EXPECT_NE(message({}).find("invalid size"), std::string::npos);
  EXPECT_EQ(Topology::find_cycle({std::nullopt, 0, 3, 4, 2}).value_or(99) >= 2, true);
  EXPECT_EQ(Topology::find_cycle({std::nullopt, 2, 0, 1}), std::nullopt);
  EXPECT_THROW(Topology("custom", 3, {std::nullopt, 0}), FluxError);  // size mismatch
}

TEST(Topology, RejectsBadUris) {
  auto message = [](const std::string& uri, uint32_t size = 4) -> std::string {
    try {
      Topology t(uri, size);
    } catch (const FluxError& e) {
      EXPECT_EQ(e.errnum(), EINVAL);
      return e.what();
    }
    return "accepted";
  };
  EXPECT_EQ(message("foo"), "unknown topology scheme 'foo'");
  EXPECT_EQ(message("foo:2"), "unknown topology scheme 'foo'");
  EXPECT_EQ(message(""), "unknown topology scheme ''");
  for (const char* bad :
       {"kary", "kary:", "kary:-1", "kary:x", "kary:2x", "kary: 2", "kary:+2", "kary:99999999999"})
    EXPECT_NE(message(bad).find("kary k value must be an integer >= 0"), std::string::npos) << bad;
  EXPECT_NE(message("mincrit:x").find("mincrit k value"), std::string::npos);
  EXPECT_NE(message("binomial:3").find("unknown binomial topology directive"), std::string::npos);
  EXPECT_NE(message("custom:x").find("unknown custom topology directive"), std::string::npos);
  EXPECT_NE(message("kary:2", 0).find("invalid topology size 0"), std::string::npos);
  EXPECT_NE(message("kary:2", Topology::kMaxSize + 1).find("invalid topology size"),
            std::string::npos);
  EXPECT_THROW(Topology("kary:2", 4).parent(4), FluxError);
  EXPECT_THROW(Topology("kary:2", 4).children(9), FluxError);
}
