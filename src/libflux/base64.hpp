// Standard base64 (with padding), as event.pub carries event payloads.
#pragma once

#include <string>
#include <string_view>

#include "result.hpp"

namespace flux {
std::string base64_encode(std::string_view in);
Result<std::string> base64_decode(std::string_view in);
}  // namespace flux
