#include "rexec.hpp"

#include <signal.h>

#include <cstring>

#include <sys/wait.h>

#include "libflux/ioencode.hpp"
#include "libflux/log_line.hpp"
#include "rexec_process.hpp"

namespace flux::broker {

namespace {

constexpr int kFlagStdout = 1;
constexpr int kFlagStderr = 2;
constexpr int kFlagChannel = 4;
constexpr int kFlagWriteCredit = 8;
constexpr int kFlagWaitable = 16;

const Json& field(const Json& o, const char* name) {
  auto it = o.find(name);
  if (it == o.end()) throw FluxError(EPROTO, std::string("rexec: missing ") + name);
  return *it;
}

}  // namespace

struct RexecService::Proc {
  Message req;  // the rexec.exec request, for responses
  std::string sender;
  std::vector<std::string> cmdline;
  std::string label;
  Json cmd;  // the command object, for attach
  std::unique_ptr<RexecProcess> process;
  bool exited = false;
  int status = 0;
  // Background mode (a non-streaming exec): output and exit go to the
  // broker log; a client may attach for a while; a waitable one is kept
  // after its exit (a zombie, state Z) until waited for or attached to.
  bool bg = false;
  bool waitable = false;
  bool exit_logged = false;
  int fwd = 0;                      // streams sent to the attached client
  std::optional<Message> attach;    // its rexec.attach request
  std::optional<Message> waiter;    // a pending rexec.wait
  std::array<bool, 2> eof{};        // stdout, stderr have reached EOF
  std::array<std::string, 2> line;  // the unfinished line of each, for the log

  // "LABEL: CMD[PID]" as flux-core's log lines begin.
  std::string log_prefix(pid_t pid) const {
    std::string name = cmdline.empty() ? "?" : cmdline[0];
    return (label.empty() ? "" : label + ": ") + name + "[" + std::to_string(pid) + "]";
  }
};

RexecService::RexecService(Reactor& r, ChildWatcher& children, Options opts)
    : r_(r), children_(children), opts_(std::move(opts)) {}

RexecService::~RexecService() {
  *alive_ = false;
  for (auto& [pid, p] : procs_)
    if (!p->exited) ::killpg(pid, SIGKILL);
}

void RexecService::serve(Handle& h) {
  h_ = &h;
  h.serve({
      {"rexec.exec", Access::kOwner, this, &RexecService::exec},
      {"rexec.write", Access::kOwner, this, &RexecService::write},
      {"rexec.kill", Access::kOwner, this, &RexecService::kill},
      {"rexec.list", Access::kOwner, this, &RexecService::list},
      {"rexec.wait", Access::kOwner, this, &RexecService::wait},
      {"rexec.attach", Access::kOwner, this, &RexecService::attach},
      {"rexec.disconnect", Access::kOwner, this, &RexecService::disconnect},
  });
}

RexecService::Proc* RexecService::find_pid(pid_t pid) {
  auto it = procs_.find(pid);
  return it == procs_.end() ? nullptr : it->second.get();
}

// By "label" when the request has one (then "pid" is ignored), else "pid".
RexecService::Proc* RexecService::find_target(const Json& req) {
  if (auto l = req.find("label"); l != req.end() && l->is_string()) {
    std::string label = *l;
    for (auto& [pid, p] : procs_)
      if (p->label == label) return p.get();
    throw FluxError(ENOENT, "label " + label + " does not belong to any subprocess");
  }
  pid_t pid = field(req, "pid").get<pid_t>();
  if (Proc* p = find_pid(pid)) return p;
  throw FluxError(ENOENT, "pid " + std::to_string(pid) + " does not belong to any subprocess");
}

void RexecService::exec(const Message& m) {
  bool streaming = m.has_flag(msgflag::kStreaming);
  Json req = m.json().value();
  const Json& cmd = field(req, "cmd");
  int flags = field(req, "flags").get<int>();
  if (flags & (kFlagChannel | kFlagWriteCredit))
    throw FluxError(EINVAL, "rexec.exec: channel and write-credit flags are not supported");
  if (streaming && (flags & kFlagWaitable))
    throw FluxError(EINVAL, "rexec.exec: the waitable flag is only supported in background mode");
  if (!cmd.is_object()) throw FluxError(EPROTO, "rexec.exec: cmd is not an object");

  SpawnSpec spec;
  spec.argv = field(cmd, "cmdline").get<std::vector<std::string>>();
  if (spec.argv.empty()) throw FluxError(EPROTO, "rexec.exec: command string is empty");
  if (auto env = cmd.find("env"); env != cmd.end() && !env->is_null() && !env->empty())
    spec.env = env->get<std::map<std::string, std::string>>();
  else if (opts_.default_env)
    spec.env = opts_.default_env();
  spec.env["FLUX_URI"] = opts_.local_uri;
  for (const char* name : {"FLUX_PROXY_REMOTE", "NOTIFY_SOCKET", "INVOCATION_ID"})
    spec.env.erase(name);
  spec.cwd = cmd.value("cwd", std::string());
  // A background process's output is always read: it goes to the log.
  spec.forward_stdout = !streaming || (flags & kFlagStdout);
  spec.forward_stderr = !streaming || (flags & kFlagStderr);
  std::string label = cmd.value("label", std::string());
  if (!label.empty())
    for (auto& [pid, p] : procs_)
      if (p->label == label)
        throw FluxError(EEXIST, "rexec.exec: label " + label + " is already in use");

  auto proc = std::make_shared<Proc>();
  proc->req = m;
  proc->sender = m.first_route() ? *m.first_route() : "";
  proc->cmdline = spec.argv;
  proc->label = label;
  proc->cmd = cmd;
  proc->bg = !streaming;
  proc->waitable = flags & kFlagWaitable;
  proc->fwd = streaming ? flags & (kFlagStdout | kFlagStderr) : 0;
  std::string rank = std::to_string(opts_.rank);
  Proc* raw = proc.get();
  std::weak_ptr<bool> alive = alive_;
  // Output goes straight out as responses (and to the log in background);
  // the end is checked on the next turn of the loop so that nothing is
  // destroyed inside a callback.
  proc->process = std::make_unique<RexecProcess>(
      r_, spec, [this, raw, rank, alive](const char* stream, std::string data, bool eof) {
        output(*raw, rank, stream, std::move(data), eof);
        if (eof) {
          pid_t pid = raw->process->pid();
          r_.post([this, alive, pid] {
            if (auto a = alive.lock(); a && *a) check_done(pid);
          });
        }
      });
  pid_t pid = proc->process->pid();
  if (proc->bg) proc->process->write_stdin("", true);  // nobody is there to write it
  procs_[pid] = proc;
  children_.watch(pid, [this, alive, pid](int status) {
    auto a = alive.lock();
    if (!a || !*a) return;
    if (Proc* p = find_pid(pid)) {
      p->exited = true;
      p->status = status;
      check_done(pid);
    }
  });
  h_->respond(m, {{"type", "started"}, {"pid", pid}});
}

void RexecService::output(Proc& p, const std::string& rank, const char* stream, std::string data,
                          bool eof) {
  int idx = std::string_view(stream) == "stderr" ? 1 : 0;
  int flag = idx ? kFlagStderr : kFlagStdout;
  if (eof) p.eof[idx] = true;
  if (p.bg) {
    // Every line to the log, attached or not: the log has no gaps.
    std::string& buf = p.line[idx];
    buf += data;
    size_t start = 0, nl;
    while ((nl = buf.find('\n', start)) != std::string::npos) {
      log(kLogInfo, p.log_prefix(p.process->pid()) + ": " + buf.substr(start, nl - start));
      start = nl + 1;
    }
    buf.erase(0, start);
    if (eof && !buf.empty()) {
      log(kLogInfo, p.log_prefix(p.process->pid()) + ": " + buf);
      buf.clear();
    }
  }
  const Message* to = p.bg ? (p.attach ? &*p.attach : nullptr) : &p.req;
  if (to && (p.fwd & flag) && (!data.empty() || eof)) {
    Json io = io_encode(stream, rank, data, eof);
    h_->respond(*to, {{"type", "output"}, {"pid", p.process->pid()}, {"io", io}});
  }
}

void RexecService::log(int severity, const std::string& text) {
  if (opts_.log) opts_.log(severity, text);
}

// A process is done once it has exited and its output has reached EOF.
// Streaming: "finished" and the end of the stream (ENODATA). Background:
// the exit is logged; an attached client gets what a streaming one would
// (and so reaps it); a waitable one is kept for rexec.wait.
void RexecService::check_done(pid_t pid) {
  auto it = procs_.find(pid);
  if (it == procs_.end()) return;
  Proc& p = *it->second;
  if (!p.exited || !p.process->output_done()) return;
  if (!p.bg) {
    h_->respond(p.req, {{"type", "finished"}, {"pid", pid}, {"status", p.status}});
    h_->respond_error(p.req, ENODATA);
    procs_.erase(it);
    return;
  }
  if (!p.exit_logged) {
    p.exit_logged = true;
    std::string how = WIFSIGNALED(p.status)
                          ? "Killed by signal " + std::to_string(WTERMSIG(p.status))
                          : "Exit " + std::to_string(WEXITSTATUS(p.status));
    log(kLogInfo, p.log_prefix(pid) + ": " + how);
  }
  if (p.attach) {
    h_->respond(*p.attach, {{"type", "finished"}, {"pid", pid}, {"status", p.status}});
    h_->respond_error(*p.attach, ENODATA);
    procs_.erase(it);
    return;
  }
  if (!p.waitable) {
    procs_.erase(it);
    return;
  }
  if (p.waiter) {
    h_->respond(*p.waiter, {{"status", p.status}});
    procs_.erase(it);
  }
}

// rexec.wait {pid | label}: the exit status of a waitable background process.
void RexecService::wait(const Message& m) {
  Json req = m.json().value();
  Proc* p = find_target(req);
  if (!p->bg || !p->waitable) throw FluxError(EINVAL, "process is not waitable");
  if (p->attach) throw FluxError(EBUSY, "process already has a client attached");
  if (p->waiter) throw FluxError(EINVAL, "process already has a waiter");
  p->waiter = m;
  check_done(p->process->pid());
}

// rexec.attach {pid | label, flags} (streaming): follow a background process
// as if it had been started by a streaming exec, until it ends or the
// client leaves (then it goes on in background).
void RexecService::attach(const Message& m) {
  if (!m.has_flag(msgflag::kStreaming))
    throw FluxError(EPROTO, "rexec.attach: only streaming requests are supported");
  Json req = m.json().value();
  Proc* p = find_target(req);
  if (!p->bg || p->attach) throw FluxError(EBUSY, "process already has a client attached");
  if (p->waiter) throw FluxError(EBUSY, "process is being waited for");
  pid_t pid = p->process->pid();
  p->fwd = req.value("flags", kFlagStdout | kFlagStderr) & (kFlagStdout | kFlagStderr);
  p->attach = m;
  h_->respond(m, {{"type", "attached"}, {"pid", pid}, {"cmd", p->cmd}});
  // Streams that ended while nobody was attached end for this client too.
  std::string rank = std::to_string(opts_.rank);
  for (int idx = 0; idx < 2; idx++) {
    int flag = idx ? kFlagStderr : kFlagStdout;
    const char* stream = idx ? "stderr" : "stdout";
    if ((p->fwd & flag) && p->eof[idx])
      h_->respond(m, {{"type", "output"}, {"pid", pid}, {"io", io_encode(stream, rank, "", true)}});
  }
  check_done(pid);
}

void RexecService::write(const Message& m) {
  Json req = m.json().value();
  Proc* p = nullptr;
  if (req.contains("pid")) {
    p = find_pid(req["pid"].get<pid_t>());
    if (!p)
      throw FluxError(ESRCH, "pid " + req["pid"].dump() + " does not belong to any subprocess");
  } else {
    // flux-core's form: the exec request with the same sender and matchtag.
    uint32_t tag = field(req, "matchtag").get<uint32_t>();
    const std::string* sender = m.first_route();
    for (auto& [pid, proc] : procs_)
      if (sender && proc->sender == *sender && proc->req.matchtag() == tag) p = proc.get();
  }
  IoData io;
  if (req.contains("io")) {
    io = io_decode(req["io"]).value();
  } else {
    io.stream = req.value("stream", std::string("stdin"));
    io.data = req.value("data", std::string());
    io.eof = req.value("eof", false);
  }
  if (io.stream != "stdin")
    throw FluxError(EINVAL, "rexec.write: no writable stream named " + io.stream);
  // A process that has exited (or is unknown by matchtag) drops the data
  // silently, as in flux-core: writes racing with an exit are ordinary.
  if (p && !p->exited) p->process->write_stdin(std::move(io.data), io.eof);
  h_->respond(m, Json::object());
}

void RexecService::kill(const Message& m) {
  Json req = m.json().value();
  int signum = field(req, "signum").get<int>();
  if (signum <= 0 || signum >= NSIG) throw FluxError(EINVAL, "rexec.kill: invalid signal number");
  Proc* p = nullptr;
  try {
    p = find_target(req);
  } catch (const FluxError& e) {
    throw FluxError(ESRCH, e.what());
  }
  if (p->exited) throw FluxError(ESRCH, "process has already exited");
  pid_t pid = p->process->pid();
  if (::killpg(pid, signum) < 0 && errno != ESRCH)
    throw FluxError(errno, std::string("killpg: ") + std::strerror(errno));
  h_->respond(m, Json::object());
}

void RexecService::list(const Message& m) {
  Json procs = Json::array();
  for (const auto& [pid, p] : procs_) {
    std::string name = p->cmdline.empty() ? "" : p->cmdline[0];
    if (name == "flux" && p->cmdline.size() > 1) name += " " + p->cmdline[1];
    procs.push_back({{"pid", pid},
                     {"cmd", name},
                     {"cmdline", p->cmdline},
                     {"label", p->label},
                     {"state", p->exited ? "Z" : "R"},
                     {"bg", p->bg},
                     {"waitable", p->waitable},
                     {"attached", !p->bg || p->attach.has_value()},
                     {"sender", p->sender}});
  }
  h_->respond(m, {{"rank", opts_.rank}, {"procs", procs}});
}

// The client went away: the processes it streams die with it (SIGKILL to
// each group; their exits are still reaped, their responses dropped by the
// router); those it was attached to go on in background; its waits end.
void RexecService::disconnect(const Message& m) {
  const std::string* sender = m.first_route();
  if (!sender) return;
  auto from = [&](const std::optional<Message>& r) {
    return r && r->first_route() && *r->first_route() == *sender;
  };
  for (auto& [pid, p] : procs_) {
    if (!p->bg && p->sender == *sender && !p->exited) ::killpg(pid, SIGKILL);
    if (from(p->attach)) p->attach.reset();
    if (from(p->waiter)) p->waiter.reset();
  }
}

}  // namespace flux::broker
