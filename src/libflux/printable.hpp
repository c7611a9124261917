// Untrusted input quoted in an error message: control bytes and backslashes
// as \xHH, cut to `max` bytes. The parsers share it so their messages agree.
#pragma once

#include <string>
#include <string_view>

namespace flux {

// keep_utf8: pass bytes >= 0x80 through (for formats that are UTF-8 text).
inline std::string printable(std::string_view s, size_t max = 64, bool keep_utf8 = false) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; i++) {
    auto c = static_cast<unsigned char>(s[i]);
    bool plain = c >= 0x20 && c != 0x7f && c != '\\' && (keep_utf8 || c < 0x80);
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace flux
