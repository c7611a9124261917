#include <gtest/gtest.h>

#include "libflux/taskmap.hpp"

using flux::Idset;
using flux::Json;
using flux::Taskmap;

namespace {

Taskmap raw(const char* text) {
  auto t = Taskmap::decode_raw(text);
  EXPECT_TRUE(t.ok()) << text << ": " << (t.ok() ? "" : t.error().message);
  return t.ok() ? *t : Taskmap{};
}

// RFC 34's test vectors: raw form -> compact form, and back.
TEST(Taskmap, RfcTestVectors) {
  const char* vectors[][2] = {
      {"0", "[[0,1,1,1]]"},
      {"0;1", "[[0,2,1,1]]"},
      {"0-1", "[[0,1,2,1]]"},
      {"0-1;2-3", "[[0,2,2,1]]"},
      {"0,2;1,3", "[[0,2,1,2]]"},
      {"1;0", "[[1,1,1,1],[0,1,1,1]]"},
      {"0-3;4-7;8-11;12-15", "[[0,4,4,1]]"},
      {"0,4,8,12;1,5,9,13;2,6,10,14;3,7,11,15", "[[0,4,1,4]]"},
      {"0-1,8-9;2-3,10-11;4-5,12-13;6-7,14-15", "[[0,4,2,2]]"},
      {"0-1;2-3;4-5;6-7;8-11;12-15", "[[0,4,2,1],[4,2,4,1]]"},
      {"0,6;1,7;2,8;3,9;4,10,12,14;5,11,13,15", "[[0,6,1,2],[4,2,1,2]]"},
      {"14-15;12-13;10-11;8-9;4-7;0-3",
       "[[5,1,4,1],[4,1,4,1],[3,1,2,1],[2,1,2,1],[1,1,2,1],[0,1,2,1]]"},
      {"0-1;2-3;4-5;6-7;8-9;12-13;10-11;14-15", "[[0,5,2,1],[6,1,2,1],[5,1,2,1],[7,1,2,1]]"},
      {"12-15;8-11;4-7;0-3", "[[3,1,4,1],[2,1,4,1],[1,1,4,1],[0,1,4,1]]"},
  };
  for (auto& v : vectors) {
    Taskmap t = raw(v[0]);
    EXPECT_EQ(t.encode(), v[1]) << v[0];
    auto back = Taskmap::decode(v[1]);
    ASSERT_TRUE(back.ok()) << v[1];
    EXPECT_EQ(back->encode_raw(), v[0]);
    EXPECT_EQ(*back, t);
  }
}

TEST(Taskmap, Lookups) {
  auto t = Taskmap::decode("[[0,4,2,2]]");  // 0-1,8-9;2-3,10-11;...
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->ntasks(), 16);
  EXPECT_EQ(t->nnodes(), 4);
  EXPECT_EQ(t->nodeid(0).value(), 0);
  EXPECT_EQ(t->nodeid(3).value(), 1);
  EXPECT_EQ(t->nodeid(9).value(), 0);
  EXPECT_EQ(t->nodeid(15).value(), 3);
  EXPECT_FALSE(t->nodeid(16).ok());
  EXPECT_EQ(t->nodeid(16).error().errnum, ENOENT);
  EXPECT_FALSE(t->nodeid(-1).ok());
  EXPECT_EQ(t->taskids(1).encode(), "2-3,10-11");
  EXPECT_EQ(t->ntasks_on(1), 4);
  EXPECT_TRUE(t->taskids(7).empty());
  EXPECT_EQ(t->ntasks_on(7), 0);
}

TEST(Taskmap, WrappedForm) {
  auto t = Taskmap::decode(R"({"version":1,"map":[[0,4096,256,1]]})");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->ntasks(), 4096 * 256);
  EXPECT_EQ(t->nodeid(4096 * 256 - 1).value(), 4095);
  EXPECT_EQ(t->taskids(1).encode(), "256-511");
  EXPECT_FALSE(Taskmap::decode(R"({"version":2,"map":[]})").ok());
  EXPECT_FALSE(Taskmap::decode(R"({"version":1})").ok());
}

TEST(Taskmap, Invalid) {
  for (const char* bad : {"[[0,1,1]]", "[[0,0,1,1]]", "[[0,1,0,1]]", "[[0,1,1,0]]", "[[-1,1,1,1]]",
                          "[[0,1,1,1.5]]", "[[0,1,1,\"1\"]]", "[1]", "{", "[[0,65536,65536,65536]]",
                          "0;0", "1", "0;2", "a", "0-1;1"}) {
    auto t = Taskmap::decode(bad);
    EXPECT_FALSE(t.ok()) << bad;
    if (!t.ok()) {
      EXPECT_EQ(t.error().errnum, EINVAL) << bad;
      EXPECT_EQ(t.error().message.rfind("taskmap: ", 0), 0u) << t.error().message;
    }
  }
  EXPECT_TRUE(Taskmap::decode("[]").ok());
  EXPECT_EQ(Taskmap::decode("[]")->ntasks(), 0);
}

TEST(Taskmap, EmptyNodeInRawForm) {
  Taskmap t = raw("0-1;;2");
  EXPECT_EQ(t.encode(), "[[0,1,2,1],[2,1,1,1]]");
  EXPECT_EQ(t.encode_raw(), "0-1;;2");
  EXPECT_EQ(t.ntasks_on(1), 0);
}

TEST(Taskmap, BlockDistribution) {
  EXPECT_EQ(Taskmap::block({4, 4, 4, 4}, 16)->encode(), "[[0,4,4,1]]");
  // Fewer tasks than slots: fill nodes in order.
  EXPECT_EQ(Taskmap::block({2, 2}, 3)->encode(), "[[0,1,2,1],[1,1,1,1]]");
  EXPECT_EQ(Taskmap::block({1}, 1)->encode(), "[[0,1,1,1]]");
  // More tasks than slots: the rest dealt round robin.
  EXPECT_EQ(Taskmap::block({1, 1}, 5)->encode_raw(), "0-2;3-4");
  EXPECT_EQ(Taskmap::block({4, 2, 4, 2}, 12)->encode(),
            "[[0,1,4,1],[1,1,2,1],[2,1,4,1],[3,1,2,1]]");
  EXPECT_FALSE(Taskmap::block({}, 1).ok());
  EXPECT_FALSE(Taskmap::block({-1}, 1).ok());
}

TEST(Taskmap, PmiProcessMapping) {
  EXPECT_EQ(Taskmap::decode("[[0,4,4,1]]")->encode_pmi(), "(vector,(0,4,4))");
  EXPECT_EQ(Taskmap::decode("[[0,4,2,1],[4,2,4,1]]")->encode_pmi(), "(vector,(0,4,2),(4,2,4))");
  EXPECT_EQ(Taskmap::decode("[[0,4,2,2]]")->encode_pmi(), "(vector,(0,4,2),(0,4,2))");
}

TEST(Taskmap, AppendMerges) {
  Taskmap t;
  t.append(0, 1, 1);
  t.append(1, 1, 1);
  t.append(0, 2, 1);
  EXPECT_EQ(t.encode(), "[[0,2,1,2]]");
  EXPECT_THROW(t.append(-1, 1, 1), flux::FluxError);
  EXPECT_THROW(t.append(0, 0, 1), flux::FluxError);
}

}  // namespace
