// RFC 11 tree objects: construction, validation and (de)serialization.
// See treeobj.hpp for the choices made where RFC 11 and flux-core differ.
#include "treeobj.hpp"

#include "printable.hpp"

#include <cerrno>
#include <cstdint>
#include <utility>

#include "base64.hpp"
#include "json_check.hpp"

namespace flux::treeobj {
namespace {

// Untrusted names and values appear in error messages, which may travel in
// JSON error responses: show at most this many bytes, printable ASCII only.
constexpr size_t kShowMax = 64;
constexpr size_t kPathShowMax = 200;

std::string show(std::string_view s, size_t max = kShowMax) {
  return printable(s, max);
}

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool is_nonnegative_integer(const Json& j) {
  if (j.is_number_unsigned()) return true;
  return j.is_number_integer() && j.get<int64_t>() >= 0;
}

// Walks one object (and, for dirs, its entries), remembering the dir entry
// names from the root so that an error can say where it is.
class Validator {
 public:
  std::optional<Error> check(const Json& obj, int depth);

 private:
  std::optional<Error> check_val(const Json& data, const Json* size);
  std::optional<Error> check_refs(std::string_view type, const Json& data);
  std::optional<Error> check_dir(const Json& data, int depth);
  std::optional<Error> check_symlink(const Json& data);
  Error fail(const std::string& what, int errnum = EINVAL) const;

  std::vector<std::string_view> path_;
};

Error Validator::fail(const std::string& what, int errnum) const {
  std::string msg = "treeobj: ";
  if (!path_.empty()) {
    std::string path;
    for (auto name : path_) {
      if (!path.empty()) path += '.';
      path += name;
      if (path.size() > kPathShowMax) break;
    }
    msg += "dir entry '" + show(path, kPathShowMax) + "': ";
  }
  msg += what;
  return Error{errnum, std::move(msg)};
}

std::optional<Error> Validator::check(const Json& obj, int depth) {
  if (depth > kMaxDirDepth) {
    return fail("dir nesting exceeds " + std::to_string(kMaxDirDepth) + " levels");
  }
  if (!obj.is_object()) return fail("not a JSON object");

  auto ver = obj.find("ver");
  if (ver == obj.end()) return fail("missing 'ver'");
  if (!ver->is_number_integer()) return fail("'ver' must be an integer");
  if (*ver != kVersion) return fail("unsupported version " + ver->dump());

  auto type_it = obj.find("type");
  if (type_it == obj.end()) return fail("missing 'type'");
  if (!type_it->is_string()) return fail("'type' must be a string");
  const auto& type = type_it->get_ref<const std::string&>();
  if (type == "hdir") {
    return fail("hdir objects are not supported (RFC 11 leaves them unimplemented)", ENOTSUP);
  }
  if (type != "val" && type != "valref" && type != "dir" && type != "dirref" && type != "symlink") {
    return fail("unknown type '" + show(type) + "'");
  }

  auto data = obj.find("data");
  if (data == obj.end()) return fail("missing 'data'");

  const Json* size = nullptr;
  for (const auto& [key, value] : obj.items()) {
    if (key == "ver" || key == "type" || key == "data") continue;
    if (key != "size") return fail("unexpected key '" + show(key) + "'");
    if (type != "val" && type != "valref") {
      return fail("'size' is only allowed on val and valref");
    }
    if (!is_nonnegative_integer(value)) return fail("'size' must be a non-negative integer");
    size = &value;
  }

  if (type == "val") return check_val(*data, size);
  if (type == "valref" || type == "dirref") return check_refs(type, *data);
  if (type == "dir") return check_dir(*data, depth);
  return check_symlink(*data);
}

std::optional<Error> Validator::check_val(const Json& data, const Json* size) {
  if (!data.is_string()) return fail("val data must be a base64 string");
  auto bytes = base64_decode(data.get_ref<const std::string&>());
  if (!bytes.ok()) return fail("val data is not valid base64");
  if (size && size->get<uint64_t>() != bytes.value().size()) {
    return fail("val size " + size->dump() + " does not match its " +
                std::to_string(bytes.value().size()) + "-byte data");
  }
  return std::nullopt;
}

std::optional<Error> Validator::check_refs(std::string_view type, const Json& data) {
  if (type == "dirref") {
    if (!data.is_array() || data.size() != 1) {
      return fail("dirref data must be an array of exactly one blobref");
    }
  } else if (!data.is_array() || data.empty()) {
    return fail("valref data must be a non-empty array of blobrefs");
  }
  for (size_t i = 0; i < data.size(); i++) {
    const Json& ref = data[i];
    if (!ref.is_string() || !is_blobref(ref.get_ref<const std::string&>())) {
      std::string what = std::string(type) + " data[" + std::to_string(i) + "] is not a blobref";
      if (ref.is_string()) what += ": '" + show(ref.get_ref<const std::string&>()) + "'";
      return fail(what);
    }
  }
  return std::nullopt;
}

std::optional<Error> Validator::check_dir(const Json& data, int depth) {
  if (!data.is_object()) return fail("dir data must be an object");
  for (const auto& [name, entry] : data.items()) {
    if (name.empty()) return fail("dir has an entry with an empty name");
    if (name.find('.') != std::string::npos) {
      return fail("dir entry name '" + show(name) + "' contains '.'");
    }
    if (!utf8_valid(name)) return fail("dir entry name '" + show(name) + "' is not valid UTF-8");
    path_.push_back(name);
    auto err = check(entry, depth + 1);
    path_.pop_back();
    if (err) return err;
  }
  return std::nullopt;
}

std::optional<Error> Validator::check_symlink(const Json& data) {
  if (!data.is_object()) return fail("symlink data must be an object");
  auto target = data.find("target");
  if (target == data.end() || !target->is_string() ||
      target->get_ref<const std::string&>().empty()) {
    return fail("symlink target must be a non-empty string");
  }
  if (!utf8_valid(target->get_ref<const std::string&>())) {
    return fail("symlink target is not valid UTF-8");
  }
  for (const auto& [key, value] : data.items()) {
    if (key == "target") continue;
    if (key != "namespace") return fail("symlink data has unexpected key '" + show(key) + "'");
    if (!value.is_string()) return fail("symlink namespace must be a string");
    if (!utf8_valid(value.get_ref<const std::string&>())) {
      return fail("symlink namespace is not valid UTF-8");
    }
  }
  return std::nullopt;
}

Json make(std::string_view type, Json data) {
  Json obj = Json::object();
  obj["data"] = std::move(data);
  obj["type"] = type;
  obj["ver"] = kVersion;
  return obj;
}

Json checked(Json obj) {
  if (auto err = validate(obj)) throw FluxError(*err);
  return obj;
}

}  // namespace

bool is_blobref(std::string_view s) {
  auto dash = s.find('-');
  if (dash == std::string_view::npos) return false;
  auto alg = s.substr(0, dash);
  auto hex = s.substr(dash + 1);
  size_t want;
  if (alg == "sha1") {
    want = 40;
  } else if (alg == "sha256") {
    want = 64;
  } else {
    return false;
  }
  return hex.size() == want && is_lower_hex(hex);
}

Json make_val(std::string_view bytes) {
  return make("val", base64_encode(bytes));
}

Json make_valref(std::vector<std::string> blobrefs) {
  Json data = Json::array();
  for (auto& ref : blobrefs) data.push_back(std::move(ref));
  return checked(make("valref", std::move(data)));
}

Json make_dir(Json entries) {
  return checked(make("dir", std::move(entries)));
}

Json make_dirref(const std::string& blobref) {
  return checked(make("dirref", Json::array({blobref})));
}

Json make_symlink(const std::string& target, const std::string& ns) {
  Json data = Json::object();
  data["target"] = target;
  if (!ns.empty()) data["namespace"] = ns;
  return checked(make("symlink", std::move(data)));
}

std::optional<Error> validate(const Json& obj) {
  return Validator().check(obj, 1);
}

std::string_view type_of(const Json& obj) {
  if (!obj.is_object()) return {};
  auto it = obj.find("type");
  if (it == obj.end() || !it->is_string()) return {};
  return it->get_ref<const std::string&>();
}

bool is_val(const Json& obj) {
  return type_of(obj) == "val";
}
bool is_valref(const Json& obj) {
  return type_of(obj) == "valref";
}
bool is_dir(const Json& obj) {
  return type_of(obj) == "dir";
}
bool is_dirref(const Json& obj) {
  return type_of(obj) == "dirref";
}
bool is_symlink(const Json& obj) {
  return type_of(obj) == "symlink";
}

Result<std::string> decode_val(const Json& obj) {
  if (!is_val(obj)) return Error{EINVAL, "treeobj: not a val object"};
  auto data = obj.find("data");
  if (data == obj.end() || !data->is_string()) {
    return Error{EINVAL, "treeobj: val data must be a base64 string"};
  }
  auto bytes = base64_decode(data->get_ref<const std::string&>());
  if (!bytes.ok()) return Error{EINVAL, "treeobj: val data is not valid base64"};
  return std::move(bytes).value();
}

Result<Json> decode(std::string_view text) {
  // A valid object nests at most two JSON levels per dir level.
  if (json_nesting_exceeds(text, 2 * static_cast<size_t>(kMaxDirDepth))) {
    return Error{EPROTO, "treeobj: JSON nesting is too deep"};
  }
  Json obj = Json::parse(text.begin(), text.end(), nullptr, false);
  if (obj.is_discarded()) return Error{EPROTO, "treeobj: not valid JSON"};
  if (auto err = validate(obj)) return Error{EPROTO, err->message};
  return obj;
}

std::string encode(const Json& obj) {
  return obj.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace flux::treeobj
