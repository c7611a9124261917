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
  jobcmd::add_list(app, reg);
  jobcmd::add_timeleft(app, reg);
  jobcmd::add_purge(app, reg);
  jobcmd::add_stats(app, reg);
  jobcmd::add_namespace(app, reg);
  // `raise|cancel IDS -- NOTE`: CLI11 would end the subcommand at "--";
  // the words after it are the note, passed on as positionals.
  std::vector<char*> args(argv, argv + argc);
  static char separator[] = "\x1f--";
  static char no_states[] = "--states=,";  // CLI11 takes "--states=" as wanting the next word
  for (auto& a : args)
    if (std::string(a) == "--states=") a = no_states;
  if (argc > 1 && (std::string(argv[1]) == "raise" || std::string(argv[1]) == "cancel"))
    for (auto& a : args)
      if (std::string(a) == "--") {
        a = separator;
        break;
      }
  return run_subcommand(app, reg, argc, args.data());
}

}  // namespace flux::cmd
