// flux submit: submit a job (or --cc copies of it) and print its id.
#include <algorithm>
#include <cstdio>

#include "cli.hpp"
#include "command.hpp"
#include "job_attach.hpp"
#include "submit_options.hpp"

namespace flux::cmd {

int cmd_submit(int argc, char** argv) {
  CLI::App app{"Submit a job to a Flux instance."};
  SubmitOptions opts;
  opts.add_to(app);
  bool watch = false;
  app.add_flag("--watch", watch, "Follow the jobs' output until they finish");
  app.prefix_command();  // the command and everything after it is the job's
  app.footer("COMMAND [ARGS...] follows the options.");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  std::vector<std::string> command = app.remaining();
  if (command.empty()) throw FluxError(EINVAL, "job command and arguments are missing");

  // Submitted jobs read /dev/null, as flux-core's (flux run forwards stdin).
  auto jobspec = [&](long cc_id) {
    Json js = opts.jobspec(command, cc_id);
    Json& in = js["attributes"]["system"]["shell"]["options"]["input"];
    if (!in.contains("stdin")) in["stdin"] = {{"type", "file"}, {"path", "/dev/null"}};
    return js.dump();
  };
  std::vector<std::string> jobspecs;
  auto cc = opts.cc_ids();
  bool per_copy = std::any_of(command.begin(), command.end(),
                              [](const std::string& a) { return a.find("{cc}") != a.npos; });
  if (cc.empty()) {
    jobspecs.push_back(jobspec(-1));
  } else if (!per_copy) {
    jobspecs.assign(cc.size(), jobspec(-1));  // identical copies: build one
  } else {
    for (long id : cc) jobspecs.push_back(jobspec(id));
  }
  auto h = open_instance();
  auto ids = submit_jobspecs(*h, jobspecs, opts.urgency, opts.flag_bits());
  if (!opts.quiet) {
    std::string out;
    for (const auto& id : ids) out += id.encode() + "\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
  }
  if (watch) {
    // Each job's output in turn, then the largest exit code.
    int rc = 0;
    AttachOptions ao;
    ao.label_io = opts.label_io;
    ao.forward_stdin = false;
    for (const auto& id : ids) rc = std::max(rc, attach_job(*h, id, ao, "flux-job"));
    return rc;
  }
  if (opts.wait) return wait_jobs(*h, ids, argv[0]);
  return 0;
}

}  // namespace flux::cmd
