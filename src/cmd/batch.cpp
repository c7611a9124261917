// flux batch: submit a script as the initial program of a new Flux
// instance (a job of this one), taking options from its RFC 36 directives
// and then from the command line. Prints the job id.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli.hpp"
#include "command.hpp"
#include "directives.hpp"
#include "submit_options.hpp"

namespace flux::cmd {

namespace {

std::string read_script(const std::string& path) {
  std::ostringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in)
      throw FluxError(errno, "[Errno " + std::to_string(errno) + "] " + std::strerror(errno) +
                                 ": '" + path + "'");
    ss << in.rdbuf();
  }
  return ss.str();
}

void add_batch_options(CLI::App& app, SubmitOptions& opts, bool& wrap) {
  opts.add_to(app, Shape::kSlots);
  app.add_flag("--wrap", wrap, "Wrap arguments or stdin in a /bin/sh script");
  app.prefix_command();  // the script and its arguments end the options
  app.footer("[SCRIPT [ARGS...]] follows the options; without SCRIPT, it is read from stdin.");
  // Directives come before the command line's options: the last wins.
  for (CLI::Option* o : app.get_options())
    if (o->get_expected_max() == 1) o->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

}  // namespace

int cmd_batch(int argc, char** argv) {
  CLI::App app{"Submit a batch script to be run as the initial program of a new Flux instance."};
  SubmitOptions opts;
  bool wrap = false;
  add_batch_options(app, opts, wrap);
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  std::vector<std::string> rest = app.remaining();
  size_t nopts = static_cast<size_t>(argc - 1) - rest.size();  // the command line's options
  if (!rest.empty() && rest[0] == "--") rest.erase(rest.begin());

  std::string script, name;
  if (wrap && !rest.empty()) {
    for (size_t i = 0; i < rest.size(); i++) script += (i ? " " : "") + rest[i];
    script += "\n";
  } else {
    name = rest.empty() ? "stdin" : rest[0];
    script = read_script(rest.empty() ? "-" : rest[0]);
    if (!valid_utf8(script))
      throw FluxError(EINVAL,
                      name + " does not appear to be a script, or failed to encode as utf-8");
    auto directives = parse_directives(script);
    if (!directives) throw FluxError(EINVAL, name + ": " + directives.error().message);
    // A directive's options must parse on their own: say which line not.
    for (const auto& d : *directives) {
      SubmitOptions scratch;
      bool scratch_wrap = false;
      CLI::App one{app.get_description()};
      add_batch_options(one, scratch, scratch_wrap);
      std::vector<std::string> args = {argv[0]};
      args.insert(args.end(), d.args.begin(), d.args.end());
      std::vector<char*> cargs;
      for (auto& a : args) cargs.push_back(a.data());
      if (parse(one, static_cast<int>(cargs.size()), cargs.data()) > 0) {
        std::fprintf(stderr, "flux-batch: ERROR: argument parsing failed at %s line %d\n",
                     name.c_str(), d.lineno);
        return 2;
      }
    }
    if (!directives->empty()) {
      // Parse again: the directives' options, then the command line's.
      std::vector<std::string> all = {argv[0]};
      for (const auto& d : *directives) all.insert(all.end(), d.args.begin(), d.args.end());
      for (size_t i = 1; i <= nopts; i++) all.emplace_back(argv[i]);
      if (!rest.empty()) all.emplace_back("--");
      all.insert(all.end(), rest.begin(), rest.end());
      std::vector<char*> cargs;
      for (auto& a : all) cargs.push_back(a.data());
      SubmitOptions fresh;
      opts = fresh;
      CLI::App again{app.get_description()};
      add_batch_options(again, opts, wrap);
      if (int rc = parse(again, static_cast<int>(cargs.size()), cargs.data()); rc >= 0) return rc;
    }
  }
  if (wrap) script = "#!/bin/sh\n" + script;
  if (opts.job_name.empty()) opts.job_name = rest.empty() ? "batch" : rest[0];
  if (script.rfind("#!", 0) != 0)
    throw FluxError(EINVAL, opts.job_name + " does not appear to start with '#!'");
  if (opts.output.empty()) opts.output = "flux-{{id}}.out";

  std::vector<std::string> command = {"{{tmpdir}}/script"};
  if (rest.size() > 1) command.insert(command.end(), rest.begin() + 1, rest.end());
  Json js = opts.instance_jobspec(command);
  js["attributes"]["system"]["files"]["script"] = {
      {"mode", 0100700}, {"data", script}, {"encoding", "utf-8"}};
  // A batch job reads nothing: its input is /dev/null, as flux-core's.
  Json& in = js["attributes"]["system"]["shell"]["options"]["input"];
  if (!in.contains("stdin")) in["stdin"] = {{"type", "file"}, {"path", "/dev/null"}};
  if (opts.dry_run) {
    std::printf("%s\n", js.dump().c_str());
    return 0;
  }
  auto h = open_instance();
  auto ids = submit_jobspecs(*h, {js.dump()}, opts.urgency, opts.flag_bits());
  if (!opts.quiet) std::printf("%s\n", ids[0].encode().c_str());
  std::fflush(stdout);
  if (!opts.wait_event.empty()) wait_for_event(*h, ids[0], opts.wait_event);
  if (opts.wait) return wait_jobs(*h, ids, argv[0]);
  return 0;
}

}  // namespace flux::cmd
