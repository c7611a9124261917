// libFuzzer target for flux::treeobj (RFC 11 tree objects).
//
// Every input is
//   1. wrapped as a val (make_val), which must validate and give the bytes
//      back through decode_val and through encode/decode;
//   2. tried as a blobref: make_dirref/make_valref must succeed exactly
//      when is_blobref says so;
//   3. decoded as a serialized treeobj. decode() must agree with a plain
//      parse + validate(); a decoded object must re-encode to text that
//      decodes to the same object, have exactly one type, and be rebuilt
//      identically by the matching constructor; a refusal must be EPROTO
//      with a printable-ASCII message.
// Any mismatch calls abort() so libFuzzer records the input as a crash.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "libflux/json_check.hpp"
#include "libflux/treeobj.hpp"

using flux::FluxError;
using flux::Json;
namespace to = flux::treeobj;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_treeobj: %s\n", what);
  std::abort();
}

bool printable_ascii(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return !s.empty();
}

void check_val_wrap(std::string_view bytes) {
  Json v = to::make_val(bytes);
  if (to::validate(v)) fail("make_val built an invalid object");
  auto back = to::decode_val(v);
  if (!back.ok() || back.value() != bytes) fail("decode_val(make_val(x)) != x");
  auto again = to::decode(to::encode(v));
  if (!again.ok() || again.value() != v) fail("val does not survive encode/decode");
}

void check_blobref(std::string_view text) {
  std::string s(text);
  bool ok = to::is_blobref(s);
  try {
    Json d = to::make_dirref(s);
    Json r = to::make_valref({s, s});
    if (!ok) fail("make_dirref accepted a non-blobref");
    if (to::validate(d) || to::validate(r)) fail("ref constructors built invalid objects");
  } catch (const FluxError& e) {
    if (ok) fail("make_dirref refused a blobref");
    if (e.errnum() != EINVAL) fail("make_dirref error is not EINVAL");
  }
}

// The constructor for obj's type, fed obj's own parts, must rebuild obj.
void check_rebuild(const Json& obj) {
  const Json& data = obj.at("data");
  auto type = to::type_of(obj);
  bool has_size = obj.contains("size");
  if (type == "val") {
    auto bytes = to::decode_val(obj);
    if (!bytes.ok()) fail("decode_val failed on a valid val");
    check_val_wrap(bytes.value());
  } else if (type == "valref") {
    std::vector<std::string> refs;
    for (const auto& r : data) refs.push_back(r.get<std::string>());
    Json again = to::make_valref(refs);
    if (!has_size && again != obj) fail("make_valref did not rebuild the valref");
  } else if (type == "dirref") {
    if (to::make_dirref(data.at(0).get<std::string>()) != obj) fail("make_dirref mismatch");
  } else if (type == "dir") {
    if (to::make_dir(data) != obj) fail("make_dir did not rebuild the dir");
  } else if (type == "symlink") {
    std::string ns = data.value("namespace", "");
    Json again = to::make_symlink(data.at("target").get<std::string>(), ns);
    if (!(data.contains("namespace") && ns.empty()) && again != obj) {
      fail("make_symlink did not rebuild the symlink");
    }
  } else {
    fail("valid object with an unexpected type");
  }
}

void check_valid(const Json& obj) {
  if (to::validate(obj)) fail("decode returned an object validate refuses");
  int kinds = to::is_val(obj) + to::is_valref(obj) + to::is_dir(obj) + to::is_dirref(obj) +
              to::is_symlink(obj);
  if (kinds != 1) fail("valid object is not exactly one type");
  std::string enc = to::encode(obj);
  auto again = to::decode(enc);
  if (!again.ok()) fail("re-encoded object does not decode");
  if (again.value() != obj) fail("encode/decode changed the object");
  if (to::encode(again.value()) != enc) fail("second encoding differs from the first");
  check_rebuild(obj);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  check_val_wrap(text);
  check_blobref(text);

  auto r = to::decode(text);
  // decode() must agree with parsing and validating by hand.
  if (!flux::json_nesting_exceeds(text, 2 * static_cast<size_t>(to::kMaxDirDepth))) {
    Json j = Json::parse(text.begin(), text.end(), nullptr, false);
    bool valid = !j.is_discarded() && !to::validate(j);
    if (valid != r.ok()) fail("decode disagrees with parse + validate");
    if (!j.is_discarded()) {
      auto err = to::validate(j);
      if (err && err->errnum != EINVAL && err->errnum != ENOTSUP) fail("validate errnum");
      if (err && !printable_ascii(err->message)) fail("validate message not printable ASCII");
      (void)to::type_of(j);
      (void)to::decode_val(j);
    }
  } else if (r.ok()) {
    fail("decode accepted JSON nested beyond any valid object");
  }
  if (r.ok()) {
    check_valid(r.value());
  } else {
    if (r.error().errnum != EPROTO) fail("decode error is not EPROTO");
    if (!printable_ascii(r.error().message)) fail("decode message not printable ASCII");
  }
  return 0;
}
