// Shell: one job shell's life: plan the local tasks, write the job's
// headers and exec events, start the tasks, carry their I/O, PMI and
// signals, wait for them, and report the largest exit code.
#pragma once
#include <sys/resource.h>

#include <coroutine>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "affinity.hpp"
#include "input.hpp"
#include "io.hpp"
#include "jobinfo.hpp"
#include "kvs_writer.hpp"
#include "libflux/pmi_server.hpp"
#include "mustache.hpp"
#include "output.hpp"
#include "pty.hpp"

namespace flux::shell {

class Shell {
 public:
  // h null: standalone (no KVS; output to the shell's stdout/stderr, with
  // "TASKID: " labels if label is set).
  Shell(Reactor& r, Handle* h, JobInfo info, bool label);
  ~Shell();

  // Run the job's local tasks to completion; the value is the shell's exit
  // code. Throws FluxError for problems before any task started.
  Task<int> run();
  // Send signo to every running task's process group.
  void forward_signal(int signo);
  // The broker is gone: kill the tasks and remove the job's directory now,
  // since the run will not get to its end (nor this object to its destructor).
  void abandon();

 private:
  struct LocalTask {
    int id = 0;
    int index = 0;  // among this shell's tasks
    pid_t pid = -1;
    std::unique_ptr<FdReader> out, err;
    std::unique_ptr<FdWriter> in;
    std::unique_ptr<Pty> pty;  // with the pty option: its stdio
    bool running = false;
    int exit_code = 0;
  };
  struct WaitAll {
    Shell& s;
    bool await_ready() const noexcept { return s.outstanding_ == 0; }
    void await_suspend(std::coroutine_handle<> h) { s.waiter_ = h; }
    void await_resume() noexcept {}
  };

  void setup_options();
  Rpc register_service();
  void on_stdin_request(const Message& m);
  void on_terminal_request(const Message& m);
  MustacheContext mustache_context() const;
  Task<void> write_headers();
  Task<void> wait_for_output_log();
  Task<void> make_tmpdir();
  std::vector<std::string> task_env(const LocalTask& t, int pmi_fd) const;
  void start(LocalTask& t);
  void start_failed(const LocalTask& t, const std::string& what, int err);
  Task<void> raise_exception(std::string type, int severity, std::string note);
  void done_one();
  void output_eof(int taskid);  // the end of both of a task's streams
  void deliver_input(const InputEvent& ev);
  void on_pmi_abort(int taskid, int code, const std::string& msg);

  Reactor& r_;
  Handle* h_;
  JobInfo info_;
  bool label_;
  std::string cwd_;
  std::string tmpdir_;
  void remove_tmpdir();
  std::optional<std::string> stdin_path_;
  std::optional<PtyOptions> pty_;
  std::string service_;  // <uid>-shell-<id> (not standalone)
  bool start_failure_reported_ = false;
  std::vector<std::pair<int, rlim_t>> rlimits_;  // from the rlimit shell option
  Affinity affinity_ = Affinity::kOff;
  std::unique_ptr<KvsWriter> kvs_;
  std::unique_ptr<Output> output_;
  std::unique_ptr<PmiServer> pmi_;
  ChildReaper reaper_;
  std::unique_ptr<SignalWatch> signals_;
  std::map<int, LocalTask> tasks_;
  int outstanding_ = 0;  // task exits and output EOFs still to come
  std::coroutine_handle<> waiter_;
  std::shared_ptr<bool> input_stopped_ = std::make_shared<bool>(false);
  std::shared_ptr<bool> serving_ = std::make_shared<bool>(true);  // false once destroyed
  int abort_code_ = 0;
};

}  // namespace flux::shell
