// The broker's configuration is loaded with libflux/config_file.hpp; this
// is what the broker itself reads of it.
#pragma once

#include "libflux/config_file.hpp"
#include "libflux/json.hpp"

namespace flux::broker {

using flux::config_load;
using flux::config_update;

// The [access] table (flux-core's keys): who besides the instance owner may
// connect, and whether guests see other users' jobs. Throws FluxError on an
// unknown key or a value that is not a boolean.
struct AccessPolicy {
  bool allow_guest_user = false;  // other users connect with the user role
  bool allow_root_owner = false;  // root connects with the owner role
  bool private_mode = true;       // guests see only their own jobs (job-list)
};
AccessPolicy access_policy(const Json& config);

}  // namespace flux::broker
