// Simulated jobs (attributes.system.exec.test): no processes; the job
// "runs" for run_duration on a timer, as flux-core's job-exec test mode.
#include <csignal>

#include "exec_service.hpp"
#include "libflux/fsd.hpp"

namespace flux::exec {

namespace {

double duration_of(const Json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) return fsd_parse(v.get<std::string>()).value();
  throw FluxError(EINVAL, "run_duration must be a duration");
}

}  // namespace

void ExecService::start_sim(const Message& m, uint64_t id, const Json& jobspec, const Json& test) {
  auto fail = [&](const char* type, const std::string& note) {
    reply(m, id, "exception", {{"severity", 0}, {"type", type}, {"note", note}});
    reply(m, id, "release", {{"ranks", "all"}, {"final", true}});
  };
  double run = 0;
  try {
    run = test.contains("run_duration") ? duration_of(test["run_duration"]) : 0;
  } catch (const FluxError& e) {
    fail("exec", std::string("system.exec.test: ") + e.what());
    return;
  }
  std::string mock = test.value("mock_exception", "");
  if (mock == "init") {
    fail("exec", "mock initialization exception generated");
    return;
  }
  double limit = 0;
  if (jobspec.contains("attributes") && jobspec["attributes"].contains("system"))
    limit = jobspec["attributes"]["system"].value("duration", 0.0);
  reply(m, id, "start");
  if (mock == "run") {
    reply(m, id, "exception",
          {{"severity", 0}, {"type", "exec"}, {"note", "mock run exception generated"}});
    reply(m, id, "finish", {{"status", SIGKILL}});
    reply(m, id, "release", {{"ranks", "all"}, {"final", true}});
    return;
  }
  SimJob& r = sim_[id];
  r.req = m;
  if (limit > 0 && run > limit) {
    r.timer = h_.reactor().after(limit, [this, id] {
      auto it = sim_.find(id);
      if (it == sim_.end()) return;
      reply(it->second.req, id, "exception",
            {{"severity", 0}, {"type", "timeout"}, {"note", "resource allocation expired"}});
      end_sim(id, SIGKILL);
    });
  } else {
    r.timer = h_.reactor().after(run, [this, id] { end_sim(id, 0); });
  }
}

void ExecService::end_sim(uint64_t id, int status) {
  auto it = sim_.find(id);
  if (it == sim_.end()) return;
  Message req = std::move(it->second.req);
  sim_.erase(it);
  reply(req, id, "finish", {{"status", status}});
  reply(req, id, "release", {{"ranks", "all"}, {"final", true}});
}

}  // namespace flux::exec
