// YAML to JSON with yaml-cpp and the YAML 1.2 core schema (see
// yaml_json.hpp).
#include "yaml_json.hpp"

#include "printable.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "json_check.hpp"

namespace flux {
namespace {

constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";
constexpr size_t kShowMax = 64;

std::string show(std::string_view s) {
  return printable(s, kShowMax, true);
}

// Thrown inside the converter, turned into an Error at the top.
struct ConvertError {
  YAML::Mark mark;
  std::string what;
};

bool all_of(std::string_view s, bool (*pred)(char)) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}
bool is_dec(char c) {
  return c >= '0' && c <= '9';
}
bool is_oct(char c) {
  return c >= '0' && c <= '7';
}
bool is_hex(char c) {
  return is_dec(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::optional<Json> resolve_null(std::string_view s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return Json(nullptr);
  return std::nullopt;
}

std::optional<Json> resolve_bool(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE") return Json(true);
  if (s == "false" || s == "False" || s == "FALSE") return Json(false);
  return std::nullopt;
}

// Digits in base (10, 8 or 16), with an optional sign for base 10.
std::optional<Json> resolve_int_digits(std::string_view digits, int base, bool negative) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (end != digits.data() + digits.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // Too big for 64 bits: keep the magnitude as a double.
    double d = 0;
    for (char c : digits) {
      int digit = is_dec(c) ? c - '0' : (c | 0x20) - 'a' + 10;
      d = d * base + digit;
    }
    return Json(negative ? -d : d);
  }
  if (ec != std::errc()) return std::nullopt;
  if (!negative) {
    if (v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Json(static_cast<int64_t>(v));
    }
    return Json(v);
  }
  constexpr uint64_t kMinMagnitude = uint64_t{1} << 63;
  if (v < kMinMagnitude) return Json(-static_cast<int64_t>(v));
  if (v == kMinMagnitude) return Json(std::numeric_limits<int64_t>::min());
  return Json(-static_cast<double>(v));
}

std::optional<Json> resolve_int(std::string_view s) {
  if (s.size() > 2 && s[0] == '0' && s[1] == 'x' && all_of(s.substr(2), is_hex)) {
    return resolve_int_digits(s.substr(2), 16, false);
  }
  if (s.size() > 2 && s[0] == '0' && s[1] == 'o' && all_of(s.substr(2), is_oct)) {
    return resolve_int_digits(s.substr(2), 8, false);
  }
  bool negative = false;
  std::string_view digits = s;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (!all_of(digits, is_dec)) return std::nullopt;
  return resolve_int_digits(digits, 10, negative);
}

// [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
bool is_float_syntax(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) i++;
  size_t int_digits = 0;
  while (i < s.size() && is_dec(s[i])) i++, int_digits++;
  size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    i++;
    while (i < s.size() && is_dec(s[i])) i++, frac_digits++;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) i++;
    size_t exp_digits = 0;
    while (i < s.size() && is_dec(s[i])) i++, exp_digits++;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

std::optional<Json> resolve_float(std::string_view s) {
  std::string_view body = s;
  bool negative = false;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == ".inf" || body == ".Inf" || body == ".INF") {
    double inf = std::numeric_limits<double>::infinity();
    return Json(negative ? -inf : inf);
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") {
    return Json(std::numeric_limits<double>::quiet_NaN());
  }
  if (!is_float_syntax(s)) return std::nullopt;
  // from_chars takes neither a leading '+' nor a bare leading '.' for all
  // libraries; normalise to "[-]0.xxx".
  std::string text(negative ? "-" : "");
  if (body.front() == '.') text += '0';
  text += body;
  double d = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (end != text.data() + text.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // Overflow to ±inf, underflow to 0, as strtod would.
    bool tiny =
        text.find_first_of("eE") != std::string::npos && text[text.find_first_of("eE") + 1] == '-';
    d = tiny ? 0.0 : std::numeric_limits<double>::infinity();
    if (negative) d = -d;
  } else if (ec != std::errc()) {
    return std::nullopt;
  }
  return Json(d);
}

class Converter {
 public:
  explicit Converter(const YamlLimits& limits) : limits_(limits) {}
  Json convert(const YAML::Node& node, size_t depth);

 private:
  Json scalar(const YAML::Node& node);
  [[noreturn]] void fail(const YAML::Node& node, std::string what) {
    throw ConvertError{node.Mark(), std::move(what)};
  }

  const YamlLimits& limits_;
  size_t nodes_ = 0;
};

Json Converter::scalar(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  const std::string& s = node.Scalar();
  // The text is valid UTF-8, but an escape ("\ud800") can make a string
  // that is not.
  if (!utf8_valid(s)) fail(node, "string is not valid UTF-8 (after escapes)");
  if (tag == "!") return Json(s);  // quoted, or a literal/folded block
  if (tag == "?" || tag.empty()) {
    if (auto v = resolve_null(s)) return *v;
    if (auto v = resolve_bool(s)) return *v;
    if (auto v = resolve_int(s)) return *v;
    if (auto v = resolve_float(s)) return *v;
    return Json(s);
  }
  if (tag.starts_with(kTagPrefix)) {
    std::string_view kind = std::string_view(tag).substr(kTagPrefix.size());
    std::optional<Json> v;
    if (kind == "str") return Json(s);
    if (kind == "null") v = resolve_null(s);
    if (kind == "bool") v = resolve_bool(s);
    if (kind == "int") v = resolve_int(s);
    if (kind == "float") {
      v = resolve_float(s);
      if (!v) {
        v = resolve_int(s);
        if (v) v = Json(v->get<double>());
      }
    }
    if (v) return *v;
    if (kind == "null" || kind == "bool" || kind == "int" || kind == "float") {
      fail(node, "'" + show(s) + "' is not a valid !!" + std::string(kind));
    }
  }
  fail(node, "unsupported tag '" + show(tag) + "'");
}

Json Converter::convert(const YAML::Node& node, size_t depth) {
  if (++nodes_ > limits_.max_nodes) {
    fail(node, "document too large (more than " + std::to_string(limits_.max_nodes) +
                   " nodes after expanding aliases)");
  }
  if (depth > limits_.max_depth) {
    fail(node, "nested more than " + std::to_string(limits_.max_depth) + " levels deep");
  }
  const std::string& tag = node.Tag();
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      if (!tag.empty() && tag != "?" && tag != "!" && tag != std::string(kTagPrefix) + "null") {
        // An empty value with a tag, e.g. "!!str" alone.
        if (tag == std::string(kTagPrefix) + "str") return Json("");
        fail(node, "unsupported tag '" + show(tag) + "' on an empty value");
      }
      return Json(nullptr);
    case YAML::NodeType::Scalar:
      return scalar(node);
    case YAML::NodeType::Sequence: {
      if (!tag.empty() && tag != "?" && tag != "!" && tag != std::string(kTagPrefix) + "seq") {
        fail(node, "unsupported tag '" + show(tag) + "' on a sequence");
      }
      Json out = Json::array();
      for (const auto& item : node) out.push_back(convert(item, depth + 1));
      return out;
    }
    case YAML::NodeType::Map: {
      if (!tag.empty() && tag != "?" && tag != "!" && tag != std::string(kTagPrefix) + "map") {
        fail(node, "unsupported tag '" + show(tag) + "' on a mapping");
      }
      Json out = Json::object();
      for (const auto& kv : node) {
        const YAML::Node& key = kv.first;
        if (!key.IsScalar() && !key.IsNull()) fail(key, "mapping keys must be scalars");
        std::string name = key.IsScalar() ? key.Scalar() : "";
        if (!utf8_valid(name)) fail(key, "key is not valid UTF-8 (after escapes)");
        if (out.contains(name)) fail(key, "duplicate key '" + show(name) + "'");
        ++nodes_;
        out[name] = convert(kv.second, depth + 1);
      }
      return out;
    }
  }
  fail(node, "unknown node type");
}

// Parses without building anything; remembers where the last document began.
class DocumentCounter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { last_start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  YAML::Mark last_start = YAML::Mark::null_mark();
};

Error error_at(const YAML::Mark& mark, const std::string& what) {
  std::string msg = "YAML: ";
  if (!mark.is_null()) {
    msg += "line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1) +
           ": ";
  }
  return Error{EINVAL, msg + what};
}

}  // namespace

Result<Json> yaml_to_json(std::string_view text, const YamlLimits& limits) {
  if (!utf8_valid(text)) return Error{EINVAL, "YAML: not valid UTF-8"};
  if (text.find('\0') != std::string_view::npos) return Error{EINVAL, "YAML: contains a NUL byte"};
  try {
    // Count documents (stopping at two) before loading the first: given a
    // flow collection followed by ',' ("{}, 1"), yaml-cpp 0.7 never consumes
    // the ',' and YAML::LoadAll makes empty documents until memory runs out.
    std::string copy(text);
    std::istringstream in(copy);
    YAML::Parser parser(in);
    DocumentCounter counter;
    int docs = 0;
    while (docs < 2 && parser.HandleNextDocument(counter)) docs++;
    if (docs == 0) return Error{EINVAL, "YAML: no document"};
    if (docs > 1)
      return error_at(counter.last_start, "more than one document (or text after the first)");
    YAML::Node doc = YAML::Load(copy);
    Converter converter(limits);
    return converter.convert(doc, 1);
  } catch (const ConvertError& e) {
    return error_at(e.mark, e.what);
  } catch (const YAML::Exception& e) {
    return error_at(e.mark, e.msg);
  } catch (const std::exception& e) {
    return Error{EINVAL, std::string("YAML: ") + e.what()};
  }
}

}  // namespace flux
