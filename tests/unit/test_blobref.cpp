// Unit tests for blobrefs (RFC 10): digests against the FIPS 180 test
// vectors, blobref formatting and the validation of blobrefs read from
// people and messages.
#include "libflux/blobref.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace flux;

namespace {

const std::string kLong = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

}  // namespace

TEST(Blobref, AlgorithmNames) {
  EXPECT_EQ(hash_alg_from_name("sha1").value(), HashAlg::Sha1);
  EXPECT_EQ(hash_alg_from_name("sha256").value(), HashAlg::Sha256);
  EXPECT_STREQ(hash_alg_name(HashAlg::Sha1), "sha1");
  EXPECT_STREQ(hash_alg_name(HashAlg::Sha256), "sha256");
  for (const char* bad : {"", "SHA1", "md5", "sha", "sha1 "}) {
    auto r = hash_alg_from_name(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().errnum, EINVAL);
  }
  EXPECT_EQ(digest_size(HashAlg::Sha1), 20u);
  EXPECT_EQ(digest_size(HashAlg::Sha256), 32u);
}

TEST(Blobref, Sha1Vectors) {
  EXPECT_EQ(blobref_hash(HashAlg::Sha1, ""), "sha1-da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(blobref_hash(HashAlg::Sha1, "abc"), "sha1-a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(blobref_hash(HashAlg::Sha1, kLong), "sha1-84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(blobref_hash(HashAlg::Sha1, std::string(1000000, 'a')),
            "sha1-34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  // RFC 10's example blobref is the digest of "foo\n".
  EXPECT_EQ(blobref_hash(HashAlg::Sha1, "foo\n"), "sha1-f1d2d2f924e986ac86fdf7b36c94bcdf32beec15");
}

TEST(Blobref, Sha256Vectors) {
  EXPECT_EQ(blobref_hash(HashAlg::Sha256, ""),
            "sha256-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(blobref_hash(HashAlg::Sha256, "abc"),
            "sha256-ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(blobref_hash(HashAlg::Sha256, kLong),
            "sha256-248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Blobref, DigestIsBinary) {
  std::string d = hash_digest(HashAlg::Sha1, "abc");
  ASSERT_EQ(d.size(), 20u);
  EXPECT_EQ(static_cast<unsigned char>(d[0]), 0xa9);
  EXPECT_EQ(static_cast<unsigned char>(d[19]), 0x9d);
  EXPECT_EQ(hash_digest(HashAlg::Sha256, "abc").size(), 32u);
  // Embedded NULs are data, not terminators.
  EXPECT_NE(hash_digest(HashAlg::Sha1, std::string("a\0b", 3)), hash_digest(HashAlg::Sha1, "a"));
}

TEST(Blobref, RoundTrip) {
  for (HashAlg alg : {HashAlg::Sha1, HashAlg::Sha256}) {
    std::string digest = hash_digest(alg, "hello world");
    std::string ref = blobref_from_digest(alg, digest);
    auto back = blobref_to_digest(ref);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->first, alg);
    EXPECT_EQ(back->second, digest);
  }
}

TEST(Blobref, RejectsMalformed) {
  const std::string good = "sha1-a9993e364706816aba3e25717850c26c9cd0d89d";
  ASSERT_TRUE(blobref_to_digest(good));
  for (const std::string& bad : {
           std::string(""),
           std::string("sha1"),
           std::string("sha1-"),
           std::string("a9993e364706816aba3e25717850c26c9cd0d89d"),
           std::string("md5-a9993e364706816aba3e25717850c26c9cd0d89d"),
           std::string("SHA1-a9993e364706816aba3e25717850c26c9cd0d89d"),
           std::string("sha1-A9993E364706816ABA3E25717850C26C9CD0D89D"),   // uppercase
           std::string("sha1-a9993e364706816aba3e25717850c26c9cd0d89"),    // short
           std::string("sha1-a9993e364706816aba3e25717850c26c9cd0d89d0"),  // long
           std::string("sha1-g9993e364706816aba3e25717850c26c9cd0d89d"),   // not hex
           std::string("sha256-a9993e364706816aba3e25717850c26c9cd0d89d"),
           good + '\0',
       }) {
    auto r = blobref_to_digest(bad);
    ASSERT_FALSE(r) << "accepted: " << bad;
    EXPECT_EQ(r.error().errnum, EINVAL);
  }
}
