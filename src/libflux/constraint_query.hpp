// RFC 35 constraint query syntax, as flux-core's command line tools parse
// it into RFC 31 JSON: terms `op:value` (or a bare value for the default
// operator), joined by whitespace, `&`/`&&`/`and` (and), `|`/`||`/`or`
// (or), negated by `not EXPR` or `-term`, grouped with parentheses;
// `op:"quoted value"`. E.g. with submit's operators,
//   "xx host:node[0-1]"  ->  {"and":[{"properties":["xx"]},{"hostlist":["node[0-1]"]}]}
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "json.hpp"
#include "result.hpp"

namespace flux {

struct ConstraintSyntax {
  std::string default_op;                    // for a bare value ("" = an error)
  std::map<std::string, std::string> alias;  // op names to RFC 31 operators
  std::map<std::string, char> split;         // operators whose value is a list
  std::set<std::string> combined;            // operators merged when and-ed
};

// `flux submit --requires`: bare words are properties (comma lists),
// host/hosts -> hostlist, rank -> ranks.
const ConstraintSyntax& requires_syntax();

// EINVAL with flux-core's words for a syntax error.
Result<Json> parse_constraint_query(std::string_view query, const ConstraintSyntax& syntax);

}  // namespace flux
