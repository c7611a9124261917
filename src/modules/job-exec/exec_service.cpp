#include "exec_service.hpp"

#include <csignal>

#include "libflux/fsd.hpp"

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

double duration_of(const Json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) return fsd_parse(v.get<std::string>()).value();
  throw FluxError(EINVAL, "run_duration must be a duration");
}

}  // namespace

ExecService::ExecService(Handle& h, modules::ModuleLog& log) : h_(h), log_(log) {
  h_.on_request("job-exec.start", [this](const Message& m) { on_start(m); });
  h_.on_request("job-exec.kill", [this](const Message& m) { on_kill(m); });
}

Task<void> ExecService::start() {
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
  auto fail = [&](const char* type, const std::string& note) {
    reply(m, id, "exception", {{"severity", 0}, {"type", type}, {"note", note}});
    reply(m, id, "release", {{"ranks", "all"}, {"final", true}});
  };
  const Json* test = test_options(jobspec);
  if (!test) {
    fail("exec",
         "real job execution is not available yet; simulate with "
         "--setattr=system.exec.test.run_duration=DURATION");
    return;
  }
  double run = 0;
  try {
    run = test->contains("run_duration") ? duration_of((*test)["run_duration"]) : 0;
  } catch (const FluxError& e) {
    fail("exec", std::string("system.exec.test: ") + e.what());
    return;
  }
  std::string mock = test->value("mock_exception", "");
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
  Running& r = running_[id];
  r.req = m;
  if (limit > 0 && run > limit) {
    r.timer = h_.reactor().after(limit, [this, id] {
      auto it = running_.find(id);
      if (it == running_.end()) return;
      reply(it->second.req, id, "exception",
            {{"severity", 0}, {"type", "timeout"}, {"note", "resource allocation expired"}});
      end(id, SIGKILL);
    });
  } else {
    r.timer = h_.reactor().after(run, [this, id] { end(id, 0); });
  }
}

void ExecService::end(uint64_t id, int status) {
  auto it = running_.find(id);
  if (it == running_.end()) return;
  Message req = std::move(it->second.req);
  running_.erase(it);
  reply(req, id, "finish", {{"status", status}});
  reply(req, id, "release", {{"ranks", "all"}, {"final", true}});
}

void ExecService::on_kill(const Message& m) {
  Json req = m.json().value();
  uint64_t id = req.at("id").get<uint64_t>();
  int signal = req.value("signal", SIGTERM);
  if (signal < 1 || signal > 64) signal = SIGTERM;
  end(id, signal);  // a simulated job dies at once: wait status = the signal
}

}  // namespace flux::exec
