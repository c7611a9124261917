// KvsService: the kvs module's handlers (protocol in README.md).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "libflux/blobref.hpp"
#include "libflux/handle.hpp"
#include "modules/common/module_log.hpp"
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
  bool known = true;  // owner and flags known (a follower learns them from rank 0)
};

// What a request's namespace name stands for: a namespace, or a view of
// one. "job-<id>" (decimal, as flux-core names a job's guest namespace) is
// the job's guest directory job.<kvs-id>.guest in primary, owned by the
// job's owner: a job writes its guest keys where its instance keeps them,
// with no namespace to create, copy back and remove.
struct NsView {
  Namespace* ns = nullptr;
  std::vector<std::string> base;  // the directory the view's keys live under
  uint32_t owner = 0;
  std::string name;  // as requested
  // `key` (normalized) as the real namespace's path.
  std::vector<std::string> path(const std::string& key) const;
  std::string prefix() const;
};

// On rank 0 (the leader) the service owns every namespace root and writes
// commits. On other ranks (followers) it keeps the roots it has been asked
// about, learned from rank 0 and moved forward by kvs.setroot events, reads
// through the local content cache, and relays writes to rank 0.
class KvsService {
 public:
  KvsService(Handle& h, HashAlg alg, uint32_t rank);
  // Leader: load the primary namespace from the checkpoint (or start
  // empty). Follower: subscribe to the root events.
  Task<void> start();
  void register_handlers();

 private:
  bool leader() const { return rank_ == 0; }
  // Answer m from a coroutine that may respond later (or not at all).
  Task<void> commit(Message m);
  Task<void> wait_version(Message m);
  // The caller has parsed m (req) and checked its rights on ns_name.
  Task<void> relay(Message m, Json req, std::string ns_name);
  Task<Json> relay_namespace_op(const Message& m);
  Task<void> learn_namespace(std::string name);
  Namespace& follower_entry(const std::string& name);
  void follow(Namespace& ns, const std::string& rootref, int seq);
  void setroot_event(const Message& m);
  void removed_event(const Message& m);
  // Move a namespace to a newer root and answer the version waiters it satisfies.
  void set_root(Namespace& ns, NodePtr root, std::string rootref, int seq);

  Task<Json> lookup(const Message& m);
  Task<Json> getroot(const Message& m);
  Task<Json> namespace_create(const Message& m);
  Task<Json> namespace_remove(const Message& m);
  Task<Json> namespace_list(const Message& m);
  Task<void> fence(Message m);

  // The namespace `name` if it exists and the user may use it; a follower
  // asks rank 0 about one it does not know yet.
  Task<Namespace*> find_ns(std::string name, uint32_t userid, uint32_t rolemask);
  Task<Namespace*> find_ns(const Message& m, std::string name) {
    return find_ns(std::move(name), m.userid(), m.rolemask());
  }
  Namespace& check_access(Namespace& ns, uint32_t userid, uint32_t rolemask);
  // find_ns, or the guest view of a job ("job-<id>"): its owner's or the
  // instance owner's; ENOTSUP if there is no such job.
  Task<NsView> find_view(std::string name, uint32_t userid, uint32_t rolemask);
  Task<NsView> find_view(const Message& m, std::string name) {
    return find_view(std::move(name), m.userid(), m.rolemask());
  }
  Task<uint32_t> job_owner(Namespace& primary, uint64_t id);
  std::map<uint64_t, uint32_t> job_owners_;  // cache, bounded by kJobOwnerCache
  static constexpr size_t kJobOwnerCache = 4096;
  void drop_namespace(std::map<std::string, std::unique_ptr<Namespace>>::iterator it,
                      const std::string& why);
  void check_ops(const Json& ops, bool guest);
  void enqueue(Namespace& ns, PendingCommit pc);
  Task<void> write_loop(std::string ns_name);
  std::vector<Rpc> send_blobs(Blobs& blobs);
  Task<void> store_blobs(Blobs& blobs);
  Task<std::string> load_blob(std::string ref);
  Task<Json> lookup_in(NodePtr root, const NsView& view, std::vector<std::string> path, int flags,
                       int depth, uint32_t userid, uint32_t rolemask);
  Task<Json> value_of(NodePtr node, int flags);
  void fail_pending(Namespace& ns, std::deque<PendingCommit>& batch, int errnum,
                    const std::string& why);

  // Every kTrimPeriod seconds, unload the directories nothing reached in
  // the last period (Tree::trim): the tree's memory follows what is in use,
  // not how many jobs the KVS holds.
  void arm_trim();
  static constexpr double kTrimPeriod = 2.0;

  Handle& h_;
  HashAlg alg_;
  Tree tree_;
  std::unique_ptr<Timer> trim_timer_;
  std::map<std::string, std::unique_ptr<Namespace>> namespaces_;
  uint32_t owner_;
  uint32_t rank_;
  modules::ModuleLog log_;
};

}  // namespace flux::kvsmod
