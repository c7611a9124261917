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
  if (!command.empty() && command[0] == "--") command.erase(command.begin());
  if (command.empty()) throw FluxError(EINVAL, "job command and arguments are missing");
  if (!opts.input.empty() && Idset::decode(opts.input))
    throw FluxError(EINVAL, "per-task input not supported for submit");

  // Submitted jobs read /dev/null, as flux-core's (flux run forwards stdin).
  auto jobspec_json = [&](long cc_id) {
    Json js = opts.jobspec(command, cc_id);
    Json& in = js["attributes"]["system"]["shell"]["options"]["input"];
    // --input=FILE: the tasks read FILE (an idset is for flux run only).
    if (!opts.input.empty()) in["stdin"] = {{"type", "file"}, {"path", opts.input}};
    if (!in.contains("stdin")) in["stdin"] = {{"type", "file"}, {"path", "/dev/null"}};
    return js;
  };
  auto jobspec = [&](long cc_id) { return jobspec_json(cc_id).dump(); };
  auto cc = opts.cc_ids();
  bool per_copy = std::any_of(command.begin(), command.end(),
                              [](const std::string& a) { return a.find("{cc}") != a.npos; });
  if (opts.dry_run) {
    // flux-core prints the first copy's jobspec only.
    long first = cc && !cc->empty() && per_copy ? static_cast<long>(*cc->begin()) : -1;
    std::printf("%s\n", jobspec(first).c_str());
    return 0;
  }
  auto h = open_instance();
  std::vector<JobId> ids;  // kept only when they are waited for
  bool keep = watch || opts.wait || !opts.wait_event.empty();
  JobSubmitter submitter(*h, opts.urgency, opts.flag_bits(), [&](JobId id) {
    if (!opts.quiet) std::printf("%s\n", id.encode().c_str());
    if (keep) ids.push_back(id);
  });
  if (!cc) {
    submitter.submit(jobspec(-1));
  } else {
    // Copies differ only in FLUX_JOB_CC (none with --bcc) unless {cc} is
    // in the command: build the jobspec once and change that.
    Json base = per_copy ? Json() : jobspec_json(-1);
    bool set_cc = opts.bcc.empty();
    std::string same = per_copy || set_cc ? std::string() : base.dump();
    for (uint32_t id : *cc) {
      if (per_copy) {
        submitter.submit(jobspec(id));
      } else if (set_cc) {
        base["attributes"]["system"]["environment"]["FLUX_JOB_CC"] = std::to_string(id);
        submitter.submit(base.dump());
      } else {
        submitter.submit(same);
      }
    }
  }
  submitter.finish();
  std::fflush(stdout);
  if (!opts.wait_event.empty())
    for (const auto& id : ids) wait_for_event(*h, id, opts.wait_event);
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
