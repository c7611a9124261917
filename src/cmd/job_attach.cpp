#include "job_attach.hpp"
#include "libflux/child_reaper.hpp"

#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
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
#include "libflux/ioencode.hpp"
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

// Our terminal in raw mode while attached to a job's pty: every key goes
// to the job (Ctrl-C included); restored when destroyed.
class RawTerminal {
 public:
  RawTerminal() {
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_) < 0) return;
    termios t = saved_;
    cfmakeraw(&t);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    active_ = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
  }
  ~RawTerminal() {
    if (active_) tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  bool active() const { return active_; }

 private:
  termios saved_{};
  bool active_ = false;
};

Json window_size() {
  winsize w{};
  if (ioctl(STDIN_FILENO, TIOCGWINSZ, &w) < 0 || w.ws_row == 0 || w.ws_col == 0) {
    w.ws_row = 24;
    w.ws_col = 80;
  }
  return {{"rows", w.ws_row}, {"cols", w.ws_col}};
}

// Ctrl-\ as the first byte typed detaches from a job's pty, as in flux-core.
constexpr char kDetachKey = '\x1c';

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
    sigaddset(&mask, SIGWINCH);
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
    raw_.reset();
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
    maybe_finish();
  }

  // Done once the job is inactive, its output is printed, and its
  // terminal (if we attached to one) has ended.
  void maybe_finish() {
    if (eventlog_done_ && (!output_started_ || output_done_) && !pty_running_) finish();
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
    maybe_finish();
  }

  // The exec eventlog: printed with -E. Its shell.init says the output
  // eventlog exists (flux-core's job-info will not wait for it), and
  // names a terminal if there is one; shell.start says the shell has
  // written the input eventlog's header, so our stdin may follow.
  Task<void> watch_exec() {
    Rpc rpc = eventlog_watch(h_, id_, "guest.exec.eventlog");
    try {
      while (auto m = co_await rpc.next_async()) {
        auto e = watch_entry(*m);
        if (o_.show_exec)
          std::fprintf(stderr, "%s: exec: %s\n", id_.encode().c_str(),
                       eventlog_entry_format_text(e).c_str());
        if (e.name == "shell.init" && !output_watched_) {
          output_watched_ = true;
          shell_service_of(e.context);
          spawn(watch_output());
          if (!o_.read_only && !have_status_) maybe_attach_pty(e.context);
        }
        if (e.name == "shell.start" && !input_ready_ && !pty_running_) input_start();
      }
    } catch (const FluxError&) {
      // Its end or absence is fine: a shell that never started.
    }
    if (!output_watched_) {
      output_done_ = true;  // no shell.init: no output will come
      maybe_finish();
    }
  }

  // flux-core's shells (and ours) name their service in shell.init; our
  // input goes there (SERVICE.stdin on the leader shell's rank).
  void shell_service_of(const Json& c) {
    if (!c.is_object()) return;
    auto service = c.find("service"), rank = c.find("leader-rank");
    if (service == c.end() || rank == c.end() || !service->is_string() ||
        !rank->is_number_unsigned())
      return;
    shell_service_ = service->get<std::string>();
    shell_rank_ = rank->get<uint32_t>();
  }

  // shell.init names an interactive terminal: {"service":S,"pty":NAME,
  // "leader-rank":R,"capture"?:1}.
  void maybe_attach_pty(const Json& c) {
    if (!c.is_object()) return;
    auto service = c.find("service"), pty = c.find("pty"), rank = c.find("leader-rank");
    if (service == c.end() || pty == c.end() || rank == c.end() || !service->is_string() ||
        !pty->is_string() || !rank->is_number_unsigned())
      return;
    auto capture = c.find("capture");
    pty_capture_ = capture != c.end() && capture->is_number_integer() && *capture != 0;
    spawn(attach_pty(service->get<std::string>() + "." + pty->get<std::string>(),
                     rank->get<uint32_t>()));
  }

  void input_start() {
    input_ready_ = true;
    for (auto& [data, eof] : pending_input_) send_input(data, eof);
    pending_input_.clear();
  }

  // The job's interactive terminal: attach (streaming), then our keys go
  // to it and its output comes back, until it ends or we detach.
  Task<void> attach_pty(std::string topic, uint32_t rank) {
    pty_running_ = true;
    pty_topic_ = topic;
    pty_rank_ = rank;
    Json req = {{"type", "attach"}, {"mode", "rw"}, {"winsize", window_size()}};
    Rpc rpc = h_.rpc(topic, req, rank, msgflag::kStreaming);
    std::optional<FluxError> err;
    try {
      while (auto m = co_await rpc.next_async()) {
        auto body = m->json();
        Json r = body ? std::move(*body) : Json::object();
        std::string type = r.is_object() ? r.value("type", "") : "";
        if (type == "attach") {
          pty_attached_ = true;
          raw_ = std::make_unique<RawTerminal>();
          input_ready_ = true;
          for (auto& [data, eof] : pending_input_) send_input(data, eof);
          pending_input_.clear();
        } else if (type == "data") {
          if (auto d = data_decode(r)) write_all(STDOUT_FILENO, *d);
        } else if (type == "resize") {
          send_resize();
        } else if (type == "exit") {
          detached_ = r.value("message", "") == "Client requested detach";
        }
      }
    } catch (const FluxError& e) {
      err = e;
    }
    raw_.reset();
    bool was_attached = pty_attached_;
    pty_attached_ = false;
    pty_running_ = false;
    if (err && !was_attached) {
      // No terminal after all (the job ended first): plain output and input.
      if (!input_ready_) input_start();
    } else if (err) {
      std::fprintf(stderr, "%s: pty: %s\n", prog_, err->what());
    }
    if (detached_) {
      std::fprintf(stderr, "%s: detached from %s\n", prog_, id_.encode().c_str());
      finish();
      co_return;
    }
    maybe_finish();
  }

  void send_resize() {
    if (pty_attached_)
      h_.rpc(pty_topic_, Json{{"type", "resize"}, {"winsize", window_size()}}, pty_rank_);
  }

  void send_pty(const std::string& data, bool eof) {
    if (raw_ && raw_->active() && !data.empty() && data[0] == kDetachKey) {
      h_.rpc(pty_topic_, Json{{"type", "detach"}}, pty_rank_);
      return;
    }
    Json req = {{"type", "data"}};
    // A pipe's end is the terminal's end-of-file character.
    data_encode_into(req, eof ? data + "\x04" : data);
    h_.rpc(pty_topic_, req, pty_rank_);
  }

  void print_output(const EventlogEntry& e) {
    if (e.name != "data" || !e.context.is_object()) return;
    const Json& c = e.context;
    std::string data = c.value("data", "");
    if (data.empty()) return;
    int fd = c.value("stream", "stdout") == "stderr" ? STDERR_FILENO : STDOUT_FILENO;
    if (pty_running_ && pty_capture_ && fd == STDOUT_FILENO && c.value("rank", "") == "0")
      return;  // task 0's terminal output, which we print as it comes
    if (raw_ && raw_->active()) {
      // A raw terminal does not return the carriage at a newline.
      std::string crlf;
      for (char ch : data) {
        if (ch == '\n') crlf += '\r';
        crlf += ch;
      }
      data = std::move(crlf);
    }
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
        if (input_ready_ && !(pty_running_ && !pty_attached_))
          send_input(chunk, eof);
        else
          pending_input_.emplace_back(chunk, eof);
      });
      if (eof) return;
    }
  }

  void send_input(const std::string& data, bool eof) {
    if (pty_attached_) {
      send_pty(data, eof);
      return;
    }
    if (pty_running_) return;  // after the terminal ended: nowhere to go
    if (!shell_service_.empty()) {
      Json io = io_encode("stdin", o_.input_ranks, data, eof);
      h_.rpc(shell_service_ + ".stdin", io, shell_rank_);
      return;
    }
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
      if (sig == SIGWINCH)
        gate_->post([this] { send_resize(); });
      else
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
    raw_.reset();
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
  bool output_watched_ = false;
  std::string shell_service_;  // from shell.init
  uint32_t shell_rank_ = 0;
  bool output_done_ = false;
  bool eventlog_done_ = false;
  bool input_ready_ = false;
  std::vector<std::pair<std::string, bool>> pending_input_;
  double last_sigint_ = 0;
  // The job's pty (shell.init names it), while attaching or attached.
  bool pty_running_ = false;
  bool pty_attached_ = false;
  bool pty_capture_ = false;  // task 0's terminal output is in the KVS too
  bool detached_ = false;
  std::string pty_topic_;
  uint32_t pty_rank_ = 0;
  std::unique_ptr<RawTerminal> raw_;
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
