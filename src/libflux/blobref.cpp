#include "blobref.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace flux {

namespace {

constexpr char kHex[] = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The EVP_MD for alg, fetched once: an implicit fetch on every call costs
// more than hashing a small blob.
const EVP_MD* evp_md(HashAlg alg) {
  static const EVP_MD* const kSha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  static const EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  const EVP_MD* md = alg == HashAlg::Sha1 ? kSha1 : kSha256;
  if (!md) throw FluxError(ENOSYS, std::string("OpenSSL lacks ") + hash_alg_name(alg));
  return md;
}

}  // namespace

Result<HashAlg> hash_alg_from_name(std::string_view name) {
  if (name == "sha1") return HashAlg::Sha1;
  if (name == "sha256") return HashAlg::Sha256;
  return Error{EINVAL, "unknown hash algorithm: " + std::string(name)};
}

const char* hash_alg_name(HashAlg alg) {
  return alg == HashAlg::Sha1 ? "sha1" : "sha256";
}

size_t digest_size(HashAlg alg) {
  return alg == HashAlg::Sha1 ? 20 : 32;
}

std::string hash_digest(HashAlg alg, std::string_view data) {
  std::string out(digest_size(alg), '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
                 evp_md(alg), nullptr) != 1 ||
      len != out.size())
    throw FluxError(EINVAL, std::string(hash_alg_name(alg)) + " digest failed");
  return out;
}

std::string blobref_from_digest(HashAlg alg, std::string_view digest) {
  std::string s = hash_alg_name(alg);
  s.reserve(s.size() + 1 + 2 * digest.size());
  s.push_back('-');
  for (unsigned char c : digest) {
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 0xf]);
  }
  return s;
}

Result<std::pair<HashAlg, std::string>> blobref_to_digest(std::string_view blobref) {
  size_t dash = blobref.find('-');
  if (dash == std::string_view::npos)
    return Error{EINVAL, "malformed blobref (no hash name): " + std::string(blobref)};
  auto alg = hash_alg_from_name(blobref.substr(0, dash));
  if (!alg) return Error{EINVAL, "unknown hash algorithm in blobref: " + std::string(blobref)};
  std::string_view hex = blobref.substr(dash + 1);
  if (hex.size() != 2 * digest_size(*alg))
    return Error{EINVAL, "malformed blobref (wrong digest length): " + std::string(blobref)};
  std::string digest(digest_size(*alg), '\0');
  for (size_t i = 0; i < digest.size(); i++) {
    int hi = hex_value(hex[2 * i]);
    int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return Error{EINVAL, "malformed blobref (not lowercase hex): " + std::string(blobref)};
    digest[i] = static_cast<char>(hi << 4 | lo);
  }
  return std::pair{*alg, std::move(digest)};
}

std::string blobref_hash(HashAlg alg, std::string_view data) {
  return blobref_from_digest(alg, hash_digest(alg, data));
}

}  // namespace flux
