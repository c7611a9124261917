// The job-manager's side of the exec protocol (README.md, Execution):
// one streaming `SERVICE.start` per job, without a matchtag, answered with
// start / release / finish / exception responses matched by job id.
#include "job_manager.hpp"

namespace flux::jobmgr {

Json JobManager::handle_exec_hello(const Message& m) {
  require_owner(m);
  Json req = m.json().value();
  std::string service = req.at("service").get<std::string>();
  if (service.empty() || service.find('.') != std::string::npos)
    throw FluxError(EPROTO, "invalid exec service name");
  if (!exec_service_.empty() && exec_service_ != service)
    throw FluxError(EEXIST, "exec service " + exec_service_ + " is already registered");
  exec_service_ = service;
  exec_route_ = m.first_route() ? *m.first_route() : "";
  h_.add_handler(MsgType::Response, service + ".start",
                 [this](const Message& r) { on_exec_response(r); });
  h_.reactor().post([this] {
    for (auto& [id, job] : jobs_)
      if (job->state == State::kRun && !job->start_sent) process(*job);
  });
  return Json::object();
}

void JobManager::exec_start(Job& job) {
  if (exec_service_.empty()) return;  // started when an exec service says hello
  job.start_sent = true;
  job.exec_active = true;
  Message m = Message::request(exec_service_ + ".start");
  m.set_flag(msgflag::kStreaming);
  m.set_json(
      {{"id", job.id.value}, {"userid", job.userid}, {"jobspec", job.jobspec}, {"R", job.R}});
  h_.send(std::move(m));
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
