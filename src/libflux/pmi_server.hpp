// The PMI-1 server (RFC 13 wire protocol, version 1.1) on a Reactor: each
// client (a job shell's task, or a broker that `flux start` launched) has
// one end of a socketpair as PMI_FD, and speaks newline-terminated
// "cmd=NAME key=value ..." requests in lock step.
//
// Answered: init, get_maxes, get_appnum (0), get_universe_size (the job's
// task count), get_my_kvsname, put, get, barrier_in (barrier_out once every
// task of the job has entered), finalize, abort; publish_name,
// unpublish_name and lookup_name answer rc=-1 (not supported); anything
// else closes the connection (a protocol error, as RFC 13 asks).
//
// A put is this server's until a barrier. Across servers (one per shell of
// a job) the exchange goes through the PmiExchange given at construction:
// at each barrier a server hands it the puts since the last barrier and,
// once every server has done the same, makes the puts it gets back visible
// and answers barrier_out. A get for a key not known locally asks the
// exchange (whose answer, when found, is cached). LocalExchange: one server
// holds all clients, nothing to ask; the shell's KvsExchange
// (src/shell/pmi_kvs.hpp): the job's shells meet in a KVS fence. The space
// holds PMI_process_mapping from the start.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fd_io.hpp"
#include "reactor.hpp"

namespace flux {

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

// One server holds all of the clients: its own puts are everybody's.
class LocalExchange : public PmiExchange {
 public:
  void exchange(PmiDict local, PmiExchangeDone done) override { done(std::move(local), ""); }
};

struct PmiJob {
  std::string kvsname;  // get_my_kvsname (a shell: the job id)
  int size = 0;         // processes in the program (get_universe_size)
  int local_size = 0;   // clients of this server (barrier count)
  std::string process_mapping;
};

class PmiServer {
 public:
  // on_abort(taskid, exitcode, message): a client called PMI_Abort.
  // on_error(text): a failed barrier exchange; null: "PMI barrier: text"
  // on stderr.
  PmiServer(Reactor& r, PmiJob job, std::unique_ptr<PmiExchange> exchange,
            std::function<void(int, int, const std::string&)> on_abort,
            std::function<void(const std::string&)> on_error = nullptr);
  ~PmiServer();

  // Serve client taskid (a task id or broker rank) on fd (the server's
  // end; owned from now on).
  void add_client(int taskid, int fd);
  // A client exited: forget it (a barrier with it missing never
  // completes, as in flux-core).
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
  std::function<void(const std::string&)> on_error_;
  PmiDict kvs_;      // visible to get
  PmiDict pending_;  // puts since the last barrier
  std::vector<int> in_barrier_;
  std::map<int, std::unique_ptr<Client>> clients_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for late callbacks
};

}  // namespace flux
