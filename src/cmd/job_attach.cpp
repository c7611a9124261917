#include "job_attach.hpp"
#include "libflux/child_reaper.hpp"

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "job_query.hpp"
#include "libflux/eventlog.hpp"
#include "libflux/kvs.hpp"

namespace flux::cmd {

using jobcmd::eventlog_watch;
using jobcmd::eventlog_watch_cancel;
using jobcmd::watch_entry;

namespace {

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a closed pipe: nothing more to say
    data.remove_prefix(static_cast<size_t>(n));
  }
}

class Attach {
 public:
  Attach(Handle& h, JobId id, AttachOptions o, const char* prog)
      : h_(h), id_(id), o_(std::move(o)), prog_(prog), key_(id.encode(JobIdEncoding::kKvs)) {}

  int run() {
    gate_->reactor = &h_.reactor();
    std::unique_ptr<std::thread> input;
    std::unique_ptr<std::thread> signals;
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    if (!o_.read_only) {
      // Ctrl-C is read by one thread with sigwait and handled in the loop.
      pthread_sigmask(SIG_BLOCK, &mask, nullptr);
      signals = std::make_unique<std::thread>([this, mask] { signal_thread(mask); });
      signals->detach();
      if (o_.forward_stdin) {
        input = std::make_unique<std::thread>([this] { stdin_thread(); });
        input->detach();  // a read() blocked on a terminal must not keep us here
      }
    }
    spawn(watch_eventlog());
    h_.reactor().keep_alive(true);
    h_.reactor().run();
    // The caller may destroy the handle (and its reactor) once we return,
    // while the detached threads still run: they must not post to it.
    std::lock_guard<std::mutex> lock(gate_->m);
    gate_->reactor = nullptr;
    return exit_code_;
  }

 private:
  Task<void> watch_eventlog() {
    Rpc rpc = eventlog_watch(h_, id_, "eventlog");
    std::optional<FluxError> err;
    try {
      while (auto m = co_await rpc.next_async()) on_event(watch_entry(*m));
    } catch (const FluxError& e) {
      err = e;
    }
    if (err) {
      std::fprintf(stderr, "%s: %s\n", prog_, err->what());
      exit_code_ = 1;
      finish();
      co_return;
    }
    eventlog_done_ = true;
    if (!output_started_ || output_done_) finish();
  }

  void on_event(const EventlogEntry& e) {
    if (o_.verbose)
      std::fprintf(stderr, "%s: %s\n", id_.encode().c_str(), eventlog_entry_format_text(e).c_str());
    if (e.name == "exception") {
      int severity = e.context.value("severity", 0);
      std::string type = e.context.value("type", "");
      std::string note = e.context.value("note", "");
      std::fprintf(stderr, "%s: %s: job.exception type=%s severity=%d%s%s\n", prog_,
                   id_.encode().c_str(), type.c_str(), severity, note.empty() ? "" : " ",
                   note.c_str());
      if (severity == 0) fatal_ = true;
    } else if (e.name == "start") {
      if (!output_started_) {
        output_started_ = true;
        spawn(watch_output());
        spawn(watch_exec());
      }
    } else if (e.name == "finish") {
      status_ = e.context.value("status", 0);
      have_status_ = true;
    } else if (e.name == "clean") {
      compute_exit_code();
    }
  }

  void compute_exit_code() {
    if (have_status_) {
      exit_code_ = exit_code_of(*status_);
      if (WIFSIGNALED(*status_))
        std::fprintf(stderr, "%s: task(s) %s\n", prog_, strsignal(WTERMSIG(*status_)));
      else if (exit_code_ != 0)
        std::fprintf(stderr, "%s: task(s) exited with exit code %d\n", prog_, exit_code_);
    }
    if (fatal_ && exit_code_ == 0) exit_code_ = 1;
  }

  Task<void> watch_output() {
    Rpc rpc = eventlog_watch(h_, id_, "guest.output");
    try {
      while (auto m = co_await rpc.next_async()) print_output(watch_entry(*m));
    } catch (const FluxError& e) {
      // ENOENT: the job ended before its shell wrote any output.
      if (e.errnum() != ENOENT) std::fprintf(stderr, "%s: output: %s\n", prog_, e.what());
    }
    output_done_ = true;
    if (eventlog_done_) finish();
  }

  // The exec eventlog: printed with -E; its shell.start says the shell
  // has written the input eventlog's header, so our stdin may follow.
  Task<void> watch_exec() {
    Rpc rpc = eventlog_watch(h_, id_, "guest.exec.eventlog");
    try {
      while (auto m = co_await rpc.next_async()) {
        auto e = watch_entry(*m);
        if (o_.show_exec)
          std::fprintf(stderr, "%s: exec: %s\n", id_.encode().c_str(),
                       eventlog_entry_format_text(e).c_str());
        if (e.name == "shell.start" && !input_ready_) {
          input_ready_ = true;
          for (auto& [data, eof] : pending_input_) send_input(data, eof);
          pending_input_.clear();
        }
      }
    } catch (const FluxError&) {
      // The exec eventlog is informational: its end or absence is fine.
    }
  }

  void print_output(const EventlogEntry& e) {
    if (e.name != "data" || !e.context.is_object()) return;
    const Json& c = e.context;
    std::string data = c.value("data", "");
    if (data.empty()) return;
    int fd = c.value("stream", "stdout") == "stderr" ? STDERR_FILENO : STDOUT_FILENO;
    if (!o_.label_io) {
      write_all(fd, data);
      return;
    }
    std::string rank = c.value("rank", "0");
    std::string out;
    size_t start = 0;
    while (start < data.size()) {
      size_t nl = data.find('\n', start);
      size_t end = nl == std::string::npos ? data.size() : nl + 1;
      out += rank + ": ";
      out.append(data, start, end - start);
      start = end;
    }
    write_all(fd, out);
  }

  // stdin -> guest.input (RFC 24), read on its own thread; held until the
  // shell has started (see watch_exec).
  void stdin_thread() {
    char buf[65536];
    while (true) {
      ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      std::string chunk = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
      bool eof = n <= 0;
      gate_->post([this, chunk = std::move(chunk), eof] {
        if (input_ready_)
          send_input(chunk, eof);
        else
          pending_input_.emplace_back(chunk, eof);
      });
      if (eof) return;
    }
  }

  void send_input(const std::string& data, bool eof) {
    kvs::Txn txn;
    std::string key = key_ + ".guest.input";  // its header is the shell's
    Json ctx = {{"stream", "stdin"}, {"rank", o_.input_ranks}};
    if (!data.empty()) ctx["data"] = data;
    if (eof) ctx["eof"] = true;
    txn.append(key, eventlog_entry_encode(eventlog_entry_make("data", ctx)));
    kvs::commit(h_, txn);
  }

  void signal_thread(sigset_t mask) {
    while (true) {
      int sig = 0;
      if (sigwait(&mask, &sig) != 0) return;
      gate_->post([this] { on_sigint(); });
    }
  }

  void on_sigint() {
    double now = monotime();
    if (last_sigint_ > 0 && now - last_sigint_ < 2.0) {
      std::fprintf(stderr, "%s: detaching from %s\n", prog_, id_.encode().c_str());
      exit_code_ = 130;
      finish();
      return;
    }
    last_sigint_ = now;
    std::fprintf(stderr, "%s: canceling %s (Ctrl-C again within 2s to detach)\n", prog_,
                 id_.encode().c_str());
    Json req = {{"id", id_.value}, {"severity", 0}, {"type", "cancel"}, {"note", "interrupted"}};
    h_.rpc("job-manager.raise", req);
  }

  void finish() {
    std::fflush(stdout);
    h_.reactor().keep_alive(false);
    h_.reactor().stop();
  }

  Handle& h_;
  JobId id_;
  AttachOptions o_;
  const char* prog_;
  std::string key_;
  int exit_code_ = 0;
  std::optional<int> status_;
  bool have_status_ = false;
  bool fatal_ = false;
  bool output_started_ = false;
  bool output_done_ = false;
  bool eventlog_done_ = false;
  bool input_ready_ = false;
  std::vector<std::pair<std::string, bool>> pending_input_;
  double last_sigint_ = 0;
  // How the stdin and signal threads reach the reactor, while it exists.
  struct PostGate {
    std::mutex m;
    Reactor* reactor = nullptr;
    void post(std::function<void()> fn) {
      std::lock_guard<std::mutex> lock(m);
      if (reactor) reactor->post(std::move(fn));
    }
  };
  std::shared_ptr<PostGate> gate_ = std::make_shared<PostGate>();
};

}  // namespace

int attach_job(Handle& h, JobId id, const AttachOptions& opts, const char* prog) {
  // Not freed: the stdin and signal threads may still hold it when we
  // return, and the process is about to exit anyway.
  auto* a = new Attach(h, id, opts, prog);
  return a->run();
}

}  // namespace flux::cmd
