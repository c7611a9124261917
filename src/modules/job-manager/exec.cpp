// The job-manager's side of the exec protocol (README.md, Execution):
// one streaming `SERVICE.start` per job, without a matchtag, answered with
// start / release / finish / exception responses matched by job id.
#include "job_manager.hpp"

namespace flux::jobmgr {

Json JobManager::handle_exec_hello(const Message& m) {
  Json req = m.json().value();
  std::string service = req.at("service").get<std::string>();
  if (service.empty() || service.find('.') != std::string::npos)
    throw FluxError(EPROTO, "invalid exec service name");
  if (!exec_service_.empty() && exec_service_ != service)
    throw FluxError(EEXIST, "exec service " + exec_service_ + " is already registered");
  exec_service_ = service;
  exec_route_ = m.first_route() ? *m.first_route() : "";
  h_.on_response(service + ".start", [this](const Message& r) { on_exec_response(r); });
  h_.reactor().post([this] {
    for (auto& [id, job] : jobs_)
      if (job->state == State::kRun && !job->start_sent) process(*job);
  });
  return Json::object();
}

namespace {

// A simulated job (attributes.system.exec.test) reads nothing from the KVS.
bool simulated(const Json& jobspec) {
  auto a = jobspec.find("attributes");
  if (a == jobspec.end() || !a->is_object()) return false;
  auto s = a->find("system");
  if (s == a->end() || !s->is_object()) return false;
  auto e = s->find("exec");
  return e != s->end() && e->is_object() && e->contains("test");
}

}  // namespace

void JobManager::exec_start(Job& job) {
  if (exec_service_.empty()) return;  // started when an exec service says hello
  job.start_sent = true;
  job.exec_active = true;
  if (simulated(job.jobspec)) {
    send_start(job);
    return;
  }
  // The job shell reads jobspec and R from the KVS: start it only once
  // they are committed (they may still be in the open batch).
  job.start_pending = true;
  uint64_t id = job.id.value;
  writer_.on_commit(
      [this, id](const std::optional<Error>&) {
        Job* j = find(id);
        if (!j) return;
        j->start_pending = false;
        if (j->state == State::kRun) {
          send_start(*j);
        } else {  // ended (canceled, ...) while waiting: exec never had it
          j->exec_active = false;
          process(*j);
        }
      },
      true);
}

void JobManager::send_start(Job& job) {
  Message m = Message::request(exec_service_ + ".start");
  m.set_flag(msgflag::kStreaming);
  m.set_json(
      {{"id", job.id.value}, {"userid", job.userid}, {"jobspec", job.jobspec}, {"R", job.R}});
  h_.send(std::move(m));
  if (job.flags & kFlagDebug) post(job, "debug.start-request");
}

void JobManager::exec_kill(Job& job, int signal) {
  job.kill_sent = true;
  Message m = Message::request(exec_service_ + ".kill");
  m.set_flag(msgflag::kNoResponse);
  m.set_json({{"id", job.id.value}, {"signal", signal}});
  h_.send(std::move(m));
}

void JobManager::on_exec_response(const Message& m) {
  auto payload = m.json();
  if (m.errnum() != 0 || !payload || !payload->is_object()) {
    // Without a payload the job cannot be named: the exec service broke
    // its protocol. Say so loudly; the job stays until it is canceled.
    log_.err("exec: error response without a job id (errnum " + std::to_string(m.errnum()) + ")");
    return;
  }
  Job* job = find(payload->value("id", uint64_t{0}));
  if (!job || !job->exec_active) return;
  std::string type = payload->value("type", "");
  Json data = payload->value("data", Json::object());
  if (type == "start") {
    post(*job, "start");
  } else if (type == "finish") {
    post(*job, "finish", {{"status", data.value("status", 0)}});
  } else if (type == "release") {
    bool final = data.value("final", false);
    post(*job, "release", {{"ranks", data.value("ranks", "all")}, {"final", final}});
    if (final) job->exec_active = false;
  } else if (type == "exception") {
    raise(*job, data.value("type", "exec"), data.value("severity", 0), data.value("note", ""),
          job->userid);
    return;
  } else {
    log_.err("exec: unknown response type " + type);
    return;
  }
  process(*job);
}

}  // namespace flux::jobmgr
