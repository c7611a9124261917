// The KVS client: transactions, commit/fence, lookup, watch, namespaces.
// Each call returns an Rpc, so tools block with .get() and services
// co_await; the kvs_* helpers read the answers.
//
// Wire protocol (the kvs and kvs-watch modules; see src/modules/kvs/README.md):
//   kvs.lookup    {"key","flags","namespace"[,"rootref"]} -> {"val":treeobj}
//   kvs.commit    {"namespace","flags","ops":[{"key","flags","dirent"}]}
//                 -> {"rootref","rootseq"}
//   kvs.fence     same + {"name","nprocs"}
//   kvs.getroot   {"namespace"} -> {"rootref","rootseq","owner","flags"}
//   kvs-watch.lookup  like kvs.lookup, streaming (flags select watch mode)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "handle.hpp"
#include "json.hpp"

namespace flux::kvs {

// Lookup flags (as flux-core's FLUX_KVS_*).
constexpr int kReaddir = 1;
constexpr int kReadlink = 2;
constexpr int kWatch = 4;
constexpr int kWaitCreate = 8;
constexpr int kTreeobj = 16;
constexpr int kAppend = 32;
constexpr int kWatchFull = 64;
constexpr int kWatchUniq = 128;
constexpr int kWatchAppend = 256;
// Commit flags.
constexpr int kNoMerge = 1;
constexpr int kTxnCompact = 2;  // accepted; our commits are already compact
constexpr int kSync = 4;        // flux-core FLUX_KVS_SYNC: every commit is synced here

constexpr const char* kPrimary = "primary";

// FLUX_KVS_NAMESPACE, or "primary".
std::string default_namespace();

// Keys: "a.b.c"; leading/trailing/duplicate dots are tolerated and removed
// as flux-core does. Throws FluxError(EINVAL) for an empty key.
std::string normalize_key(const std::string& key);

class Txn {
 public:
  void put(const std::string& key, std::string_view value);  // raw bytes
  void put_json(const std::string& key, const Json& value);  // encoded JSON
  void put_treeobj(const std::string& key, const Json& treeobj);
  void append(const std::string& key, std::string_view value);
  void unlink(const std::string& key);
  void mkdir(const std::string& key);
  void symlink(const std::string& key, const std::string& ns, const std::string& target);
  const Json& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }

 private:
  Json ops_ = Json::array();
};

Rpc commit(Handle& h, const Txn& txn, int flags = 0, const std::string& ns = "");
Rpc fence(Handle& h, const std::string& name, int nprocs, const Txn& txn, int flags = 0,
          const std::string& ns = "");
Rpc lookup(Handle& h, const std::string& key, int flags = 0, const std::string& ns = "",
           const std::string& rootref = "");
// Streaming lookup through kvs-watch: flags include kWatch (and kWaitCreate,
// kWatchUniq, kWatchFull, kWatchAppend as wanted).
Rpc lookup_watch(Handle& h, const std::string& key, int flags, const std::string& ns = "");
Rpc getroot(Handle& h, const std::string& ns = "");
Rpc wait_version(Handle& h, int version, const std::string& ns = "");
Rpc namespace_create(Handle& h, const std::string& ns, uint32_t owner, int flags = 0);
Rpc namespace_remove(Handle& h, const std::string& ns);
Rpc namespace_list(Handle& h);

// Reading a lookup response.
Json lookup_treeobj(const Message& response);
// The value's bytes (a val treeobj); throws EISDIR for a directory.
std::string lookup_value(const Message& response);
// A directory's entries (name -> treeobj); throws ENOTDIR otherwise.
Json lookup_dir(const Message& response);

}  // namespace flux::kvs
