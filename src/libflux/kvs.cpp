#include "kvs.hpp"

#include <cstdlib>

#include "base64.hpp"
#include "treeobj.hpp"

namespace flux::kvs {

std::string default_namespace() {
  const char* ns = std::getenv("FLUX_KVS_NAMESPACE");
  return ns && *ns ? ns : kPrimary;
}

static std::string ns_or_default(const std::string& ns) {
  return ns.empty() ? default_namespace() : ns;
}

std::string normalize_key(const std::string& key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '.' && (out.empty() || out.back() == '.')) continue;
    out.push_back(c);
  }
  if (!out.empty() && out.back() == '.') out.pop_back();
  if (out.empty()) {
    if (!key.empty()) return ".";  // the root directory
    throw FluxError(EINVAL, "empty key");
  }
  return out;
}

static Json op(const std::string& key, int flags, Json dirent) {
  return {{"key", normalize_key(key)}, {"flags", flags}, {"dirent", std::move(dirent)}};
}

void Txn::put(const std::string& key, std::string_view value) {
  ops_.push_back(op(key, 0, treeobj::make_val(value)));
}

void Txn::put_json(const std::string& key, const Json& value) {
  put(key, value.dump());
}

void Txn::put_treeobj(const std::string& key, const Json& obj) {
  if (auto err = treeobj::validate(obj)) throw FluxError(*err);
  ops_.push_back(op(key, 0, obj));
}

void Txn::append(const std::string& key, std::string_view value) {
  ops_.push_back(op(key, kAppend, treeobj::make_val(value)));
}

void Txn::unlink(const std::string& key) {
  ops_.push_back(op(key, 0, nullptr));
}

void Txn::mkdir(const std::string& key) {
  ops_.push_back(op(key, 0, treeobj::make_dir()));
}

void Txn::symlink(const std::string& key, const std::string& ns, const std::string& target) {
  ops_.push_back(op(key, 0, treeobj::make_symlink(target, ns)));
}

Rpc commit(Handle& h, const Txn& txn, int flags, const std::string& ns) {
  return h.rpc("kvs.commit",
               {{"namespace", ns_or_default(ns)}, {"flags", flags}, {"ops", txn.ops()}});
}

Rpc fence(Handle& h, const std::string& name, int nprocs, const Txn& txn, int flags,
          const std::string& ns) {
  return h.rpc("kvs.fence", {{"name", name},
                             {"nprocs", nprocs},
                             {"namespace", ns_or_default(ns)},
                             {"flags", flags},
                             {"ops", txn.ops()}});
}

Rpc lookup(Handle& h, const std::string& key, int flags, const std::string& ns,
           const std::string& rootref) {
  Json req = {{"key", normalize_key(key)}, {"flags", flags}, {"namespace", ns_or_default(ns)}};
  if (!rootref.empty()) req["rootref"] = rootref;
  return h.rpc("kvs.lookup", req);
}

Rpc lookup_watch(Handle& h, const std::string& key, int flags, const std::string& ns) {
  Json req = {
      {"key", normalize_key(key)}, {"flags", flags | kWatch}, {"namespace", ns_or_default(ns)}};
  return h.rpc("kvs-watch.lookup", req, kNodeidAny, msgflag::kStreaming);
}

Rpc getroot(Handle& h, const std::string& ns) {
  return h.rpc("kvs.getroot", {{"namespace", ns_or_default(ns)}, {"flags", 0}});
}

Rpc wait_version(Handle& h, int version, const std::string& ns) {
  return h.rpc("kvs.wait-version", {{"namespace", ns_or_default(ns)}, {"rootseq", version}});
}

Rpc namespace_create(Handle& h, const std::string& ns, uint32_t owner, int flags) {
  return h.rpc("kvs.namespace-create", {{"namespace", ns}, {"owner", owner}, {"flags", flags}});
}

Rpc namespace_remove(Handle& h, const std::string& ns) {
  return h.rpc("kvs.namespace-remove", {{"namespace", ns}});
}

Rpc namespace_list(Handle& h) {
  return h.rpc("kvs.namespace-list");
}

Json lookup_treeobj(const Message& response) {
  Json j = response.json().value();
  if (!j.contains("val") || !j["val"].is_object())
    throw FluxError(EPROTO, "lookup response has no value");
  return j["val"];
}

std::string lookup_value(const Message& response) {
  Json obj = lookup_treeobj(response);
  if (treeobj::is_dir(obj) || treeobj::is_dirref(obj)) throw FluxError(EISDIR, "Is a directory");
  if (!treeobj::is_val(obj)) throw FluxError(EPROTO, "lookup response is not a value");
  return treeobj::decode_val(obj).value();
}

Json lookup_dir(const Message& response) {
  Json obj = lookup_treeobj(response);
  if (!treeobj::is_dir(obj)) throw FluxError(ENOTDIR, "Not a directory");
  return obj["data"];
}

}  // namespace flux::kvs
