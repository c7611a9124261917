#include "rlimit.hpp"

namespace flux {

// flux-core's names (its shell's rlimit plugin rejects others, e.g. "locks").
const std::vector<std::pair<std::string, int>>& rlimit_names() {
  static const std::vector<std::pair<std::string, int>> kNames = {
      {"as", RLIMIT_AS},
      {"core", RLIMIT_CORE},
      {"cpu", RLIMIT_CPU},
      {"data", RLIMIT_DATA},
      {"fsize", RLIMIT_FSIZE},
      {"memlock", RLIMIT_MEMLOCK},
      {"msgqueue", RLIMIT_MSGQUEUE},
      {"nice", RLIMIT_NICE},
      {"nofile", RLIMIT_NOFILE},
      {"nproc", RLIMIT_NPROC},
      {"rss", RLIMIT_RSS},
      {"rtprio", RLIMIT_RTPRIO},
      {"rttime", RLIMIT_RTTIME},
      {"sigpending", RLIMIT_SIGPENDING},
      {"stack", RLIMIT_STACK},
  };
  return kNames;
}

std::optional<int> rlimit_resource(const std::string& name) {
  for (const auto& [n, r] : rlimit_names())
    if (n == name) return r;
  return std::nullopt;
}

Json current_rlimits() {
  Json out = Json::object();
  for (const auto& [name, resource] : rlimit_names()) {
    rlimit rl{};
    if (getrlimit(resource, &rl) != 0) continue;
    if (rl.rlim_cur == RLIM_INFINITY)
      out[name] = -1;
    else
      out[name] = static_cast<uint64_t>(rl.rlim_cur);
  }
  return out;
}

std::optional<rlim_t> rlimit_value(const Json& v) {
  if (v.is_number_integer() && v.get<int64_t>() == -1) return RLIM_INFINITY;
  if (v.is_number_unsigned()) return static_cast<rlim_t>(v.get<uint64_t>());
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return static_cast<rlim_t>(v.get<int64_t>());
  return std::nullopt;
}

}  // namespace flux
