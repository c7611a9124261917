// The JSON type used for payloads everywhere.
#pragma once

#include <nlohmann/json.hpp>

namespace flux {
using Json = nlohmann::json;
}
