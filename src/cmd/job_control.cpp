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
#include "job_states.hpp"
#include "libflux/jobspec.hpp"
#include "submit_options.hpp"

namespace flux::cmd::jobcmd {

namespace {

// "SIGUSR1", "USR1" or "10".
int signal_number(const std::string& s) {
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  // A number goes as it is: the job-manager judges it ("Invalid signal number").
  if (!s.empty() && *end == '\0' && v > 0 && v < INT32_MAX) return static_cast<int>(v);
  std::string name = s.rfind("SIG", 0) == 0 ? s.substr(3) : s;
  for (int sig = 1; sig < NSIG; sig++) {
    const char* abbrev = sigabbrev_np(sig);
    if (abbrev && name == abbrev) return sig;
  }
  throw FluxError(EINVAL, "Invalid signal " + s);
}

// flux-core's argument form `IDS... [--] [NOTE...]`: job ids up to the
// first word that is not one; the rest is the note (an error where none is
// taken, or where -m gave one too).
struct IdsAndNote {
  std::vector<std::pair<std::string, JobId>> ids;
  std::string note;
};
IdsAndNote ids_and_note(const std::vector<std::string>& args, bool note_allowed,
                        const std::string& message) {
  IdsAndNote out;
  size_t i = 0;
  for (; i < args.size(); i++) {
    auto id = JobId::parse(args[i]);
    if (!id) break;
    out.ids.emplace_back(args[i], *id);
  }
  if (i < args.size()) {
    if (!note_allowed) throw FluxError(EINVAL, "invalid jobid: " + args[i]);
    if (args[i] == "--" || args[i] == "\x1f--") i++;  // job.cpp's stand-in for "--"
    for (; i < args.size(); i++) out.note += (out.note.empty() ? "" : " ") + args[i];
  }
  if (!message.empty()) {
    if (!out.note.empty())
      throw FluxError(EINVAL, "Do not set note on command line and with --message");
    out.note = message;
  }
  if (out.ids.empty()) throw FluxError(EINVAL, "no jobids given");
  return out;
}

// One request per job, all in flight at once; each failure printed as
// "flux-job: PREFIX ID: error". 1 if any failed.
int each_job(const std::vector<std::pair<std::string, JobId>>& ids, const char* prefix,
             const std::function<Rpc(Handle&, JobId)>& send) {
  auto h = Handle::open();
  std::vector<Rpc> rpcs;
  for (const auto& [arg, id] : ids) rpcs.push_back(send(*h, id));
  int rc = 0;
  for (size_t i = 0; i < rpcs.size(); i++) {
    try {
      rpcs[i].get();
    } catch (const FluxError& e) {
      std::fprintf(stderr, "flux-job: %s %s: %s\n", prefix, ids[i].first.c_str(), e.what());
      rc = 1;
    }
  }
  return rc;
}

// killall/raiseall's answer, as flux-core prints it: a count to confirm
// with -f, or what was done.
void report_bulk(const Json& r, bool force, const std::string& done) {
  int count = r.value("count", 0), errors = r.value("errors", 0);
  if (count > 0 && !force)
    std::fprintf(stderr, "flux-job: Command matched %d jobs (-f to confirm)\n", count);
  else if (count > 0)
    std::fprintf(stderr, "flux-job: %s %d jobs (%d errors)\n", done.c_str(), count, errors);
  else
    std::fprintf(stderr, "flux-job: Command matched 0 jobs\n");
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
    auto* app = job.add_subcommand("kill", "Send a signal to running jobs' tasks");
    struct Opts {
      std::vector<std::string> ids;
      std::string signal = "SIGTERM";
    };
    auto o = std::make_shared<Opts>();
    app->add_option("ids", o->ids, "Job ids")->required();
    app->add_option("-s,--signal", o->signal, "Signal name or number (default SIGTERM)");
    reg.push_back({app, [o] {
                     int signum = 0;
                     try {
                       signum = signal_number(o->signal);
                     } catch (const FluxError& e) {
                       throw FluxError(EINVAL, std::string("kill: ") + e.what());
                     }
                     auto args = ids_and_note(o->ids, false, "");
                     return each_job(args.ids, "kill", [signum](Handle& h, JobId id) {
                       return h.rpc("job-manager.kill", {{"id", id.value}, {"signum", signum}});
                     });
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
                     SubmitOptions flags_only;  // a bad flag is refused before any reading
                     flags_only.flags = o->flags;
                     uint32_t flag_bits = flags_only.flag_bits();
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
                     auto h = Handle::open();
                     auto ids = submit_jobspecs(*h, {spec.encode()}, o->urgency, flag_bits);
                     std::printf("%s\n", ids[0].encode().c_str());
                     return 0;
                   }});
  }
  {
    auto* app = job.add_subcommand("cancel", "Cancel jobs");
    struct Opts {
      std::vector<std::string> args;
      std::string message;
    };
    auto o = std::make_shared<Opts>();
    app->add_option("ids", o->args, "Job ids, then an optional note")->required();
    app->add_option("-m,--message", o->message, "Exception note");
    reg.push_back(
        {app, [o] {
           auto args = ids_and_note(o->args, true, o->message);
           return each_job(args.ids, "cancel", [&args](Handle& h, JobId id) {
             return h.rpc(
                 "job-manager.raise",
                 {{"id", id.value}, {"severity", 0}, {"type", "cancel"}, {"note", args.note}});
           });
         }});
  }
  {
    auto* app = job.add_subcommand("raise", "Raise an exception on jobs");
    struct Opts {
      std::vector<std::string> args;
      int severity = 0;
      std::string type = "cancel";
      std::string message;
    };
    auto o = std::make_shared<Opts>();
    app->add_option("ids", o->args, "Job ids, then an optional note")->required();
    app->add_option("-s,--severity", o->severity, "Severity (0 = fatal, 1-7 not)");
    app->add_option("-t,--type", o->type, "Exception type (default: cancel)");
    app->add_option("-m,--message", o->message, "Exception note");
    reg.push_back({app, [o] {
                     auto args = ids_and_note(o->args, true, o->message);
                     return each_job(args.ids, "raise", [&](Handle& h, JobId id) {
                       return h.rpc("job-manager.raise", {{"id", id.value},
                                                          {"severity", o->severity},
                                                          {"type", o->type},
                                                          {"note", args.note}});
                     });
                   }});
  }
  {
    auto* app = job.add_subcommand("killall", "Send a signal to all running jobs");
    struct Opts {
      std::string signal = "SIGTERM", user;
      bool force = false;
    };
    auto o = std::make_shared<Opts>();
    app->add_option("-s,--signal", o->signal, "Signal name or number (default SIGTERM)");
    app->add_option("-u,--user", o->user, "Jobs of USER (the owner: all)");
    app->add_flag("-f,--force", o->force, "Confirm the command");
    reg.push_back(
        {app, [o] {
           int signum = 0;
           try {
             signum = signal_number(o->signal);
           } catch (const FluxError& e) {
             throw FluxError(EINVAL, std::string("killall: ") + e.what());
           }
           int64_t uid = o->user.empty() ? getuid() : o->user == "all" ? -1 : user_to_uid(o->user);
           auto h = Handle::open();
           Json r;
           try {
             r = h->rpc("job-manager.killall",
                        {{"dry_run", !o->force}, {"userid", uid}, {"signum", signum}})
                     .get_json();
           } catch (const FluxError& e) {
             throw FluxError(e.errnum(), std::string("killall: ") + e.what());
           }
           report_bulk(r, o->force, strsignal(signum));
           return 0;
         }});
  }
  {
    auto* app = job.add_subcommand("raiseall", "Raise an exception on many jobs");
    struct Opts {
      std::vector<std::string> args;
      std::string states;
      int severity = 7;
      std::string user;
      bool force = false;
    };
    auto o = std::make_shared<Opts>();
    app->add_option("type", o->args, "Exception type, then an optional note")->required();
    app->add_option("-s,--severity", o->severity, "Severity (default 7)");
    app->add_option("-u,--user", o->user, "Jobs of USER (the owner: all)");
    auto* states_opt = app->add_option("-S,--states", o->states, "Job states (default: active)");
    app->add_flag("-f,--force", o->force, "Confirm the command");
    reg.push_back(
        {app, [o, states_opt] {
           std::string type = o->args[0], note;
           for (size_t i = 1; i < o->args.size(); i++)
             note += (note.empty() ? "" : " ") + o->args[i];
           uint32_t states = kStateActive;
           if (states_opt->count()) {
             states = parse_states_option({o->states});
             if (states & kStateInactive)
               throw FluxError(EINVAL, "Exceptions cannot be raised on inactive jobs");
           }
           int64_t uid = o->user.empty() ? getuid() : o->user == "all" ? -1 : user_to_uid(o->user);
           auto h = Handle::open();
           Json r;
           try {
             r = h->rpc("job-manager.raiseall", {{"dry_run", !o->force},
                                                 {"userid", uid},
                                                 {"states", states},
                                                 {"severity", o->severity},
                                                 {"type", type},
                                                 {"note", note}})
                     .get_json();
           } catch (const FluxError& e) {
             throw FluxError(e.errnum(), std::string("raiseall: ") + e.what());
           }
           report_bulk(r, o->force, "Raised exception on");
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
           // As flux-core's: a dotted KEY makes nested objects, VALUE is
           // JSON if it parses (null unsets) else a string, "-" reads stdin.
           Json memo = Json::object();
           for (const auto& s : o->kv) {
             size_t eq = s.find('=');
             if (eq == std::string::npos || eq == 0)
               throw FluxError(EINVAL, "memo: no value for key=" + s);
             std::string v = s.substr(eq + 1);
             if (v == "-") v.assign(std::istreambuf_iterator<char>(std::cin), {});
             Json value = Json::parse(v, nullptr, false);
             if (value.is_discarded()) value = v;
             Json* at = json_make_path(memo, s.substr(0, eq));
             if (!at) throw FluxError(EINVAL, "memo: invalid key " + s.substr(0, eq));
             *at = std::move(value);
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
