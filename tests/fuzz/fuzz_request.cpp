// libFuzzer target for what job-ingest and job-exec read from requests:
// J (libflux/signed_request) and Flux Standard Durations (libflux/fsd).
// Every input is unwrapped as J and parsed as a duration; a refusal must be
// EINVAL with a message, an acceptance must round-trip.
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "libflux/fsd.hpp"
#include "libflux/signed_request.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_request: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto j = flux::unwrap_signed(text);
  if (j) {
    auto again = flux::unwrap_signed(flux::sign_none(j.value().payload, j.value().userid));
    if (!again || again.value().payload != j.value().payload) fail("J does not round-trip");
  } else if (j.error().errnum != EINVAL || j.error().message.empty()) {
    fail("J refusal is not EINVAL with a message");
  }
  // Any payload signs and unwraps to itself.
  auto wrapped = flux::unwrap_signed(flux::sign_none(text, 42));
  if (!wrapped || wrapped.value().payload != text || wrapped.value().userid != 42)
    fail("sign_none/unwrap_signed lost data");

  auto d = flux::fsd_parse(text);
  if (d) {
    double v = d.value();
    if (!(v >= 0) || std::isnan(v)) fail("duration negative or NaN");
    if (std::isfinite(v) && v < 1e12) {
      auto back = flux::fsd_parse(flux::fsd_format(v));
      if (!back || std::fabs(back.value() - v) > v * 1e-3 + 1e-9)
        fail("format does not parse back");
    }
  } else if (d.error().errnum != EINVAL || d.error().message.empty()) {
    fail("duration refusal is not EINVAL with a message");
  }
  return 0;
}
