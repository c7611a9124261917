// Client side of the broker's rexec service (see src/broker/README-rexec.md
// for the protocol): start a command on a rank and read what happens to it,
// blocking (tools) or with co_await (modules).
//
//   auto p = rexec::Process::start(h, rank, cmd);
//   while (auto ev = p.next()) { ... }          // or co_await p.next_async()
//
// An exec failure (no such command, permission denied) is thrown by next()
// as a FluxError with the errno and "CMD: strerror" as its message.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "handle.hpp"
#include "json.hpp"
#include "result.hpp"

namespace flux::rexec {

// exec request flags (flux-core's SUBPROCESS_REXEC_*)
constexpr int kFlagStdout = 1;   // forward stdout
constexpr int kFlagStderr = 2;   // forward stderr
constexpr int kFlagChannel = 4;  // (auxiliary channels: not supported)
constexpr int kFlagWriteCredit = 8;
constexpr int kFlagWaitable = 16;

struct Command {
  std::vector<std::string> argv;
  // The whole environment of the process; empty: the broker's.
  std::map<std::string, std::string> env;
  std::string cwd;  // empty: the broker's
  std::string label;
  Json opts = Json::object();
  Json to_json() const;
};

struct Event {
  enum class Type { Started, Output, Finished, Stopped };
  Type type = Type::Started;
  pid_t pid = -1;
  // Output
  std::string stream;
  std::string data;
  bool eof = false;
  // Finished: a wait(2) status
  int status = 0;
};

// Decode one rexec.exec response (not an error response).
Result<Event> parse_event(const Message& m);

// The exec request message for cmd, ready for Handle::rpc_message.
Message exec_request(uint32_t rank, const Command& cmd, int flags = kFlagStdout | kFlagStderr,
                     const std::string& service = "rexec");

// One remote process, started by a streaming rexec.exec request.
class Process {
 public:
  static Process start(Handle& h, uint32_t rank, const Command& cmd,
                       int flags = kFlagStdout | kFlagStderr);
  // Follow a background process by pid, or by label when one is given (its
  // "attached" response comes as a Started event).
  static Process attach(Handle& h, uint32_t rank, pid_t pid, const std::string& label,
                        int flags = kFlagStdout | kFlagStderr);
  // The next event, or nullopt once the process is gone (after Finished).
  // Throws FluxError for an exec failure or a lost connection.
  std::optional<Event> next();
  Task<std::optional<Event>> next_async();
  // Write to the process's stdin (by the exec request's matchtag, so this
  // works before Started arrives). Fire and forget.
  void write(const std::string& data, bool eof = false);
  // Signal the process group (needs the pid: after Started).
  Rpc kill(int signum);
  pid_t pid() const { return pid_; }
  uint32_t rank() const { return rank_; }
  Rpc& rpc() { return rpc_; }

 private:
  Process(Handle& h, uint32_t rank, Rpc rpc) : h_(&h), rank_(rank), rpc_(std::move(rpc)) {}
  std::optional<Event> take(std::optional<Message> m);
  Handle* h_;
  uint32_t rank_;
  Rpc rpc_;
  pid_t pid_ = -1;
};

}  // namespace flux::rexec
