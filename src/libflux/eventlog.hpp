// RFC 18 KVS eventlogs: newline-terminated JSON objects
// {"timestamp":<seconds>,"name":<string>,"context":<object, optional>}.
// Decoding is strict where RFC 18 speaks (timestamp a number > 0, name a
// string, context an object, one entry per line), also requires a non-empty
// name (flux-core never writes an empty one) and, like flux-core, ignores
// keys RFC 18 does not name. Encoding writes the key order and
// number format flux-core does. The text formatter reproduces what
// `flux kvs eventlog get` / `flux job eventlog` print.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json.hpp"
#include "result.hpp"

namespace flux {

struct EventlogEntry {
  double timestamp = 0;  // seconds since the Unix epoch
  std::string name;
  Json context;  // an object, or null when the entry has none
};

// Entries whose JSON nests deeper than this are refused (jansson's parser,
// which flux-core uses, has the same limit).
inline constexpr size_t kEventlogMaxDepth = 2048;

// nullopt if e can be encoded: timestamp finite and > 0, name a non-empty
// UTF-8 string, context null or an object. Otherwise EINVAL.
std::optional<Error> eventlog_entry_validate(const EventlogEntry& e);

// One entry, with or without its trailing newline (no other newline may
// appear). EINVAL with a message naming the problem.
Result<EventlogEntry> eventlog_entry_decode(std::string_view line);

// Compact JSON, keys in the order timestamp, name, context (context left out
// when null), then "\n". The timestamp is written as the shortest decimal
// that reads back as the same double, as flux-core's jansson does when built
// with dtoa (e.g. 1699995759.5377746, 1700074445.120451; older jansson
// writes %.17g, "1700074445.1204510"). It is not rounded to microseconds:
// decode(encode(e)) gives e back exactly. Context keys come out sorted (Json
// keeps objects sorted; flux-core keeps insertion order). Throws
// FluxError(EINVAL) if eventlog_entry_validate(e) fails.
std::string eventlog_entry_encode(const EventlogEntry& e);

// An entry stamped with the current wall-clock time.
EventlogEntry eventlog_entry_make(std::string name, Json context = nullptr);

// A whole eventlog: every entry must end with "\n"; "" is an empty log.
// Errors are EINVAL and name the 1-based line, e.g.
// "eventlog: line 3: 'timestamp' must be a number".
Result<std::vector<EventlogEntry>> eventlog_decode(std::string_view text);

// Timestamp styles of flux-core's eventlog formatter (--time-format).
enum class EventlogTimeFormat {
  kRaw,     // 1699995759.537775                 (%f of the timestamp)
  kIso,     // 2023-11-14T21:02:39.537774Z       (local time, "Z" or +HH:MM)
  kOffset,  // 0.022011                          (seconds since the first entry)
  kHuman,   // [Nov14 21:02] once a minute, then [  +0.022011] since that line
};

// Formats entries one per line, without the trailing newline, as
// "TIMESTAMP NAME key=value key=value ..." where each value is compact JSON
// (strings quoted). Offset and human styles depend on earlier entries, so
// use one formatter for a whole log. With color, uses flux-core's ANSI
// colors (exception events in bold red).
class EventlogFormatter {
 public:
  explicit EventlogFormatter(EventlogTimeFormat format = EventlogTimeFormat::kRaw,
                             bool color = false)
      : format_(format), color_(color) {}
  std::string format(const EventlogEntry& e);
  void reset();

 private:
  std::string timestamp(double t);
  std::string human_timestamp(double t);

  EventlogTimeFormat format_;
  bool color_;
  double t0_ = 0;       // offset: timestamp of the first entry
  double last_ts_ = 0;  // human: timestamp of the last minute break
  bool have_last_ = false;
  int last_minute_key_[5] = {};  // human: year, month, day, hour, minute of last_ts_
};

// One entry in flux-core's text format, e.g.
//   "1699995759.537775 submit userid=1001 urgency=16"
// human selects the human timestamp style; a one-off call always prints a
// minute break ("[Nov14 21:02] submit ..."), so for a whole log prefer an
// EventlogFormatter.
std::string eventlog_entry_format_text(const EventlogEntry& e, bool human = false);

}  // namespace flux
