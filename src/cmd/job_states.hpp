// Job states (RFC 21) and results as the commands name them: "sched",
// "pending", "active", ... to bit masks; user names to uids.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace flux::cmd {

inline constexpr uint32_t kStateNew = 1, kStateDepend = 2, kStatePriority = 4, kStateSched = 8,
                          kStateRun = 16, kStateCleanup = 32, kStateInactive = 64;
inline constexpr uint32_t kStatePending = kStateDepend | kStatePriority | kStateSched;
inline constexpr uint32_t kStateRunning = kStateRun | kStateCleanup;
inline constexpr uint32_t kStateActive = kStateNew | kStatePending | kStateRunning;

// "depend,sched" -> mask; names are case-insensitive; pending, running,
// active and inactive are accepted. Throws FluxError(EINVAL) naming a bad one.
uint32_t parse_state_mask(const std::string& list);

// --states words (each a comma list; empty parts skipped) as flux job
// list/raiseall take them: EINVAL "error parsing --states: X is unknown",
// or "no states specified" when nothing is left.
uint32_t parse_states_option(const std::vector<std::string>& words);

// A user name or a numeric uid; FluxError(EINVAL) if unknown.
uint32_t user_to_uid(const std::string& user);

}  // namespace flux::cmd
