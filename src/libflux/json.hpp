// The JSON type used for payloads everywhere.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace flux {
using Json = nlohmann::json;

// The member at dotted path "a.b.c" under obj, made (with objects on the
// way, replacing non-objects) when missing. nullptr for an empty part
// ("a..b", ".a", "a.").
inline Json* json_make_path(Json& obj, std::string_view path) {
  Json* at = &obj;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part(path.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (part.empty()) return nullptr;
    if (!at->is_object()) *at = Json::object();
    at = &(*at)[part];
    if (dot == std::string_view::npos) return at;
    start = dot + 1;
  }
}
}  // namespace flux
