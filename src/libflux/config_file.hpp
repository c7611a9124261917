// Configuration files: a TOML (or .json) file, or a directory whose *.toml
// files are read in name order and merged (a key set in two files is an
// error, as in flux-core). The broker serves the result as JSON
// (config.get); flux config reads files with the same rules.
#pragma once

#include <string>

#include "libflux/json.hpp"

namespace flux {

// Load PATH as above. Throws FluxError naming the file and line on a parse
// error, or the key on a conflict.
Json config_load(const std::string& path);

// --conf=VALUE (flux-broker(1)) on top of what was loaded: KEY=VAL (VAL as
// JSON, else a string), an inline JSON object ({...}), inline TOML (has a
// newline), a .json file, or else a TOML file. Later values win.
void config_update(Json& config, const std::string& value);

// Inline TOML text (flux config load, --conf); what names it in errors.
Json config_parse_toml(const std::string& text, const std::string& what);

}  // namespace flux
