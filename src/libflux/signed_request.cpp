#include "signed_request.hpp"

#include <cerrno>

#include "base64.hpp"
#include "json.hpp"

namespace flux {

std::string sign_none(std::string_view payload, uint32_t userid) {
  Json header = {{"version", 1}, {"mechanism", "none"}, {"userid", userid}};
  return base64_encode(header.dump()) + "." + base64_encode(payload) + ".none";
}

Result<SignedRequest> unwrap_signed(std::string_view j) {
  auto fail = [](const std::string& why) { return Error{EINVAL, "J: " + why}; };
  size_t dot1 = j.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : j.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return fail("expected HEADER.PAYLOAD.SIGNATURE");
  auto header_text = base64_decode(j.substr(0, dot1));
  if (!header_text) return fail("header is not base64");
  Json header = Json::parse(*header_text, nullptr, false);
  if (!header.is_object()) return fail("header is not a JSON object");
  SignedRequest r;
  auto version = header.find("version");
  if (version == header.end() || *version != 1) return fail("header: version must be 1");
  auto mech = header.find("mechanism");
  if (mech == header.end() || !mech->is_string()) return fail("header: mechanism missing");
  r.mechanism = mech->get<std::string>();
  auto uid = header.find("userid");
  if (uid == header.end() || !uid->is_number_unsigned() || *uid > UINT32_MAX)
    return fail("header: userid missing");
  r.userid = uid->get<uint32_t>();
  auto payload = base64_decode(j.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload) return fail("payload is not base64");
  r.payload = std::move(*payload);
  std::string_view sig = j.substr(dot2 + 1);
  if (r.mechanism != "none") return fail("unsupported signing mechanism " + r.mechanism);
  if (sig != "none") return fail("signature of mechanism none must be \"none\"");
  return r;
}

}  // namespace flux
