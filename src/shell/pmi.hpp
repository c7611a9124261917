// The PMI-1 server (RFC 13 wire protocol, version 1.1) for the local
// tasks: each task has one end of a socketpair as PMI_FD, and speaks
// newline-terminated "cmd=NAME key=value ..." requests in lock step.
//
// Answered: init, get_maxes, get_appnum (0), get_universe_size (the job's
// task count), get_my_kvsname, put, get, barrier_in (barrier_out once every
// task of the job has entered), finalize, abort; publish_name,
// unpublish_name and lookup_name answer rc=-1 (not supported); anything
// else closes the connection (a protocol error, as RFC 13 asks).
//
// A put is this shell's until a barrier. Across shells the exchange goes
// through the PmiExchange given at construction: at each barrier a shell
// hands it the puts since the last barrier and, once every shell has done
// the same, makes the puts it gets back visible and answers barrier_out.
// A get for a key not known locally asks the exchange (whose answer, when
// found, is cached). LocalExchange: one shell holds all tasks, nothing to
// ask; KvsExchange (pmi_kvs.hpp): the job's shells meet in a KVS fence.
// The space holds PMI_process_mapping from the task map from the start.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io.hpp"
#include "libflux/reactor.hpp"

namespace flux::shell {

using PmiDict = std::map<std::string, std::string>;

// The cross-shell part of PMI. exchange: at a barrier, given this shell's
// puts since the last one, call done (perhaps later) with the puts to make
// visible locally right away, or with a non-empty error (the barrier then
// fails: barrier_out rc=-1). lookup: a get for a key not known locally;
// done(nullopt) when nobody put it. Neither callback is made after the
// exchange is destroyed.
using PmiExchangeDone = std::function<void(PmiDict visible, std::string error)>;
using PmiLookupDone = std::function<void(std::optional<std::string> value)>;

class PmiExchange {
 public:
  virtual ~PmiExchange() = default;
  virtual void exchange(PmiDict local, PmiExchangeDone done) = 0;
  virtual void lookup(const std::string& key, PmiLookupDone done) {
    (void)key;
    done(std::nullopt);
  }
};

// One shell holds all of the job's tasks: its own puts are everybody's.
class LocalExchange : public PmiExchange {
 public:
  void exchange(PmiDict local, PmiExchangeDone done) override { done(std::move(local), ""); }
};

struct PmiJob {
  std::string kvsname;  // the job id
  int size = 0;         // tasks in the job
  int local_size = 0;   // tasks of this shell (barrier count)
  std::string process_mapping;
};

class PmiServer {
 public:
  // on_abort(taskid, exitcode, message): a task called PMI_Abort.
  PmiServer(Reactor& r, PmiJob job, std::unique_ptr<PmiExchange> exchange,
            std::function<void(int, int, const std::string&)> on_abort);
  ~PmiServer();

  // Serve task taskid on fd (the shell's end; owned from now on).
  void add_client(int taskid, int fd);
  // A task exited: forget it (it no longer blocks nothing; a barrier with
  // it missing never completes, as in flux-core).
  void remove_client(int taskid);

 private:
  struct Client;
  // Handle c's complete lines, stopping while an answer is pending.
  void process(Client& c);
  void handle_line(Client& c, const std::string& line);
  void get(Client& c, const std::string& key);
  void reply(Client& c, const std::string& text);
  void barrier_enter(Client& c);

  Reactor& r_;
  PmiJob job_;
  std::unique_ptr<PmiExchange> exchange_;
  std::function<void(int, int, const std::string&)> on_abort_;
  PmiDict kvs_;      // visible to get
  PmiDict pending_;  // puts since the last barrier
  std::vector<int> in_barrier_;
  std::map<int, std::unique_ptr<Client>> clients_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for late callbacks
};

}  // namespace flux::shell
