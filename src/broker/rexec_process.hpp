// One process started by the rexec service: spawned in its own process
// group with pipes for stdin, stdout and stderr (non-blocking, watched by
// the broker's reactor), every other descriptor closed. Its exit is heard
// through the broker's ChildWatcher, the one SIGCHLD path of the broker.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "libflux/reactor.hpp"

namespace flux::broker {

struct SpawnSpec {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;  // the whole environment
  std::string cwd;                         // empty: the broker's
  bool forward_stdout = true;              // else inherits the broker's
  bool forward_stderr = true;
};

class RexecProcess {
 public:
  // stream is "stdout" or "stderr"; data is whole UTF-8 characters when the
  // output is text (a character split across reads is held back).
  using OnOutput = std::function<void(const char* stream, std::string data, bool eof)>;

  // Start the process. Throws FluxError(errno, "CMD: strerror") if it
  // cannot be started; nothing is left behind then.
  RexecProcess(Reactor& r, const SpawnSpec& spec, OnOutput on_output);
  ~RexecProcess();
  RexecProcess(const RexecProcess&) = delete;
  RexecProcess& operator=(const RexecProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Queue bytes for stdin; eof closes it once they are written.
  void write_stdin(std::string data, bool eof);
  bool stdin_open() const;
  // True once every forwarded output stream has reached end of file.
  bool output_done() const;

  struct Pipes;

 private:
  void start_read(int idx);
  void flush_stdin();
  pid_t pid_ = -1;
  OnOutput on_output_;
  std::unique_ptr<Pipes> pipes_;
  // Set false in the destructor so late completions touch nothing.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace flux::broker
