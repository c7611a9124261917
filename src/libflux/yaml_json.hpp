// YAML to JSON: read one YAML document (yaml-cpp) into a Json value, for
// inputs that may be written in either (jobspec, configuration).
//
// Scalars are typed by the YAML 1.2 core schema: unquoted true/false (any
// of true, True, TRUE), null (~, null, Null, NULL, empty), integers
// (decimal, 0x hex, 0o octal), floats (including .inf and .nan); anything
// else, and anything quoted, is a string. yes/no/on/off are strings, unlike
// YAML 1.1 (PyYAML). The standard tags !!str, !!int, !!float, !!bool,
// !!null, !!seq and !!map are honoured; other tags are refused.
// Mapping keys must be scalars and unique. Integers too large for int64
// become uint64 if positive, else double.
#pragma once

#include <cstddef>
#include <string_view>

#include "json.hpp"
#include "result.hpp"

namespace flux {

struct YamlLimits {
  size_t max_depth = 256;     // nesting of sequences and mappings
  size_t max_nodes = 100000;  // nodes after alias expansion
};

// The single document in text, as Json. EINVAL with a message that says
// where ("line 3, column 5: duplicate key 'x'") when the text is not YAML,
// holds no document or more than one, is not valid UTF-8, or breaks the
// rules above or the limits.
Result<Json> yaml_to_json(std::string_view text, const YamlLimits& limits = {});

}  // namespace flux
