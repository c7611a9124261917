// Unit tests for flux::treeobj (RFC 11 KVS tree objects): constructors and
// their exact serialization (as flux-core writes them), validation of every
// rejection path with its message, decode/encode round trips, and hostile
// input (deep dir nesting, deep JSON, huge arrays, wrong types, binary
// names) that must be refused without crashing.
#include "libflux/treeobj.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

using namespace flux;
namespace to = flux::treeobj;

namespace {

// SHA-1 and SHA-256 of the empty string.
const std::string kSha1 = "sha1-da39a3ee5e6b4b0d3255bfef95601890afd80709";
const std::string kSha256 =
    "sha256-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

Json parse(const std::string& text) {
  return Json::parse(text);
}

// The validation error message for obj, or "" if it is valid.
std::string why(const Json& obj) {
  auto err = to::validate(obj);
  return err ? err->message : "";
}

// A dir nested `levels` deep ("d.d.d...") ending in a val, built without
// the constructors so that building it costs no validation.
Json nested_dirs(int levels) {
  Json obj = to::make_val("x");
  for (int i = 0; i < levels; i++) {
    Json dir = Json::object();
    dir["ver"] = 1;
    dir["type"] = "dir";
    dir["data"] = Json::object();
    dir["data"]["d"] = std::move(obj);
    obj = std::move(dir);
  }
  return obj;
}

bool printable_ascii(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return true;
}

}  // namespace

TEST(TreeobjBlobref, AcceptsSha1AndSha256) {
  EXPECT_TRUE(to::is_blobref(kSha1));
  EXPECT_TRUE(to::is_blobref(kSha256));
}

TEST(TreeobjBlobref, RejectsMalformed) {
  const std::vector<std::string> bad = {
      "",
      "sha1",
      "sha1-",
      "sha1-da39a3ee5e6b4b0d3255bfef95601890afd8070",     // 39 digits
      "sha1-da39a3ee5e6b4b0d3255bfef95601890afd807090",   // 41 digits
      "sha1-DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",    // upper case
      "sha1-da39a3ee5e6b4b0d3255bfef95601890afd8070g",    // not hex
      "sha1_da39a3ee5e6b4b0d3255bfef95601890afd80709",    // no dash
      "SHA1-da39a3ee5e6b4b0d3255bfef95601890afd80709",    // alg case
      "md5-d41d8cd98f00b204e9800998ecf8427e",             // unknown alg
      "sha256-da39a3ee5e6b4b0d3255bfef95601890afd80709",  // sha1 length
      "sha1-da39a3ee5e6b4b0d3255bfef95601890afd80709 ",   // trailing space
      "-da39a3ee5e6b4b0d3255bfef95601890afd80709",
  };
  for (const auto& s : bad) EXPECT_FALSE(to::is_blobref(s)) << s;
  std::string with_nul = kSha1;
  with_nul[10] = '\0';
  EXPECT_FALSE(to::is_blobref(with_nul));
}

TEST(TreeobjMake, ValMatchesFluxCore) {
  // RFC 11's example value; flux-core writes no "size".
  Json v = to::make_val("422\n");
  EXPECT_EQ(to::encode(v), R"({"data":"NDIyCg==","type":"val","ver":1})");
  EXPECT_FALSE(to::validate(v));
  EXPECT_TRUE(to::is_val(v));
  EXPECT_EQ(to::type_of(v), "val");
}

TEST(TreeobjMake, ValRoundTripsBinaryAndEmpty) {
  for (std::string bytes : {std::string(), std::string("a"), std::string("ab"), std::string("abc"),
                            std::string("\0\xff\x01\n", 4)}) {
    Json v = to::make_val(bytes);
    ASSERT_FALSE(to::validate(v)) << why(v);
    auto back = to::decode_val(v);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back.value(), bytes);
  }
  EXPECT_EQ(to::encode(to::make_val("")), R"({"data":"","type":"val","ver":1})");
}

TEST(TreeobjMake, Valref) {
  Json v = to::make_valref({kSha1, kSha256});
  EXPECT_EQ(to::encode(v),
            R"({"data":[")" + kSha1 + R"(",")" + kSha256 + R"("],"type":"valref","ver":1})");
  EXPECT_TRUE(to::is_valref(v));
  EXPECT_THROW(to::make_valref({}), FluxError);
  EXPECT_THROW(to::make_valref({kSha1, "sha1-nope"}), FluxError);
  try {
    (void)to::make_valref({});
    FAIL();
  } catch (const FluxError& e) {
    EXPECT_EQ(e.errnum(), EINVAL);
  }
}

TEST(TreeobjMake, Dirref) {
  Json d = to::make_dirref(kSha256);
  EXPECT_EQ(to::encode(d), R"({"data":[")" + kSha256 + R"("],"type":"dirref","ver":1})");
  EXPECT_TRUE(to::is_dirref(d));
  EXPECT_THROW(to::make_dirref(""), FluxError);
  EXPECT_THROW(to::make_dirref("sha1-xyz"), FluxError);
}

TEST(TreeobjMake, Dir) {
  EXPECT_EQ(to::encode(to::make_dir()), R"({"data":{},"type":"dir","ver":1})");
  Json entries = Json::object();
  entries["b"] = to::make_val("422\n");
  entries["a"] = to::make_dirref(kSha1);
  Json d = to::make_dir(entries);
  EXPECT_TRUE(to::is_dir(d));
  // Keys come out sorted, as flux-core's treeobj_encode (JSON_SORT_KEYS).
  EXPECT_EQ(to::encode(d), R"({"data":{"a":{"data":[")" + kSha1 +
                               R"("],"type":"dirref","ver":1},"b":{"data":"NDIyCg==",)"
                               R"("type":"val","ver":1}},"type":"dir","ver":1})");
  EXPECT_THROW(to::make_dir(Json::array()), FluxError);
  EXPECT_THROW(to::make_dir(Json{{"a.b", to::make_val("x")}}), FluxError);
  EXPECT_THROW(to::make_dir(Json{{"", to::make_val("x")}}), FluxError);
  EXPECT_THROW(to::make_dir(Json{{"a", 42}}), FluxError);
  EXPECT_THROW(to::make_dir(Json{{"\xff", to::make_val("x")}}), FluxError);
}

TEST(TreeobjMake, Symlink) {
  Json s = to::make_symlink("a.b");
  EXPECT_EQ(to::encode(s), R"({"data":{"target":"a.b"},"type":"symlink","ver":1})");
  EXPECT_TRUE(to::is_symlink(s));
  Json n = to::make_symlink("a.b", "ns");
  EXPECT_EQ(to::encode(n),
            R"({"data":{"namespace":"ns","target":"a.b"},"type":"symlink","ver":1})");
  EXPECT_THROW(to::make_symlink(""), FluxError);
  EXPECT_THROW(to::make_symlink("\xc0\x80"), FluxError);           // overlong NUL
  EXPECT_THROW(to::make_symlink("a", "\xed\xa0\x80"), FluxError);  // surrogate
}

TEST(TreeobjValidate, AcceptsRfcExamples) {
  const char* good[] = {
      R"({"ver":1,"type":"val","data":"NDIyCg=="})",
      R"({"ver":1,"type":"val","data":"NDIyCg==","size":4})",
      R"({"ver":1,"type":"val","data":""})",
      R"({"ver":1,"type":"valref","data":["sha1-da39a3ee5e6b4b0d3255bfef95601890afd80709"]})",
      R"({"ver":1,"type":"valref","size":64,"data":["sha1-da39a3ee5e6b4b0d3255bfef95601890afd80709",)"
      R"("sha1-da39a3ee5e6b4b0d3255bfef95601890afd80709"]})",
      R"({"ver":1,"type":"dirref","data":["sha1-da39a3ee5e6b4b0d3255bfef95601890afd80709"]})",
      R"({"ver":1,"type":"dir","data":{}})",
      R"({"ver":1,"type":"dir","data":{"a":{"ver":1,"type":"dir","data":{"b":)"
      R"({"ver":1,"type":"symlink","data":{"target":"x"}}}}}})",
      R"({"ver":1,"type":"symlink","data":{"target":"a.a"}})",
      R"({"ver":1,"type":"symlink","data":{"namespace":"a","target":"b.b"}})",
      R"({"ver":1,"type":"symlink","data":{"namespace":"","target":"b"}})",
      R"({"ver":1,"type":"dir","data":{"\u00e9t\u00e9":{"ver":1,"type":"val","data":""}}})",
  };
  for (const char* text : good) EXPECT_EQ(why(parse(text)), "") << text;
}

struct Rejection {
  const char* text;
  const char* message;
  int errnum = EINVAL;
};

TEST(TreeobjValidate, RejectsEachProblemWithItsMessage) {
  const Rejection cases[] = {
      {R"([])", "treeobj: not a JSON object"},
      {R"("val")", "treeobj: not a JSON object"},
      {R"(null)", "treeobj: not a JSON object"},
      {R"({"type":"val","data":""})", "treeobj: missing 'ver'"},
      {R"({"ver":"1","type":"val","data":""})", "treeobj: 'ver' must be an integer"},
      {R"({"ver":1.0,"type":"val","data":""})", "treeobj: 'ver' must be an integer"},
      {R"({"ver":true,"type":"val","data":""})", "treeobj: 'ver' must be an integer"},
      {R"({"ver":2,"type":"val","data":""})", "treeobj: unsupported version 2"},
      {R"({"ver":-1,"type":"val","data":""})", "treeobj: unsupported version -1"},
      {R"({"ver":1,"data":""})", "treeobj: missing 'type'"},
      {R"({"ver":1,"type":3,"data":""})", "treeobj: 'type' must be a string"},
      {R"({"ver":1,"type":"blob","data":""})", "treeobj: unknown type 'blob'"},
      {R"({"ver":1,"type":"VAL","data":""})", "treeobj: unknown type 'VAL'"},
      {R"({"ver":1,"type":"hdir","data":{"size":8,"func":"city32","bucket":[]}})",
       "treeobj: hdir objects are not supported (RFC 11 leaves them unimplemented)", ENOTSUP},
      {R"({"ver":1,"type":"val"})", "treeobj: missing 'data'"},
      {R"({"ver":1,"type":"val","data":"","extra":1})", "treeobj: unexpected key 'extra'"},
      {R"({"ver":1,"type":"dir","data":{},"size":0})",
       "treeobj: 'size' is only allowed on val and valref"},
      {R"({"ver":1,"type":"val","data":"","size":-1})",
       "treeobj: 'size' must be a non-negative integer"},
      {R"({"ver":1,"type":"val","data":"","size":1.5})",
       "treeobj: 'size' must be a non-negative integer"},
      {R"({"ver":1,"type":"val","data":"","size":"0"})",
       "treeobj: 'size' must be a non-negative integer"},
      {R"({"ver":1,"type":"val","data":"NDIyCg==","size":3})",
       "treeobj: val size 3 does not match its 4-byte data"},
      {R"({"ver":1,"type":"val","data":42})", "treeobj: val data must be a base64 string"},
      {R"({"ver":1,"type":"val","data":["NDIyCg=="]})",
       "treeobj: val data must be a base64 string"},
      {R"({"ver":1,"type":"val","data":"NDIyCg="})", "treeobj: val data is not valid base64"},
      {R"({"ver":1,"type":"val","data":"ND!yCg=="})", "treeobj: val data is not valid base64"},
      {R"({"ver":1,"type":"valref","data":[]})",
       "treeobj: valref data must be a non-empty array of blobrefs"},
      {R"({"ver":1,"type":"valref","data":"sha1-da39a3ee5e6b4b0d3255bfef95601890afd80709"})",
       "treeobj: valref data must be a non-empty array of blobrefs"},
      {R"({"ver":1,"type":"valref","data":["sha1-da39a3ee5e6b4b0d3255bfef95601890afd80709",7]})",
       "treeobj: valref data[1] is not a blobref"},
      {R"({"ver":1,"type":"valref","data":["sha1-abc"]})",
       "treeobj: valref data[0] is not a blobref: 'sha1-abc'"},
      {R"({"ver":1,"type":"dirref","data":[]})",
       "treeobj: dirref data must be an array of exactly one blobref"},
      {R"({"ver":1,"type":"dirref","data":["sha1-da39a3ee5e6b4b0d3255bfef95601890afd80709",)"
       R"("sha1-da39a3ee5e6b4b0d3255bfef95601890afd80709"]})",
       "treeobj: dirref data must be an array of exactly one blobref"},
      {R"({"ver":1,"type":"dirref","data":{}})",
       "treeobj: dirref data must be an array of exactly one blobref"},
      {R"({"ver":1,"type":"dirref","data":[null]})", "treeobj: dirref data[0] is not a blobref"},
      {R"({"ver":1,"type":"dirref","data":["x"],"size":1})",
       "treeobj: 'size' is only allowed on val and valref"},
      {R"({"ver":1,"type":"dir","data":[]})", "treeobj: dir data must be an object"},
      {R"({"ver":1,"type":"dir","data":{"":{"ver":1,"type":"val","data":""}}})",
       "treeobj: dir has an entry with an empty name"},
      {R"({"ver":1,"type":"dir","data":{"a.b":{"ver":1,"type":"val","data":""}}})",
       "treeobj: dir entry name 'a.b' contains '.'"},
      {R"({"ver":1,"type":"dir","data":{"a":"val"}})", "treeobj: dir entry 'a': not a JSON object"},
      {R"({"ver":1,"type":"dir","data":{"a":{"ver":1,"type":"valref","data":[]}}})",
       "treeobj: dir entry 'a': valref data must be a non-empty array of blobrefs"},
      {R"({"ver":1,"type":"symlink","data":"a.b"})", "treeobj: symlink data must be an object"},
      {R"({"ver":1,"type":"symlink","data":{}})",
       "treeobj: symlink target must be a non-empty string"},
      {R"({"ver":1,"type":"symlink","data":{"target":""}})",
       "treeobj: symlink target must be a non-empty string"},
      {R"({"ver":1,"type":"symlink","data":{"target":1}})",
       "treeobj: symlink target must be a non-empty string"},
      {R"({"ver":1,"type":"symlink","data":{"target":"a","namespace":null}})",
       "treeobj: symlink namespace must be a string"},
      {R"({"ver":1,"type":"symlink","data":{"target":"a","ns":"b"}})",
       "treeobj: symlink data has unexpected key 'ns'"},
  };
  for (const auto& c : cases) {
    auto err = to::validate(parse(c.text));
    ASSERT_TRUE(err) << c.text;
    EXPECT_EQ(err->message, c.message) << c.text;
    EXPECT_EQ(err->errnum, c.errnum) << c.text;
  }
}

TEST(TreeobjValidate, NestedErrorNamesThePath) {
  Json bad = parse(R"({"ver":1,"type":"valref","data":[]})");
  Json b = to::make_dir(Json{{"ok", to::make_val("")}});
  b["data"]["b"] = bad;
  Json a = to::make_dir();
  a["data"]["a"] = b;
  EXPECT_EQ(why(a), "treeobj: dir entry 'a.b': valref data must be a non-empty array of blobrefs");

  Json h = to::make_dir();
  h["data"]["x"] = parse(R"({"ver":1,"type":"hdir","data":{}})");
  auto err = to::validate(h);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->errnum, ENOTSUP);
  EXPECT_EQ(err->message.rfind("treeobj: dir entry 'x': hdir", 0), 0u) << err->message;
}

TEST(TreeobjValidate, InvalidUtf8FromCallers) {
  // Parsed JSON is always valid UTF-8; objects built in code may not be.
  Json s = to::make_symlink("a");
  s["data"]["target"] = "\xff";
  EXPECT_EQ(why(s), "treeobj: symlink target is not valid UTF-8");
  s["data"]["target"] = "a";
  s["data"]["namespace"] = "\xe2\x82";  // truncated sequence
  EXPECT_EQ(why(s), "treeobj: symlink namespace is not valid UTF-8");
  Json d = to::make_dir();
  d["data"]["\xf5"] = to::make_val("");
  EXPECT_EQ(why(d), "treeobj: dir entry name '\\xf5' is not valid UTF-8");
  // encode() never throws, even on an invalid object.
  EXPECT_NO_THROW((void)to::encode(d));
}

TEST(TreeobjValidate, HostileNamesAreEscapedAndTruncatedInMessages) {
  Json v = to::make_val("");
  v[std::string("\x01\x7f\"\\") + std::string(500, 'k')] = 1;
  std::string msg = why(v);
  EXPECT_TRUE(printable_ascii(msg)) << msg;
  EXPECT_LT(msg.size(), 200u);
  EXPECT_NE(msg.find("\\x01\\x7f\"\\x5c"), std::string::npos) << msg;

  Json deep = nested_dirs(50);
  Json* leaf = &deep;
  for (int i = 0; i < 50; i++) leaf = &(*leaf)["data"]["d"];
  *leaf = 5;
  std::string long_path = why(deep);
  EXPECT_TRUE(printable_ascii(long_path));
  EXPECT_NE(long_path.find("'d.d.d.d"), std::string::npos) << long_path;
}

TEST(TreeobjValidate, DirDepthLimit) {
  Json ok = nested_dirs(to::kMaxDirDepth - 1);  // plus the leaf: kMaxDirDepth levels
  EXPECT_EQ(why(ok), "");
  Json too_deep = nested_dirs(to::kMaxDirDepth);
  std::string msg = why(too_deep);
  EXPECT_NE(msg.find("dir nesting exceeds 1024 levels"), std::string::npos) << msg.substr(0, 300);

  // The deepest valid object survives encode/decode.
  auto back = to::decode(to::encode(ok));
  ASSERT_TRUE(back.ok()) << back.error().message.substr(0, 300);
  EXPECT_EQ(back.value(), ok);
  auto refused = to::decode(to::encode(too_deep));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().errnum, EPROTO);
}

TEST(TreeobjValidate, HugeArrays) {
  std::vector<std::string> refs(100000, kSha1);
  Json v = to::make_valref(refs);
  EXPECT_EQ(why(v), "");
  v["data"].push_back("sha1-");
  EXPECT_EQ(why(v), "treeobj: valref data[100000] is not a blobref: 'sha1-'");

  Json wide = to::make_dir();
  for (int i = 0; i < 20000; i++) wide["data"]["k" + std::to_string(i)] = to::make_val("v");
  EXPECT_EQ(why(wide), "");
}

TEST(TreeobjAccessors, TypeOfOnAnything) {
  EXPECT_EQ(to::type_of(Json()), "");
  EXPECT_EQ(to::type_of(Json::array({1, 2})), "");
  EXPECT_EQ(to::type_of(Json::object()), "");
  EXPECT_EQ(to::type_of(Json{{"type", 7}}), "");
  EXPECT_EQ(to::type_of(Json{{"type", "dir"}}), "dir");
  EXPECT_FALSE(to::is_val(Json("val")));
  EXPECT_FALSE(to::is_dir(to::make_val("")));
  EXPECT_TRUE(to::is_dirref(to::make_dirref(kSha1)));
  EXPECT_FALSE(to::is_valref(to::make_dirref(kSha1)));
  EXPECT_FALSE(to::is_symlink(to::make_dir()));
}

TEST(TreeobjAccessors, DecodeValErrors) {
  auto r = to::decode_val(to::make_dir());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum, EINVAL);
  EXPECT_EQ(r.error().message, "treeobj: not a val object");
  r = to::decode_val(Json{{"type", "val"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "treeobj: val data must be a base64 string");
  r = to::decode_val(Json{{"type", "val"}, {"data", "!!!!"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "treeobj: val data is not valid base64");
  EXPECT_THROW((void)to::decode_val(Json(1)).value(), FluxError);
}

TEST(TreeobjCodec, DecodeRoundTrips) {
  Json d = to::make_dir(Json{{"v", to::make_val("hello")},
                             {"r", to::make_valref({kSha1, kSha256})},
                             {"l", to::make_symlink("x.y", "other")},
                             {"s", to::make_dir(Json{{"z", to::make_dirref(kSha1)}})}});
  std::string text = to::encode(d);
  auto back = to::decode(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back.value(), d);
  EXPECT_EQ(to::encode(back.value()), text);
  // Whitespace and key order in the input do not matter.
  auto loose = to::decode(" { \"ver\" : 1 , \"data\" : \"aGk=\" , \"type\" : \"val\" } ");
  ASSERT_TRUE(loose.ok());
  EXPECT_EQ(to::decode_val(loose.value()).value(), "hi");
}

TEST(TreeobjCodec, DecodeRefusesBadText) {
  static const char kWithNul[] = "{\"ver\":1,\0\"type\":\"val\",\"data\":\"\"}";
  const std::string bad[] = {
      "",
      "{",
      "nul",
      R"({"ver":1,"type":"val","data":""} x)",
      R"({"ver":1,"type":"val","data":"\ud800"})",  // lone surrogate escape
      std::string(R"({"ver":1,"type":"val","data":"a)") + "\xff" + "\"}",
      std::string(kWithNul, sizeof(kWithNul) - 1),
      R"({"ver":1,"type":"val","data":1e999})",
  };
  for (const auto& text : bad) {
    auto r = to::decode(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().errnum, EPROTO) << text;
  }
  auto r = to::decode(R"({"ver":1,"type":"val","data":7})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum, EPROTO);
  EXPECT_EQ(r.error().message, "treeobj: val data must be a base64 string");
}

TEST(TreeobjCodec, DeepJsonIsRefusedCheaply) {
  std::string arrays(1 << 20, '[');
  auto r = to::decode(arrays);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "treeobj: JSON nesting is too deep");

  // Deep JSON inside a val's data: structurally wrong, refused, no crash.
  std::string in_data =
      R"({"ver":1,"type":"val","data":)" + std::string(5000, '[') + std::string(5000, ']') + "}";
  EXPECT_FALSE(to::decode(in_data).ok());

  // Brackets inside strings do not count towards nesting.
  Json v = to::make_dir(Json{{std::string(5000, '['), to::make_val("")}});
  auto back = to::decode(to::encode(v));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back.value(), v);
}
