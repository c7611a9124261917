// RFC 18 eventlog entries: decoding, encoding and flux-core's text format.
#include "eventlog.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <utility>

#include "json_check.hpp"

namespace flux {
namespace {

// ANSI colors of flux-core's eventlog formatter.
constexpr const char* kColorName = "\x1b[33m";              // yellow
constexpr const char* kColorTime = "\x1b[32m";              // green
constexpr const char* kColorTimeBreak = "\x1b[1m\x1b[32m";  // bold green
constexpr const char* kColorKey = "\x1b[34m";               // blue
constexpr const char* kColorValue = "\x1b[35m";             // magenta
constexpr const char* kColorValueNum = "\x1b[37m";          // gray
constexpr const char* kColorException = "\x1b[1m\x1b[31m";  // bold red
constexpr const char* kColorReset = "\x1b[0m";

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

Error invalid(std::string what) {
  return Error{EINVAL, std::move(what)};
}

std::string dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// printf of one double; %f of the largest double needs ~320 bytes.
std::string format_double(const char* fmt, double v) {
  std::array<char, 512> buf{};
  int n = std::snprintf(buf.data(), buf.size(), fmt, v);
  if (n < 0) return {};
  return std::string(buf.data(), std::min(static_cast<size_t>(n), buf.size() - 1));
}

// Local broken-down time of t, or false when t is not a representable time.
bool local_time(double t, std::tm& tm) {
  if (!std::isfinite(t) || t < 0 || t >= 9.0e18) return false;
  auto sec = static_cast<std::time_t>(t);
  return localtime_r(&sec, &tm) != nullptr;
}

// RFC 18 checks on a parsed entry; messages carry no prefix.
Result<EventlogEntry> from_json(const Json& o) {
  if (!o.is_object()) return invalid("entry is not a JSON object");
  EventlogEntry e;

  auto ts = o.find("timestamp");
  if (ts == o.end()) return invalid("missing 'timestamp'");
  if (!ts->is_number()) return invalid("'timestamp' must be a number");
  e.timestamp = ts->get<double>();
  if (!std::isfinite(e.timestamp) || !(e.timestamp > 0)) {
    return invalid("'timestamp' must be greater than zero");
  }

  auto name = o.find("name");
  if (name == o.end()) return invalid("missing 'name'");
  if (!name->is_string() || name->get_ref<const std::string&>().empty()) {
    return invalid("'name' must be a non-empty string");
  }
  e.name = name->get<std::string>();

  auto context = o.find("context");
  if (context != o.end()) {
    if (!context->is_object()) return invalid("'context' must be an object");
    e.context = *context;
  }
  return e;
}

// Decode one entry whose trailing newline, if any, is already removed.
Result<EventlogEntry> decode_body(std::string_view body) {
  if (body.empty()) return invalid("entry is empty");
  if (body.find('\n') != std::string_view::npos) {
    return invalid("entry contains an embedded newline");
  }
  if (json_nesting_exceeds(body, kEventlogMaxDepth)) {
    return invalid("entry nests deeper than " + std::to_string(kEventlogMaxDepth) + " levels");
  }
  Json o = Json::parse(body.begin(), body.end(), nullptr, false);
  if (o.is_discarded()) return invalid("entry is not valid JSON");
  return from_json(o);
}

}  // namespace

std::optional<Error> eventlog_entry_validate(const EventlogEntry& e) {
  if (!std::isfinite(e.timestamp) || !(e.timestamp > 0)) {
    return invalid("eventlog: timestamp must be a finite number greater than zero");
  }
  if (e.name.empty()) return invalid("eventlog: name must be non-empty");
  if (!utf8_valid(e.name)) return invalid("eventlog: name is not valid UTF-8");
  if (!e.context.is_null() && !e.context.is_object()) {
    return invalid("eventlog: context must be an object");
  }
  return std::nullopt;
}

Result<EventlogEntry> eventlog_entry_decode(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  auto r = decode_body(line);
  if (!r.ok()) return Error{r.error().errnum, "eventlog: " + r.error().message};
  return r;
}

std::string eventlog_entry_encode(const EventlogEntry& e) {
  if (auto err = eventlog_entry_validate(e)) throw FluxError(*err);
  std::string out = "{\"timestamp\":";
  out += Json(e.timestamp).dump();
  out += ",\"name\":";
  out += dump(Json(e.name));
  if (!e.context.is_null()) {
    out += ",\"context\":";
    out += dump(e.context);
  }
  out += "}\n";
  return out;
}

EventlogEntry eventlog_entry_make(std::string name, Json context) {
  using namespace std::chrono;
  auto ns = duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
  double ts = static_cast<double>(ns / 1000000000) + 1e-9 * static_cast<double>(ns % 1000000000);
  return EventlogEntry{ts, std::move(name), std::move(context)};
}

Result<std::vector<EventlogEntry>> eventlog_decode(std::string_view text) {
  std::vector<EventlogEntry> entries;
  size_t pos = 0;
  for (size_t line = 1; pos < text.size(); line++) {
    auto nl = text.find('\n', pos);
    auto where = "eventlog: line " + std::to_string(line) + ": ";
    if (nl == std::string_view::npos) {
      return invalid(where + "entry is not terminated by a newline");
    }
    auto r = decode_body(text.substr(pos, nl - pos));
    if (!r.ok()) return Error{r.error().errnum, where + r.error().message};
    entries.push_back(std::move(r).value());
    pos = nl + 1;
  }
  return entries;
}

void EventlogFormatter::reset() {
  t0_ = 0;
  last_ts_ = 0;
  have_last_ = false;
}

std::string EventlogFormatter::human_timestamp(double t) {
  const char* color = color_ ? kColorTime : "";
  const char* reset = color_ ? kColorReset : "";
  std::tm tm{};
  if (!local_time(t, tm)) return color + format_double("[%+11.6f]", t) + reset;
  int key[5] = {tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min};
  if (have_last_ && std::equal(key, key + 5, last_minute_key_)) {
    return color + format_double("[%+11.6f]", t - last_ts_) + reset;
  }
  have_last_ = true;
  last_ts_ = t;
  std::copy(key, key + 5, last_minute_key_);
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "[%s%02d %02d:%02d]", kMonths[tm.tm_mon], tm.tm_mday,
                tm.tm_hour, tm.tm_min);
  return (color_ ? kColorTimeBreak : "") + std::string(buf.data()) + reset;
}

// An ISO timestamp that localtime cannot represent falls back to %f (flux-core
// reports an error instead).
std::string EventlogFormatter::timestamp(double t) {
  if (format_ == EventlogTimeFormat::kHuman) return human_timestamp(t);
  std::string text;
  std::tm tm{};
  if (format_ == EventlogTimeFormat::kIso && local_time(t, tm)) {
    auto sec = static_cast<std::time_t>(t);
    auto usec = static_cast<unsigned long>((t - static_cast<double>(sec)) * 1e6);
    std::array<char, 64> date{};
    std::array<char, 16> zone{};
    std::strftime(date.data(), date.size(), "%Y-%m-%dT%H:%M:%S", &tm);
    std::strftime(zone.data(), zone.size(), "%z", &tm);
    std::string tz = zone.data();
    if (tz == "+0000") {
      tz = "Z";
    } else if (tz.size() == 5 && (tz[0] == '+' || tz[0] == '-')) {
      tz.insert(3, ":");
    }
    std::array<char, 16> frac{};
    std::snprintf(frac.data(), frac.size(), ".%06lu", usec);
    text = std::string(date.data()) + frac.data() + tz;
  } else {
    if (format_ == EventlogTimeFormat::kOffset) {
      if (t0_ == 0) t0_ = t;
      t -= t0_;
    }
    text = format_double("%f", t);
  }
  return color_ ? kColorTime + text + kColorReset : text;
}

std::string EventlogFormatter::format(const EventlogEntry& e) {
  std::string out = timestamp(e.timestamp);
  out += ' ';
  if (color_) out += e.name == "exception" ? kColorException : kColorName;
  out += e.name;
  if (color_) out += kColorReset;
  if (e.context.is_object()) {
    for (const auto& [key, value] : e.context.items()) {
      out += ' ';
      if (color_) out += kColorKey;
      out += key;
      if (color_) out += kColorReset;
      out += '=';
      if (color_) out += value.is_number() ? kColorValueNum : kColorValue;
      out += dump(value);
      if (color_) out += kColorReset;
    }
  }
  return out;
}

std::string eventlog_entry_format_text(const EventlogEntry& e, bool human) {
  EventlogFormatter f(human ? EventlogTimeFormat::kHuman : EventlogTimeFormat::kRaw);
  return f.format(e);
}

}  // namespace flux
