#include "message.hpp"

#include <cstring>

namespace flux {
namespace {

void put_be32(std::string& out, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out.append(b, 4);
}

uint32_t get_be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

size_t part_size(size_t len) {
  return (len < 255 ? 1 : 5) + len;
}

void put_part(std::string& out, std::string_view data) {
  if (data.size() < 255) {
    out.push_back(static_cast<char>(data.size()));
  } else {
    out.push_back(static_cast<char>(0xff));
    put_be32(out, static_cast<uint32_t>(data.size()));
  }
  out.append(data);
}

bool valid_type(uint8_t t) {
  return t == 1 || t == 2 || t == 4 || t == 8;
}

Error bad(const std::string& why) {
  return Error{EPROTO, "malformed message: " + why};
}

}  // namespace

const char* msgtype_name(MsgType t) {
  switch (t) {
    case MsgType::Request:
      return "request";
    case MsgType::Response:
      return "response";
    case MsgType::Event:
      return "event";
    case MsgType::Control:
      return "control";
  }
  return "unknown";
}

Message Message::request(std::string topic, uint32_t nodeid) {
  Message m(MsgType::Request);
  m.set_topic(std::move(topic));
  m.set_nodeid(nodeid);
  return m;
}

Message Message::event(std::string topic) {
  Message m(MsgType::Event);
  m.set_topic(std::move(topic));
  return m;
}

Message Message::response_to(const Message& req) {
  Message m(MsgType::Response);
  m.set_topic(req.topic_);
  m.flags_ |= req.flags_ & (msgflag::kRoute | msgflag::kStreaming | msgflag::kUser1);
  m.routes_ = req.routes_;
  m.userid_ = req.userid_;
  m.rolemask_ = req.rolemask_;
  m.aux2_ = req.aux2_;
  return m;
}

void Message::set_json(const Json& j) {
  std::string s = j.dump();
  s.push_back('\0');
  set_payload(std::move(s));
}

std::string_view Message::payload_string() const {
  std::string_view s = payload_;
  if (!s.empty() && s.back() == '\0') s.remove_suffix(1);
  return s;
}

Result<Json> Message::json() const {
  if (!has_payload()) return Json::object();
  std::string_view s = payload_string();
  Json j = Json::parse(s.begin(), s.end(), nullptr, false);
  if (j.is_discarded()) return Error{EPROTO, "payload is not valid JSON"};
  if (!j.is_object()) return Error{EPROTO, "payload is not a JSON object"};
  return j;
}

std::string Message::error_string() const {
  if (has_payload()) {
    std::string_view s = payload_string();
    Json j = Json::parse(s.begin(), s.end(), nullptr, false);
    if (j.is_object() && j.contains("errstr") && j["errstr"].is_string())
      return j["errstr"].get<std::string>();
    // flux-core sends the error string as a bare string payload.
    if (!j.is_discarded() && !j.is_object()) return std::string(s);
    if (j.is_discarded() && !s.empty()) return std::string(s);
  }
  return std::strerror(errnum());
}

size_t Message::encoded_size() const {
  size_t n = part_size(kProtoSize);
  if (has_flag(msgflag::kRoute)) {
    for (const auto& r : routes_) n += part_size(r.size());
    n += 1;
  }
  if (has_flag(msgflag::kTopic)) n += part_size(topic_.size());
  if (has_flag(msgflag::kPayload)) n += part_size(payload_.size());
  return n;
}

void Message::encode_to(std::string& out) const {
  if (has_flag(msgflag::kRoute)) {
    for (auto it = routes_.rbegin(); it != routes_.rend(); ++it) put_part(out, *it);
    out.push_back('\0');  // delimiter
  }
  if (has_flag(msgflag::kTopic)) put_part(out, topic_);
  if (has_flag(msgflag::kPayload)) put_part(out, payload_);
  out.push_back(static_cast<char>(kProtoSize));
  out.push_back(static_cast<char>(kProtoMagic));
  out.push_back(static_cast<char>(kProtoVersion));
  out.push_back(static_cast<char>(type_));
  out.push_back(static_cast<char>(flags_));
  put_be32(out, userid_);
  put_be32(out, rolemask_);
  put_be32(out, aux1_);
  put_be32(out, aux2_);
}

std::string Message::encode() const {
  std::string out;
  out.reserve(encoded_size());
  encode_to(out);
  return out;
}

void Message::frame_to(std::string& out) const {
  size_t len = encoded_size();
  uint32_t magic = kFrameMagic;
  out.reserve(out.size() + kFrameHeaderSize + len);
  out.append(reinterpret_cast<const char*>(&magic), 4);
  put_be32(out, static_cast<uint32_t>(len));
  encode_to(out);
}

Result<Message> Message::decode(std::string_view buf) {
  if (buf.size() > kMaxMessageSize) return bad("message too large");
  // Split into parts.
  std::vector<std::string_view> parts;
  const auto* p = reinterpret_cast<const unsigned char*>(buf.data());
  size_t off = 0;
  while (off < buf.size()) {
    size_t len = p[off++];
    if (len == 255) {
      if (buf.size() - off < 4) return bad("truncated part length");
      len = get_be32(p + off);
      off += 4;
    }
    if (len > buf.size() - off) return bad("truncated part");
    parts.emplace_back(buf.data() + off, len);
    off += len;
  }
  if (parts.empty()) return bad("no parts");
  std::string_view proto = parts.back();
  parts.pop_back();
  if (proto.size() != kProtoSize) return bad("PROTO block has wrong size");
  const auto* h = reinterpret_cast<const unsigned char*>(proto.data());
  if (h[0] != kProtoMagic) return bad("bad magic");
  if (h[1] != kProtoVersion) return bad("unsupported version");
  if (!valid_type(h[2])) return bad("unknown message type");
  Message m(static_cast<MsgType>(h[2]));
  m.flags_ = h[3];
  m.userid_ = get_be32(h + 4);
  m.rolemask_ = get_be32(h + 8);
  m.aux1_ = get_be32(h + 12);
  m.aux2_ = get_be32(h + 16);

  size_t i = 0;
  if (m.has_flag(msgflag::kRoute)) {
    size_t delim = i;
    while (delim < parts.size() && !parts[delim].empty()) delim++;
    if (delim == parts.size()) return bad("route flag set but no route delimiter");
    for (size_t r = delim; r > i; r--) m.routes_.emplace_back(parts[r - 1]);
    i = delim + 1;
  }
  if (m.has_flag(msgflag::kTopic)) {
    if (i >= parts.size()) return bad("topic flag set but no topic part");
    m.topic_.assign(parts[i++]);
  } else if (m.type_ != MsgType::Control) {
    return bad("request, response and event messages need a topic");
  }
  if (m.has_flag(msgflag::kPayload)) {
    if (i >= parts.size()) return bad("payload flag set but no payload part");
    m.payload_.assign(parts[i++]);
  }
  if (i != parts.size()) return bad("unexpected extra parts");
  return m;
}

bool FrameReader::has_message() const {
  size_t avail = buf_.size() - pos_;
  if (avail < kFrameHeaderSize) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
  uint32_t len = get_be32(p + 4);
  uint32_t magic;
  std::memcpy(&magic, p, 4);
  if (magic != kFrameMagic || len > max_) return true;  // next() reports it
  return avail - kFrameHeaderSize >= len;
}

Result<Message> FrameReader::next() {
  if (!has_message()) return Error{EAGAIN, "no complete frame buffered"};
  const auto* p = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
  uint32_t magic;
  std::memcpy(&magic, p, 4);
  if (magic != kFrameMagic) return bad("bad frame magic");
  uint32_t len = get_be32(p + 4);
  if (len > max_)
    return bad("a message of " + std::to_string(len) + " bytes is over the limit of " +
               std::to_string(max_));
  auto r = Message::decode(std::string_view(buf_.data() + pos_ + kFrameHeaderSize, len));
  pos_ += kFrameHeaderSize + len;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 65536 && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  return r;
}

}  // namespace flux
