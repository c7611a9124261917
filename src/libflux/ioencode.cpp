#include "ioencode.hpp"

#include "base64.hpp"

namespace flux {

size_t utf8_complete_prefix(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t len;
    uint32_t min;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      min = 0x10000;
    } else {
      return std::string_view::npos;
    }
    uint32_t cp = c & (0x7f >> len);
    size_t j = 1;
    for (; j < len && i + j < n; j++) {
      auto cc = static_cast<unsigned char>(s[i + j]);
      if ((cc & 0xc0) != 0x80) return std::string_view::npos;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (j < len) return i;  // a character split at the end
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return std::string_view::npos;
    i += len;
  }
  return n;
}

void data_encode_into(Json& o, std::string_view data) {
  if (utf8_complete_prefix(data) == data.size()) {
    o["data"] = data;
  } else {
    o["encoding"] = "base64";
    o["data"] = base64_encode(data);
  }
}

Result<std::string> data_decode(const Json& o) {
  auto d = o.find("data");
  if (d == o.end() || d->is_null()) return std::string();
  if (!d->is_string()) return Error{EPROTO, "data is not a string"};
  std::string enc = o.value("encoding", std::string());
  if (enc == "base64") {
    auto raw = base64_decode(d->get<std::string>());
    if (!raw) return Error{EPROTO, "data is not valid base64"};
    return std::move(*raw);
  }
  if (enc.empty() || enc == "utf-8") return d->get<std::string>();
  return Error{EPROTO, "unknown data encoding " + enc};
}

Json io_encode(std::string_view stream, std::string_view rank, std::string_view data, bool eof) {
  Json o = {{"stream", stream}, {"rank", rank}};
  if (!data.empty()) data_encode_into(o, data);
  if (eof) o["eof"] = true;
  return o;
}

Result<IoData> io_decode(const Json& io) {
  if (!io.is_object() || !io.contains("stream") || !io["stream"].is_string())
    return Error{EPROTO, "io object has no stream"};
  IoData out;
  out.stream = io["stream"].get<std::string>();
  if (auto r = io.find("rank"); r != io.end())
    out.rank = r->is_string() ? r->get<std::string>() : r->dump();
  if (auto e = io.find("eof"); e != io.end()) {
    if (!e->is_boolean()) return Error{EPROTO, "io eof is not a boolean"};
    out.eof = e->get<bool>();
  }
  auto data = data_decode(io);
  if (!data) return Error{EPROTO, "io " + data.error().message};
  out.data = std::move(*data);
  return out;
}

}  // namespace flux
