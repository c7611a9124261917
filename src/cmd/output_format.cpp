// OutputFormat: see output_format.hpp.
#include "output_format.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <ctime>

#include "libflux/printable.hpp"
#include "libflux/result.hpp"

namespace flux::cmd {
namespace {

size_t display_len(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

// The first n code points of s.
std::string cut(const std::string& s, size_t n) {
  size_t i = 0;
  size_t seen = 0;
  while (i < s.size()) {
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) {
      if (seen == n) break;
      seen++;
    }
    i++;
  }
  return s.substr(0, i);
}

std::string apply_spec(std::string v, const std::string& spec) {
  size_t i = 0;
  char align = '<';
  if (spec.size() >= 2 && (spec[1] == '<' || spec[1] == '>' || spec[1] == '^')) {
    i = 2;  // fill characters other than space are not supported
    align = spec[1];
  } else if (!spec.empty() && (spec[0] == '<' || spec[0] == '>' || spec[0] == '^')) {
    align = spec[0];
    i = 1;
  }
  size_t width = 0;
  while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i]))) {
    width = width * 10 + static_cast<size_t>(spec[i++] - '0');
  }
  size_t prec = std::string::npos;
  if (i < spec.size() && spec[i] == '.') {
    i++;
    prec = 0;
    while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i]))) {
      prec = prec * 10 + static_cast<size_t>(spec[i++] - '0');
    }
  }
  // "h" (flux-core's): an empty value shows as "-".
  bool dash = i < spec.size() && spec[i] == 'h';
  if (dash) i++;
  bool plus = i < spec.size() && spec[i] == '+';
  if (plus) i++;
  if (dash && v.empty()) v = "-";
  if (i != spec.size()) throw FluxError(EINVAL, "invalid format spec '" + printable(spec) + "'");
  if (prec != std::string::npos && display_len(v) > prec) {
    v = plus && prec > 0 ? cut(v, prec - 1) + "+" : cut(v, prec);
  }
  size_t len = display_len(v);
  if (len < width) {
    size_t pad = width - len;
    if (align == '>') {
      v = std::string(pad, ' ') + v;
    } else if (align == '^') {
      v = std::string(pad / 2, ' ') + v + std::string(pad - pad / 2, ' ');
    } else {
      v += std::string(pad, ' ');
    }
  }
  return v;
}

// spec with its width raised to at least width.
std::string widen(const std::string& spec, size_t width) {
  size_t i = 0;
  if (spec.size() >= 2 && (spec[1] == '<' || spec[1] == '>' || spec[1] == '^'))
    i = 2;
  else if (!spec.empty() && (spec[0] == '<' || spec[0] == '>' || spec[0] == '^'))
    i = 1;
  size_t j = i;
  while (j < spec.size() && std::isdigit(static_cast<unsigned char>(spec[j]))) j++;
  size_t have = j > i ? std::stoul(spec.substr(i, j - i)) : 0;
  if (have >= width) return spec;
  return spec.substr(0, i) + std::to_string(width) + spec.substr(j);
}

}  // namespace

OutputFormat::OutputFormat(const std::string& format, std::map<std::string, std::string> headings)
    : headings_(std::move(headings)) {
  std::string text;
  size_t i = 0;
  while (i < format.size()) {
    char c = format[i];
    if (c == '{' && i + 1 < format.size() && format[i + 1] == '{') {
      text += '{';
      i += 2;
      continue;
    }
    if (c == '}' && i + 1 < format.size() && format[i + 1] == '}') {
      text += '}';
      i += 2;
      continue;
    }
    if (c != '{') {
      text += c;
      i++;
      continue;
    }
    size_t close = format.find('}', i);
    if (close == std::string::npos) throw FluxError(EINVAL, "format: unterminated '{'");
    std::string body = format.substr(i + 1, close - i - 1);
    Item it;
    if (text.ends_with("?+:")) {
      it.optional = it.expand = true;
      text.resize(text.size() - 3);
    } else if (text.ends_with("?:")) {
      it.optional = true;
      text.resize(text.size() - 2);
    } else if (text.ends_with("+:")) {
      it.expand = true;
      text.resize(text.size() - 2);
    }
    it.text = text;
    text.clear();
    size_t colon = body.find(':');
    std::string name = body.substr(0, colon);
    if (colon != std::string::npos) it.spec = body.substr(colon + 1);
    size_t bang = name.find('!');
    if (bang != std::string::npos) {
      it.conv = name.substr(bang + 1);
      name.resize(bang);
      if (it.conv != "d") throw FluxError(EINVAL, "format: unknown conversion '!" + it.conv + "'");
    }
    if (!headings_.count(name)) {
      throw FluxError(EINVAL, "Unknown format field: " + printable(name));
    }
    it.field = name;
    items_.push_back(std::move(it));
    i = close + 1;
  }
  tail_ = text;
}

void OutputFormat::filter_empty(const std::vector<Getter>& lines, bool with_header) {
  std::vector<Item> kept;
  for (auto it : items_) {
    if (it.expand) {
      // Wide enough for every value (and the heading, when printed).
      size_t width = with_header ? display_len(headings_.at(it.field)) : 0;
      for (const auto& get : lines) width = std::max(width, display_len(get(it.field)));
      it.spec = widen(it.spec, width);
    }
    bool empty = it.optional;
    for (const auto& get : lines) {
      if (!empty) break;
      std::string v = get(it.field);
      if (!v.empty() && v != "0") empty = false;
    }
    if (!empty) kept.push_back(it);
  }
  items_ = std::move(kept);
}

std::string OutputFormat::render(const Item& it, const std::string& value) const {
  if (it.conv == "d") {
    std::string spec = it.spec;
    std::string align;
    size_t sep = spec.find("::");
    if (sep != std::string::npos) {
      align = spec.substr(sep + 2);
      spec.resize(sep);
    }
    std::string text;
    if (!value.empty()) {
      auto t = static_cast<time_t>(std::stod(value));
      struct tm tm {};
      localtime_r(&t, &tm);
      char buf[128];
      size_t n = std::strftime(buf, sizeof buf, spec.empty() ? "%FT%T" : spec.c_str(), &tm);
      text.assign(buf, n);
    }
    return apply_spec(text, align);
  }
  return apply_spec(value, it.spec);
}

std::string OutputFormat::header() const {
  std::string out;
  for (const auto& it : items_) {
    std::string spec = it.spec;
    if (it.conv == "d") {
      size_t sep = spec.find("::");
      spec = sep == std::string::npos ? "" : spec.substr(sep + 2);
    }
    out += it.text + apply_spec(headings_.at(it.field), spec);
  }
  return out + tail_;
}

std::string OutputFormat::format(const Getter& get) const {
  std::string out;
  for (const auto& it : items_) out += it.text + render(it, get(it.field));
  return out + tail_;
}

void OutputFormat::print_items(const std::vector<Getter>& lines, bool no_header) {
  filter_empty(lines, !no_header);
  if (!no_header) std::printf("%s\n", header().c_str());
  for (const auto& get : lines) {
    std::string line = format(get);
    // As flux-core's: lines with nothing but spaces are left out.
    if (line.find_first_not_of(' ') != std::string::npos) std::printf("%s\n", line.c_str());
  }
}

std::string OutputFormat::key(const Getter& get, const std::vector<std::string>& except) const {
  std::string out;
  for (const auto& it : items_) {
    bool skip = false;
    for (const auto& e : except) skip = skip || e == it.field;
    out += skip ? std::string("\x1f") : it.text + render(it, get(it.field)) + "\x1f";
  }
  return out;
}

}  // namespace flux::cmd
