// The content store (RFC 10) as flux content and flux archive use it.
#pragma once

#include <string>

#include "libflux/blobref.hpp"
#include "libflux/handle.hpp"

namespace flux::cmd {

// The instance's hash algorithm (content.hash, sha1 when unset).
HashAlg instance_hash(Handle& h);

// A raw content request; an empty payload is sent as no payload.
Message raw_request(const std::string& topic, const std::string& payload);

}  // namespace flux::cmd
