// flux cancel: cancel jobs by raising a fatal `cancel` exception.
#include <unistd.h>

#include <cstdio>

#include "cli.hpp"
#include "command.hpp"
#include "job_common.hpp"
#include "job_states.hpp"

namespace flux::cmd {

int cmd_cancel(int argc, char** argv) {
  CLI::App app{"Cancel one or more jobs."};
  std::vector<std::string> ids;
  bool all = false;
  bool dry_run = false;
  bool quiet = false;
  std::string user;
  std::string states;
  std::string message;
  app.add_option("jobid", ids, "Jobs to cancel");
  app.add_flag("--all", all, "Cancel all jobs of the user (or of --user)");
  app.add_flag("-n,--dry-run", dry_run, "Only say how many jobs would be canceled");
  app.add_flag("-q,--quiet", quiet, "Print nothing if no jobs match");
  app.add_option("-u,--user", user, "Target user (the owner may say all)");
  app.add_option("-S,--states", states, "Target states (default: active)");
  app.add_option("-m,--message", message, "Exception note");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  bool select = all || !user.empty() || !states.empty();
  if (select && !ids.empty())
    throw FluxError(EINVAL, "jobids cannot be given with --all, --user or --states");
  if (!select && ids.empty()) throw FluxError(EINVAL, "no jobs given (use --all for all jobs)");
  auto h = open_instance();
  if (!ids.empty()) {
    std::vector<Rpc> rpcs;
    std::vector<JobId> parsed;
    for (const auto& s : ids) parsed.push_back(jobcmd::parse_jobid(s));
    for (const auto& id : parsed)
      rpcs.push_back(
          h->rpc("job-manager.raise",
                 {{"id", id.value}, {"severity", 0}, {"type", "cancel"}, {"note", message}}));
    int rc = 0;
    for (size_t i = 0; i < rpcs.size(); i++) {
      try {
        rpcs[i].get();
      } catch (const FluxError& e) {
        std::fprintf(stderr, "%s: %s: %s\n", argv[0], ids[i].c_str(), e.what());
        rc = 1;
      }
    }
    return rc;
  }
  int64_t userid = getuid();
  if (user == "all")
    userid = -1;
  else if (!user.empty())
    userid = user_to_uid(user);
  uint32_t mask = parse_state_mask(states.empty() ? "active" : states);
  Json r = h->rpc("job-manager.raiseall", {{"dry_run", dry_run},
                                           {"userid", userid},
                                           {"states", mask},
                                           {"severity", 0},
                                           {"type", "cancel"},
                                           {"note", message}})
               .get_json();
  int count = r.value("count", 0);
  int errors = r.value("errors", 0);
  if (count == 0) {
    if (!quiet) std::fprintf(stderr, "%s: Command matched 0 jobs\n", argv[0]);
  } else if (dry_run) {
    std::fprintf(stderr, "%s: Would cancel %d job%s\n", argv[0], count, count == 1 ? "" : "s");
  } else {
    std::fprintf(stderr, "%s: Canceled %d job%s (%d error%s)\n", argv[0], count,
                 count == 1 ? "" : "s", errors, errors == 1 ? "" : "s");
  }
  return errors ? 1 : 0;
}

}  // namespace flux::cmd
