#include "exec_service.hpp"

#include <unistd.h>

#include <csignal>

#include "modules/common/attr.hpp"

namespace flux::exec {

namespace {

// attributes.system.exec.test, or null.
const Json* test_options(const Json& jobspec) {
  const Json* p = &jobspec;
  for (const char* k : {"attributes", "system", "exec", "test"}) {
    if (!p->is_object()) return nullptr;
    auto it = p->find(k);
    if (it == p->end()) return nullptr;
    p = &*it;
  }
  return p->is_object() ? p : nullptr;
}

}  // namespace

ExecService::ExecService(Handle& h, modules::ModuleLog& log, std::string job_shell)
    : h_(h), log_(log), job_shell_(std::move(job_shell)) {
  // The job-manager's, who runs as the owner.
  h_.serve({
      {"job-exec.start", Access::kOwner, this, &ExecService::on_start},
      {"job-exec.kill", Access::kOwner, this, &ExecService::on_kill},
  });
}

Task<void> ExecService::start() {
  auto uri = co_await modules::get_attr_async(h_, "local-uri");
  local_uri_ = uri.value_or("");
  Json hello = {{"service", "job-exec"}};  // not inside co_await: g++ 12
  co_await h_.rpc("job-manager.exec-hello", hello);
}

void ExecService::reply(const Message& req, uint64_t id, const char* type, Json data) {
  h_.respond(req, {{"id", id}, {"type", type}, {"data", std::move(data)}});
}

void ExecService::on_start(const Message& m) {
  Json req = m.json().value();
  uint64_t id = req.at("id").get<uint64_t>();
  const Json& jobspec = req.at("jobspec");
  if (const Json* test = test_options(jobspec)) {
    start_sim(m, id, jobspec, *test);  // runs nothing: anyone's job may be simulated
  } else if (req.value("userid", getuid()) != getuid()) {
    // A guest's processes must run as the guest, which takes the setuid
    // IMP; without it we run nothing rather than run it as the owner.
    reply(m, id, "exception",
          {{"severity", 0},
           {"type", "exec"},
           {"note", "unable to run multiuser job with no IMP configured"}});
    reply(m, id, "release", {{"ranks", "all"}, {"final", true}});
  } else {
    start_real(m, id, jobspec, req.value("R", Json()));
  }
}

void ExecService::on_kill(const Message& m) {
  Json req = m.json().value();
  uint64_t id = req.at("id").get<uint64_t>();
  int signal = req.value("signal", SIGTERM);
  if (signal < 1 || signal > 64) signal = SIGTERM;
  if (sim_.count(id)) {
    end_sim(id, signal);  // a simulated job dies at once: wait status = the signal
  } else if (auto it = jobs_.find(id); it != jobs_.end()) {
    kill_real(*it->second, signal);
  }
}

}  // namespace flux::exec
