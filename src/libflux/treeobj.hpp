// RFC 11 KVS tree objects: the JSON metadata (val, valref, dir, dirref,
// symlink) that the KVS stores in the content store and passes in RPCs.
// Constructors build objects exactly as flux-core writes them
// ({"data":..,"type":..,"ver":1}, no "size"); validate() checks untrusted
// objects structurally, recursing through dirs with a depth limit.
//
// Choices where RFC 11 and flux-core leave room:
//   - hdir is rejected with ENOTSUP (RFC 11: "not implemented"; flux-core
//     treats it as an unknown type).
//   - The optional "size" key (RFC 11) is accepted on val and valref when it
//     is a non-negative integer, and on a val must equal the decoded length.
//     flux-core never writes it (and its unpacker refuses extra keys); we
//     never write it either. Any other extra key is rejected.
//   - dirref data must hold exactly one blobref (RFC 11: "at this time the
//     array size is limited to one"); flux-core does not check this.
//   - dir entry names must be non-empty, free of '.', and valid UTF-8;
//     symlink targets must be non-empty. flux-core checks neither.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json.hpp"
#include "result.hpp"

namespace flux::treeobj {

inline constexpr int kVersion = 1;

// validate() refuses dirs nested deeper than this (the top-level object is
// level 1), so hostile input cannot exhaust the stack.
inline constexpr int kMaxDirDepth = 1024;

// "<alg>-<lowercase hex digest>" with alg sha1 (40 hex digits) or sha256
// (64 hex digits), as flux-core's blobref_validate() accepts.
bool is_blobref(std::string_view s);

// Constructors. Each returns a valid object or throws FluxError(EINVAL):
// make_valref needs at least one blobref and all must pass is_blobref;
// make_dir's entries must be an object whose values are valid treeobjs
// under valid names; make_symlink needs a non-empty UTF-8 target and adds
// "namespace" only when ns is non-empty.
Json make_val(std::string_view bytes);
Json make_valref(std::vector<std::string> blobrefs);
Json make_dir(Json entries = Json::object());
Json make_dirref(const std::string& blobref);
Json make_symlink(const std::string& target, const std::string& ns = "");

// Full structural check. nullopt when valid; otherwise an Error (EINVAL, or
// ENOTSUP for hdir) whose message names the offending entry, e.g.
// "treeobj: dir entry 'a.b': valref data must be a non-empty array of blobrefs".
std::optional<Error> validate(const Json& obj);

// The "type" string of obj, or "" when obj is not an object with a string
// "type". Does not validate; the view points into obj.
std::string_view type_of(const Json& obj);
bool is_val(const Json& obj);
bool is_valref(const Json& obj);
bool is_dir(const Json& obj);
bool is_dirref(const Json& obj);
bool is_symlink(const Json& obj);

// The bytes a val holds (base64-decoded "data"). EINVAL when obj is not a
// val or its data is not valid base64.
Result<std::string> decode_val(const Json& obj);

// Parse and validate a serialized treeobj (as flux-core's treeobj_decode);
// every failure is EPROTO, with the validation message kept.
Result<Json> decode(std::string_view text);

// Compact serialization with sorted keys, as flux-core's treeobj_encode()
// (byte-identical unless a string holds control characters, which jansson
// escapes as \u00XX and nlohmann as \u00xx). Never throws: invalid UTF-8,
// which validate() rules out, would be replaced with U+FFFD.
std::string encode(const Json& obj);

}  // namespace flux::treeobj
