#include "fsd.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "printable.hpp"

namespace flux {

Result<double> fsd_parse(std::string_view text) {
  auto fail = [&] { return Error{EINVAL, "invalid duration: " + printable(text)}; };
  if (text == "inf" || text == "infinity" || text == "INF" || text == "INFINITY") return INFINITY;
  if (text.empty() || text.size() > 64) return fail();
  std::string s(text);
  double mult = 1;
  if (s.size() > 2 && s.ends_with("ms")) {  // milliseconds
    mult = 0.001;
    s.resize(s.size() - 2);
  } else
    switch (s.back()) {
      case 's':
        s.pop_back();
        break;
      case 'm':
        mult = 60;
        s.pop_back();
        break;
      case 'h':
        mult = 3600;
        s.pop_back();
        break;
      case 'd':
        mult = 86400;
        s.pop_back();
        break;
      default:
        break;
    }
  if (s.empty() || !(std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '.')) return fail();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (errno || end != s.c_str() + s.size() || !std::isfinite(v) || v < 0) return fail();
  return v * mult;
}

std::string fsd_format(double seconds) {
  if (std::isinf(seconds)) return "inf";
  auto fmt = [](double v, const char* unit) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.4g%s", v, unit);
    return std::string(buf);
  };
  if (seconds < 60) return fmt(seconds, "s");
  if (seconds < 3600) return fmt(seconds / 60, "m");
  if (seconds < 86400) return fmt(seconds / 3600, "h");
  return fmt(seconds / 86400, "d");
}

std::string fsd_format_digits(double seconds, int digits) {
  if (std::isinf(seconds)) return "infinity";
  auto fmt = [digits](double v, const char* unit) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g%s", digits, v, unit);
    return std::string(buf);
  };
  if (seconds < 0.1 && seconds != 0) return fmt(seconds * 1000, "ms");
  if (seconds < 60) return fmt(seconds, "s");
  if (seconds < 3600) return fmt(seconds / 60, "m");
  if (seconds < 86400) return fmt(seconds / 3600, "h");
  return fmt(seconds / 86400, "d");
}

}  // namespace flux
