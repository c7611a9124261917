#include "shell.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "files.hpp"
#include "input.hpp"
#include "libflux/ioencode.hpp"
#include "libflux/kvs.hpp"
#include "libflux/rlimit.hpp"
#include "pmi_kvs.hpp"
#include "task_process.hpp"

namespace flux::shell {

namespace {

const std::vector<int> kForwarded = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2};

std::string current_dir() {
  char buf[PATH_MAX];
  return getcwd(buf, sizeof(buf)) ? std::string(buf) : std::string("/");
}

}  // namespace

Shell::Shell(Reactor& r, Handle* h, JobInfo info, bool label)
    : r_(r), h_(h), info_(std::move(info)), label_(label), reaper_(r) {
  signals_ = std::make_unique<SignalWatch>(r_, kForwarded, [this](int s) { forward_signal(s); });
}

Shell::~Shell() {
  *input_stopped_ = true;
  *serving_ = false;
  remove_tmpdir();
}

void Shell::remove_tmpdir() {
  if (tmpdir_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(tmpdir_, ec);
  tmpdir_.clear();
}

void Shell::abandon() {
  forward_signal(SIGKILL);
  remove_tmpdir();
}

void Shell::setup_options() {
  const Json& opts = info_.options;
  auto out = parse_output_options(opts);
  if (!out) throw FluxError(out.error());
  if (!h_ && label_) {
    out->out.label = true;
    out->err.label = true;
  }
  auto in = parse_input_file(opts);
  if (!in) throw FluxError(in.error());
  stdin_path_ = *in;
  if (opts.contains("rlimit")) {
    const Json& limits = opts["rlimit"];
    if (!limits.is_object()) throw FluxError(EINVAL, "rlimit: must be an object");
    for (auto it = limits.begin(); it != limits.end(); ++it) {
      auto resource = rlimit_resource(it.key());
      auto value = rlimit_value(*it);
      if (!resource || !value)
        throw FluxError(EINVAL, "rlimit." + it.key() + ": unknown limit or invalid value");
      rlimits_.emplace_back(*resource, *value);
    }
  }
  auto pty = parse_pty_options(opts);
  if (!pty) throw FluxError(pty.error());
  pty_ = std::move(*pty);
  auto aff = parse_affinity(opts);
  if (!aff) throw FluxError(aff.error());
  affinity_ = *aff;
  cwd_ = info_.jobspec.system.cwd.value_or(current_dir());
  if (h_) kvs_ = std::make_unique<KvsWriter>(*h_);
  output_ = std::make_unique<Output>(info_, *out, kvs_.get());
  output_->open_files(mustache_context(), cwd_);
  stage_files(info_.jobspec.system.all.value("files", Json()), tmpdir_);
}

MustacheContext Shell::mustache_context() const {
  MustacheContext ctx;
  ctx.id = info_.id;
  ctx.name = info_.name();
  ctx.tmpdir = tmpdir_;
  ctx.nnodes = info_.nshells();
  ctx.ntasks = info_.ntasks();
  return ctx;
}

// FLUX_JOB_TMPDIR, as flux-core makes it: jobtmp-SHELLRANK-ID in the
// broker's rundir, which goes with the instance whatever becomes of this
// shell; else (standalone, or no rundir) a new directory in TMPDIR.
Task<void> Shell::make_tmpdir() {
  std::string name = "jobtmp-" + std::to_string(info_.shell_rank) + "-" +
                     info_.id.encode(JobIdEncoding::kF58Plain);
  if (h_) {
    std::string rundir;
    try {
      Json req = {{"name", "rundir"}};
      Message r = co_await h_->rpc("attr.get", req);
      rundir = r.json().value().at("value").get<std::string>();
    } catch (const std::exception&) {
      // no rundir: TMPDIR below
    }
    std::string dir = rundir + "/" + name;
    if (!rundir.empty() && ::mkdir(dir.c_str(), 0700) == 0) {
      tmpdir_ = dir;
      co_return;
    }
  }
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + name + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw FluxError(errno, tmpl + ": " + std::strerror(errno));
  tmpdir_ = buf.data();
}

// Shell rank 0 writes the output and input headers and shell.init before
// any task starts, so readers always find the header first.
Task<void> Shell::write_headers() {
  std::string dir = info_.kvs_dir();
  if (info_.shell_rank == 0) {
    kvs_->append(output_->output_key(), output_->header());
    if (!stdin_path_) kvs_->append(dir + ".guest.input", input_header());
    Json init = Json::object();
    init["leader-rank"] = info_.shell_ranks.front();
    init["size"] = info_.nshells();
    if (!service_.empty()) init["service"] = service_;
    if (pty_ && pty_->interactive) {
      // flux job attach / flux alloc connect to task 0's terminal.
      init["pty"] = "terminus.0";
      if (pty_->capture) init["capture"] = 1;
    }
    kvs_->append(dir + ".guest.exec.eventlog", eventlog_entry_make("shell.init", init));
  } else {
    co_await wait_for_output_log();
  }
  for (const auto& e : output_->redirects()) kvs_->append(output_->output_key(), e);
  co_await kvs_->drain();
  if (!kvs_->error().empty()) throw FluxError(EIO, "writing the job's eventlogs: " + kvs_->error());
}

// The terminal sessions' service (pty.hpp), named as flux-core's shell
// service so its tools find it.
// The shell's service, named as flux-core's so its tools find it (shell.init
// gives the name): SERVICE.stdin and the terminals' SERVICE.terminus.N.
Rpc Shell::register_service() {
  service_ = std::to_string(getuid()) + "-shell-" + info_.id.encode(JobIdEncoding::kF58Plain);
  // The handle outlives us (main still runs its loop after we are gone,
  // and late requests, as an attach's stdin EOF, may come then).
  auto guard = [this, serving = serving_](void (Shell::*fn)(const Message&)) {
    return [this, serving, fn](const Message& m) {
      if (!*serving) throw FluxError(ENOSYS, "the job shell is exiting");
      (this->*fn)(m);
    };
  };
  h_->serve({Route(service_ + ".stdin", Access::kUser, guard(&Shell::on_stdin_request)),
             Route(service_ + ".terminus.*", Access::kUser, guard(&Shell::on_terminal_request))});
  return h_->service_add(service_);
}

// flux-core's attach sends our tasks' input here, an RFC 24 io object
// {"stream":"stdin","rank":"all"|IDSET,"data"?,"encoding"?,"eof"?}; it
// becomes a data event in guest.input, which every shell follows.
void Shell::on_stdin_request(const Message& m) {
  if (m.userid() != getuid()) throw FluxError(EPERM, "only the job's owner may write its input");
  if (*input_stopped_) throw FluxError(EPIPE, "the tasks have exited");
  auto body = m.json();
  if (!body || !body->is_object()) throw FluxError(EPROTO, "stdin: expected an io object");
  auto io = io_decode(*body);
  if (!io) throw FluxError(io.error());
  if (io->stream != "stdin") throw FluxError(EPROTO, "stdin: stream must be stdin");
  if (io->rank != "all" && !Idset::decode(io->rank)) throw FluxError(EPROTO, "stdin: bad rank");
  if (stdin_path_) throw FluxError(EPIPE, "stdin: the tasks read " + *stdin_path_);
  kvs_->append(info_.kvs_dir() + ".guest.input", eventlog_entry_make("data", *body));
  if (!(m.flags() & msgflag::kNoResponse)) h_->respond(m, nullptr);
}

void Shell::on_terminal_request(const Message& m) {
  std::string_view topic = m.topic();
  std::string_view session = topic.substr(service_.size() + std::string_view(".terminus.").size());
  auto it = tasks_.end();
  if (!session.empty() && session.find_first_not_of("0123456789") == std::string_view::npos &&
      session.size() < 10)
    it = tasks_.find(std::stoi(std::string(session)));
  if (it == tasks_.end() || !it->second.pty) throw FluxError(ENOSYS, "No such session");
  it->second.pty->handle(m);
}

// Other shells wait for rank 0's header before they write output.
Task<void> Shell::wait_for_output_log() {
  Rpc rpc = kvs::lookup_watch(*h_, output_->output_key(), kvs::kWaitCreate, kvs::kPrimary);
  co_await rpc.next_async();
  h_->rpc("kvs-watch.cancel", Json{{"matchtag", rpc.matchtag()}}, kNodeidAny, msgflag::kNoResponse);
}

std::vector<std::string> Shell::task_env(const LocalTask& t, int pmi_fd) const {
  std::map<std::string, std::string> env;
  const Json& e = info_.jobspec.system.environment;
  if (e.is_object()) {
    for (auto it = e.begin(); it != e.end(); ++it) {
      if (it.value().is_string()) env[it.key()] = it.value().get<std::string>();
    }
  }
  env.erase("FLUX_KVS_NAMESPACE");
  // The job's guest namespace (the kvs serves job-<id> as job.<id>.guest),
  // as flux-core's tasks have it.
  if (h_) env["FLUX_KVS_NAMESPACE"] = "job-" + std::to_string(info_.id.value);
  env["FLUX_JOB_ID"] = info_.id.encode(JobIdEncoding::kF58);
  env["FLUX_JOB_SIZE"] = std::to_string(info_.ntasks());
  env["FLUX_JOB_NNODES"] = std::to_string(info_.nshells());
  env["FLUX_JOB_TMPDIR"] = tmpdir_;
  env["FLUX_TASK_RANK"] = std::to_string(t.id);
  env["FLUX_TASK_LOCAL_ID"] = std::to_string(t.index);
  if (h_) {
    const char* uri = std::getenv("FLUX_URI");
    if (uri) env["FLUX_URI"] = uri;
  }
  if (pmi_fd >= 0) {
    env["PMI_FD"] = std::to_string(pmi_fd);
    env["PMI_RANK"] = std::to_string(t.id);
    env["PMI_SIZE"] = std::to_string(info_.ntasks());
    env["PMI_SPAWNED"] = "0";
  }
  std::vector<std::string> out;
  for (auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

void Shell::start(LocalTask& t) {
  int id = t.id;
  int sv[2] = {-1, -1};
  bool pmi = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0;
  TaskSpec spec;
  spec.taskid = id;
  // Arguments may name the job's {{tmpdir}} (flux batch's script), its id...
  MustacheContext ctx = mustache_context();
  ctx.taskid = id;
  for (const auto& arg : info_.jobspec.tasks.command)
    spec.argv.push_back(mustache_render(arg, ctx));
  spec.env = task_env(t, pmi ? sv[1] : -1);
  spec.cwd = cwd_;
  spec.stdin_path = stdin_path_;
  spec.cpus = task_cpus(affinity_, info_.local_cores, t.index, static_cast<int>(tasks_.size()));
  spec.pmi_fd = pmi ? sv[1] : -1;
  spec.rlimits = rlimits_;
  if (pty_ && pty_->covers(id)) {
    // As flux-core: other tasks' terminals are always captured, or
    // nothing would read them.
    std::function<void(std::string_view)> capture;
    if (pty_->capture || id != 0)
      capture = [this, id](std::string_view d) { output_->write(id, Stream::kStdout, d); };
    bool wait_for_client = h_ && pty_->interactive && id == 0;
    t.pty = std::make_unique<Pty>(r_, h_, wait_for_client, std::move(capture), [this, id] {
      output_eof(id);
      done_one();
    });
    spec.tty_fd = t.pty->follower();
  }
  auto fds = start_task(spec);
  if (pmi) ::close(sv[1]);
  if (t.pty) t.pty->close_follower();
  if (!fds) {
    if (pmi) ::close(sv[0]);
    t.pty.reset();
    output_->emit(id, Stream::kStderr,
                  "flux-shell: task " + std::to_string(id) + ": " + fds.error().message + "\n");
    output_eof(id);
    t.exit_code = 1;
    return;
  }
  bool started = fds->start_errno == 0;
  t.pid = fds->pid;
  t.running = started;
  if (!started) {
    t.exit_code = exit_code_of(fds->exit_status);
    start_failed(t, fds->start_failed, fds->start_errno);
    if (t.pty) {
      t.pty.reset();
      output_eof(id);
    }
  }
  if (t.pty) {
    outstanding_ += 2;  // its terminal's end, and its exit
  } else if (fds->stdout_fd >= 0) {
    outstanding_ += started ? 3 : 2;  // its stdout and stderr, and its exit
    auto reader = [this, id](int fd, Stream s) {
      return std::make_unique<FdReader>(
          r_, fd, [this, id, s](std::string_view d) { output_->write(id, s, d); },
          [this, id, s] {
            output_->eof(id, s);
            done_one();
          });
    };
    t.out = reader(fds->stdout_fd, Stream::kStdout);
    t.err = reader(fds->stderr_fd, Stream::kStderr);
  }
  if (fds->stdin_fd >= 0) {
    t.in = std::make_unique<FdWriter>(r_, fds->stdin_fd);
    if (!h_) t.in->close();  // standalone: no input, the task sees EOF
  }
  if (!started) {
    if (pmi) ::close(sv[0]);
    if (t.in) t.in->close();
    return;
  }
  if (pmi) pmi_->add_client(id, sv[0]);
  reaper_.watch(t.pid, [this, id](int status) {
    LocalTask& lt = tasks_[id];
    lt.running = false;
    lt.exit_code = exit_code_of(status);
    if (lt.in) lt.in->close();
    if (lt.pty) lt.pty->task_exited(status);
    pmi_->remove_client(id);
    done_one();
  });
}

// A task that could not start ends the job, as flux-core's shell: one
// fatal exception (the first task's reason), one FATAL line in the output;
// job-exec then stops the other tasks. The task itself exits 127.
void Shell::start_failed(const LocalTask& t, const std::string& what, int err) {
  if (start_failure_reported_) return;
  start_failure_reported_ = true;
  char host[256] = "";
  gethostname(host, sizeof(host) - 1);
  std::string note = "task " + std::to_string(t.id) + " (host " + host +
                     "): start failed: " + what + ": " + std::strerror(err);
  output_->emit(t.id, Stream::kStderr,
                "flux-shell[" + std::to_string(info_.shell_rank) + "]: FATAL: " + note + "\n");
  if (h_) spawn(raise_exception("exec", 0, std::move(note)));
}

Task<void> Shell::raise_exception(std::string type, int severity, std::string note) {
  try {
    Json req = {{"id", info_.id.value},
                {"type", std::move(type)},
                {"severity", severity},
                {"note", std::move(note)}};
    co_await h_->rpc("job-manager.raise", req);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flux-shell: raising a job exception: %s\n", e.what());
  }
}

void Shell::output_eof(int taskid) {
  output_->eof(taskid, Stream::kStdout);
  output_->eof(taskid, Stream::kStderr);
}

void Shell::done_one() {
  if (--outstanding_ == 0 && waiter_) {
    auto w = waiter_;
    waiter_ = nullptr;
    r_.post([w] { w.resume(); });
  }
}

void Shell::forward_signal(int signo) {
  for (auto& [id, t] : tasks_) {
    if (t.running && t.pid > 0) killpg(t.pid, signo);
  }
}

void Shell::deliver_input(const InputEvent& ev) {
  for (auto& [id, t] : tasks_) {
    bool member = !ev.ranks || ev.ranks->contains(static_cast<uint32_t>(id));
    if (member && !ev.data.empty() && t.pty) t.pty->write(ev.data);  // typed, as it were
    if (!t.in) continue;
    if (member && !ev.data.empty()) t.in->write(ev.data);
    // The end of the input is the end for every task: those outside the
    // input ranks (flux run --input=0) get nothing, then EOF, instead of
    // waiting on stdin forever.
    if (ev.eof) t.in->close();
  }
}

void Shell::on_pmi_abort(int taskid, int code, const std::string& msg) {
  output_->emit(taskid, Stream::kStderr,
                "flux-shell: task " + std::to_string(taskid) + ": PMI_Abort(" +
                    std::to_string(code) + ")" + (msg.empty() ? "" : ": " + msg) + "\n");
  if (abort_code_ == 0) abort_code_ = code != 0 ? code : 1;
  forward_signal(SIGKILL);
}

Task<int> Shell::run() {
  co_await make_tmpdir();
  setup_options();
  if (h_) {
    // The broker registers the service before it passes on the headers'
    // commit (same connection), so shell.init never names a missing one.
    Rpc registered = register_service();
    co_await write_headers();
    try {
      co_await registered;
    } catch (const FluxError& e) {
      // EEXIST: another shell of this job on this broker has it (tests
      // running several shells against one broker); its stdin reaches all
      // through guest.input.
      if (e.errnum() != EEXIST) throw;
    }
  }

  PmiJob pj;
  pj.kvsname = info_.id.encode(JobIdEncoding::kF58Plain);
  pj.size = info_.ntasks();
  pj.local_size = static_cast<int>(info_.local_tasks.count());
  pj.process_mapping = info_.taskmap.encode_pmi();
  // Shells with tasks meet at PMI barriers; one alone needs no KVS.
  int pmi_shells = 0;
  for (int i = 0; i < info_.nshells(); i++) {
    if (info_.taskmap.taskids(i).count() > 0) pmi_shells++;
  }
  std::unique_ptr<PmiExchange> exchange;
  if (h_ && pmi_shells > 1) {
    exchange = std::make_unique<KvsExchange>(*h_, info_.kvs_dir(), info_.id.value, pmi_shells);
  } else {
    exchange = std::make_unique<LocalExchange>();
  }
  pmi_ = std::make_unique<PmiServer>(
      r_, pj, std::move(exchange),
      [this](int t, int code, const std::string& msg) { on_pmi_abort(t, code, msg); },
      [](const std::string& error) {
        std::fprintf(stderr, "flux-shell: PMI barrier: %s\n", error.c_str());
      });

  int index = 0;
  for (uint32_t id : info_.local_tasks) {
    LocalTask& t = tasks_[static_cast<int>(id)];
    t.id = static_cast<int>(id);
    t.index = index++;
  }
  outstanding_ = 1;  // held until every task is started
  for (auto& [id, t] : tasks_) start(t);

  if (h_) {
    if (info_.shell_rank == 0) {
      Json ctx = Json::object();
      Json map = Json::object();
      map["version"] = 1;
      map["map"] = info_.taskmap.to_json();
      ctx["taskmap"] = map;
      kvs_->append(info_.kvs_dir() + ".guest.exec.eventlog",
                   eventlog_entry_make("shell.start", ctx));
    }
    if (!stdin_path_) {
      spawn(watch_input(
          *h_, info_.kvs_dir() + ".guest.input",
          [this](const InputEvent& ev) { deliver_input(ev); }, input_stopped_));
    }
  }
  done_one();
  co_await WaitAll{*this};
  *input_stopped_ = true;
  if (kvs_) co_await kvs_->drain();

  int rc = abort_code_;
  for (auto& [id, t] : tasks_) rc = std::max(rc, t.exit_code);
  if (kvs_ && !kvs_->error().empty() && rc == 0) rc = 1;
  co_return rc;
}

}  // namespace flux::shell
