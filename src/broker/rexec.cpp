#include "rexec.hpp"

#include <signal.h>

#include <cstring>

#include "libflux/ioencode.hpp"
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
  std::unique_ptr<RexecProcess> process;
  bool exited = false;
  int status = 0;
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
      {"rexec.disconnect", Access::kOwner, this, &RexecService::disconnect},
  });
}

RexecService::Proc* RexecService::find_pid(pid_t pid) {
  auto it = procs_.find(pid);
  return it == procs_.end() ? nullptr : it->second.get();
}

void RexecService::exec(const Message& m) {
  if (!m.has_flag(msgflag::kStreaming))
    throw FluxError(EPROTO, "rexec.exec: only streaming requests are supported");
  Json req = m.json().value();
  const Json& cmd = field(req, "cmd");
  int flags = field(req, "flags").get<int>();
  if (flags & (kFlagChannel | kFlagWriteCredit | kFlagWaitable))
    throw FluxError(EINVAL,
                    "rexec.exec: channel, write-credit and waitable flags "
                    "are not supported");
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
  spec.forward_stdout = flags & kFlagStdout;
  spec.forward_stderr = flags & kFlagStderr;

  auto proc = std::make_shared<Proc>();
  proc->req = m;
  proc->sender = m.first_route() ? *m.first_route() : "";
  proc->cmdline = spec.argv;
  proc->label = cmd.value("label", std::string());
  std::string rank = std::to_string(opts_.rank);
  Proc* raw = proc.get();
  std::weak_ptr<bool> alive = alive_;
  // Output goes straight out as responses; the end is checked on the next
  // turn of the loop so that nothing is destroyed inside a callback.
  proc->process = std::make_unique<RexecProcess>(
      r_, spec, [this, raw, rank, alive](const char* stream, std::string data, bool eof) {
        if (!data.empty() || eof) {
          Json io = io_encode(stream, rank, data, eof);
          h_->respond(raw->req, {{"type", "output"}, {"pid", raw->process->pid()}, {"io", io}});
        }
        if (eof) {
          pid_t pid = raw->process->pid();
          r_.post([this, alive, pid] {
            if (auto a = alive.lock(); a && *a) check_done(pid);
          });
        }
      });
  pid_t pid = proc->process->pid();
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

// A process is done once it has exited and its output has reached EOF:
// then "finished" and the end of the stream (ENODATA).
void RexecService::check_done(pid_t pid) {
  auto it = procs_.find(pid);
  if (it == procs_.end()) return;
  Proc& p = *it->second;
  if (!p.exited || !p.process->output_done()) return;
  h_->respond(p.req, {{"type", "finished"}, {"pid", pid}, {"status", p.status}});
  h_->respond_error(p.req, ENODATA);
  procs_.erase(it);
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
  pid_t pid = field(req, "pid").get<pid_t>();
  int signum = field(req, "signum").get<int>();
  if (signum <= 0 || signum >= NSIG) throw FluxError(EINVAL, "rexec.kill: invalid signal number");
  if (!find_pid(pid))
    throw FluxError(ESRCH, "pid " + std::to_string(pid) + " does not belong to any subprocess");
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
                     {"bg", false},
                     {"waitable", false},
                     {"attached", true},
                     {"sender", p->sender}});
  }
  h_->respond(m, {{"rank", opts_.rank}, {"procs", procs}});
}

// The client went away: its processes die with it (SIGKILL to each group);
// their exits are still reaped, and their responses dropped by the router.
void RexecService::disconnect(const Message& m) {
  const std::string* sender = m.first_route();
  if (!sender) return;
  for (auto& [pid, p] : procs_)
    if (p->sender == *sender) ::killpg(pid, SIGKILL);
}

}  // namespace flux::broker
