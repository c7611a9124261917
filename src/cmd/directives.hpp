// Submission directives (RFC 36) in a batch script: lines such as
// "# flux: -N2 --job-name=x" before the script's first other line, split
// as a POSIX shell would (with '#' comments and """triple quotes""",
// which may span lines). flux batch takes them as options, before its
// command line's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "libflux/result.hpp"

namespace flux::cmd {

struct Directive {
  int lineno = 0;
  std::vector<std::string> args;  // an option list (starts with '-')
};

// The directives of script in order. EINVAL with flux-core's words:
// "line N: orphan 'flux:' detected: ...", "line N: sentinel changed ...",
// "line N: Unknown directive: ...", unterminated quotes.
Result<std::vector<Directive>> parse_directives(std::string_view script);

// Split text as a POSIX shell does words (quotes, backslashes, '#'
// comments). EINVAL "No closing quotation" / "No escaped character".
Result<std::vector<std::string>> shell_split(std::string_view text);

// text quoted so that shell_split gives it back as one word.
std::string shell_quote(std::string_view text);

}  // namespace flux::cmd
