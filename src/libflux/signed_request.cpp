#include "signed_request.hpp"

#include <cerrno>
#include <map>

#include "base64.hpp"
#include "json.hpp"

namespace flux {

namespace {

// flux-security's kv encoding: KEY NUL TYPE VALUE NUL ..., TYPE 'i' for
// integers, 's' for strings.
std::map<std::string, std::string> kv_decode(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    size_t k = text.find('\0');
    if (k == std::string_view::npos) break;
    size_t v = text.find('\0', k + 1);
    if (v == std::string_view::npos) break;
    out[std::string(text.substr(0, k))] = std::string(text.substr(k + 1, v - k - 1));
    text.remove_prefix(v + 1);
  }
  return out;
}

bool parse_uint32(std::string_view s, uint32_t& out) {
  if (s.empty() || s.size() > 10) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > UINT32_MAX) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

}  // namespace

std::string sign_none(std::string_view payload, uint32_t userid) {
  std::string header = "version";
  header += '\0';
  header += "i1";
  header += '\0';
  header += "userid";
  header += '\0';
  header += "i" + std::to_string(userid);
  header += '\0';
  header += "mechanism";
  header += '\0';
  header += "snone";
  header += '\0';
  return base64_encode(header) + "." + base64_encode(payload) + ".none";
}

Result<SignedRequest> unwrap_signed(std::string_view j) {
  auto fail = [](const std::string& why) { return Error{EINVAL, "J: " + why}; };
  size_t dot1 = j.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : j.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return fail("expected HEADER.PAYLOAD.SIGNATURE");
  auto header_text = base64_decode(j.substr(0, dot1));
  if (!header_text) return fail("header is not base64");
  SignedRequest r;
  if (!header_text->empty() && header_text->front() == '{') {
    // Older versions of this project wrote a JSON header.
    Json header = Json::parse(*header_text, nullptr, false);
    if (!header.is_object()) return fail("header is not a JSON object");
    auto version = header.find("version");
    if (version == header.end() || *version != 1) return fail("header: version must be 1");
    auto mech = header.find("mechanism");
    if (mech == header.end() || !mech->is_string()) return fail("header: mechanism missing");
    r.mechanism = mech->get<std::string>();
    auto uid = header.find("userid");
    if (uid == header.end() || !uid->is_number_unsigned() || *uid > UINT32_MAX)
      return fail("header: userid missing");
    r.userid = uid->get<uint32_t>();
  } else {
    auto kv = kv_decode(*header_text);
    if (kv["version"] != "i1") return fail("header: version must be 1");
    const std::string& mech = kv["mechanism"];
    if (mech.size() < 2 || mech[0] != 's') return fail("header: mechanism missing");
    r.mechanism = mech.substr(1);
    const std::string& uid = kv["userid"];
    if (uid.empty() || uid[0] != 'i' || !parse_uint32(std::string_view(uid).substr(1), r.userid))
      return fail("header: userid missing");
  }
  auto payload = base64_decode(j.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload) return fail("payload is not base64");
  r.payload = std::move(*payload);
  std::string_view sig = j.substr(dot2 + 1);
  if (r.mechanism != "none") return fail("unsupported signing mechanism " + r.mechanism);
  if (sig != "none") return fail("signature of mechanism none must be \"none\"");
  return r;
}

}  // namespace flux
