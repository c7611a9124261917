// Tasks on a pseudo-terminal (the `pty` shell option), and the terminal
// sessions clients attach to, as flux-core's terminus server does.
//
// Option: `-o pty` (all tasks, output captured to the job's stdout) or an
// object {"ranks":IDSET|"all", "capture":0|1, "interactive":0|1}.
// `interactive` (flux alloc from a terminal) means task 0 only and no
// capture by default; its session waits for the first client before it
// reads anything, so nothing is lost, and shell rank 0 names it in
// shell.init: {"service":S, "pty":"terminus.0", "capture"?:1}.
//
// Protocol: requests to `S.terminus.N` (S = `<uid>-shell-<f58plain id>`,
// N the task rank) on the shell's broker, from the job's owner only:
//   {"type":"attach","mode":"rw"|"ro"|"wo","winsize":{"rows":i,"cols":i}}
//      streams {"type":"attach"}, then {"type":"data","data":s,
//      "encoding"?:"base64"} for the terminal's output, then
//      {"type":"exit","message":s,"status":i} (the task's wait status)
//      and ENODATA;
//   {"type":"data","data":s}    typed input (empty: a keepalive);
//   {"type":"resize","winsize":{"rows":i,"cols":i}};
//   {"type":"detach"}           ends that client's attach stream.
// Errors: EPERM (not the owner), ENOENT (not attached), EEXIST (attached
// twice), EPROTO (malformed), ENOSYS (no such session or type).
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libflux/fd_io.hpp"
#include "libflux/handle.hpp"
#include "libflux/idset.hpp"
#include "libflux/reactor.hpp"
#include "libflux/result.hpp"

namespace flux::shell {

struct PtyOptions {
  std::optional<Idset> ranks;  // nullopt: every task
  bool capture = true;
  bool interactive = false;
  bool covers(int taskid) const { return !ranks || ranks->contains(static_cast<uint32_t>(taskid)); }
};

// The `pty` shell option, nullopt when absent; EINVAL if malformed.
Result<std::optional<PtyOptions>> parse_pty_options(const Json& shell_options);

// One task's terminal. The task gets follower() as its stdio and
// controlling terminal; the shell closes its copy once the task runs.
class Pty {
 public:
  // capture: where the terminal's output goes besides clients (may be
  // empty). done: called once the task has exited, everything it wrote
  // is read, and clients are told.
  Pty(Reactor& r, Handle* h, bool wait_for_client, std::function<void(std::string_view)> capture,
      std::function<void()> done);
  ~Pty();
  Pty(const Pty&) = delete;
  Pty& operator=(const Pty&) = delete;

  int follower() const { return follower_; }
  void close_follower();
  void task_exited(int wait_status);
  // A request to this session (see the protocol above).
  void handle(const Message& req);
  // Typed input from elsewhere (guest.input).
  void write(std::string data);

 private:
  struct Client {
    Message req;
    std::string sender;
    bool read = false;
    bool write = false;
  };
  void start_reading();
  void on_output(std::string_view data);
  void on_eof();
  void maybe_done();
  void send_exit(const Client& c, const std::string& message, int status);
  void resize(const Json& winsize);
  Client* find(const std::string& sender);

  Reactor& r_;
  Handle* h_;
  int leader_ = -1;
  int follower_ = -1;
  bool waiting_for_client_;
  std::function<void(std::string_view)> capture_;
  std::function<void()> done_;
  std::unique_ptr<FdReader> reader_;
  std::unique_ptr<FdWriter> writer_;
  std::unique_ptr<Timer> client_wait_;
  std::vector<Client> clients_;
  std::optional<int> status_;
  bool eof_ = false;
  bool finished_ = false;
};

}  // namespace flux::shell
