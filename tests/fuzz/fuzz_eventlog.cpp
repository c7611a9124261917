// libFuzzer target for flux eventlogs (RFC 18).
//
// Every input is
//   1. decoded as a whole eventlog; the result must agree with decoding it
//      line by line (and a log not ending in "\n" must be refused);
//   2. for a decoded log: each entry must validate, encode to one line that
//      decodes to exactly the same entry (timestamp bit for bit), the
//      concatenated encodings must decode to the same log, and every text
//      format (raw, iso, offset, human; with and without color) must
//      produce something without crashing;
//   3. decoded as a single entry, with the same round-trip checks.
// Refusals must be EINVAL with a non-empty message. Any mismatch calls
// abort() so libFuzzer records the input as a crash.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "libflux/eventlog.hpp"

using flux::EventlogEntry;
using flux::EventlogFormatter;
using flux::EventlogTimeFormat;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_eventlog: %s\n", what);
  std::abort();
}

bool same(const EventlogEntry& a, const EventlogEntry& b) {
  return std::memcmp(&a.timestamp, &b.timestamp, sizeof(double)) == 0 && a.name == b.name &&
         a.context == b.context;
}

void check_error(const flux::Error& e) {
  if (e.errnum != EINVAL) fail("error is not EINVAL");
  if (e.message.empty()) fail("error has no message");
}

// Encode e, decode it back, and return the encoding.
std::string check_entry(const EventlogEntry& e) {
  if (flux::eventlog_entry_validate(e)) fail("decoded entry does not validate");
  if (!e.context.is_null() && !e.context.is_object()) fail("context neither null nor object");
  std::string line = flux::eventlog_entry_encode(e);
  if (line.empty() || line.back() != '\n' || line.find('\n') != line.size() - 1) {
    fail("encoding is not exactly one newline-terminated line");
  }
  auto back = flux::eventlog_entry_decode(line);
  if (!back.ok()) fail("encoded entry does not decode");
  if (!same(back.value(), e)) fail("encode/decode changed the entry");
  if (flux::eventlog_entry_encode(back.value()) != line) fail("second encoding differs");
  (void)flux::eventlog_entry_format_text(e);
  (void)flux::eventlog_entry_format_text(e, true);
  return line;
}

void check_formats(const std::vector<EventlogEntry>& log) {
  for (auto style : {EventlogTimeFormat::kRaw, EventlogTimeFormat::kIso,
                     EventlogTimeFormat::kOffset, EventlogTimeFormat::kHuman}) {
    for (bool color : {false, true}) {
      EventlogFormatter f(style, color);
      for (const auto& e : log) {
        if (f.format(e).empty()) fail("formatter produced nothing");
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto log = flux::eventlog_decode(text);

  // Line by line: every line must decode, and the text must end in "\n".
  bool lines_ok = text.empty() || text.back() == '\n';
  size_t lines = 0;
  for (size_t pos = 0; lines_ok && pos < text.size(); lines++) {
    size_t nl = text.find('\n', pos);
    auto one = flux::eventlog_entry_decode(text.substr(pos, nl + 1 - pos));
    if (!one.ok()) {
      check_error(one.error());
      lines_ok = false;
    } else if (log.ok() && !same(one.value(), log.value()[lines])) {
      fail("whole-log and per-line decoding give different entries");
    }
    pos = nl + 1;
  }
  if (log.ok() != lines_ok) fail("whole-log and per-line decoding disagree");

  if (log.ok()) {
    if (log.value().size() != lines) fail("entry count differs from line count");
    std::string reencoded;
    for (const auto& e : log.value()) reencoded += check_entry(e);
    auto again = flux::eventlog_decode(reencoded);
    if (!again.ok() || again.value().size() != log.value().size()) {
      fail("re-encoded log does not decode");
    }
    for (size_t i = 0; i < log.value().size(); i++) {
      if (!same(again.value()[i], log.value()[i])) fail("re-encoded log differs");
    }
    check_formats(log.value());
  } else {
    check_error(log.error());
  }

  auto one = flux::eventlog_entry_decode(text);
  if (one.ok()) {
    check_entry(one.value());
    check_formats({one.value()});
  } else {
    check_error(one.error());
  }
  return 0;
}
