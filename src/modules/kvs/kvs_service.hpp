// KvsService: the kvs module's handlers (protocol in README.md).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "libflux/blobref.hpp"
#include "libflux/handle.hpp"
#include "tree.hpp"

namespace flux::kvsmod {

// One commit or fence waiting to be written, with the requests to answer.
struct PendingCommit {
  Json ops = Json::array();
  std::vector<Message> requests;
  int flags = 0;
};

struct Namespace {
  std::string name;
  uint32_t owner = 0;
  int flags = 0;
  NodePtr root;  // the committed root (frozen)
  std::string rootref;
  int seq = 0;
  std::deque<PendingCommit> pending;
  bool writing = false;
  std::map<std::string, PendingCommit> fences;  // by name, until complete
  std::map<std::string, int> fence_nprocs;
  std::vector<std::pair<int, Message>> version_waiters;
  bool removed = false;
};

class KvsService {
 public:
  KvsService(Handle& h, HashAlg alg);
  // Load the primary namespace from the checkpoint (or start empty).
  Task<void> start();
  void register_handlers();

 private:
  Task<Json> lookup(const Message& m);
  Task<Json> getroot(const Message& m);
  Task<Json> namespace_create(const Message& m);
  Task<Json> namespace_remove(const Message& m);
  Json namespace_list(const Message& m);
  void fence(const Message& m);
  void wait_version(const Message& m);

  Namespace& ns_for(const Message& m, const std::string& name);
  void check_ops(const Json& ops);
  void enqueue(Namespace& ns, PendingCommit pc);
  Task<void> write_loop(std::string ns_name);
  std::vector<Rpc> send_blobs(Blobs& blobs);
  Task<void> store_blobs(Blobs& blobs);
  Task<std::string> load_blob(std::string ref);
  Task<Json> lookup_in(NodePtr root, const std::string& ns, std::vector<std::string> path,
                       int flags, int depth, uint32_t userid, uint32_t rolemask);
  Task<Json> value_of(NodePtr node, int flags);
  void fail_pending(Namespace& ns, std::deque<PendingCommit>& batch, int errnum,
                    const std::string& why);

  Handle& h_;
  HashAlg alg_;
  Tree tree_;
  std::map<std::string, std::unique_ptr<Namespace>> namespaces_;
  uint32_t owner_;
};

}  // namespace flux::kvsmod
