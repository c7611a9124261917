// Tests for RFC 19 FLUID job ids: every encoding against the values given
// in RFC 19 and flux-core's documentation and tests, parse errors, and the
// generator's ordering guarantees.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "libflux/jobid.hpp"

using flux::FluidGenerator;
using flux::JobId;
using flux::JobIdEncoding;

namespace {

constexpr uint64_t kMax = UINT64_MAX;

uint64_t parse_ok(const std::string& s) {
  auto r = JobId::parse(s);
  EXPECT_TRUE(r.ok()) << "parse('" << s << "'): " << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value().value : 0;
}

void expect_invalid(const std::string& s) {
  auto r = JobId::parse(s);
  ASSERT_FALSE(r.ok()) << "parse('" << s << "') accepted as " << r.value().value;
  EXPECT_EQ(r.error().errnum, EINVAL);
  EXPECT_EQ(r.error().message.rfind("invalid jobid '", 0), 0u) << r.error().message;
}

const std::vector<JobIdEncoding> kAll = {
    JobIdEncoding::kDec,   JobIdEncoding::kHex, JobIdEncoding::kDothex,   JobIdEncoding::kKvs,
    JobIdEncoding::kWords, JobIdEncoding::kF58, JobIdEncoding::kF58Plain, JobIdEncoding::kEmoji};

}  // namespace

// RFC 19: 6731191091817518 is ƒuZZybuNNy, 0x17e9fb8df16c2e, 0017.e9fb.8df1.6c2e
// and reform-remote-galileo--heart-package-academy; 0xedaf97d000000 is
// ƒZemgA8Bzf, 000e.daf9.7d00.0000 and random-idea-yoyo--sugar-printer-academy.
TEST(JobId, Rfc19Examples) {
  JobId a{6731191091817518ULL};
  EXPECT_EQ(a.encode(JobIdEncoding::kDec), "6731191091817518");
  EXPECT_EQ(a.encode(JobIdEncoding::kF58), "ƒuZZybuNNy");
  EXPECT_EQ(a.encode(JobIdEncoding::kF58Plain), "fuZZybuNNy");
  EXPECT_EQ(a.encode(JobIdEncoding::kHex), "0x17e9fb8df16c2e");
  EXPECT_EQ(a.encode(JobIdEncoding::kDothex), "0017.e9fb.8df1.6c2e");
  EXPECT_EQ(a.encode(JobIdEncoding::kKvs), "job.0017.e9fb.8df1.6c2e");
  EXPECT_EQ(a.encode(JobIdEncoding::kWords), "reform-remote-galileo--heart-package-academy");

  JobId b{0xedaf97d000000ULL};
  EXPECT_EQ(b.encode(JobIdEncoding::kF58), "ƒZemgA8Bzf");
  EXPECT_EQ(b.encode(JobIdEncoding::kHex), "0xedaf97d000000");
  EXPECT_EQ(b.encode(JobIdEncoding::kDothex), "000e.daf9.7d00.0000");
  EXPECT_EQ(b.encode(JobIdEncoding::kWords), "random-idea-yoyo--sugar-printer-academy");

  for (const char* s :
       {"6731191091817518", "ƒuZZybuNNy", "fuZZybuNNy", "0x17e9fb8df16c2e", "0017.e9fb.8df1.6c2e",
        "job.0017.e9fb.8df1.6c2e", "reform-remote-galileo--heart-package-academy"}) {
    EXPECT_EQ(parse_ok(s), 6731191091817518ULL) << s;
  }
  EXPECT_EQ(parse_ok("ƒZemgA8Bzf"), 0xedaf97d000000ULL);
  EXPECT_EQ(parse_ok("random-idea-yoyo--sugar-printer-academy"), 0xedaf97d000000ULL);
  EXPECT_EQ(parse_ok("ƒ278oEf7zGf"), 0x1d2de90a000000ULL);
  // The RFC's emoji examples decode and encode back to themselves.
  for (const char* s : {"🚹💂🙌😳💱🏃", "😄😹🎇📥🏧🙉🔞", "🚹💂🈳💰🎩🏃"}) {
    EXPECT_EQ(JobId{parse_ok(s)}.encode(JobIdEncoding::kEmoji), s);
  }
}

// F58 values from flux-core's fluid tests.
TEST(JobId, F58KnownValues) {
  struct Case {
    uint64_t id;
    const char* f58;
  };
  const Case cases[] = {
      {0, "1"},
      {1, "2"},
      {57, "z"},
      {1234, "NH"},
      {1888, "ZZ"},
      {3363, "zz"},
      {3364, "211"},
      {4369, "2JL"},
      {65535, "LUv"},
      {4294967295ULL, "7YXq9G"},
      {633528662ULL, "xyzzy"},
      {6731191091817518ULL, "uZZybuNNy"},
      {kMax - 1, "jpXCZedGfVP"},
      {kMax, "jpXCZedGfVQ"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(JobId{c.id}.encode(JobIdEncoding::kF58), std::string("ƒ") + c.f58);
    EXPECT_EQ(JobId{c.id}.encode(JobIdEncoding::kF58Plain), std::string("f") + c.f58);
    EXPECT_EQ(parse_ok(std::string("ƒ") + c.f58), c.id);
    EXPECT_EQ(parse_ok(std::string("f") + c.f58), c.id);
  }
  EXPECT_EQ(parse_ok("f111"), 0u);  // leading zero digits
  EXPECT_EQ(parse_ok("f11111111111"), 0u);
}

// Emoji values from flux-core's fluid tests.
TEST(JobId, EmojiKnownValues) {
  struct Case {
    uint64_t id;
    const char* emoji;
  };
  const Case cases[] = {
      {0, "😃"},          {1, "😄"},     {57, "🙊"},     {1234, "😁👌"},
      {1888, "😆🐻"},      {4369, "😊🌀"}, {65535, "💁📚"}, {4294967295ULL, "😳🏪🍖🍸"},
      {kMax, "🚹💗💧👗😷📷📚"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(JobId{c.id}.encode(JobIdEncoding::kEmoji), c.emoji);
    EXPECT_EQ(parse_ok(c.emoji), c.id);
  }
}

TEST(JobId, OtherKnownValues) {
  // dothex groups may be short, as flux-core's strtoul accepts.
  EXPECT_EQ(parse_ok("0.0.0.0"), 0u);
  EXPECT_EQ(parse_ok("0.0.0.0039"), 57u);
  EXPECT_EQ(parse_ok("0000.0000.0000.04d2"), 1234u);
  EXPECT_EQ(parse_ok("0.0.0.ffff"), 65535u);
  EXPECT_EQ(parse_ok("0000.0000.ffff.ffff"), 4294967295ULL);
  EXPECT_EQ(parse_ok("ffff.ffff.ffff.ffff"), kMax);
  EXPECT_EQ(parse_ok("FFFF.FFFF.FFFF.FFFF"), kMax);
  EXPECT_EQ(parse_ok("0x0"), 0u);
  EXPECT_EQ(parse_ok("0x4d2"), 1234u);
  EXPECT_EQ(parse_ok("0x25c2e156"), 633528662ULL);
  EXPECT_EQ(parse_ok("0xffffffffffffffff"), kMax);
  EXPECT_EQ(parse_ok("0x0000ffffffffffffffff"), kMax);  // leading zeros
  EXPECT_EQ(parse_ok("18446744073709551615"), kMax);
  EXPECT_EQ(parse_ok("0"), 0u);
  EXPECT_EQ(JobId{0}.encode(JobIdEncoding::kWords),
            "academy-academy-academy--academy-academy-academy");
  EXPECT_EQ(parse_ok("academy-academy-academy--academy-academy-academy"), 0u);
  EXPECT_EQ(JobId{kMax}.encode(JobIdEncoding::kWords),
            "natural-analyze-verbal--natural-analyze-verbal");
  EXPECT_EQ(JobId{kMax}.encode(JobIdEncoding::kHex), "0xffffffffffffffff");
  EXPECT_EQ(JobId{0}.encode(JobIdEncoding::kHex), "0x0");
  EXPECT_EQ(JobId{0}.encode(JobIdEncoding::kDothex), "0000.0000.0000.0000");
  EXPECT_EQ(JobId{0}.encode(JobIdEncoding::kKvs), "job.0000.0000.0000.0000");
  EXPECT_EQ(JobId{1}.encode(JobIdEncoding::kDec), "1");
}

TEST(JobId, ParseIsLenientWhereFluxCoreIs) {
  EXPECT_EQ(parse_ok(" 0xffff   "), 65535u);
  EXPECT_EQ(parse_ok("\t1234\n"), 1234u);
  EXPECT_EQ(parse_ok("  ƒNH  "), 1234u);
  EXPECT_EQ(parse_ok("job.ƒNH"), 1234u);  // any encoding after "job."
  // Words: any case, any non-letter separators (as mnemonicode reads them).
  EXPECT_EQ(parse_ok("Reform-REMOTE-galileo--heart-package-academy"), 6731191091817518ULL);
  EXPECT_EQ(parse_ok("reform-remote-galileo heart package academy"), 6731191091817518ULL);
}

TEST(JobId, ParseErrors) {
  for (const char* s : {"",
                        "   ",
                        "boo",
                        "f",
                        "ƒ",
                        "flux",
                        "f1230",
                        "x1",
                        "-1",
                        "+1",
                        "1 2",
                        "0x",
                        "0X10",
                        "0xg",
                        "0x1ffffffffffffffff",
                        "18446744073709551616",
                        "99999999999999999999",
                        "12a",
                        "0.0.0",
                        "0.0.0.0.0",
                        "00000.0.0.0",
                        "0.0.0.",
                        ".0.0.0",
                        "0..0.0",
                        "g.0.0.0",
                        "job.",
                        "job.xyz",
                        "a-a-a--a-a-a",
                        "academy-academy-academy--academy-academy",
                        "academy-academy-academy--academy-academy-academy-academy",
                        "academy-academy-academy--academy-academy-bogus",
                        "academy-academy-yes--academy-academy-academy",  // remainder word
                        "amen-amen-amen--academy-academy-academy",       // > 32 bits
                        "fjpXCZedGfVR",                                  // 2^64
                        "fzzzzzzzzzzzz",
                        "f0",
                        "fO",
                        "fI",
                        "fl",
                        "😃x",
                        "😃😃😃😃😃😃😃😃",
                        "🚹💗💧👗😷📷📛",  // 2^64 and more
                        "\xf0\x9f",
                        "\xf0\x9f\x98",
                        "\xf0\x9f\x98\x80",
                        "\xff\xfe"}) {
    expect_invalid(s);
  }
  auto r = JobId::parse("xyz");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "invalid jobid 'xyz'");
  // Unprintable input is escaped in the message; valid UTF-8 is kept.
  r = JobId::parse("a\x01");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "invalid jobid 'a\\x01'");
  r = JobId::parse("ƒ0");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "invalid jobid 'ƒ0'");
}

TEST(JobId, RoundTripEveryEncoding) {
  std::vector<uint64_t> values = {0,
                                  1,
                                  57,
                                  58,
                                  575,
                                  576,
                                  1625,
                                  1626,
                                  65535,
                                  65536,
                                  0xffffffffULL,
                                  0x100000000ULL,
                                  6731191091817518ULL,
                                  kMax - 1,
                                  kMax};
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (int i = 0; i < 2000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    values.push_back(x >> (i % 64));
  }
  for (uint64_t v : values) {
    for (auto enc : kAll) {
      std::string s = JobId{v}.encode(enc);
      auto back = JobId::parse(s);
      ASSERT_TRUE(back.ok()) << to_string(enc) << " " << s;
      EXPECT_EQ(back.value().value, v) << to_string(enc) << " " << s;
    }
  }
}

TEST(JobId, EncodingNames) {
  for (auto enc : kAll) {
    auto back = flux::parse_jobid_encoding(to_string(enc));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back.value(), enc);
  }
  EXPECT_EQ(flux::parse_jobid_encoding("F58").value(), JobIdEncoding::kF58);
  auto bad = flux::parse_jobid_encoding("base64");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "unknown jobid encoding 'base64'");
}

TEST(JobId, Fields) {
  JobId id{(uint64_t{12345} << 24) | (uint64_t{16383} << 10) | 1023};
  EXPECT_EQ(id.timestamp(), 12345u);
  EXPECT_EQ(id.generator_id(), 16383u);
  EXPECT_EQ(id.sequence(), 1023u);
  EXPECT_LT(JobId{1}, JobId{2});
}

TEST(FluidGenerator, FirstIdsAndLayout) {
  uint64_t now = 1000;
  FluidGenerator gen(5, 0, [&] { return now; });
  auto a = gen.next().value();
  EXPECT_EQ(a.timestamp(), 0u);
  EXPECT_EQ(a.generator_id(), 5u);
  EXPECT_EQ(a.sequence(), 0u);
  auto b = gen.next().value();
  EXPECT_EQ(b.sequence(), 1u);
  now += 7;
  auto c = gen.next().value();
  EXPECT_EQ(c.timestamp(), 7u);
  EXPECT_EQ(c.sequence(), 0u);
  EXPECT_EQ(c.value, (uint64_t{7} << 24) | (5u << 10));
}

TEST(FluidGenerator, MonotonicWhenClockStepsBack) {
  uint64_t now = 50000;
  FluidGenerator gen(1, 100, [&] { return now; });
  JobId last = gen.next().value();
  const int64_t steps[] = {5, -3, 0, -1000, 2, 2000, -2500, 1};
  for (int round = 0; round < 200; round++) {
    now = static_cast<uint64_t>(static_cast<int64_t>(now) + steps[round % 8]);
    JobId id = gen.next().value();
    EXPECT_GT(id, last) << "round " << round;
    last = id;
  }
}

TEST(FluidGenerator, SequenceExhaustionBorrowsNextMillisecond) {
  uint64_t now = 0;
  FluidGenerator gen(0, 0, [&] { return now; });
  std::set<uint64_t> seen;
  JobId last{0};
  for (int i = 0; i < 5000; i++) {  // the clock never moves
    JobId id = gen.next().value();
    if (i > 0) {
      EXPECT_GT(id, last);
    }
    EXPECT_TRUE(seen.insert(id.value).second);
    last = id;
  }
  EXPECT_EQ(last.timestamp(), 4u);  // 5000 ids need 5 milliseconds
  EXPECT_EQ(last.sequence(), 5000u - 4 * 1024 - 1);
  // When the clock passes the borrowed time, ids follow the clock again.
  now = 100;
  EXPECT_EQ(gen.next().value().timestamp(), 100u);
}

TEST(FluidGenerator, RestartContinuesPastLastId) {
  uint64_t now = 0;
  JobId last{0};
  uint64_t ts = 0;
  for (int restart = 0; restart < 1000; restart++) {
    FluidGenerator gen(3, ts, [&] { return now; });
    JobId id = gen.next().value();
    if (restart > 0) {
      EXPECT_GT(id, last);
    }
    last = gen.next().value();
    EXPECT_GT(last, id);
    ts = gen.timestamp() + 1;
    EXPECT_EQ(ts, last.timestamp() + 1);
  }
}

TEST(FluidGenerator, RealClockIsIncreasing) {
  FluidGenerator gen(FluidGenerator::kMaxId, 0);
  JobId last = gen.next().value();
  EXPECT_EQ(last.generator_id(), FluidGenerator::kMaxId);
  for (int i = 0; i < 20000; i++) {
    JobId id = gen.next().value();
    ASSERT_GT(id, last);
    last = id;
  }
}

TEST(FluidGenerator, Limits) {
  EXPECT_THROW(FluidGenerator(FluidGenerator::kMaxId + 1, 0), flux::FluxError);
  EXPECT_THROW(FluidGenerator(0, uint64_t{1} << 40), flux::FluxError);
  uint64_t now = 0;
  FluidGenerator gen(0, (uint64_t{1} << 40) - 1, [&] { return now; });
  auto id = gen.next();
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id.value().timestamp(), (uint64_t{1} << 40) - 1);
  now = 1;
  auto over = gen.next();
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().errnum, EOVERFLOW);
}
