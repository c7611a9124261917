// flux exec: run a command on broker ranks through the rexec service, copy
// each process's stdout/stderr to ours, forward our stdin and SIGINT/SIGTERM
// to the processes, and exit with the largest of their exit codes.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <climits>
#include <cstring>
#include <map>
#include <memory>

#include "cli.hpp"
#include "command.hpp"
#include "libflux/asio_reactor.hpp"
#include "libflux/child_reaper.hpp"
#include "libflux/idset.hpp"
#include "libflux/rexec.hpp"

extern char** environ;

namespace flux::cmd {
namespace {

constexpr int kExitNoHost = 68;  // EX_NOHOST: a rank that does not exist

struct Proc {
  explicit Proc(rexec::Process p) : process(std::move(p)) {}
  rexec::Process process;
  bool done = false;
  int exit_code = 0;
  int status = 0;                      // wait status, once finished
  bool launch_failed = false;          // reported already
  std::array<std::string, 2> partial;  // --label-io: the unfinished line per stream
};

struct Exec {
  Handle* h = nullptr;
  std::string argv0;
  std::string attach_hint;  // --attach: the PID|LABEL given (SIGINT detaches)
  bool label = false;
  int verbose = 0;
  std::vector<std::unique_ptr<Proc>> procs;
  size_t running = 0;
};

void put(FILE* f, std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), f);
}

void output(Exec& x, Proc& p, const rexec::Event& ev) {
  int idx = ev.stream == "stderr" ? 1 : 0;
  FILE* f = idx ? stderr : stdout;
  if (!x.label) {
    put(f, ev.data);
  } else {
    std::string prefix = std::to_string(p.process.rank()) + ": ";
    std::string& buf = p.partial[idx];
    buf += ev.data;
    size_t start = 0, nl;
    while ((nl = buf.find('\n', start)) != std::string::npos) {
      put(f, prefix);
      put(f, std::string_view(buf).substr(start, nl + 1 - start));
      start = nl + 1;
    }
    buf.erase(0, start);
    if (ev.eof && !buf.empty()) {
      put(f, prefix);
      put(f, buf);  // a last line without newline stays so
      buf.clear();
    }
  }
  std::fflush(f);
}

void finish(Exec& x, Proc& p) {
  p.done = true;
  if (--x.running == 0) x.h->reactor().stop();
}

Task<void> watch(Exec* x, Proc* p) {
  uint32_t rank = p->process.rank();
  try {
    while (auto ev = co_await p->process.next_async()) {
      switch (ev->type) {
        case rexec::Event::Type::Started:
          if (x->verbose)
            std::fprintf(stderr, "flux-exec: started pid %d on rank %u\n", ev->pid, rank);
          break;
        case rexec::Event::Type::Output:
          output(*x, *p, *ev);
          break;
        case rexec::Event::Type::Finished:
          p->exit_code = exit_code_of(ev->status);
          p->status = ev->status;
          if (x->verbose) std::fprintf(stderr, "flux-exec: rank %u: exit %d\n", rank, p->exit_code);
          break;
        case rexec::Event::Type::Stopped:
          break;
      }
    }
  } catch (const FluxError& e) {
    // flux-core's rules: 127 if the command was not found, 126 if it
    // could not be executed.
    int err = e.errnum();
    p->exit_code = err == ENOENT                                       ? 127
                   : (err == EACCES || err == EPERM || err == ENOEXEC) ? 126
                                                                       : 1;
    if (!x->attach_hint.empty())
      std::fprintf(stderr, "flux-exec: Error: rank %u: %s: %s\n", rank, x->argv0.c_str(), e.what());
    else if (p->exit_code != 1)
      std::fprintf(stderr, "flux-exec: Error: rank %u: %s: error launching process: %s\n", rank,
                   x->argv0.c_str(), std::strerror(err));
    else
      std::fprintf(stderr, "flux-exec: Error: rank %u: %s\n", rank, e.what());
    p->launch_failed = true;
  }
  finish(*x, *p);
}

// Copy our stdin to every process that is still running; EOF closes theirs.
class StdinForwarder {
 public:
  StdinForwarder(Exec& x, asio::io_context& ctx) : x_(x), in_(ctx) {
    int fd = dup(STDIN_FILENO);
    if (fd < 0) return;
    saved_flags_ = fcntl(STDIN_FILENO, F_GETFL);
    asio::error_code ec;
    in_.assign(fd, ec);
    if (ec) {
      close(fd);
      send("", true);
      return;
    }
    read();
  }
  ~StdinForwarder() {
    asio::error_code ec;
    in_.close(ec);
    if (saved_flags_ >= 0) fcntl(STDIN_FILENO, F_SETFL, saved_flags_);  // shared with our shell
  }

 private:
  void read() {
    in_.async_read_some(asio::buffer(buf_), [this](const asio::error_code& ec, size_t n) {
      if (n > 0) send(std::string(buf_.data(), n), false);
      if (ec) {
        if (ec != asio::error::operation_aborted) send("", true);
        return;
      }
      read();
    });
  }
  void send(const std::string& data, bool eof) {
    for (auto& p : x_.procs)
      if (!p->done) p->process.write(data, eof);
  }
  Exec& x_;
  asio::posix::stream_descriptor in_;
  std::array<char, 65536> buf_;
  int saved_flags_ = -1;
};

std::vector<uint32_t> parse_ranks(const std::string& spec, uint32_t size) {
  std::vector<uint32_t> out;
  if (spec == "all") {
    for (uint32_t r = 0; r < size; r++) out.push_back(r);
    return out;
  }
  auto ids = Idset::decode(spec);
  if (!ids) throw FluxError(EINVAL, "invalid rank argument '" + spec + "'");
  for (uint32_t r : *ids) out.push_back(r);
  return out;
}

// --bg: one non-streaming exec per rank; each answers once with the pid.
int start_background(Handle& h, const std::vector<uint32_t>& targets, const rexec::Command& cmd,
                     bool waitable) {
  std::vector<Rpc> rpcs;
  for (uint32_t r : targets) {
    Message m = Message::request("rexec.exec", r);
    m.set_json({{"cmd", cmd.to_json()},
                {"flags",
                 rexec::kFlagStdout | rexec::kFlagStderr | (waitable ? rexec::kFlagWaitable : 0)}});
    rpcs.push_back(h.rpc_message(std::move(m)));
  }
  int rc = 0;
  for (size_t i = 0; i < rpcs.size(); i++) {
    try {
      Json r = rpcs[i].get_json();
      std::printf("%u: %d\n", targets[i], r.value("pid", -1));
    } catch (const FluxError& e) {
      // As flux-core: 1 here (no process of ours ran to say 127 or 126).
      int err = e.errnum();
      bool launch = err == ENOENT || err == EACCES || err == EPERM || err == ENOEXEC;
      std::fprintf(stderr, "flux-exec: Error: rank %u: %s: error launching process: %s\n",
                   targets[i], cmd.argv[0].c_str(), launch ? std::strerror(err) : e.what());
      rc = 1;
    }
  }
  std::fflush(stdout);
  return rc;
}

}  // namespace

int cmd_exec(int argc, char** argv) {
  CLI::App app{"Run a command on broker ranks (an administrative and test tool, not for jobs)."};
  std::string ranks = "all", dir, exclude, label;
  std::vector<std::string> setenvs, setopts;
  bool noinput = false, with_imp = false, bg = false, waitable = false, attach = false;
  Exec x;
  app.add_option("-r,--rank", ranks, "Run on the ranks in IDSET (default: all)");
  app.add_option("-x,--exclude", exclude, "Do not run on the ranks in IDSET");
  app.add_option("-d,--dir", dir, "Working directory of the command (default: ours; none: unset)");
  app.add_option("--setopt", setopts, "Subprocess option NAME=VALUE (e.g. stdin_BUFSIZE)")
      ->allow_extra_args(false);
  app.add_flag("--with-imp", with_imp, "Run the command through the IMP (exec.imp)");
  app.add_flag("--bg", bg, "Start in background; print RANK: PID and exit");
  app.add_flag("--waitable", waitable, "With --bg: keep the exit status for flux sproc wait");
  app.add_option("--label", label, "Name the process (for flux sproc and --attach)");
  app.add_flag("--attach", attach, "Follow the background process PID|LABEL (the argument)");
  app.add_option("--setenv", setenvs, "Set VAR=VAL in the command's environment")
      ->allow_extra_args(false);
  app.add_flag("-n,--noinput", noinput, "Do not forward stdin; send EOF to the processes");
  app.add_flag("-l,--label-io", x.label, "Label lines of output with the source rank");
  app.add_flag("-v,--verbose", x.verbose, "Say when processes start and end");
  app.prefix_command();
  // CLI11 would take the next word as the value of an empty --label=.
  for (int i = 1; i < argc && argv[i][0] == '-'; i++)
    if (std::string_view(argv[i]) == "--label=")
      throw FluxError(EINVAL, std::string("failed to set label: ") + std::strerror(EINVAL));
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  std::vector<std::string> command = app.remaining();
  if (!command.empty() && command[0] == "--") command.erase(command.begin());
  if (waitable && !bg) throw FluxError(EINVAL, "--waitable can only be used with --bg");
  if (attach && bg) throw FluxError(EINVAL, "--attach cannot be used with --bg");
  if (app.count("--label") && label.empty())
    throw FluxError(EINVAL, std::string("failed to set label: ") + std::strerror(EINVAL));
  if (attach && command.size() != 1)
    throw FluxError(EINVAL, "--attach takes a single PID|LABEL argument");
  if (command.empty()) throw FluxError(EINVAL, "command is required");
  x.argv0 = command[0];
  for (const auto& o : setopts)
    if (o.find('=') == std::string::npos || o.front() == '=')
      throw FluxError(EINVAL, "--setopt: expected NAME=VALUE, got '" + o + "'");

  rexec::Command cmd;
  cmd.argv = command;
  for (char** e = environ; *e; e++) {
    std::string_view kv = *e;
    size_t eq = kv.find('=');
    if (eq != std::string_view::npos)
      cmd.env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  for (const auto& s : setenvs) {
    size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      throw FluxError(EINVAL, "--setenv: expected VAR=VAL, got '" + s + "'");
    cmd.env[s.substr(0, eq)] = s.substr(eq + 1);
  }
  if (dir == "none") {
    dir.clear();  // the broker's own
  } else if (dir.empty()) {
    std::array<char, 4096> cwd;
    if (getcwd(cwd.data(), cwd.size())) dir = cwd.data();
  }
  cmd.cwd = dir;
  cmd.label = label;

  auto h = open_instance();
  if (with_imp) {
    Json config = h->rpc("config.get", Json::object()).get_json();
    if (!config.contains("exec") || !config["exec"].contains("imp"))
      throw FluxError(ENOENT, "--with-imp: exec.imp path not found in config: " +
                                  std::string(std::strerror(ENOENT)));
    throw FluxError(ENOSYS, "--with-imp: running through the IMP is not supported yet");
  }
  x.h = h.get();
  Json size_attr = h->rpc("attr.get", {{"name", "size"}}).get_json();
  uint32_t size = static_cast<uint32_t>(std::stoul(size_attr.at("value").get<std::string>()));
  std::vector<uint32_t> targets = parse_ranks(ranks, size);
  for (uint32_t r : targets) {
    if (r >= size) {
      std::fprintf(stderr, "flux-exec: Error: rank %u is not in the instance (size %u)\n", r, size);
      return kExitNoHost;
    }
  }
  if (!exclude.empty()) {
    auto ex = Idset::decode(exclude);
    if (!ex) throw FluxError(EINVAL, "invalid --exclude argument '" + exclude + "'");
    std::erase_if(targets, [&](uint32_t r) { return ex.value().contains(r); });
  }
  if (targets.empty()) throw FluxError(EINVAL, "no ranks to run on");

  if (bg) return start_background(*h, targets, cmd, waitable);
  // --attach: a number that is a pid_t is a pid, anything else a label.
  pid_t attach_pid = -1;
  std::string attach_label;
  if (attach) {
    const std::string& t = command[0];
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(t.c_str(), &end, 10);
    if (!t.empty() && !*end && errno == 0 && v > 0 && v <= INT32_MAX)
      attach_pid = static_cast<pid_t>(v);
    else
      attach_label = t;
    if (attach_pid > 0 && targets.size() > 1)
      throw FluxError(EINVAL, "--attach by pid requires a single target rank (use --rank)");
    x.argv0 = attach_pid > 0 ? "pid " + t : "label " + t;
    x.attach_hint = t;
  }
  for (uint32_t r : targets)
    x.procs.push_back(
        std::make_unique<Proc>(attach ? rexec::Process::attach(*h, r, attach_pid, attach_label)
                                      : rexec::Process::start(*h, r, cmd)));
  x.running = x.procs.size();
  for (auto& p : x.procs) spawn(watch(&x, p.get()));

  asio::io_context& ctx = io_context(h->reactor());
  std::unique_ptr<StdinForwarder> input;
  if (noinput) {
    for (auto& p : x.procs) p->process.write("", true);
  } else {
    input = std::make_unique<StdinForwarder>(x, ctx);
  }

  // SIGINT and SIGTERM go to the processes; a second SIGINT within 2 s
  // gives up on them and exits.
  asio::signal_set signals(ctx, SIGINT, SIGTERM);
  auto last_int = std::chrono::steady_clock::time_point{};
  bool forced = false;
  bool detached = false;
  std::function<void(const asio::error_code&, int)> on_signal = [&](const asio::error_code& ec,
                                                                    int sig) {
    if (ec) return;
    if (sig == SIGINT && !x.attach_hint.empty()) {
      std::fprintf(stderr, "flux-exec: detached; use 'flux sproc kill %s' to signal it\n",
                   x.attach_hint.c_str());
      detached = true;
      h->reactor().stop();
      return;
    }
    auto now = std::chrono::steady_clock::now();
    if (sig == SIGINT && now - last_int < std::chrono::seconds(2)) {
      forced = true;
      h->reactor().stop();
      return;
    }
    if (sig == SIGINT) last_int = now;
    for (auto& p : x.procs)
      if (!p->done && p->process.pid() > 0) (void)p->process.kill(sig);
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);

  if (x.running > 0) h->reactor().run();
  asio::error_code ignore;
  signals.cancel(ignore);
  input.reset();
  if (forced) return 128 + SIGINT;
  if (detached) return 0;
  // As flux-core: the ranks that failed, grouped by how ("[0-3]: Exit 2").
  std::map<std::string, Idset> failed;
  int rc = 0;
  for (auto& p : x.procs) {
    rc = std::max(rc, p->exit_code);
    if (!p->done || p->launch_failed || p->exit_code == 0) continue;
    std::string how = WIFSIGNALED(p->status) ? strsignal(WTERMSIG(p->status))
                                             : "Exit " + std::to_string(p->exit_code);
    failed[how].insert(p->process.rank());
  }
  for (auto& [how, ranks] : failed)
    std::fprintf(stderr, "[%s]: %s\n", ranks.encode().c_str(), how.c_str());
  return rc;
}

}  // namespace flux::cmd
