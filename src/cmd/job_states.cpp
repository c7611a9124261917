#include "job_states.hpp"

#include <pwd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "libflux/result.hpp"

namespace flux::cmd {

uint32_t parse_state_mask(const std::string& list) {
  uint32_t mask = 0;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string name =
        list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (name == "new")
      mask |= kStateNew;
    else if (name == "depend")
      mask |= kStateDepend;
    else if (name == "priority")
      mask |= kStatePriority;
    else if (name == "sched")
      mask |= kStateSched;
    else if (name == "run")
      mask |= kStateRun;
    else if (name == "cleanup")
      mask |= kStateCleanup;
    else if (name == "inactive")
      mask |= kStateInactive;
    else if (name == "pending")
      mask |= kStatePending;
    else if (name == "running")
      mask |= kStateRunning;
    else if (name == "active")
      mask |= kStateActive;
    else
      throw FluxError(EINVAL, "invalid state " + name);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return mask;
}

uint32_t parse_states_option(const std::vector<std::string>& words) {
  uint32_t states = 0;
  for (const auto& w : words) {
    for (size_t start = 0; start <= w.size();) {
      size_t comma = w.find(',', start);
      std::string st = w.substr(start, comma == std::string::npos ? comma : comma - start);
      try {
        if (!st.empty()) states |= parse_state_mask(st);
      } catch (const FluxError&) {
        throw FluxError(EINVAL, "error parsing --states: " + st + " is unknown");
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (!states) throw FluxError(EINVAL, "no states specified");
  return states;
}

uint32_t user_to_uid(const std::string& user) {
  char* end = nullptr;
  unsigned long v = std::strtoul(user.c_str(), &end, 10);
  if (!user.empty() && *end == '\0') return static_cast<uint32_t>(v);
  passwd* pw = getpwnam(user.c_str());
  if (!pw) throw FluxError(EINVAL, "unknown user " + user);
  return pw->pw_uid;
}

}  // namespace flux::cmd
