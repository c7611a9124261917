// Unit tests for flux::Hostlist (RFC 29): the RFC's test vectors, encoding
// (compression, zero padding, order, suffixes), every decode rejection with
// its message, lookups, edits, sort/uniq, the set helpers, random round
// trips against a vector<string> model, big ranges and hostile input.
#include "libflux/hostlist.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <random>
#include <string>
#include <vector>

using flux::Hostlist;

namespace {

using Names = std::vector<std::string>;

Hostlist dec(std::string_view s) {
  auto r = Hostlist::decode(s);
  EXPECT_TRUE(r.ok()) << s << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : Hostlist{};
}

// The decode error message for s, or "" if it decodes.
std::string why(std::string_view s) {
  auto r = Hostlist::decode(s);
  if (r.ok()) return "";
  EXPECT_EQ(r.error().errnum, EINVAL);
  return r.error().message;
}

Names split(const std::string& s) {
  Names out;
  if (s.empty()) return out;
  size_t pos = 0;
  while (true) {
    size_t comma = s.find(',', pos);
    out.push_back(s.substr(pos, comma == std::string::npos ? comma : comma - pos));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

// Encoding of a list built host by host.
std::string enc(const Names& names) {
  Hostlist hl;
  for (const auto& n : names) hl.push_back(n);
  return hl.encode();
}

}  // namespace

TEST(Hostlist, RfcTestVectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"foox,fooy,fooz", "foox,fooy,fooz"},
      {"[1-3,5-6]", "1,2,3,5,6"},
      {"foo[1-5]", "foo1,foo2,foo3,foo4,foo5"},
      {"foo[0-4]-eth2", "foo0-eth2,foo1-eth2,foo2-eth2,foo3-eth2,foo4-eth2"},
      {"foo1,foo1,foo1", "foo1,foo1,foo1"},
      {"[00-02]", "00,01,02"},
      {"[00-2]", "00,01,02"},
      {"foo[1,1,2,1]", "foo1,foo1,foo2,foo1"},
      // From the RFC's text: the first id's zero padding applies to all.
      {"h[005,4,11-13]", "h005,h004,h011,h012,h013"},
      {"host[0-10,12]",
       "host0,host1,host2,host3,host4,host5,host6,host7,host8,host9,host10,"
       "host12"},
  };
  for (const auto& [in, out] : vectors) {
    auto hl = dec(in);
    EXPECT_EQ(hl.expand(), split(out)) << in;
    EXPECT_EQ(hl.size(), split(out).size()) << in;
    // Re-encoding gives the same hosts, and the list built host by host is equal.
    EXPECT_EQ(dec(hl.encode()).expand(), split(out)) << in;
    EXPECT_EQ(dec(out), hl) << in;
  }
}

TEST(Hostlist, Encode) {
  EXPECT_EQ(enc({"foo1", "foo2", "foo3"}), "foo[1-3]");
  EXPECT_EQ(enc({"foo01", "foo02"}), "foo[01-02]");
  EXPECT_EQ(enc({"node1", "node2", "node3", "node5", "login0"}), "node[1-3,5],login0");
  EXPECT_EQ(enc({"foo1"}), "foo1");
  EXPECT_EQ(enc({"foo"}), "foo");
  EXPECT_EQ(enc({"5"}), "5");
  EXPECT_EQ(enc({"1", "2", "3", "5", "6"}), "[1-3,5-6]");
  EXPECT_EQ(enc({"foo1", "foo1", "foo1"}), "foo[1,1,1]");
  EXPECT_EQ(enc({"foo3", "foo2", "foo1"}), "foo[3,2,1]");  // order is kept
  EXPECT_EQ(enc({"foo1", "bar", "foo2"}), "foo1,bar,foo2");
  EXPECT_EQ(enc({"foo", "foo1", "foo2"}), "foo,foo[1-2]");
  EXPECT_EQ(enc({"foo9", "foo10", "foo11"}), "foo[9-11]");
  EXPECT_EQ(enc({"foo08", "foo09", "foo10"}), "foo[08-10]");
  EXPECT_EQ(enc({"foo10", "foo01"}), "foo[10,01]");
  EXPECT_EQ(enc({"foo01", "foo2"}), "foo01,foo2");  // "foo[01,2]" would mean foo02
  EXPECT_EQ(enc({"foo2", "foo01"}), "foo2,foo01");
  EXPECT_EQ(enc({"foo9", "foo01"}), "foo9,foo01");
  EXPECT_EQ(enc({"foo1", "foo100"}), "foo[1,100]");
  EXPECT_EQ(enc({"foo01", "foo100"}), "foo[01,100]");
  EXPECT_EQ(enc({"foo001", "foo01"}), "foo001,foo01");
  EXPECT_EQ(enc({"rack1node", "rack2node", "rack4node"}), "rack[1-2,4]node");
  EXPECT_EQ(enc({"foo0-eth2", "foo1-eth2"}), "foo0-eth2,foo1-eth2");  // last digits only
  EXPECT_EQ(enc({"a1b2", "a1b3"}), "a1b[2-3]");
  EXPECT_EQ(enc({"foo99999999999999999999", "foo99999999999999999998"}),
            "foo99999999999999999999,foo99999999999999999998");  // too big to be a number
  EXPECT_EQ(enc({}), "");

  EXPECT_EQ(dec("foo[1-3],foo[4-5]").encode(), "foo[1-5]");
  EXPECT_EQ(dec("foo1,foo[2-3]").encode(), "foo[1-3]");
  EXPECT_EQ(dec("rack[1-2]node").encode(), "rack[1-2]node");
  EXPECT_EQ(dec("foo[0-2]-eth2").encode(), "foo0-eth2,foo1-eth2,foo2-eth2");
  EXPECT_EQ(dec("n1[1-2]").encode(), "n[11-12]");  // prefix digits fold into the number
  EXPECT_EQ(dec("n0[1-2]").encode(), "n[01-02]");
  EXPECT_EQ(dec("n1[8-10]").encode(), "n[18-19,110]");
  EXPECT_EQ(dec("[005,4,11-13]").encode(), "[005,004,011-013]");
  EXPECT_EQ(dec("foo[8-10]").encode(), "foo[8-10]");
  EXPECT_EQ(dec("a,,b").encode(), "a,b");  // an empty expression is an empty list
  EXPECT_EQ(dec(",").encode(), "");
  EXPECT_EQ(dec("[1-1]").encode(), "1");
  EXPECT_EQ(dec("x[0000000000000000000000000001-3]").encode(),
            "x[0000000000000000000000000001-0000000000000000000000000003]");
}

TEST(Hostlist, DecodeRejects) {
  EXPECT_EQ(why("foo[1-"), "hostlist: 'foo[1-': unterminated '['");
  EXPECT_EQ(why("foo[1-2,bar"), "hostlist: 'foo[1-2,bar': unterminated '['");
  EXPECT_EQ(why("foo]"), "hostlist: 'foo]': unmatched ']'");
  EXPECT_EQ(why("a,foo1]"), "hostlist: 'foo1]': unmatched ']'");
  EXPECT_EQ(why("foo[1]]"), "hostlist: 'foo[1]]': unmatched ']'");
  EXPECT_EQ(why("foo[[1]]"), "hostlist: 'foo[[1]]': nested '['");
  EXPECT_EQ(why("a[1]b[2]"), "hostlist: 'a[1]b[2]': more than one '[' in an expression");
  EXPECT_EQ(why("foo[]"), "hostlist: 'foo[]': empty '[]'");
  EXPECT_EQ(why("foo[1,,2]"), "hostlist: 'foo[1,,2]': empty range in '[...]'");
  EXPECT_EQ(why("foo[,1]"), "hostlist: 'foo[,1]': empty range in '[...]'");
  EXPECT_EQ(why("foo[1,]"), "hostlist: 'foo[1,]': empty range in '[...]'");
  EXPECT_EQ(why("foo[a]"), "hostlist: 'foo[a]': bad range 'a'");
  EXPECT_EQ(why("foo[1-2-3]"), "hostlist: 'foo[1-2-3]': bad range '1-2-3'");
  EXPECT_EQ(why("foo[-1]"), "hostlist: 'foo[-1]': bad range '-1'");
  EXPECT_EQ(why("foo[1-]"), "hostlist: 'foo[1-]': bad range '1-'");
  EXPECT_EQ(why("foo[1 ]"), "hostlist: 'foo[1 ]': bad range '1 '");
  EXPECT_EQ(why("foo[+1]"), "hostlist: 'foo[+1]': bad range '+1'");
  EXPECT_EQ(why("foo[3-1]"), "hostlist: 'foo[3-1]': range '3-1' is backwards");
  EXPECT_EQ(why("foo[1000000000000000000]"),
            "hostlist: 'foo[1000000000000000000]': number in '1000000000000000000' exceeds "
            "999999999999999999");
  EXPECT_EQ(why("foo bar"), "hostlist: 'foo bar': invalid character ' '");
  EXPECT_EQ(why("foo\tbar"), "hostlist: 'foo\\x09bar': invalid character '\\x09'");
  EXPECT_EQ(why("foo\x80"), "hostlist: 'foo\\x80': invalid character '\\x80'");
  EXPECT_EQ(why(std::string("a\0b", 3)), "hostlist: 'a\\x00b': invalid character '\\x00'");
  EXPECT_EQ(why("f o[1]"), "hostlist: 'f o[1]': invalid character ' '");
  EXPECT_EQ(why("fo[1] x"), "hostlist: 'fo[1] x': invalid character ' '");
  EXPECT_EQ(why(std::string(256, 'a')),
            "hostlist: '" + std::string(64, 'a') + "...': hostname longer than 255 characters");
  EXPECT_EQ(why(std::string(250, 'a') + "[1-100000]"),
            "hostlist: '" + std::string(64, 'a') + "...': hostname longer than 255 characters");
  EXPECT_EQ(why("x[0-1048576]"), "hostlist: 'x[0-1048576]': more than 1048576 hosts");
  EXPECT_EQ(why("x[0-1048575],y"), "hostlist: 'y': more than 1048576 hosts");
  EXPECT_EQ(why("x[0-600000],y[0-600000]"), "hostlist: 'y[0-600000]': more than 1048576 hosts");
  EXPECT_NE(why("["), "");
  EXPECT_NE(why("]"), "");
  EXPECT_NE(why("[,"), "");
}

TEST(Hostlist, SizeNthFind) {
  auto hl = dec("foo[1-3],bar,foo[01-02],foo1,rack[7-8]node");
  EXPECT_EQ(hl.size(), 9u);
  EXPECT_FALSE(hl.empty());
  EXPECT_EQ(hl.expand(), (Names{"foo1", "foo2", "foo3", "bar", "foo01", "foo02", "foo1",
                                "rack7node", "rack8node"}));
  for (size_t i = 0; i < hl.size(); i++) {
    EXPECT_EQ(hl[i], hl.expand()[i]);
    EXPECT_EQ(hl.nth(i).value(), hl.expand()[i]);
  }
  auto bad = hl.nth(9);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().errnum, ENOENT);
  EXPECT_EQ(bad.error().message, "hostlist: index 9 out of range (size 9)");
  EXPECT_THROW(hl[100], flux::FluxError);

  EXPECT_EQ(hl.find("foo1"), 0);  // first occurrence
  EXPECT_EQ(hl.find("foo3"), 2);
  EXPECT_EQ(hl.find("bar"), 3);
  EXPECT_EQ(hl.find("foo01"), 4);
  EXPECT_EQ(hl.find("foo02"), 5);
  EXPECT_EQ(hl.find("rack8node"), 8);
  EXPECT_EQ(hl.find("foo4"), -1);
  EXPECT_EQ(hl.find("foo03"), -1);
  EXPECT_EQ(hl.find("foo001"), -1);
  EXPECT_EQ(hl.find("foo"), -1);
  EXPECT_EQ(hl.find("ba"), -1);
  EXPECT_EQ(hl.find("rack9node"), -1);
  EXPECT_EQ(hl.find(""), -1);
  EXPECT_EQ(hl.find("foo[1]"), -1);
  EXPECT_EQ(hl.find("a b"), -1);
  EXPECT_TRUE(hl.contains("foo2"));
  EXPECT_FALSE(hl.contains("foo5"));

  auto wide = dec("n[9-11]");
  EXPECT_EQ(wide.find("n10"), 1);
  EXPECT_EQ(wide.find("n09"), -1);
  EXPECT_EQ(dec("n[08-10]").find("n10"), 2);
  EXPECT_EQ(dec("n[08-10]").find("n8"), -1);
  EXPECT_EQ(dec("foo[0-2]-eth2").find("foo2-eth2"), 2);
  EXPECT_EQ(dec("n1[8-10]").find("n110"), 2);

  Hostlist empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.begin(), empty.end());
  EXPECT_EQ(empty.find("x"), -1);
  EXPECT_FALSE(empty.nth(0).ok());
}

TEST(Hostlist, Edit) {
  Hostlist hl;
  hl.push_back("foo1");
  hl.push_back("foo2");
  EXPECT_EQ(hl.encode(), "foo[1-2]");
  auto n = hl.append("foo[3-4],bar");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 3u);
  EXPECT_EQ(hl.encode(), "foo[1-4],bar");
  EXPECT_FALSE(hl.append("foo[").ok());
  EXPECT_EQ(hl.size(), 5u);
  hl.append(hl);  // self-append
  EXPECT_EQ(hl.encode(), "foo[1-4],bar,foo[1-4],bar");
  EXPECT_THROW(hl.push_back("a b"), flux::FluxError);
  EXPECT_THROW(hl.push_back(""), flux::FluxError);
  EXPECT_THROW(hl.push_back("a,b"), flux::FluxError);
  EXPECT_THROW(hl.push_back("a[1]"), flux::FluxError);

  hl.erase(1);
  EXPECT_EQ(hl.encode(), "foo[1,3-4],bar,foo[1-4],bar");
  EXPECT_TRUE(hl.remove("bar"));
  EXPECT_EQ(hl.encode(), "foo[1,3-4,1-4],bar");  // the runs now meet
  EXPECT_EQ(hl.expand(), (Names{"foo1", "foo3", "foo4", "foo1", "foo2", "foo3", "foo4", "bar"}));
  EXPECT_FALSE(hl.remove("nope"));
  EXPECT_TRUE(hl.remove("foo1"));
  EXPECT_TRUE(hl.remove("foo1"));
  EXPECT_EQ(hl.encode(), "foo[3-4,2-4],bar");
  EXPECT_THROW(hl.erase(6), flux::FluxError);

  auto mid = dec("foo[1-3],x,foo[4-5]");
  mid.erase(3);  // x goes; foo3 and foo4 meet
  EXPECT_EQ(mid.encode(), "foo[1-5]");
  EXPECT_EQ(mid.runs().size(), 1u);
  EXPECT_EQ(mid, dec("foo[1-5]"));
  auto padded = dec("n[08-12]");
  padded.erase(1);  // n09: n10.. keep their natural width
  EXPECT_EQ(padded.encode(), "n[08,10-12]");
  EXPECT_EQ(padded, dec("n08,n10,n11,n12"));
  padded.clear();
  EXPECT_TRUE(padded.empty());
  EXPECT_EQ(padded.encode(), "");
}

TEST(Hostlist, SortUniq) {
  auto hl = dec("foo[3,1,2],bar,foo1,foo,baz[2,1]");
  hl.sort();
  EXPECT_EQ(hl.expand(), (Names{"bar", "baz1", "baz2", "foo", "foo1", "foo1", "foo2", "foo3"}));
  EXPECT_EQ(hl.encode(), "bar,baz[1-2],foo,foo[1,1-3]");
  hl.uniq();
  EXPECT_EQ(hl.encode(), "bar,baz[1-2],foo,foo[1-3]");

  auto widths = dec("foo10,foo9,foo01,foo1,foo001");
  widths.sort();
  EXPECT_EQ(widths.expand(), (Names{"foo1", "foo01", "foo001", "foo9", "foo10"}));
  auto pad = dec("n[10,09,08],n7");
  pad.sort();
  EXPECT_EQ(pad.encode(), "n7,n[08-10]");
  auto sfx = dec("r[2,1]b,r[1,2]a");
  sfx.uniq();
  EXPECT_EQ(sfx.encode(), "r[1-2]a,r[1-2]b");
  Hostlist empty;
  empty.uniq();
  EXPECT_TRUE(empty.empty());
}

TEST(Hostlist, SetHelpers) {
  auto a = dec("foo[1-5],bar,foo1");
  auto b = dec("foo[4-8],baz");
  EXPECT_EQ(flux::hostlist_union(a, b).encode(), "bar,baz,foo[1-8]");
  EXPECT_EQ(flux::hostlist_intersect(a, b).encode(), "foo[4-5]");
  EXPECT_EQ(flux::hostlist_difference(a, b).encode(), "foo[1-3],bar,foo1");
  EXPECT_EQ(flux::hostlist_difference(b, a).encode(), "foo[6-8],baz");
  EXPECT_TRUE(flux::hostlist_intersect(a, Hostlist{}).empty());
}

// Random host sequences: the run-based list must match a vector model, and
// decode(encode()) must give back the same list.
TEST(Hostlist, MatchesModel) {
  std::mt19937 rng(7);
  const char* prefixes[] = {"", "n", "node", "r1n", "a-"};
  const char* suffixes[] = {"", "", "", "x", "-ib", "e2"};
  for (int round = 0; round < 300; round++) {
    Names model;
    Hostlist hl;
    int len = rng() % 20;
    for (int i = 0; i < len; i++) {
      std::string name = prefixes[rng() % 5];
      int kind = rng() % 5;
      if (kind == 0 && !name.empty()) {
        // a plain name (maybe empty prefix: use a letter)
      } else {
        uint64_t n = rng() % 14;
        std::string num = std::to_string(n);
        int padto = rng() % 3;  // 0: natural, else zero-pad to 2 or 3
        if (padto && num.size() < static_cast<size_t>(padto + 1)) {
          num.insert(0, padto + 1 - num.size(), '0');
        }
        name += num;
        name += suffixes[rng() % 6];
      }
      if (name.empty()) name = "z";
      model.push_back(name);
      hl.push_back(name);
    }
    ASSERT_EQ(hl.expand(), model);
    ASSERT_EQ(hl.size(), model.size());
    auto back = dec(hl.encode());
    ASSERT_EQ(back, hl) << hl.encode();
    ASSERT_EQ(back.encode(), hl.encode());
    for (size_t i = 0; i < model.size(); i++) {
      auto first = std::find(model.begin(), model.end(), model[i]) - model.begin();
      ASSERT_EQ(hl.find(model[i]), first) << hl.encode() << " " << model[i];
    }
    if (!model.empty()) {
      size_t i = rng() % model.size();
      hl.erase(i);
      model.erase(model.begin() + static_cast<std::ptrdiff_t>(i));
      ASSERT_EQ(hl.expand(), model);
      ASSERT_EQ(dec(hl.encode()), hl);
      Hostlist rebuilt;
      for (const auto& n : model) rebuilt.push_back(n);
      ASSERT_EQ(rebuilt, hl);  // runs are canonical
    }
    auto u = hl;
    u.uniq();
    auto sorted_model = u.expand();
    ASSERT_TRUE(std::adjacent_find(sorted_model.begin(), sorted_model.end()) == sorted_model.end());
    auto s = hl;
    s.sort();
    ASSERT_EQ(s.size(), hl.size());
    auto again = s;
    again.sort();
    ASSERT_EQ(again, s);
  }
}

TEST(Hostlist, BigRangesAreCheap) {
  auto hl = dec("node[0-1048575]");
  EXPECT_EQ(hl.size(), Hostlist::kMaxHosts);
  EXPECT_EQ(hl.runs().size(), 1u);
  EXPECT_EQ(hl.encode(), "node[0-1048575]");
  EXPECT_EQ(hl.find("node1000000"), 1000000);
  EXPECT_EQ(hl[1048575], "node1048575");
  hl.erase(500000);
  EXPECT_EQ(hl.encode(), "node[0-499999,500001-1048575]");
  EXPECT_THROW(hl.append(dec("a,b")), flux::FluxError);
  hl.push_back("x");
  EXPECT_THROW(hl.push_back("y"), flux::FluxError);
  auto more = hl.append("y");
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.error().errnum, EOVERFLOW);
  auto suffixed = dec("rack[0-999999]node");
  EXPECT_EQ(suffixed.runs().size(), 1u);
  EXPECT_EQ(suffixed.find("rack123456node"), 123456);
}

TEST(Hostlist, HostileInput) {
  // A suffix with digits forces one run per host; the host cap bounds it.
  auto per_host = dec("a[0-9999]b1");
  EXPECT_EQ(per_host.size(), 10000u);
  EXPECT_EQ(per_host.runs().size(), 10000u);
  EXPECT_NE(why("a[0-1048575]b1,c"), "");
  // Many ranges in one bracket, many expressions.
  std::string many = "n[";
  for (int i = 0; i < 20000; i++) many += std::to_string(2 * i) + ",";
  many += "1]";
  EXPECT_EQ(dec(many).size(), 20001u);
  EXPECT_EQ(dec(dec(many).encode()), dec(many));
  EXPECT_EQ(dec(std::string(100000, ',')).size(), 0u);
  EXPECT_NE(why(std::string(100000, '[')), "");
  EXPECT_NE(why(std::string(100000, ']')), "");
  EXPECT_NE(why("x[" + std::string(100000, '-') + "]"), "");
  EXPECT_NE(why("x[" + std::string(100000, '9') + "]"), "");
  // Wide zero padding is fine while names stay under the length limit.
  EXPECT_EQ(dec("x[" + std::string(200, '0') + "-5]").size(), 6u);
  EXPECT_NE(why("x[" + std::string(300, '0') + "-5]"), "");
  // A digit-ending prefix too long to fold: the hosts are plain names.
  auto big = dec("n999999999999999999[0-3]");
  EXPECT_EQ(big.expand(), (Names{"n9999999999999999990", "n9999999999999999991",
                                 "n9999999999999999992", "n9999999999999999993"}));
  EXPECT_EQ(big.runs().size(), 4u);
  EXPECT_EQ(big.encode(),
            "n9999999999999999990,n9999999999999999991,n9999999999999999992,"
            "n9999999999999999993");
  auto folded = dec("n99999999999999999[0-3]");  // 18 digits still fold
  EXPECT_EQ(folded.runs().size(), 1u);
  EXPECT_EQ(folded.encode(), "n[999999999999999990-999999999999999993]");
  EXPECT_EQ(dec(big.encode()), big);
}
