// The broker's remote execution service, `rexec` (flux-core's subprocess
// server; protocol in README-rexec.md beside this file). Owner only. Each
// rank serves its own processes; a request's nodeid picks the rank.
#pragma once

#include <sys/types.h>

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "libflux/handle.hpp"
#include "subprocess.hpp"

namespace flux::broker {

class RexecService {
 public:
  struct Options {
    uint32_t rank = 0;
    std::string local_uri;  // FLUX_URI of the processes
    // The environment of a command that brings none (the broker's children's).
    std::function<std::map<std::string, std::string>()> default_env;
    // The broker log, as appname "rexec" (background output and exits).
    std::function<void(int severity, const std::string& text)> log;
  };
  RexecService(Reactor& r, ChildWatcher& children, Options opts);
  // Kills (SIGKILL) the process groups of every process still running.
  ~RexecService();
  void serve(Handle& h);
  size_t size() const { return procs_.size(); }

  struct Proc;

 private:
  void exec(const Message& m);
  void write(const Message& m);
  void kill(const Message& m);
  void list(const Message& m);
  void disconnect(const Message& m);
  void wait(const Message& m);
  void attach(const Message& m);
  void check_done(pid_t pid);
  void output(Proc& p, const std::string& rank, const char* stream, std::string data, bool eof);
  void log(int severity, const std::string& text);
  Proc* find_pid(pid_t pid);
  Proc* find_target(const Json& req);

  Reactor& r_;
  ChildWatcher& children_;
  Options opts_;
  Handle* h_ = nullptr;
  std::map<pid_t, std::shared_ptr<Proc>> procs_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace flux::broker
