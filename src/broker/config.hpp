// The broker's configuration: a TOML file, or a directory whose *.toml
// files are read in name order and merged (a key set in two files is an
// error, as in flux-core). Served as JSON by the built-in `config.get`.
#pragma once

#include <string>

#include "libflux/json.hpp"

namespace flux::broker {

// Load PATH as above. Throws FluxError naming the file and line on a parse
// error, or the key on a conflict.
Json config_load(const std::string& path);

}  // namespace flux::broker
