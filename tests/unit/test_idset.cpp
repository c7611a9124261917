// Unit tests for flux::Idset (RFC 22): decoding of every accepted form and
// every rejection path with its message, canonical encoding, round trips,
// insert/erase of ids and ranges, iteration, set operations (checked
// against a std::set model), big ranges, and hostile input.
#include "libflux/idset.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <random>
#include <set>
#include <string>
#include <vector>

using flux::Idset;

namespace {

Idset dec(std::string_view s) {
  auto r = Idset::decode(s);
  EXPECT_TRUE(r.ok()) << s << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : Idset{};
}

// The decode error message for s, or "" if it decodes.
std::string why(std::string_view s) {
  auto r = Idset::decode(s);
  if (r.ok()) return "";
  EXPECT_EQ(r.error().errnum, EINVAL);
  return r.error().message;
}

std::vector<uint32_t> ids(const Idset& s) {
  return std::vector<uint32_t>(s.begin(), s.end());
}

std::string encode_model(const std::set<uint32_t>& m) {
  Idset s;
  for (auto id : m) s.insert(id);
  return s.encode();
}

}  // namespace

TEST(Idset, RfcExamples) {
  EXPECT_EQ(dec("1,2,3,5,6,42").encode(), "1-3,5-6,42");
  EXPECT_EQ(dec("1-3,5-6,42").encode(), "1-3,5-6,42");
  EXPECT_EQ(dec("[1-3,5-6,42]").encode(), "1-3,5-6,42");
  EXPECT_EQ(dec("1,2,3,5,6,42"), dec("[1-3,5-6,42]"));
}

TEST(Idset, DecodeForms) {
  EXPECT_TRUE(dec("").empty());
  EXPECT_TRUE(dec("[]").empty());
  EXPECT_EQ(ids(dec("0")), (std::vector<uint32_t>{0}));
  EXPECT_EQ(ids(dec("1")), (std::vector<uint32_t>{1}));
  EXPECT_EQ(ids(dec("[7]")), (std::vector<uint32_t>{7}));
  EXPECT_EQ(ids(dec("1-3")), (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(ids(dec("1,3,5-7")), (std::vector<uint32_t>{1, 3, 5, 6, 7}));
  EXPECT_EQ(ids(dec("0-1,2,3-4")), (std::vector<uint32_t>{0, 1, 2, 3, 4}));  // adjacent is fine
  EXPECT_EQ(dec("0-1,2,3-4").ranges().size(), 1u);
  EXPECT_EQ(dec("10").encode(), "10");
  EXPECT_EQ(dec("4294967293").encode(), "4294967293");  // kMaxId
}

TEST(Idset, DecodeRejects) {
  EXPECT_EQ(why("3-1"), "idset: '3-1': range is backwards");
  EXPECT_EQ(why("3-3"), "idset: '3-3': range has equal ends");
  EXPECT_EQ(why("1,1"), "idset: '1': out of order or overlapping (ids must ascend)");
  EXPECT_EQ(why("3,1"), "idset: '1': out of order or overlapping (ids must ascend)");
  EXPECT_EQ(why("1-3,2"), "idset: '2': out of order or overlapping (ids must ascend)");
  EXPECT_EQ(why("1-3,3-5"), "idset: '3-5': out of order or overlapping (ids must ascend)");
  EXPECT_EQ(why("01"), "idset: '01': leading zero");
  EXPECT_EQ(why("1-02"), "idset: '1-02': leading zero");
  EXPECT_EQ(why("00"), "idset: '00': leading zero");
  EXPECT_EQ(why("1,,2"), "idset: '1,,2': empty element");
  EXPECT_EQ(why(",1"), "idset: ',1': empty element");
  EXPECT_EQ(why("1,"), "idset: '1,': empty element");
  EXPECT_EQ(why(","), "idset: ',': empty element");
  EXPECT_EQ(why("-"), "idset: '-': missing number");
  EXPECT_EQ(why("-1"), "idset: '-1': missing number");
  EXPECT_EQ(why("1-"), "idset: '1-': missing number");
  EXPECT_EQ(why("1--2"), "idset: '1--2': invalid character '-'");
  EXPECT_EQ(why("1-2-3"), "idset: '1-2-3': invalid character '-'");
  EXPECT_EQ(why("a"), "idset: 'a': invalid character 'a'");
  EXPECT_EQ(why(" 1"), "idset: ' 1': invalid character ' '");
  EXPECT_EQ(why("1 "), "idset: '1 ': invalid character ' '");
  EXPECT_EQ(why("+1"), "idset: '+1': invalid character '+'");
  EXPECT_EQ(why("1.5"), "idset: '1.5': invalid character '.'");
  EXPECT_EQ(why(std::string("1\0", 2)), "idset: '1\\x00': invalid character '\\x00'");
  EXPECT_EQ(why("4294967294"), "idset: '4294967294': id exceeds the maximum 4294967293");
  EXPECT_EQ(why("4294967295"), "idset: '4294967295': id exceeds the maximum 4294967293");
  EXPECT_EQ(why("99999999999999999999999"),
            "idset: '99999999999999999999999': id exceeds the maximum 4294967293");
  EXPECT_EQ(why("0-4294967296"), "idset: '0-4294967296': id exceeds the maximum 4294967293");
  EXPECT_EQ(why("["), "idset: '[': mismatched or nested brackets");
  EXPECT_EQ(why("]"), "idset: ']': mismatched or nested brackets");
  EXPECT_EQ(why("[1"), "idset: '[1': mismatched or nested brackets");
  EXPECT_EQ(why("1]"), "idset: '1]': mismatched or nested brackets");
  EXPECT_EQ(why("[[1]]"), "idset: '[[1]]': mismatched or nested brackets");
  EXPECT_EQ(why("[1],[2]"), "idset: '[1],[2]': mismatched or nested brackets");
  EXPECT_EQ(why("[,]"), "idset: '[,]': empty element");
}

TEST(Idset, ErrorMessagesAreBoundedAndPrintable) {
  std::string big(10000, '7');
  auto msg = why(big);
  EXPECT_LT(msg.size(), 200u);
  EXPECT_NE(msg.find("..."), std::string::npos);
  msg = why("\xff\x01");
  for (char c : msg) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << msg;
}

TEST(Idset, Encode) {
  Idset s;
  EXPECT_EQ(s.encode(), "");
  EXPECT_EQ(s.encode(true), "");
  s.insert(5);
  EXPECT_EQ(s.encode(), "5");
  EXPECT_EQ(s.encode(true), "5");  // no brackets for a singleton
  s.insert(0, 3);
  EXPECT_EQ(s.encode(), "0-3,5");
  EXPECT_EQ(s.encode(true), "[0-3,5]");
  EXPECT_EQ(Idset({1, 2}).encode(true), "[1-2]");
  EXPECT_EQ(Idset({4, 6, 8}).encode(), "4,6,8");
}

TEST(Idset, RoundTrip) {
  for (std::string s : {"", "0", "1-3", "0-3,5", "1,3,5-7,9,100-200", "4294967293", "0-4294967293",
                        "7,4294967292-4294967293"}) {
    EXPECT_EQ(dec(s).encode(), s);
    EXPECT_EQ(dec(dec(s).encode(true)).encode(), s);
  }
}

TEST(Idset, InsertErase) {
  Idset s;
  s.insert(3);
  s.insert(1);
  s.insert(2);  // joins both neighbours
  EXPECT_EQ(s.encode(), "1-3");
  EXPECT_EQ(s.ranges().size(), 1u);
  s.insert(2);  // already present
  EXPECT_EQ(s.count(), 3u);
  s.insert(10, 20);
  s.insert(5, 7);
  EXPECT_EQ(s.encode(), "1-3,5-7,10-20");
  s.insert(4, 9);  // bridges three ranges
  EXPECT_EQ(s.encode(), "1-20");
  s.insert(0, 30);
  EXPECT_EQ(s.encode(), "0-30");
  s.erase(10);
  EXPECT_EQ(s.encode(), "0-9,11-30");
  s.erase(0);
  s.erase(30);
  EXPECT_EQ(s.encode(), "1-9,11-29");
  s.erase(5, 15);
  EXPECT_EQ(s.encode(), "1-4,16-29");
  s.erase(100);  // absent: no-op
  s.erase(4, 16);
  EXPECT_EQ(s.encode(), "1-3,17-29");
  s.erase(0, 1000);
  EXPECT_TRUE(s.empty());
  s.insert(1, 2);
  s.insert(5, 6);
  s.insert(9, 10);
  s.erase(2, 9);
  EXPECT_EQ(s.encode(), "1,10");
  s.clear();
  EXPECT_TRUE(s.empty());
}

TEST(Idset, InsertEraseReject) {
  Idset s;
  EXPECT_THROW(s.insert(Idset::kMaxId + 1), flux::FluxError);
  EXPECT_THROW(s.insert(UINT32_MAX), flux::FluxError);
  EXPECT_THROW(s.insert(5, 4), flux::FluxError);
  EXPECT_THROW(s.erase(5, 4), flux::FluxError);
  EXPECT_THROW(s.erase(UINT32_MAX), flux::FluxError);
  EXPECT_THROW(Idset({1, UINT32_MAX}), flux::FluxError);
  try {
    s.insert(9, 3);
  } catch (const flux::FluxError& e) {
    EXPECT_EQ(e.errnum(), EINVAL);
    EXPECT_STREQ(e.what(), "idset: range 9-3 is backwards");
  }
  s.insert(Idset::kMaxId);
  EXPECT_TRUE(s.contains(Idset::kMaxId));
}

TEST(Idset, QueriesAndIteration) {
  auto s = dec("1-3,7,10-11");
  EXPECT_EQ(s.count(), 6u);
  EXPECT_FALSE(s.contains(0));
  EXPECT_TRUE(s.contains(1));
  EXPECT_TRUE(s.contains(3));
  EXPECT_FALSE(s.contains(4));
  EXPECT_TRUE(s.contains(7));
  EXPECT_TRUE(s.contains(11));
  EXPECT_FALSE(s.contains(12));
  EXPECT_FALSE(s.contains(UINT32_MAX));
  EXPECT_EQ(s.first(), 1u);
  EXPECT_EQ(s.last(), 11u);
  EXPECT_EQ(s.next(0), 1u);
  EXPECT_EQ(s.next(1), 2u);
  EXPECT_EQ(s.next(3), 7u);
  EXPECT_EQ(s.next(7), 10u);
  EXPECT_EQ(s.next(11), std::nullopt);
  EXPECT_EQ(s.next(UINT32_MAX), std::nullopt);
  EXPECT_EQ(s.prev(1), std::nullopt);
  EXPECT_EQ(s.prev(0), std::nullopt);
  EXPECT_EQ(s.prev(2), 1u);
  EXPECT_EQ(s.prev(7), 3u);
  EXPECT_EQ(s.prev(9), 7u);
  EXPECT_EQ(s.prev(UINT32_MAX), 11u);
  EXPECT_EQ(ids(s), (std::vector<uint32_t>{1, 2, 3, 7, 10, 11}));
  // first/next walk matches iteration
  std::vector<uint32_t> walked;
  for (auto id = s.first(); id; id = s.next(*id)) walked.push_back(*id);
  EXPECT_EQ(walked, ids(s));
  std::vector<uint32_t> back;
  for (auto id = s.last(); id; id = s.prev(*id)) back.insert(back.begin(), *id);
  EXPECT_EQ(back, ids(s));

  Idset empty;
  EXPECT_EQ(empty.begin(), empty.end());
  EXPECT_EQ(empty.first(), std::nullopt);
  EXPECT_EQ(empty.last(), std::nullopt);
  EXPECT_EQ(empty.count(), 0u);

  Idset top{Idset::kMaxId - 1, Idset::kMaxId};
  EXPECT_EQ(ids(top), (std::vector<uint32_t>{Idset::kMaxId - 1, Idset::kMaxId}));
  EXPECT_EQ(top.next(Idset::kMaxId), std::nullopt);
}

TEST(Idset, SetOperations) {
  auto a = dec("1-5,10-15,20");
  auto b = dec("4-11,20-25");
  EXPECT_EQ((a | b).encode(), "1-15,20-25");
  EXPECT_EQ((a & b).encode(), "4-5,10-11,20");
  EXPECT_EQ((a - b).encode(), "1-3,12-15");
  EXPECT_EQ((b - a).encode(), "6-9,21-25");
  EXPECT_TRUE(a.intersects(b));
  EXPECT_FALSE(dec("1-3").intersects(dec("4-6")));
  EXPECT_EQ((dec("1-3") | dec("4-6")).ranges().size(), 1u);  // neighbours coalesce
  EXPECT_EQ((a - a).encode(), "");
  EXPECT_EQ((a & Idset{}).encode(), "");
  EXPECT_EQ((a | Idset{}), a);
  EXPECT_EQ((dec("0-100") - dec("0,2,4,100")).encode(), "1,3,5-99");
  EXPECT_EQ((dec("5-10") - dec("0-20")).encode(), "");
  EXPECT_EQ((dec("1-3,5-7,9-11") - dec("2-10")).encode(), "1,11");
  auto c = a;
  c |= b;
  EXPECT_EQ(c, a | b);
  c = a;
  c &= b;
  EXPECT_EQ(c, a & b);
  c = a;
  c -= b;
  EXPECT_EQ(c, a - b);
  EXPECT_NE(a, b);
}

// Random operations checked against std::set.
TEST(Idset, MatchesModel) {
  std::mt19937 rng(42);
  for (int round = 0; round < 200; round++) {
    Idset a, b;
    std::set<uint32_t> ma, mb;
    for (int i = 0; i < 30; i++) {
      uint32_t lo = rng() % 64;
      uint32_t hi = lo + rng() % 6;
      bool on_a = rng() % 2;
      auto& s = on_a ? a : b;
      auto& m = on_a ? ma : mb;
      if (rng() % 3 == 0) {
        s.erase(lo, hi);
        for (uint32_t id = lo; id <= hi; id++) m.erase(id);
      } else {
        s.insert(lo, hi);
        for (uint32_t id = lo; id <= hi; id++) m.insert(id);
      }
      ASSERT_EQ(a.encode(), encode_model(ma));
      ASSERT_EQ(b.encode(), encode_model(mb));
    }
    std::set<uint32_t> mu = ma, mi, md;
    mu.insert(mb.begin(), mb.end());
    for (auto id : ma) (mb.count(id) ? mi : md).insert(id);
    EXPECT_EQ((a | b).encode(), encode_model(mu));
    EXPECT_EQ((a & b).encode(), encode_model(mi));
    EXPECT_EQ((a - b).encode(), encode_model(md));
    EXPECT_EQ(a.intersects(b), !mi.empty());
    EXPECT_EQ(a.count(), ma.size());
    EXPECT_EQ(ids(a), std::vector<uint32_t>(ma.begin(), ma.end()));
    EXPECT_EQ(dec(a.encode()), a);
    for (uint32_t id = 0; id < 72; id++) ASSERT_EQ(a.contains(id), ma.count(id) == 1);
  }
}

TEST(Idset, BigRangesAreCheap) {
  auto s = dec("0-4294967293");
  EXPECT_EQ(s.ranges().size(), 1u);
  if constexpr (sizeof(size_t) >= 8) {
    EXPECT_EQ(s.count(), size_t{4294967294});
  }
  s.erase(1000000);
  EXPECT_EQ(s.encode(), "0-999999,1000001-4294967293");
  EXPECT_EQ(s.next(999999), 1000001u);
  auto t = dec("0-1000000") & dec("999999-4000000000");
  EXPECT_EQ(t.encode(), "999999-1000000");
  EXPECT_EQ((dec("0-4294967293") - dec("1-4294967293")).encode(), "0");
}

TEST(Idset, HostileInput) {
  // Many small elements: one range each, no per-id allocation.
  std::string many;
  for (int i = 0; i < 100000; i++) {
    if (i) many += ',';
    many += std::to_string(2 * i);
  }
  auto s = dec(many);
  EXPECT_EQ(s.count(), 100000u);
  EXPECT_EQ(s.encode(), many);
  // Huge ranges, repeated: refused as overlapping, not expanded.
  EXPECT_NE(why("0-4294967293,0-4294967293"), "");
  EXPECT_NE(why(std::string(100000, ',')), "");
  EXPECT_NE(why(std::string(100000, '[')), "");
  EXPECT_NE(why(std::string(100000, '0')), "");
  EXPECT_NE(why(std::string(100000, '-')), "");
}
