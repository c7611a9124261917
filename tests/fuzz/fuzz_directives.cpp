// libFuzzer target for RFC 36 submission directives (flux batch scripts)
// and the shell word splitter and quoter under them.
//
// Every input is parsed as a script: a refusal must be EINVAL with a
// printable message naming a line; each directive found must be an option
// list. The input is also split as shell words, and each word, quoted,
// must split back to exactly itself. Any mismatch calls abort() so that
// libFuzzer records the input as a crash.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cmd/directives.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_directives: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto d = flux::cmd::parse_directives(text);
  if (!d) {
    if (d.error().errnum != EINVAL) fail("error is not EINVAL");
    if (d.error().message.rfind("line ", 0) != 0) fail("error does not name a line");
  } else {
    for (const auto& one : *d) {
      if (one.args.empty() || one.args[0].empty() || one.args[0][0] != '-')
        fail("a directive that is not an option list");
      if (one.lineno < 1) fail("a directive without a line");
    }
  }
  auto words = flux::cmd::shell_split(text);
  if (words) {
    for (const auto& w : *words) {
      auto back = flux::cmd::shell_split(flux::cmd::shell_quote(w));
      if (!back || back->size() != 1 || (*back)[0] != w) fail("quote/split round trip");
    }
  } else if (words.error().errnum != EINVAL) {
    fail("split error is not EINVAL");
  }
  return 0;
}
