// Blobrefs (RFC 10): the address of a content blob is its message digest,
// written for people as "<hash name>-<lowercase hex digest>", for example
// "sha1-a9993e364706816aba3e25717850c26c9cd0d89d". The content services
// carry the raw binary digest on the wire; blobrefs are for commands, logs
// and the KVS.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "result.hpp"

namespace flux {

enum class HashAlg { Sha1, Sha256 };

// "sha1" or "sha256" (the content.hash attribute's values); EINVAL otherwise.
Result<HashAlg> hash_alg_from_name(std::string_view name);
const char* hash_alg_name(HashAlg alg);
// Bytes in a binary digest: 20 for sha1, 32 for sha256.
size_t digest_size(HashAlg alg);
// The binary digest of data.
std::string hash_digest(HashAlg alg, std::string_view data);
// "sha1-<hex>" from a binary digest (which must be digest_size(alg) bytes).
std::string blobref_from_digest(HashAlg alg, std::string_view digest);
// The algorithm and binary digest a blobref names. EINVAL if the name is
// unknown, the hex is not lowercase hex, or its length does not fit the
// algorithm.
Result<std::pair<HashAlg, std::string>> blobref_to_digest(std::string_view blobref);
// The blobref of data.
std::string blobref_hash(HashAlg alg, std::string_view data);

}  // namespace flux
