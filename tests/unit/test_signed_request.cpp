// J with the `none` signing mechanism.
#include <gtest/gtest.h>

#include "libflux/base64.hpp"
#include "libflux/signed_request.hpp"

using namespace flux;
using namespace std::string_literals;

TEST(SignedRequest, RoundTrip) {
  std::string payload = R"({"version":1,"x":"\u00e9"})";
  std::string j = sign_none(payload, 1234);
  auto r = unwrap_signed(j);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().userid, 1234u);
  EXPECT_EQ(r.value().mechanism, "none");
  EXPECT_EQ(r.value().payload, payload);
}

// flux-core (sign_none.c) and flux-security write the header in their kv
// encoding; flux-core's tools must be able to submit to us and we to it.
TEST(SignedRequest, HeaderIsFluxCoresKvEncoding) {
  std::string j = sign_none("{}", 1234);
  EXPECT_EQ(j.substr(0, j.find('.')),
            base64_encode("version\0i1\0userid\0i1234\0mechanism\0snone\0"s));
  // Key order does not matter; a JSON header (our old form) is still read.
  std::string other = base64_encode("mechanism\0snone\0userid\0i7\0version\0i1\0"s);
  auto r = unwrap_signed(other + "." + base64_encode("x") + ".none");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().userid, 7u);
  r = unwrap_signed(base64_encode(R"({"version":1,"mechanism":"none","userid":5})") + "." +
                    base64_encode("y") + ".none");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().userid, 5u);
  EXPECT_EQ(r.value().payload, "y");
}

TEST(SignedRequest, EmptyAndBinaryPayloads) {
  for (std::string p : {std::string(), std::string("\0\1\2", 3), std::string(10000, 'x')}) {
    auto r = unwrap_signed(sign_none(p, 0));
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().payload, p);
  }
}

TEST(SignedRequest, RejectsMalformed) {
  std::string hdr = base64_encode(R"({"version":1,"mechanism":"none","userid":5})");
  std::string body = base64_encode("{}");
  const std::vector<std::string> bad = {
      "",
      "abc",
      "a.b",
      "!!!." + body + ".none",                           // header not base64
      base64_encode("not json") + "." + body + ".none",  // header not JSON
      base64_encode(R"({"version":2,"mechanism":"none","userid":5})") + "." + body + ".none",
      base64_encode(R"({"version":1,"userid":5})") + "." + body + ".none",
      base64_encode(R"({"version":1,"mechanism":"none","userid":-1})") + "." + body + ".none",
      base64_encode(R"({"version":1,"mechanism":"curve","userid":5})") + "." + body + ".sig",
      base64_encode("version\0i1\0userid\0i-5\0mechanism\0snone\0"s) + "." + body +
          ".none",  // negative userid
      base64_encode("version\0i1\0userid\0i99999999999\0mechanism\0snone\0"s) + "." + body +
          ".none",  // userid too large
      base64_encode("version\0i1\0userid\0i5\0mechanism\0scurve\0"s) + "." + body +
          ".sig",  // another mechanism
      base64_encode("version\0i2\0userid\0i5\0"s) + "." + body + ".none",
      hdr + ".***.none",             // payload not base64
      hdr + "." + body + ".signed",  // wrong signature
  };
  for (const auto& j : bad) {
    auto r = unwrap_signed(j);
    EXPECT_FALSE(r) << j;
    if (!r) {
      EXPECT_EQ(r.error().errnum, EINVAL);
      EXPECT_EQ(r.error().message.rfind("J: ", 0), 0u) << r.error().message;
    }
  }
}
