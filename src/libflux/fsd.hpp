// Flux Standard Duration (RFC 23): "N[.N][s|m|h|d]" (a bare number is
// seconds), also "inf"/"infinity". Used by -t/--time-limit, begin-time
// offsets and the simulated run_duration.
#pragma once
#include <string>
#include <string_view>

#include "result.hpp"

namespace flux {

// Seconds, or EINVAL "invalid duration: X".
Result<double> fsd_parse(std::string_view text);

// The shortest natural form: "0s", "1.5s", "2m", "1.5h", "3d", "inf".
std::string fsd_format(double seconds);

// flux-core's display form (fsd_format_duration_ex), which its tools print:
// `digits` significant digits, milliseconds below 0.1s ("62.1ms"),
// "infinity". flux overlay status -v uses 6 digits, flux uptime 2.
std::string fsd_format_digits(double seconds, int digits);

}  // namespace flux
