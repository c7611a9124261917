// ExecService: job-exec.start/kill (protocol in README.md).
#pragma once
#include <memory>
#include <unordered_map>

#include "libflux/handle.hpp"
#include "modules/common/module_log.hpp"

namespace flux::exec {

class ExecService {
 public:
  ExecService(Handle& h, modules::ModuleLog& log);
  Task<void> start();

 private:
  struct Running {
    Message req;
    std::unique_ptr<Timer> timer;
  };
  void on_start(const Message& m);
  void on_kill(const Message& m);
  void reply(const Message& req, uint64_t id, const char* type, Json data = Json::object());
  void end(uint64_t id, int status);

  Handle& h_;
  modules::ModuleLog& log_;
  std::unordered_map<uint64_t, Running> running_;
};

}  // namespace flux::exec
