// J, the signed job request (RFC 16 `job.<id>.J`). A single-user instance
// uses the unsigned `none` mechanism, as flux-security does without a
// signing key: HEADER.PAYLOAD.none, where HEADER is base64 of
// flux-security's kv encoding "version\0i1\0userid\0iU\0mechanism\0snone\0"
// (a JSON header {"version":1,"mechanism":"none","userid":U}, as this
// project once wrote, is still read) and PAYLOAD base64 of the jobspec. The receiver trusts the
// userid only if it equals the sender's kernel credentials (job-ingest checks).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "result.hpp"

namespace flux {

struct SignedRequest {
  uint32_t userid = 0;
  std::string mechanism;
  std::string payload;
};

std::string sign_none(std::string_view payload, uint32_t userid);

// Decode J; EINVAL with a reason if it is malformed.
Result<SignedRequest> unwrap_signed(std::string_view j);

}  // namespace flux
