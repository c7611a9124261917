// flux job: work with one job. Parses and dispatches; the subcommands live
// in job_control.cpp (submit, cancel, raise, urgency, wait) and
// job_query.cpp (id, info, eventlog, wait-event, status, last).
#include "command.hpp"
#include "job_common.hpp"

namespace flux::cmd {
namespace jobcmd {

JobId parse_jobid(const std::string& text) {
  auto id = JobId::parse(text);
  if (!id) throw FluxError(EINVAL, "invalid jobid: " + text);
  return *id;
}

}  // namespace jobcmd

int cmd_job(int argc, char** argv) {
  CLI::App app{"Work with one Flux job."};
  app.require_subcommand(1);
  Registry reg;
  jobcmd::add_control(app, reg);
  jobcmd::add_query(app, reg);
  jobcmd::add_taskmap(app, reg);
  return run_subcommand(app, reg, argc, argv);
}

}  // namespace flux::cmd
