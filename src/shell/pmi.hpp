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
// The key-value space is this shell's until a barrier. Across shells the
// exchange goes through the PmiExchange given at construction: at each
// barrier a shell hands it the puts since the last barrier and gets back
// everybody's (LocalExchange: one shell holds all tasks). The space holds
// PMI_process_mapping from the task map from the start.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io.hpp"
#include "libflux/reactor.hpp"

namespace flux::shell {

using PmiDict = std::map<std::string, std::string>;

// The cross-shell part of a barrier: given this shell's new puts, call
// done with the union of every shell's.
class PmiExchange {
 public:
  virtual ~PmiExchange() = default;
  virtual void exchange(PmiDict local, std::function<void(PmiDict all)> done) = 0;
};

class LocalExchange : public PmiExchange {
 public:
  void exchange(PmiDict local, std::function<void(PmiDict)> done) override {
    done(std::move(local));
  }
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
  void handle_line(Client& c, const std::string& line);
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
};

}  // namespace flux::shell
