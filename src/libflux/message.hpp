// Message: one Flux message (RFC 3) — request, response, event or control —
// with its encoding to the RFC 3 part layout and the local-connector framing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "json.hpp"
#include "result.hpp"

namespace flux {

enum class MsgType : uint8_t { Request = 1, Response = 2, Event = 4, Control = 8 };

namespace msgflag {
constexpr uint8_t kTopic = 0x01;
constexpr uint8_t kPayload = 0x02;
constexpr uint8_t kNoResponse = 0x04;
constexpr uint8_t kRoute = 0x08;
constexpr uint8_t kUpstream = 0x10;
constexpr uint8_t kPrivate = 0x20;
constexpr uint8_t kStreaming = 0x40;
constexpr uint8_t kUser1 = 0x80;
}  // namespace msgflag

namespace role {
constexpr uint32_t kNone = 0;
constexpr uint32_t kOwner = 1;
constexpr uint32_t kUser = 2;
constexpr uint32_t kLocal = 4;
constexpr uint32_t kAll = 0xffffffff;
}  // namespace role

constexpr uint32_t kNodeidAny = 0xffffffff;
constexpr uint32_t kNodeidUpstream = 0xfffffffe;
constexpr uint32_t kUseridUnknown = 0xffffffff;
constexpr uint32_t kMatchtagNone = 0;

constexpr uint8_t kProtoMagic = 0x8e;
constexpr uint8_t kProtoVersion = 1;
constexpr size_t kProtoSize = 20;
// Upper bound on one encoded message; larger input is rejected, not buffered.
constexpr size_t kMaxMessageSize = size_t{1} << 30;
// Local connector frame: magic word (host byte order) then big-endian length.
constexpr uint32_t kFrameMagic = 0xffee0012;
constexpr size_t kFrameHeaderSize = 8;

const char* msgtype_name(MsgType t);

class Message {
 public:
  Message() = default;
  explicit Message(MsgType type) : type_(type) {}
  static Message request(std::string topic, uint32_t nodeid = kNodeidAny);
  static Message event(std::string topic);
  // A response addressed back along req's route stack.
  static Message response_to(const Message& req);

  MsgType type() const { return type_; }
  void set_type(MsgType t) { type_ = t; }
  uint8_t flags() const { return flags_; }
  bool has_flag(uint8_t f) const { return (flags_ & f) != 0; }
  void set_flag(uint8_t f) { flags_ |= f; }
  void clear_flag(uint8_t f) { flags_ &= static_cast<uint8_t>(~f); }

  const std::string& topic() const { return topic_; }
  void set_topic(std::string t) {
    topic_ = std::move(t);
    set_flag(msgflag::kTopic);
  }

  bool has_payload() const { return has_flag(msgflag::kPayload); }
  const std::string& payload() const { return payload_; }
  void set_payload(std::string bytes) {
    payload_ = std::move(bytes);
    set_flag(msgflag::kPayload);
  }
  void clear_payload() {
    payload_.clear();
    clear_flag(msgflag::kPayload);
  }
  // JSON payloads carry a trailing NUL on the wire, as flux-core's do.
  void set_json(const Json& j);
  // Parse the payload as a JSON object; no payload parses as {}.
  Result<Json> json() const;
  // The payload without its trailing NUL, for string payloads.
  std::string_view payload_string() const;

  uint32_t userid() const { return userid_; }
  void set_userid(uint32_t u) { userid_ = u; }
  uint32_t rolemask() const { return rolemask_; }
  void set_rolemask(uint32_t r) { rolemask_ = r; }

  // aux1 is nodeid (request), errnum (response), sequence (event),
  // type (control); aux2 is matchtag (request/response), status (control).
  uint32_t aux1() const { return aux1_; }
  uint32_t aux2() const { return aux2_; }
  void set_aux1(uint32_t v) { aux1_ = v; }
  void set_aux2(uint32_t v) { aux2_ = v; }
  uint32_t nodeid() const { return aux1_; }
  void set_nodeid(uint32_t n) { aux1_ = n; }
  int errnum() const { return static_cast<int>(aux1_); }
  void set_errnum(int e) { aux1_ = static_cast<uint32_t>(e); }
  uint32_t seq() const { return aux1_; }
  void set_seq(uint32_t s) { aux1_ = s; }
  uint32_t matchtag() const { return aux2_; }
  void set_matchtag(uint32_t m) { aux2_ = m; }

  // Route stack. back() is the most recent hop (first part on the wire).
  bool has_routes() const { return has_flag(msgflag::kRoute); }
  void enable_routes() { set_flag(msgflag::kRoute); }
  void clear_routes() {
    routes_.clear();
    clear_flag(msgflag::kRoute);
  }
  const std::vector<std::string>& routes() const { return routes_; }
  void push_route(std::string id) {
    set_flag(msgflag::kRoute);
    routes_.push_back(std::move(id));
  }
  std::string pop_route() {
    if (routes_.empty()) return {};
    std::string r = std::move(routes_.back());
    routes_.pop_back();
    return r;
  }
  // The route the request entered the instance by (its sender's identity).
  const std::string* first_route() const { return routes_.empty() ? nullptr : &routes_.front(); }

  // Error responses carry errnum and, optionally, {"errstr": "..."}.
  std::string error_string() const;

  // RFC 3 encoding: size-prefixed parts, PROTO block last.
  size_t encoded_size() const;
  void encode_to(std::string& out) const;
  std::string encode() const;
  static Result<Message> decode(std::string_view buf);

  // Local-connector framing: 8-byte frame header then the encoding.
  void frame_to(std::string& out) const;

 private:
  MsgType type_ = MsgType::Request;
  uint8_t flags_ = 0;
  uint32_t userid_ = kUseridUnknown;
  uint32_t rolemask_ = role::kNone;
  uint32_t aux1_ = 0;
  uint32_t aux2_ = 0;
  std::string topic_;
  std::string payload_;
  std::vector<std::string> routes_;
};

// Reassembles framed messages from a byte stream (the local connector).
class FrameReader {
 public:
  // Append received bytes.
  void feed(const char* data, size_t len) { buf_.append(data, len); }
  // Next complete message: nullopt-like empty Result is signalled by
  // has_message(); a malformed frame is an Error and poisons the stream.
  bool has_message() const;
  Result<Message> next();
  size_t buffered() const { return buf_.size() - pos_; }
  // Frames announcing more than this many bytes are an error as soon as
  // their header arrives (nothing of them is buffered).
  void set_max_size(size_t n) { max_ = n < kMaxMessageSize ? n : kMaxMessageSize; }

 private:
  std::string buf_;
  size_t pos_ = 0;
  size_t max_ = kMaxMessageSize;
};

}  // namespace flux
