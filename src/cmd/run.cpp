// flux run: submit a job and attach to it: its output as it is written,
// our stdin to its task 0 (or --input tasks), its exit code as ours.
#include <cstdio>

#include "cli.hpp"
#include "command.hpp"
#include "job_attach.hpp"
#include "submit_options.hpp"

namespace flux::cmd {

int cmd_run(int argc, char** argv) {
  CLI::App app{"Run a job interactively in a Flux instance."};
  SubmitOptions opts;
  opts.add_to(app);
  int verbose = 0;
  bool show_exec = false;
  app.add_flag("-v,--verbose", verbose,
               "-v: the job id on stderr, -vv: its events too, -vvv: and the exec events");
  app.add_flag("-E,--show-exec", show_exec, "Print the exec eventlog too");
  app.prefix_command();  // the command and everything after it is the job's
  app.footer("COMMAND [ARGS...] follows the options.");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  std::vector<std::string> command = app.remaining();
  if (command.empty()) throw FluxError(EINVAL, "job command and arguments are missing");
  if (!opts.cc.empty()) throw FluxError(EINVAL, "--cc is for flux submit, not flux run");
  if (opts.dry_run) {
    std::printf("%s\n", opts.jobspec(command).dump().c_str());
    return 0;
  }
  auto h = open_instance();
  auto ids = submit_jobspecs(*h, {opts.jobspec(command).dump()}, opts.urgency, opts.flag_bits());
  if (verbose > 0) std::fprintf(stderr, "jobid: %s\n", ids[0].encode().c_str());
  AttachOptions ao;
  ao.label_io = opts.label_io;
  ao.verbose = verbose > 1;
  ao.show_exec = show_exec || verbose > 2;
  if (!opts.input.empty()) ao.input_ranks = opts.input;
  return attach_job(*h, ids[0], ao, "flux-job");
}

}  // namespace flux::cmd
