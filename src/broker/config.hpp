// The broker's configuration: a TOML (or .json) file, or a directory whose *.toml
// files are read in name order and merged (a key set in two files is an
// error, as in flux-core). Served as JSON by the built-in `config.get`.
#pragma once

#include <string>

#include "libflux/json.hpp"

namespace flux::broker {

// Load PATH as above. Throws FluxError naming the file and line on a parse
// error, or the key on a conflict.
Json config_load(const std::string& path);

// --conf=VALUE (flux-broker(1)) on top of what was loaded: KEY=VAL (VAL as
// JSON, else a string), an inline JSON object ({...}), inline TOML (has a
// newline), a .json file, or else a TOML file. Later values win.
void config_update(Json& config, const std::string& value);

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
