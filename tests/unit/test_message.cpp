// Unit tests for flux::Message (RFC 3 encoding, local-connector framing,
// FrameReader reassembly, JSON payload helpers).
//
// The byte vectors below are written by hand from RFC 3 / flux-core 0.88,
// not produced by our encoder:
//   part     = len:1 data          (len < 255)
//            | 0xff len:be32 data   (len >= 255)
//   message  = [route... (most recent hop first) empty-delimiter]  (flag 0x08)
//              [topic]                                              (flag 0x01)
//              [payload]                                            (flag 0x02)
//              PROTO (20 bytes): 8e 01 type flags userid:be32
//                                rolemask:be32 aux1:be32 aux2:be32
//   frame    = magic 0xffee0012 (host order) length:be32 message
#include "libflux/message.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

using namespace flux;

namespace {

// Parse hex text ("8e 01 000003e8") into bytes; whitespace is ignored.
std::string hex(std::string_view text) {
  std::string out;
  int hi = -1;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else
      throw std::invalid_argument("bad hex digit");
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<char>(hi << 4 | v));
      hi = -1;
    }
  }
  if (hi >= 0) throw std::invalid_argument("odd number of hex digits");
  return out;
}

std::string to_hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
    out.push_back(' ');
  }
  return out;
}

#define EXPECT_BYTES(actual, expected) EXPECT_EQ(to_hex(actual), to_hex(expected))

void expect_same(const Message& a, const Message& b) {
  EXPECT_EQ(a.type(), b.type());
  EXPECT_EQ(a.flags(), b.flags());
  EXPECT_EQ(a.topic(), b.topic());
  EXPECT_EQ(a.has_payload(), b.has_payload());
  EXPECT_EQ(a.payload(), b.payload());
  EXPECT_EQ(a.userid(), b.userid());
  EXPECT_EQ(a.rolemask(), b.rolemask());
  EXPECT_EQ(a.aux1(), b.aux1());
  EXPECT_EQ(a.aux2(), b.aux2());
  EXPECT_EQ(a.routes(), b.routes());
}

Message decode_ok(std::string_view buf) {
  auto r = Message::decode(buf);
  if (!r.ok()) ADD_FAILURE() << "decode failed: " << r.error().message;
  return r.ok() ? std::move(r).value() : Message{};
}

void expect_decode_error(std::string_view buf, const char* what) {
  auto r = Message::decode(buf);
  EXPECT_FALSE(r.ok()) << what << ": decoded " << to_hex(buf);
  if (!r.ok()) {
    EXPECT_EQ(r.error().errnum, EPROTO) << what;
    EXPECT_FALSE(r.error().message.empty()) << what;
  }
}

// ---- Hand-written vectors -------------------------------------------------

// request "a.b", payload {"x":1}\0, nodeid any, matchtag 42, userid 1000,
// rolemask owner; flags topic|payload.
const std::string kRequestVec =
    hex("03 61 2e 62"                 // topic "a.b"
        "08 7b 22 78 22 3a 31 7d 00"  // payload {"x":1} NUL
        "14 8e 01 01 03"              // PROTO: magic, v1, request, flags 0x03
        "000003e8 00000001 ffffffff 0000002a");

// response "a.b", errnum 2, matchtag 42, userid 1000, rolemask owner, no payload.
const std::string kResponseVec =
    hex("03 61 2e 62"
        "14 8e 01 02 01"
        "000003e8 00000001 00000002 0000002a");

// event "ev", seq 7, userid 5, rolemask all.
const std::string kEventVec =
    hex("02 65 76"
        "14 8e 01 04 01"
        "00000005 ffffffff 00000007 00000000");

// control type 3, status 1, no topic, userid unknown, rolemask none.
const std::string kControlVec =
    hex("14 8e 01 08 00"
        "ffffffff 00000000 00000003 00000001");

// request "t", nodeid 0, routes pushed "r1" then "r2": "r2" (most recent) first.
const std::string kRoutedVec =
    hex("02 72 32"  // "r2"
        "02 72 31"  // "r1"
        "00"        // delimiter
        "01 74"     // topic "t"
        "14 8e 01 01 09"
        "ffffffff 00000000 00000000 00000000");

std::vector<std::string> all_vectors() {
  return {kRequestVec, kResponseVec, kEventVec, kControlVec, kRoutedVec};
}

}  // namespace

// ---- Encoding against hand-written vectors -------------------------------

TEST(MessageEncode, RequestWithTopicAndJson) {
  Message m = Message::request("a.b");
  m.set_json(Json{{"x", 1}});
  m.set_matchtag(42);
  m.set_userid(1000);
  m.set_rolemask(role::kOwner);
  EXPECT_EQ(m.nodeid(), kNodeidAny);
  EXPECT_BYTES(m.encode(), kRequestVec);
  EXPECT_EQ(m.encoded_size(), kRequestVec.size());
}

TEST(MessageEncode, ResponseWithErrnumNoPayload) {
  Message m(MsgType::Response);
  m.set_topic("a.b");
  m.set_errnum(2);
  m.set_matchtag(42);
  m.set_userid(1000);
  m.set_rolemask(role::kOwner);
  EXPECT_BYTES(m.encode(), kResponseVec);
  EXPECT_EQ(m.encoded_size(), kResponseVec.size());
}

TEST(MessageEncode, EventWithSeq) {
  Message m = Message::event("ev");
  m.set_seq(7);
  m.set_userid(5);
  m.set_rolemask(role::kAll);
  EXPECT_BYTES(m.encode(), kEventVec);
}

TEST(MessageEncode, ControlWithoutTopic) {
  Message m(MsgType::Control);
  m.set_aux1(3);
  m.set_aux2(1);
  EXPECT_BYTES(m.encode(), kControlVec);
  EXPECT_EQ(m.encoded_size(), 21u);
}

TEST(MessageEncode, TwoRoutesMostRecentFirst) {
  Message m = Message::request("t", 0);
  m.push_route("r1");
  m.push_route("r2");
  ASSERT_EQ(m.routes().back(), "r2");
  EXPECT_BYTES(m.encode(), kRoutedVec);
  EXPECT_EQ(m.encoded_size(), kRoutedVec.size());
}

TEST(MessageEncode, RouteFlagWithEmptyStackIsJustDelimiter) {
  Message m = Message::request("t", 0);
  m.enable_routes();
  std::string want = hex("00 01 74 14 8e 01 01 09 ffffffff 00000000 00000000 00000000");
  EXPECT_BYTES(m.encode(), want);
}

TEST(MessageEncode, LongPayloadUsesLongLengthForm) {
  Message m = Message::event("e");
  m.set_payload(std::string(300, 'x'));
  std::string want = hex("01 65") + hex("ff 0000012c") + std::string(300, 'x') +
                     hex("14 8e 01 04 03 ffffffff 00000000 00000000 00000000");
  EXPECT_BYTES(m.encode(), want);
  EXPECT_EQ(m.encoded_size(), want.size());
}

TEST(MessageEncode, PartLengthBoundary254And255) {
  std::string tail = hex("14 8e 01 04 03 ffffffff 00000000 00000000 00000000");
  Message m = Message::event("e");
  m.set_payload(std::string(254, 'y'));
  EXPECT_BYTES(m.encode(), hex("01 65 fe") + std::string(254, 'y') + tail);
  m.set_payload(std::string(255, 'y'));
  EXPECT_BYTES(m.encode(), hex("01 65 ff 000000ff") + std::string(255, 'y') + tail);
}

TEST(MessageEncode, LongTopicUsesLongLengthForm) {
  Message m = Message::event(std::string(256, 'q'));
  std::string want = hex("ff 00000100") + std::string(256, 'q') +
                     hex("14 8e 01 04 01 ffffffff 00000000 00000000 00000000");
  EXPECT_BYTES(m.encode(), want);
}

TEST(MessageEncode, EncodeToAppends) {
  Message m(MsgType::Control);
  m.set_aux1(3);
  m.set_aux2(1);
  std::string out = "prefix";
  m.encode_to(out);
  EXPECT_BYTES(out, "prefix" + kControlVec);
}

TEST(MessageFrame, FrameToHeaderAndEncoding) {
  Message m(MsgType::Control);
  m.set_aux1(3);
  m.set_aux2(1);
  std::string out;
  m.frame_to(out);
  // Magic is a host-order word; length (21 = 0x15) is big-endian.
  std::string magic =
      std::endian::native == std::endian::little ? hex("12 00 ee ff") : hex("ff ee 00 12");
  EXPECT_BYTES(out, magic + hex("00 00 00 15") + kControlVec);
  ASSERT_EQ(kFrameHeaderSize, 8u);
}

TEST(MessageFrame, FrameToLongMessageAndAppend) {
  Message m = Message::event("e");
  m.set_payload(std::string(300, 'x'));
  std::string out = "ab";
  m.frame_to(out);
  // 2 + 5+300 + 21 = 328 = 0x148
  std::string magic =
      std::endian::native == std::endian::little ? hex("12 00 ee ff") : hex("ff ee 00 12");
  std::string want = "ab" + magic + hex("00 00 01 48") + hex("01 65 ff 0000012c") +
                     std::string(300, 'x') +
                     hex("14 8e 01 04 03 ffffffff 00000000 00000000 00000000");
  EXPECT_BYTES(out, want);
}

// ---- Decoding hand-written vectors ---------------------------------------

TEST(MessageDecode, Request) {
  Message m = decode_ok(kRequestVec);
  EXPECT_EQ(m.type(), MsgType::Request);
  EXPECT_EQ(m.flags(), msgflag::kTopic | msgflag::kPayload);
  EXPECT_EQ(m.topic(), "a.b");
  EXPECT_EQ(m.payload(), std::string("{\"x\":1}\0", 8));
  EXPECT_EQ(m.nodeid(), kNodeidAny);
  EXPECT_EQ(m.matchtag(), 42u);
  EXPECT_EQ(m.userid(), 1000u);
  EXPECT_EQ(m.rolemask(), role::kOwner);
  EXPECT_TRUE(m.routes().empty());
  auto j = m.json();
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j.value(), (Json{{"x", 1}}));
}

TEST(MessageDecode, Response) {
  Message m = decode_ok(kResponseVec);
  EXPECT_EQ(m.type(), MsgType::Response);
  EXPECT_EQ(m.errnum(), 2);
  EXPECT_EQ(m.matchtag(), 42u);
  EXPECT_FALSE(m.has_payload());
}

TEST(MessageDecode, Event) {
  Message m = decode_ok(kEventVec);
  EXPECT_EQ(m.type(), MsgType::Event);
  EXPECT_EQ(m.topic(), "ev");
  EXPECT_EQ(m.seq(), 7u);
  EXPECT_EQ(m.userid(), 5u);
  EXPECT_EQ(m.rolemask(), role::kAll);
}

TEST(MessageDecode, Control) {
  Message m = decode_ok(kControlVec);
  EXPECT_EQ(m.type(), MsgType::Control);
  EXPECT_EQ(m.flags(), 0);
  EXPECT_EQ(m.topic(), "");
  EXPECT_EQ(m.aux1(), 3u);
  EXPECT_EQ(m.aux2(), 1u);
  EXPECT_EQ(m.userid(), kUseridUnknown);
}

TEST(MessageDecode, RoutesOrder) {
  Message m = decode_ok(kRoutedVec);
  ASSERT_EQ(m.routes().size(), 2u);
  EXPECT_EQ(m.routes().front(), "r1");
  EXPECT_EQ(m.routes().back(), "r2");
  ASSERT_NE(m.first_route(), nullptr);
  EXPECT_EQ(*m.first_route(), "r1");
  EXPECT_EQ(m.topic(), "t");
  EXPECT_EQ(m.pop_route(), "r2");
  EXPECT_EQ(m.pop_route(), "r1");
}

TEST(MessageDecode, LongLengthPart) {
  std::string buf = hex("01 65 ff 0000012c") + std::string(300, 'x') +
                    hex("14 8e 01 04 03 ffffffff 00000000 00000000 00000000");
  Message m = decode_ok(buf);
  EXPECT_EQ(m.payload(), std::string(300, 'x'));
}

// ---- Round trips ----------------------------------------------------------

TEST(MessageRoundTrip, ManyCombinations) {
  const MsgType types[] = {MsgType::Request, MsgType::Response, MsgType::Event, MsgType::Control};
  const uint8_t extra_flags[] = {0, msgflag::kNoResponse, msgflag::kUpstream | msgflag::kPrivate,
                                 msgflag::kStreaming | msgflag::kUser1};
  const std::vector<std::string> topics = {"", "a", "kvs.lookup", std::string(255, 't')};
  const std::vector<std::string> payloads = {"",
                                             std::string("{}\0", 3),
                                             std::string(1, '\0'),
                                             std::string(254, 'p'),
                                             std::string(255, 'p'),
                                             std::string(70000, 'P'),
                                             std::string("\xff\x00\x8e", 3)};
  const std::vector<std::vector<std::string>> route_sets = {
      {}, {"a"}, {"one", "two", "three"}, {std::string(300, 'r'), "x"}};
  const uint32_t words[] = {0, 1, 42, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff};

  int count = 0;
  for (MsgType t : types) {
    for (int with_topic = 0; with_topic < 2; with_topic++) {
      if (!with_topic && t != MsgType::Control) continue;  // topic required
      for (uint8_t xf : extra_flags) {
        for (size_t ti = 0; ti < topics.size(); ti++) {
          if (!with_topic && ti > 0) break;
          for (int with_payload = 0; with_payload < 2; with_payload++) {
            for (size_t pi = 0; pi < payloads.size(); pi++) {
              if (!with_payload && pi > 0) break;
              for (int with_routes = 0; with_routes < 2; with_routes++) {
                for (size_t ri = 0; ri < route_sets.size(); ri++) {
                  if (!with_routes && ri > 0) break;
                  size_t w = (count * 3) % std::size(words);
                  Message m(t);
                  if (with_topic) m.set_topic(topics[ti]);
                  if (with_payload) m.set_payload(payloads[pi]);
                  if (with_routes) {
                    m.enable_routes();
                    for (const auto& r : route_sets[ri]) m.push_route(r);
                  }
                  m.set_flag(xf);
                  m.set_userid(words[w]);
                  m.set_rolemask(words[(w + 1) % std::size(words)]);
                  m.set_aux1(words[(w + 2) % std::size(words)]);
                  m.set_aux2(words[(w + 5) % std::size(words)]);
                  std::string enc = m.encode();
                  ASSERT_EQ(enc.size(), m.encoded_size());
                  auto r = Message::decode(enc);
                  ASSERT_TRUE(r.ok())
                      << r.error().message << " type " << msgtype_name(t) << " combo " << count;
                  SCOPED_TRACE(count);
                  expect_same(m, r.value());
                  EXPECT_EQ(r.value().encode(), enc);

                  // Through the frame reader as well.
                  std::string framed;
                  m.frame_to(framed);
                  ASSERT_EQ(framed.size(), kFrameHeaderSize + enc.size());
                  EXPECT_EQ(framed.substr(kFrameHeaderSize), enc);
                  FrameReader fr;
                  fr.feed(framed.data(), framed.size());
                  ASSERT_TRUE(fr.has_message());
                  auto fm = fr.next();
                  ASSERT_TRUE(fm.ok());
                  expect_same(m, fm.value());
                  EXPECT_EQ(fr.buffered(), 0u);
                  count++;
                }
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(count, 500);
}

TEST(MessageRoundTrip, HandVectorsReencodeIdentically) {
  for (const auto& v : all_vectors()) {
    Message m = decode_ok(v);
    EXPECT_BYTES(m.encode(), v);
  }
}

TEST(MessageRoundTrip, ResponseToCopiesAddressing) {
  Message req = Message::request("svc.method", 3);
  req.push_route("client");
  req.push_route("broker1");
  req.set_matchtag(99);
  req.set_userid(1000);
  req.set_rolemask(role::kUser);
  req.set_flag(msgflag::kStreaming);
  req.set_json(Json{{"a", 1}});
  Message rsp = Message::response_to(req);
  EXPECT_EQ(rsp.type(), MsgType::Response);
  EXPECT_EQ(rsp.topic(), "svc.method");
  EXPECT_EQ(rsp.routes(), req.routes());
  EXPECT_TRUE(rsp.has_routes());
  EXPECT_TRUE(rsp.has_flag(msgflag::kStreaming));
  EXPECT_FALSE(rsp.has_payload());
  EXPECT_EQ(rsp.matchtag(), 99u);
  EXPECT_EQ(rsp.errnum(), 0);
  EXPECT_EQ(rsp.userid(), 1000u);
  EXPECT_EQ(rsp.rolemask(), role::kUser);
  expect_same(rsp, decode_ok(rsp.encode()));
}

// ---- Malformed input ------------------------------------------------------

TEST(MessageDecodeErrors, Empty) {
  expect_decode_error("", "empty buffer");
}

TEST(MessageDecodeErrors, TruncatedPartData) {
  expect_decode_error(hex("05 61 62"), "part declares 5, has 2");
  expect_decode_error(hex("01"), "part declares 1, has 0");
  // A valid message whose PROTO length byte claims one more byte.
  std::string v = kControlVec;
  v[0] = 0x15;
  expect_decode_error(v, "PROTO part truncated");
  expect_decode_error(hex("ff 00000100") + std::string(255, 'x'), "long part short by 1");
  expect_decode_error(hex("ff ffffffff") + std::string(100, 'x'), "long part 4G");
}

TEST(MessageDecodeErrors, TruncatedLongLength) {
  // 0xff marker followed by fewer than 4 length bytes, alone and after a part.
  for (std::string_view tail : {"ff", "ff 00", "ff 00 00", "ff 00 00 00"}) {
    expect_decode_error(hex(tail), "bare truncated long length");
    expect_decode_error(hex("01 74") + hex(tail), "truncated long length after part");
    expect_decode_error(kControlVec + hex(tail), "truncated long length after PROTO");
  }
}

TEST(MessageDecodeErrors, TruncatedPartLengthAfterValidMessage) {
  // Trailing garbage after the PROTO block is a truncated part.
  expect_decode_error(kControlVec + hex("03 61"), "trailing partial part");
}

TEST(MessageDecodeErrors, ProtoWrongSize) {
  expect_decode_error(hex("13 8e 01 08 00 ffffffff 00000000 00000003 000001"), "PROTO 19");
  expect_decode_error(hex("15 8e 01 08 00 ffffffff 00000000 00000003 00000001 00"), "PROTO 21");
  expect_decode_error(hex("00"), "PROTO 0");
  expect_decode_error(hex("01 8e"), "PROTO 1");
  // A 20-byte PROTO encoded in the long form is still a 20-byte PROTO part.
  Message m = decode_ok(hex("ff 00000014 8e 01 08 00 ffffffff 00000000 00000003 00000001"));
  EXPECT_EQ(m.aux1(), 3u);
}

TEST(MessageDecodeErrors, BadMagic) {
  std::string v = kControlVec;
  v[1] = static_cast<char>(0x8f);
  expect_decode_error(v, "bad magic 8f");
  v[1] = 0;
  expect_decode_error(v, "bad magic 00");
}

TEST(MessageDecodeErrors, BadVersion) {
  for (int ver : {0, 2, 0xff}) {
    std::string v = kControlVec;
    v[2] = static_cast<char>(ver);
    expect_decode_error(v, "bad version");
  }
}

TEST(MessageDecodeErrors, UnknownType) {
  for (int t = 0; t < 256; t++) {
    if (t == 1 || t == 2 || t == 4 || t == 8) continue;
    std::string v = kControlVec;
    v[3] = static_cast<char>(t);
    expect_decode_error(v, "unknown type");
    std::string w = kRequestVec;
    w[w.size() - 20 + 2] = static_cast<char>(t);  // 8e 01 <type>
    expect_decode_error(w, "unknown type (request vector)");
  }
}

TEST(MessageDecodeErrors, RouteFlagWithoutDelimiter) {
  expect_decode_error(hex("02 72 31 01 74 14 8e 01 01 09 ffffffff 00000000 00000000 00000000"),
                      "routes then topic, no delimiter");
  expect_decode_error(hex("14 8e 01 08 08 ffffffff 00000000 00000000 00000000"),
                      "control, route flag, no parts");
  expect_decode_error(hex("02 72 31 14 8e 01 08 08 ffffffff 00000000 00000000 00000000"),
                      "control, route flag, one route, no delimiter");
}

TEST(MessageDecodeErrors, TopicFlagWithoutTopic) {
  expect_decode_error(hex("14 8e 01 01 01 ffffffff 00000000 00000000 00000000"),
                      "request, topic flag, no parts");
  expect_decode_error(hex("14 8e 01 08 01 ffffffff 00000000 00000000 00000000"),
                      "control, topic flag, no parts");
  expect_decode_error(hex("00 14 8e 01 01 09 ffffffff 00000000 00000000 00000000"),
                      "route delimiter then no topic");
}

TEST(MessageDecodeErrors, PayloadFlagWithoutPayload) {
  expect_decode_error(hex("01 74 14 8e 01 01 03 ffffffff 00000000 00000000 00000000"),
                      "request, topic only");
  expect_decode_error(hex("14 8e 01 08 02 ffffffff 00000000 00000000 00000000"),
                      "control, payload flag, no parts");
}

TEST(MessageDecodeErrors, ExtraParts) {
  expect_decode_error(hex("01 74 01 78 14 8e 01 01 01 ffffffff 00000000 00000000 00000000"),
                      "request topic + extra");
  expect_decode_error(hex("01 78 14 8e 01 08 00 ffffffff 00000000 00000000 00000000"),
                      "control with unflagged part");
  expect_decode_error(hex("00 14 8e 01 08 00 ffffffff 00000000 00000000 00000000"),
                      "control with unflagged empty part");
  expect_decode_error(hex("01 74 01 70 01 78 14 8e 01 01 03 ffffffff 00000000 00000000 00000000"),
                      "topic + payload + extra");
  expect_decode_error(
      hex("01 72 00 01 74 01 78 14 8e 01 01 09 ffffffff 00000000 00000000 00000000"),
      "routed + extra");
}

TEST(MessageDecodeErrors, MissingTopic) {
  for (int t : {1, 2, 4}) {
    std::string v = hex("14 8e 01") + std::string(1, static_cast<char>(t)) +
                    hex("00 ffffffff 00000000 00000000 00000000");
    expect_decode_error(v, "non-control without topic");
    std::string w = hex("02 7b 7d 14 8e 01") + std::string(1, static_cast<char>(t)) +
                    hex("02 ffffffff 00000000 00000000 00000000");
    expect_decode_error(w, "non-control with payload but no topic");
  }
}

TEST(MessageDecodeErrors, EveryPrefixIsAnError) {
  std::vector<std::string> vecs = all_vectors();
  vecs.push_back(hex("01 65 ff 0000012c") + std::string(300, 'x') +
                 hex("14 8e 01 04 03 ffffffff 00000000 00000000 00000000"));
  for (const auto& v : vecs) {
    ASSERT_TRUE(Message::decode(v).ok());
    for (size_t n = 0; n < v.size(); n++) {
      auto r = Message::decode(std::string_view(v.data(), n));
      EXPECT_FALSE(r.ok()) << "prefix of length " << n << " of " << to_hex(v);
    }
  }
}

TEST(MessageDecodeErrors, SingleByteMutationsNeverCrash) {
  // Every byte of every vector replaced by a handful of values: decode may
  // succeed or fail, but a success must round-trip.
  const unsigned char vals[] = {0x00, 0x01, 0x14, 0x7f, 0x80, 0xfe, 0xff};
  for (const auto& v : all_vectors()) {
    for (size_t i = 0; i < v.size(); i++) {
      for (unsigned char c : vals) {
        std::string w = v;
        w[i] = static_cast<char>(c);
        auto r = Message::decode(w);
        if (r.ok()) {
          auto again = Message::decode(r.value().encode());
          ASSERT_TRUE(again.ok());
          expect_same(r.value(), again.value());
        }
      }
    }
  }
}

TEST(MessageDecodeErrors, EmptyRouteIdIsNeverSilentlyMisparsed) {
  // An empty route id cannot be told apart from the delimiter on the wire
  // (RFC 3 route ids are non-empty). Message::push_route("") is accepted, so
  // the encoder can produce such a message; decoding it must then fail rather
  // than yield a message with different fields.
  const std::vector<std::vector<std::string>> sets = {{""}, {"a", ""}, {"", "b"}, {"", ""}};
  for (const auto& routes : sets) {
    for (uint8_t extra : {uint8_t{0}, msgflag::kPayload}) {
      Message m = Message::request("t", 0);
      if (extra) m.set_payload("p");
      for (const auto& r : routes) m.push_route(r);
      auto r = Message::decode(m.encode());
      if (r.ok()) expect_same(m, r.value());
    }
  }
}

// ---- FrameReader ----------------------------------------------------------

namespace {

std::vector<Message> sample_messages() {
  std::vector<Message> v;
  Message a = Message::request("a.b");
  a.set_json(Json{{"x", 1}});
  a.set_matchtag(42);
  v.push_back(a);
  Message b(MsgType::Response);
  b.set_topic("a.b");
  b.set_errnum(2);
  v.push_back(b);
  Message c = Message::event("ev");
  c.set_seq(7);
  c.set_payload(std::string(300, 'z'));
  v.push_back(c);
  Message d(MsgType::Control);
  d.set_aux1(3);
  d.set_aux2(1);
  v.push_back(d);
  Message e = Message::request("t", 0);
  e.push_route("r1");
  e.push_route("r2");
  v.push_back(e);
  return v;
}

std::string frame_header(uint32_t magic, uint32_t len) {
  std::string h(reinterpret_cast<const char*>(&magic), 4);
  h.push_back(static_cast<char>(len >> 24));
  h.push_back(static_cast<char>(len >> 16));
  h.push_back(static_cast<char>(len >> 8));
  h.push_back(static_cast<char>(len));
  return h;
}

}  // namespace

TEST(FrameReader, ByteByByte) {
  auto msgs = sample_messages();
  std::string stream;
  for (const auto& m : msgs) m.frame_to(stream);
  FrameReader fr;
  EXPECT_FALSE(fr.has_message());
  std::vector<Message> got;
  for (char c : stream) {
    fr.feed(&c, 1);
    while (fr.has_message()) {
      auto r = fr.next();
      ASSERT_TRUE(r.ok()) << r.error().message;
      got.push_back(std::move(r).value());
    }
  }
  ASSERT_EQ(got.size(), msgs.size());
  for (size_t i = 0; i < msgs.size(); i++) {
    SCOPED_TRACE(i);
    expect_same(msgs[i], got[i]);
  }
  EXPECT_EQ(fr.buffered(), 0u);
  EXPECT_FALSE(fr.has_message());
}

TEST(FrameReader, AllAtOnce) {
  auto msgs = sample_messages();
  std::string stream;
  for (const auto& m : msgs) m.frame_to(stream);
  FrameReader fr;
  fr.feed(stream.data(), stream.size());
  EXPECT_EQ(fr.buffered(), stream.size());
  for (const auto& m : msgs) {
    ASSERT_TRUE(fr.has_message());
    auto r = fr.next();
    ASSERT_TRUE(r.ok());
    expect_same(m, r.value());
  }
  EXPECT_FALSE(fr.has_message());
  EXPECT_EQ(fr.buffered(), 0u);
}

TEST(FrameReader, ManyMessagesInChunks) {
  // Enough data to go past the reader's internal compaction threshold.
  std::vector<Message> msgs;
  std::string stream;
  for (uint32_t i = 0; i < 400; i++) {
    Message m = Message::event("seq." + std::to_string(i));
    m.set_seq(i);
    m.set_payload(std::string(100 + (i * 37) % 700, static_cast<char>('a' + i % 26)));
    m.frame_to(stream);
    msgs.push_back(std::move(m));
  }
  FrameReader fr;
  size_t got = 0;
  for (size_t off = 0; off < stream.size(); off += 997) {
    size_t n = std::min<size_t>(997, stream.size() - off);
    fr.feed(stream.data() + off, n);
    while (fr.has_message()) {
      auto r = fr.next();
      ASSERT_TRUE(r.ok()) << r.error().message;
      ASSERT_LT(got, msgs.size());
      expect_same(msgs[got], r.value());
      got++;
    }
  }
  EXPECT_EQ(got, msgs.size());
  EXPECT_EQ(fr.buffered(), 0u);
}

TEST(FrameReader, PartialHeaderWaits) {
  std::string stream;
  sample_messages()[0].frame_to(stream);
  FrameReader fr;
  for (size_t i = 0; i + 1 < stream.size(); i++) {
    fr.feed(&stream[i], 1);
    EXPECT_FALSE(fr.has_message()) << "after " << i + 1 << " bytes";
  }
  fr.feed(&stream.back(), 1);
  EXPECT_TRUE(fr.has_message());
}

TEST(FrameReader, BadMagic) {
  std::string stream = frame_header(0x12345678, 21) + kControlVec;
  FrameReader fr;
  fr.feed(stream.data(), stream.size());
  ASSERT_TRUE(fr.has_message());
  auto r = fr.next();
  EXPECT_FALSE(r.ok());
  // The magic in network order (the wrong byte order) is also bad.
  std::string swapped = hex("ff ee 00 12 00 00 00 15") + kControlVec;
  if (std::endian::native == std::endian::big)
    swapped = hex("12 00 ee ff 00 00 00 15") + kControlVec;
  FrameReader fr2;
  fr2.feed(swapped.data(), swapped.size());
  ASSERT_TRUE(fr2.has_message());
  EXPECT_FALSE(fr2.next().ok());
}

TEST(FrameReader, BadMagicPoisonsStream) {
  std::string stream = frame_header(0, 21) + kControlVec;
  sample_messages()[0].frame_to(stream);
  FrameReader fr;
  fr.feed(stream.data(), stream.size());
  for (int i = 0; i < 3; i++) {
    ASSERT_TRUE(fr.has_message());
    EXPECT_FALSE(fr.next().ok());
  }
}

TEST(FrameReader, BadMagicReportedWithOnlyHeader) {
  std::string h = frame_header(0xdeadbeef, 100);
  FrameReader fr;
  fr.feed(h.data(), h.size());
  ASSERT_TRUE(fr.has_message());
  EXPECT_FALSE(fr.next().ok());
}

TEST(FrameReader, OversizedFrameRejectedWithoutData) {
  for (uint32_t len : {static_cast<uint32_t>(kMaxMessageSize + 1), 0x80000000u, 0xffffffffu}) {
    std::string h = frame_header(kFrameMagic, len);
    FrameReader fr;
    fr.feed(h.data(), h.size());
    ASSERT_TRUE(fr.has_message()) << len;  // no waiting for the body
    auto r = fr.next();
    EXPECT_FALSE(r.ok()) << len;
  }
}

TEST(FrameReader, MaxSizeFrameWaitsForData) {
  std::string h = frame_header(kFrameMagic, static_cast<uint32_t>(kMaxMessageSize));
  FrameReader fr;
  fr.feed(h.data(), h.size());
  EXPECT_FALSE(fr.has_message());
}

TEST(FrameReader, MalformedMessageInsideGoodFrame) {
  // A frame whose body is not a valid message yields an error for that frame.
  std::string bad_body = hex("05 61 62");
  std::string stream = frame_header(kFrameMagic, static_cast<uint32_t>(bad_body.size())) + bad_body;
  FrameReader fr;
  fr.feed(stream.data(), stream.size());
  ASSERT_TRUE(fr.has_message());
  EXPECT_FALSE(fr.next().ok());
}

TEST(FrameReader, ZeroLengthFrameIsAnError) {
  std::string stream = frame_header(kFrameMagic, 0);
  FrameReader fr;
  fr.feed(stream.data(), stream.size());
  ASSERT_TRUE(fr.has_message());
  EXPECT_FALSE(fr.next().ok());
}

// ---- JSON payload helpers -------------------------------------------------

TEST(MessageJson, MissingPayloadIsEmptyObject) {
  Message m = Message::request("t");
  auto j = m.json();
  ASSERT_TRUE(j.ok());
  EXPECT_TRUE(j.value().is_object());
  EXPECT_TRUE(j.value().empty());
}

TEST(MessageJson, InvalidJsonIsError) {
  Message m = Message::request("t");
  for (std::string p : {std::string("{"), std::string("{\"a\":}\0", 7), std::string("not json"),
                        std::string(""), std::string("\0", 1), std::string("{} x")}) {
    m.set_payload(p);
    auto j = m.json();
    EXPECT_FALSE(j.ok()) << to_hex(p);
    if (!j.ok()) {
      EXPECT_EQ(j.error().errnum, EPROTO);
    }
  }
}

TEST(MessageJson, NonObjectIsError) {
  Message m = Message::request("t");
  for (const char* p : {"[1,2,3]", "[]", "42", "\"str\"", "null", "true"}) {
    m.set_payload(std::string(p) + '\0');
    auto j = m.json();
    EXPECT_FALSE(j.ok()) << p;
    if (!j.ok()) {
      EXPECT_EQ(j.error().errnum, EPROTO);
    }
  }
  m.set_json(Json::array({1, 2}));
  EXPECT_FALSE(m.json().ok());
}

TEST(MessageJson, SetJsonAddsTrailingNul) {
  Message m = Message::request("t");
  m.set_json(Json{{"a", 1}, {"b", "c"}});
  EXPECT_TRUE(m.has_payload());
  EXPECT_TRUE(m.has_flag(msgflag::kPayload));
  ASSERT_FALSE(m.payload().empty());
  EXPECT_EQ(m.payload().back(), '\0');
  EXPECT_EQ(m.payload(), std::string("{\"a\":1,\"b\":\"c\"}") + '\0');
  EXPECT_EQ(m.payload_string(), "{\"a\":1,\"b\":\"c\"}");
  auto j = m.json();
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j.value(), (Json{{"a", 1}, {"b", "c"}}));
  // Survives the wire.
  auto d = Message::decode(m.encode());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.value().payload(), m.payload());
  EXPECT_EQ(d.value().json().value(), (Json{{"a", 1}, {"b", "c"}}));
}

TEST(MessageJson, PayloadWithoutNulStillParses) {
  Message m = Message::request("t");
  m.set_payload("{\"k\":[1]}");
  auto j = m.json();
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j.value()["k"], Json::array({1}));
}

TEST(MessageJson, ClearPayload) {
  Message m = Message::request("t");
  m.set_json(Json{{"a", 1}});
  m.clear_payload();
  EXPECT_FALSE(m.has_payload());
  EXPECT_TRUE(m.payload().empty());
  EXPECT_TRUE(m.json().value().empty());
}

TEST(MessageJson, ErrorStringFromErrstr) {
  Message m(MsgType::Response);
  m.set_topic("t");
  m.set_errnum(ENOENT);
  m.set_json(Json{{"errstr", "no such key: foo"}});
  EXPECT_EQ(m.error_string(), "no such key: foo");
}

TEST(MessageJson, ErrorStringFallsBackToStrerror) {
  Message m(MsgType::Response);
  m.set_topic("t");
  m.set_errnum(ENOENT);
  EXPECT_EQ(m.error_string(), std::strerror(ENOENT));
  m.set_json(Json{{"other", 1}});
  EXPECT_EQ(m.error_string(), std::strerror(ENOENT));
  m.set_json(Json{{"errstr", 5}});
  EXPECT_EQ(m.error_string(), std::strerror(ENOENT));
  m.set_payload(std::string("\0", 1));
  EXPECT_EQ(m.error_string(), std::strerror(ENOENT));
  m.set_errnum(EPERM);
  m.clear_payload();
  EXPECT_EQ(m.error_string(), std::strerror(EPERM));
}

TEST(MessageJson, ErrorStringBareString) {
  // flux-core sends the error string as a bare NUL-terminated string.
  Message m(MsgType::Response);
  m.set_topic("t");
  m.set_errnum(EINVAL);
  m.set_payload(std::string("bad argument") + '\0');
  EXPECT_EQ(m.error_string(), "bad argument");
}

TEST(MessageMisc, TypeNames) {
  EXPECT_STREQ(msgtype_name(MsgType::Request), "request");
  EXPECT_STREQ(msgtype_name(MsgType::Response), "response");
  EXPECT_STREQ(msgtype_name(MsgType::Event), "event");
  EXPECT_STREQ(msgtype_name(MsgType::Control), "control");
}

TEST(MessageMisc, Defaults) {
  Message m;
  EXPECT_EQ(m.type(), MsgType::Request);
  EXPECT_EQ(m.flags(), 0);
  EXPECT_EQ(m.userid(), kUseridUnknown);
  EXPECT_EQ(m.rolemask(), role::kNone);
  EXPECT_EQ(m.aux1(), 0u);
  EXPECT_EQ(m.aux2(), 0u);
  EXPECT_EQ(m.first_route(), nullptr);
  Message r = Message::request("x");
  EXPECT_EQ(r.nodeid(), kNodeidAny);
  EXPECT_EQ(r.matchtag(), kMatchtagNone);
  EXPECT_TRUE(r.has_flag(msgflag::kTopic));
}
