// libFuzzer target for flux::Message decoding and FrameReader reassembly.
//
// Every input is
//   1. decoded with Message::decode; on success the message is re-encoded,
//      decoded again, and both the fields and the re-encoding must match;
//   2. fed to two FrameReaders, one all at once and one in small chunks
//      (chunk size taken from the first byte); both must yield the same
//      sequence of results, and every message they yield must round-trip.
// Any mismatch calls abort() so libFuzzer records the input as a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "libflux/message.hpp"

using flux::FrameReader;
using flux::Message;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_message: %s\n", what);
  std::abort();
}

bool same(const Message& a, const Message& b) {
  return a.type() == b.type() && a.flags() == b.flags() && a.topic() == b.topic() &&
         a.payload() == b.payload() && a.userid() == b.userid() && a.rolemask() == b.rolemask() &&
         a.aux1() == b.aux1() && a.aux2() == b.aux2() && a.routes() == b.routes();
}

// Exercise the accessors that look at the payload; none may crash or throw.
void touch(const Message& m) {
  (void)flux::msgtype_name(m.type());
  (void)m.payload_string();
  auto j = m.json();
  if (j.ok() && !j.value().is_object()) fail("json() returned a non-object");
  (void)m.error_string();
  (void)m.first_route();
}

void check_round_trip(const Message& m) {
  std::string enc = m.encode();
  if (enc.size() != m.encoded_size()) fail("encoded_size() disagrees with encode()");
  auto again = Message::decode(enc);
  if (!again.ok()) fail("re-encoded message does not decode");
  if (!same(m, again.value())) fail("round trip changed the message");
  if (again.value().encode() != enc) fail("second encoding differs from the first");

  std::string framed;
  m.frame_to(framed);
  if (framed.size() != flux::kFrameHeaderSize + enc.size()) fail("frame_to size");
  if (std::string_view(framed).substr(flux::kFrameHeaderSize) != enc) fail("frame_to body");
  FrameReader fr;
  fr.feed(framed.data(), framed.size());
  if (!fr.has_message()) fail("framed message not complete");
  auto fm = fr.next();
  if (!fm.ok() || !same(m, fm.value())) fail("framed round trip changed the message");
  if (fr.buffered() != 0 || fr.has_message()) fail("frame reader left bytes behind");
  touch(m);
}

struct Outcome {
  bool ok;
  std::string enc;  // the message's encoding when ok
};

// Drain complete frames. Returns true when the stream is poisoned (an error
// that consumes no input, i.e. a bad frame header): every later next() would
// repeat it, so the caller stops there.
bool drain(FrameReader& fr, std::vector<Outcome>& out) {
  while (fr.has_message()) {
    size_t before = fr.buffered();
    auto r = fr.next();
    if (r.ok()) {
      check_round_trip(r.value());
      out.push_back({true, r.value().encode()});
    } else {
      out.push_back({false, {}});
      if (fr.buffered() == before) return true;
    }
    if (fr.buffered() >= before) fail("frame reader made no progress");
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* bytes = reinterpret_cast<const char*>(data);

  auto r = Message::decode(std::string_view(bytes, size));
  if (r.ok()) check_round_trip(r.value());

  // The input wrapped in one valid frame must give exactly what decode gave.
  {
    uint32_t magic = flux::kFrameMagic;
    std::string framed(reinterpret_cast<const char*>(&magic), 4);
    for (int shift = 24; shift >= 0; shift -= 8) framed.push_back(static_cast<char>(size >> shift));
    framed.append(bytes, size);
    FrameReader fr;
    fr.feed(framed.data(), framed.size());
    if (!fr.has_message()) fail("wrapped input not seen as a complete frame");
    auto fm = fr.next();
    if (fm.ok() != r.ok()) fail("frame reader and decode disagree");
    if (fm.ok() && !same(fm.value(), r.value())) fail("frame reader and decode differ");
    if (fr.buffered() != 0) fail("wrapped frame left bytes behind");
  }

  std::vector<Outcome> whole, chunked;
  FrameReader a;
  a.feed(bytes, size);
  drain(a, whole);

  FrameReader b;
  size_t chunk = size > 0 ? (data[0] % 16) + 1 : 1;
  for (size_t off = 0; off < size; off += chunk) {
    size_t n = size - off < chunk ? size - off : chunk;
    b.feed(bytes + off, n);
    if (drain(b, chunked)) break;
  }
  if (whole.size() != chunked.size())
    fail("chunked and whole-buffer frame readers disagree on result count");
  for (size_t i = 0; i < whole.size(); i++) {
    if (whole[i].ok != chunked[i].ok || whole[i].enc != chunked[i].enc)
      fail("chunked and whole-buffer frame readers disagree");
  }
  return 0;
}
