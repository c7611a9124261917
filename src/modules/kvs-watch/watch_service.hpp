// WatchService: the kvs-watch module's watchers (protocol in README.md).
#pragma once

#include <coroutine>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "libflux/handle.hpp"

namespace flux::kvswatch {

struct Root {
  std::string rootref;
  int seq = 0;
};

struct Watcher {
  Message req;
  std::string ns, key;
  // Whose roots move it and the key there: ns and key, except for a view
  // (a job's guest namespace, "job-<id>": primary and its prefixed key).
  std::string root_ns, root_key;
  int flags = 0;
  int seq = 0;             // the root it last looked at
  bool sent = false;       // answered at least once
  std::deque<Root> roots;  // relevant new roots, oldest first
  bool done = false;
  std::coroutine_handle<> waiter;
  std::optional<std::string> last;  // last value sent (treeobj text), for uniq
  // Append mode: what was already sent, to send only what follows it and
  // to notice a value that was replaced rather than appended to.
  std::vector<std::string> sent_refs;  // blobs of a valref
  std::string sent_inline;             // data of an inline val
};

class WatchService {
 public:
  explicit WatchService(Handle& h) : h_(h) {}
  Task<void> start();

 private:
  void add(const Message& m);
  void setroot(const Message& ev);
  void ns_removed(const Message& ev);
  void finish(Watcher& w, int errnum, const std::string& why = "");
  Task<void> run(std::shared_ptr<Watcher> w);
  Task<bool> check(Watcher& w, Root root);
  Task<std::string> load_blob(std::string ref);
  Rpc as_requester(const Watcher& w, const std::string& topic, const Json& payload);

  struct WakeAwaiter {
    Watcher& w;
    bool await_ready() const { return !w.roots.empty() || w.done; }
    void await_suspend(std::coroutine_handle<> h) { w.waiter = h; }
    void await_resume() {}
  };
  void wake(Watcher& w);

  Handle& h_;
  std::map<std::string, Root> roots_;  // latest root per namespace
  std::list<std::shared_ptr<Watcher>> watchers_;
};

}  // namespace flux::kvswatch
