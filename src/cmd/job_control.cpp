// flux job attach|kill|submit|cancel|raise|urgency|memo|wait: act on jobs through the
// job-ingest and job-manager services.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

#include "job_attach.hpp"
#include "job_common.hpp"
#include "libflux/jobspec.hpp"
#include "submit_options.hpp"

namespace flux::cmd::jobcmd {

namespace {

std::string join(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

// "SIGUSR1", "USR1" or "10".
int signal_number(const std::string& s) {
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (!s.empty() && *end == '\0' && v > 0 && v < NSIG) return static_cast<int>(v);
  std::string name = s.rfind("SIG", 0) == 0 ? s.substr(3) : s;
  for (int sig = 1; sig < NSIG; sig++) {
    const char* abbrev = sigabbrev_np(sig);
    if (abbrev && name == abbrev) return sig;
  }
  throw FluxError(EINVAL, "invalid signal " + s);
}

int urgency_value(const std::string& s) {
  if (s == "hold") return 0;
  if (s == "expedite") return 31;
  if (s == "default") return 16;
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end) throw FluxError(EINVAL, "invalid urgency " + s);
  return static_cast<int>(v);
}

}  // namespace

void add_control(CLI::App& job, Registry& reg) {
  {
    auto* app = job.add_subcommand("attach", "Follow a job's output; forward stdin to it");
    struct Opts {
      std::string id;
      AttachOptions a;
    };
    auto o = std::make_shared<Opts>();
    app->add_option("id", o->id, "Job id")->required();
    app->add_flag("-l,--label-io", o->a.label_io, "Prefix output lines with the task id");
    app->add_flag("-X,--show-exec", o->a.show_exec, "Print the exec eventlog too");
    app->add_flag("-E,--show-events,-v,--verbose", o->a.verbose, "Print the job's events");
    app->add_flag("-r,--read-only", o->a.read_only, "Do not forward stdin or signals");
    app->add_option("-i,--stdin-ranks", o->a.input_ranks, "Tasks that get stdin (default 0)");
    reg.push_back({app, [o] {
                     auto h = Handle::open();
                     return attach_job(*h, parse_jobid(o->id), o->a, "flux-job");
                   }});
  }
  {
    auto* app = job.add_subcommand("kill", "Send a signal to a running job's tasks");
    struct Opts {
      std::vector<std::string> ids;
      std::string signal = "SIGTERM";
    };
    auto o = std::make_shared<Opts>();
    app->add_option("ids", o->ids, "Job ids")->required();
    app->add_option("-s,--signal", o->signal, "Signal name or number (default SIGTERM)");
    reg.push_back(
        {app, [o] {
           int signum = signal_number(o->signal);
           auto h = Handle::open();
           for (const auto& s : o->ids)
             h->rpc("job-manager.kill", {{"id", parse_jobid(s).value}, {"signum", signum}}).get();
           return 0;
         }});
  }
  {
    auto* app = job.add_subcommand("submit", "Submit a jobspec (JSON or YAML) from FILE or stdin");
    struct Opts {
      std::string file;
      int urgency = 16;
      std::vector<std::string> flags;
    };
    auto o = std::make_shared<Opts>();
    app->add_option("file", o->file, "Jobspec file (default: stdin)");
    app->add_option("-u,--urgency", o->urgency, "Urgency (0-31)");
    app->add_option("-f,--flags", o->flags, "waitable, debug, novalidate")->delimiter(',');
    reg.push_back({app, [o] {
                     std::string text;
                     if (o->file.empty() || o->file == "-") {
                       text.assign(std::istreambuf_iterator<char>(std::cin), {});
                     } else {
                       std::ifstream in(o->file);
                       if (!in) throw FluxError(ENOENT, o->file + ": cannot open");
                       text.assign(std::istreambuf_iterator<char>(in), {});
                     }
                     // Check locally for a quick, precise error; ingest checks again.
                     Jobspec spec = Jobspec::parse(text).value();
                     SubmitOptions flags_only;
                     flags_only.flags = o->flags;
                     auto h = Handle::open();
                     auto ids =
                         submit_jobspecs(*h, {spec.encode()}, o->urgency, flags_only.flag_bits());
                     std::printf("%s\n", ids[0].encode().c_str());
                     return 0;
                   }});
  }
  {
    auto* app = job.add_subcommand("cancel", "Cancel jobs");
    struct Opts {
      std::vector<std::string> ids;
      std::string message;
    };
    auto o = std::make_shared<Opts>();
    app->add_option("ids", o->ids, "Job ids")->required();
    app->add_option("-m,--message", o->message, "Exception note");
    reg.push_back({app, [o] {
                     auto h = Handle::open();
                     for (const auto& s : o->ids)
                       h->rpc("job-manager.raise", {{"id", parse_jobid(s).value},
                                                    {"severity", 0},
                                                    {"type", "cancel"},
                                                    {"note", o->message}})
                           .get();
                     return 0;
                   }});
  }
  {
    auto* app = job.add_subcommand("raise", "Raise an exception on a job");
    struct Opts {
      std::string id;
      int severity = 0;
      std::string type = "cancel";
      std::vector<std::string> message;
    };
    auto o = std::make_shared<Opts>();
    app->add_option("id", o->id, "Job id")->required();
    app->add_option("-s,--severity", o->severity, "Severity (0 = fatal, 1-7 not)");
    app->add_option("-t,--type", o->type, "Exception type (default: cancel)");
    app->add_option("message", o->message, "Exception note");
    reg.push_back({app, [o] {
                     auto h = Handle::open();
                     h->rpc("job-manager.raise", {{"id", parse_jobid(o->id).value},
                                                  {"severity", o->severity},
                                                  {"type", o->type},
                                                  {"note", join(o->message)}})
                         .get();
                     return 0;
                   }});
  }
  {
    auto* app = job.add_subcommand("urgency", "Change a pending job's urgency");
    struct Opts {
      std::string id;
      std::string urgency;
      bool verbose = false;
    };
    auto o = std::make_shared<Opts>();
    app->add_option("id", o->id, "Job id")->required();
    app->add_option("urgency", o->urgency, "0-31, hold, expedite or default")->required();
    app->add_flag("-v,--verbose", o->verbose, "Print the old urgency");
    reg.push_back({app, [o] {
                     auto h = Handle::open();
                     JobId id = parse_jobid(o->id);
                     Json r = h->rpc("job-manager.urgency",
                                     {{"id", id.value}, {"urgency", urgency_value(o->urgency)}})
                                  .get_json();
                     if (o->verbose)
                       std::fprintf(stderr, "%s: urgency changed from %d to %d\n",
                                    id.encode().c_str(), r.value("old_urgency", 0),
                                    urgency_value(o->urgency));
                     return 0;
                   }});
  }
  {
    auto* app =
        job.add_subcommand("memo", "Attach KEY=VALUE notes to a job (flux jobs shows them)");
    struct Opts {
      std::string id;
      std::vector<std::string> kv;
      bool volatile_ = false;
    };
    auto o = std::make_shared<Opts>();
    app->add_option("id", o->id, "Job id")->required();
    app->add_option("keyvals", o->kv, "KEY=VALUE (VALUE is JSON if it parses; KEY= deletes)")
        ->required();
    app->add_flag("--volatile", o->volatile_, "Do not record the memo in the eventlog");
    reg.push_back(
        {app, [o] {
           Json memo = Json::object();
           for (const auto& s : o->kv) {
             size_t eq = s.find('=');
             if (eq == std::string::npos || eq == 0)
               throw FluxError(EINVAL, "expected KEY=VALUE, got " + s);
             std::string v = s.substr(eq + 1);
             Json value = v.empty() ? Json() : Json::parse(v, nullptr, false);
             if (!v.empty() && value.is_discarded()) value = v;
             memo[s.substr(0, eq)] = value;
           }
           auto h = Handle::open();
           h->rpc("job-manager.memo",
                  {{"id", parse_jobid(o->id).value}, {"memo", memo}, {"volatile", o->volatile_}})
               .get();
           return 0;
         }});
  }
  {
    auto* app = job.add_subcommand("wait", "Wait for a waitable job (or any) to finish");
    struct Opts {
      std::string id;
      bool all = false;
      bool verbose = false;
    };
    auto o = std::make_shared<Opts>();
    app->add_option("id", o->id, "Job id (default: any waitable job)");
    app->add_flag("-a,--all", o->all, "Wait for every waitable job");
    app->add_flag("-v,--verbose", o->verbose, "Say which job completed");
    reg.push_back({app, [o] {
                     auto h = Handle::open();
                     auto wait_one = [&](uint64_t id) {
                       return h->rpc("job-manager.wait", {{"id", id}}).get_json();
                     };
                     if (!o->all) {
                       uint64_t id = o->id.empty() ? UINT64_MAX : parse_jobid(o->id).value;
                       Json r = wait_one(id);
                       JobId done{r.at("id").get<uint64_t>()};
                       if (o->id.empty() || o->verbose) std::printf("%s\n", done.encode().c_str());
                       if (!r.value("success", false)) {
                         std::fprintf(stderr, "flux-job: wait: %s: %s\n", done.encode().c_str(),
                                      r.value("errstr", "").c_str());
                         return 1;
                       }
                       return 0;
                     }
                     int rc = 0;
                     while (true) {
                       Json r;
                       try {
                         r = wait_one(UINT64_MAX);
                       } catch (const FluxError& e) {
                         if (e.errnum() == ECHILD) break;
                         throw;
                       }
                       JobId done{r.at("id").get<uint64_t>()};
                       if (!r.value("success", false)) {
                         std::fprintf(stderr, "flux-job: wait: %s: %s\n", done.encode().c_str(),
                                      r.value("errstr", "").c_str());
                         rc = 1;
                       } else if (o->verbose) {
                         std::fprintf(stderr, "%s: job completed successfully\n",
                                      done.encode().c_str());
                       }
                     }
                     return rc;
                   }});
  }
}

}  // namespace flux::cmd::jobcmd
