// flux job list | list-inactive | list-ids: job-list's records as JSON, one
// per line (flux-core's test tools; flux-jobs(1) is for people).
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <limits>

#include "job_common.hpp"
#include "job_states.hpp"
#include "libflux/fsd.hpp"
#include "libflux/wallclock.hpp"

namespace flux::cmd::jobcmd {

namespace {

constexpr uint32_t kUseridAll = UINT32_MAX;

// Refuse a terminal as flux-core does: these print raw JSON.
void not_for_terminal() {
  if (isatty(STDOUT_FILENO)) {
    std::fprintf(stderr, "This is not the command you are looking for. Try flux-jobs(1).\n");
    std::exit(1);
  }
}

// Print each job of a (possibly streamed) job-list.list answer.
int print_list(Handle& h, const Json& req) {
  Rpc rpc = h.rpc("job-list.list", req);
  Json r = rpc.get_json();
  for (const auto& job : r.value("jobs", Json::array())) std::printf("%s\n", job.dump().c_str());
  return 0;
}

}  // namespace

void add_list(CLI::App& job, Registry& reg) {
  {
    auto* app = job.add_subcommand("list", "List jobs as JSON, one per line");
    struct Opts {
      int count = 0;
      std::vector<std::string> states;
      std::string user;
      bool all_user = false, all = false;
    };
    auto o = std::make_shared<Opts>();
    app->add_option("-c,--count", o->count, "Limit output to N jobs");
    app->add_option("-s,--states", o->states, "List jobs in these states")
        ->delimiter(',')
        ->allow_extra_args(false);
    app->add_option("-u,--user", o->user, "Jobs of USER (all: every user)");
    app->add_flag("-a,--all-user", o->all_user, "My jobs in any state");
    app->add_flag("-A,--all", o->all, "Every user's jobs in any state");
    reg.push_back({app, [o] {
                     not_for_terminal();
                     uint32_t states = kStatePending | kStateRunning;
                     if (o->all || o->all_user) {
                       states = kStateActive | kStateInactive;
                     } else if (!o->states.empty()) {
                       states = parse_states_option(o->states);
                     }
                     uint32_t uid = getuid();
                     if (o->all || o->user == "all")
                       uid = kUseridAll;
                     else if (!o->user.empty())
                       uid = user_to_uid(o->user);
                     Json and_ = Json::array();
                     if (uid != kUseridAll) and_.push_back({{"userid", {uid}}});
                     and_.push_back({{"states", {states}}});
                     auto h = Handle::open();
                     return print_list(*h, {{"max_entries", o->count},
                                            {"attrs", {"all"}},
                                            {"constraint", {{"and", and_}}}});
                   }});
  }
  {
    auto* app = job.add_subcommand("list-inactive", "List inactive jobs as JSON");
    struct Opts {
      int count = 0;
      double since = 0;
    };
    auto o = std::make_shared<Opts>();
    app->add_option("-c,--count", o->count, "Limit output to N jobs");
    app->add_option("-s,--since", o->since, "Only jobs inactive since timestamp T");
    reg.push_back({app, [o] {
                     not_for_terminal();
                     auto h = Handle::open();
                     return print_list(*h, {{"max_entries", o->count},
                                            {"since", o->since},
                                            {"attrs", {"all"}},
                                            {"constraint", {{"states", {kStateInactive}}}}});
                   }});
  }
  {
    auto* app = job.add_subcommand("list-ids", "List jobs by id as JSON");
    struct Opts {
      std::vector<std::string> ids;
      std::string wait_state = "depend";
    };
    auto o = std::make_shared<Opts>();
    app->add_option("ids", o->ids, "Job ids")->required();
    app->add_option("-W,--wait-state", o->wait_state, "Answer once the job reaches STATE");
    reg.push_back(
        {app, [o] {
           not_for_terminal();
           uint32_t state = 0;
           try {
             state = parse_state_mask(o->wait_state);
           } catch (const FluxError&) {
           }
           // One state, as flux_job_strtostate takes it.
           if (state == 0 || (state & (state - 1)))
             throw FluxError(EINVAL, "invalid job state specified");
           auto h = Handle::open();
           std::vector<Rpc> rpcs;
           for (const auto& s : o->ids) {
             auto id = JobId::parse(s);
             if (!id)  // flux-core's words (its id parser sets ENOENT)
               throw FluxError(ENOENT,
                               "error parsing jobid: \"" + s + "\": No such file or directory");
             rpcs.push_back(h->rpc("job-list.list-id",
                                   {{"id", id->value}, {"attrs", {"all"}}, {"state", state}}));
           }
           for (auto& r : rpcs) {
             try {
               std::printf("%s\n", r.get_json().at("job").dump().c_str());
               std::fflush(stdout);
             } catch (const FluxError& e) {
               throw FluxError(e.errnum(),
                               std::string("flux job-list.list-id: ") + std::strerror(e.errnum()));
             }
           }
           return 0;
         }});
  }
}

}  // namespace flux::cmd::jobcmd

namespace flux::cmd::jobcmd {

// flux job timeleft [-H] [ID]: whole seconds (or FSD) left to the job
// (FLUX_JOB_ID by default) or, outside any job, to the instance.
void add_timeleft(CLI::App& job, Registry& reg) {
  auto* app = job.add_subcommand("timeleft", "Print the time left to a job");
  struct Opts {
    std::string id;
    bool human = false;
  };
  auto o = std::make_shared<Opts>();
  app->add_option("id", o->id, "Job id (default: $FLUX_JOB_ID)");
  app->add_flag("-H,--human", o->human, "As a Flux standard duration");
  reg.push_back({app, [o] {
                   std::string s = o->id;
                   if (s.empty())
                     if (const char* env = std::getenv("FLUX_JOB_ID")) s = env;
                   auto h = Handle::open();
                   double expiration = 0;
                   if (s.empty()) {
                     try {
                       Json r = h->rpc("resource.status").get_json();
                       expiration = r.at("R").at("execution").value("expiration", 0.0);
                     } catch (const std::exception&) {
                       throw FluxError(EINVAL, "failed to get instance expiration");
                     }
                   } else {
                     auto id = JobId::parse(s);
                     if (!id) throw FluxError(EINVAL, "failed to parse jobid " + s);
                     Json j;
                     try {
                       j = h->rpc("job-list.list-id",
                                  {{"id", id->value}, {"attrs", {"expiration", "state"}}})
                               .get_json()
                               .at("job");
                     } catch (const FluxError& e) {
                       if (e.errnum() == ENOENT) throw FluxError(ENOENT, s + ": no such jobid");
                       throw FluxError(e.errnum(), "flux_job_list_id: " + s + ": " + e.what());
                     }
                     uint32_t state = j.value("state", 0u);
                     if (state & kStatePending)
                       throw FluxError(EINVAL, "job " + s + " has not started");
                     expiration = state == kStateRun ? j.value("expiration", 0.0) : 1.0;
                   }
                   double left = expiration == 0 ? std::numeric_limits<double>::infinity()
                                                 : std::max(0.0, expiration - wallclock());
                   if (o->human) {
                     std::printf("%s\n", std::isinf(left) ? "infinity" : fsd_format(left).c_str());
                   } else {
                     unsigned long sec = std::isinf(left) ? 4294967295UL
                                         : left > 0 && left < 1
                                             ? 1
                                             : static_cast<unsigned long>(std::floor(left));
                     std::printf("%lu\n", sec);
                   }
                   return 0;
                 }});
}

}  // namespace flux::cmd::jobcmd

namespace flux::cmd::jobcmd {

// flux job stats: job-list's counts, as JSON.
void add_stats(CLI::App& job, Registry& reg) {
  auto* app = job.add_subcommand("stats", "Print job statistics (JSON)");
  reg.push_back({app, [] {
                   auto h = Handle::open();
                   std::printf("%s\n", h->rpc("job-list.job-stats").get_json().dump().c_str());
                   return 0;
                 }});
}

// flux job purge [-f] [--age-limit=FSD] [--num-limit=N] [--batch=N] [IDS]:
// remove inactive jobs (the oldest past the limits, or the ids given).
void add_purge(CLI::App& job, Registry& reg) {
  auto* app = job.add_subcommand("purge", "Remove inactive jobs");
  struct Opts {
    std::vector<std::string> ids;
    std::string age_limit;
    int num_limit = -1;
    int batch = 50;
    bool force = false;
  };
  auto o = std::make_shared<Opts>();
  app->add_option("ids", o->ids, "Job ids");
  app->add_option("--age-limit", o->age_limit, "Purge jobs inactive longer than FSD");
  app->add_option("--num-limit", o->num_limit, "Purge the oldest until COUNT are left");
  app->add_option("--batch", o->batch, "Jobs per request (default 50)");
  app->add_flag("-f,--force", o->force, "Purge (else only count)");
  reg.push_back({app, [o] {
                   auto h = Handle::open();
                   auto fail = [](const FluxError& e) {
                     throw FluxError(e.errnum(), std::string("purge: ") + e.what());
                   };
                   int total = 0;
                   try {
                     if (!o->ids.empty()) {
                       std::vector<Rpc> rpcs;
                       for (const auto& s : o->ids)
                         rpcs.push_back(
                             h->rpc("job-manager.purge-id",
                                    {{"id", parse_jobid(s).value}, {"force", o->force}}));
                       for (auto& r : rpcs) total += r.get_json().value("count", 0);
                     } else {
                       double age = -1;
                       if (!o->age_limit.empty()) age = fsd_parse(o->age_limit).value();
                       int count = 0;
                       do {
                         count = h->rpc("job-manager.purge", {{"age_limit", age},
                                                              {"num_limit", o->num_limit},
                                                              {"batch", o->batch},
                                                              {"force", o->force}})
                                     .get_json()
                                     .value("count", 0);
                         total += count;
                       } while (o->force && count == o->batch);
                     }
                   } catch (const FluxError& e) {
                     fail(e);
                   }
                   int inactive = h->rpc("job-manager.stats-get", Json::object(), 0)
                                      .get_json()
                                      .value("inactive_jobs", 0);
                   if (o->force)
                     std::printf("purged %d inactive jobs, %d remaining\n", total, inactive);
                   else
                     std::printf("use --force to purge %d of %d inactive jobs\n", total, inactive);
                   return 0;
                 }});
}

}  // namespace flux::cmd::jobcmd

namespace flux::cmd::jobcmd {

// flux job namespace [ID...]: the guest KVS namespace of each job (ids
// from stdin when none are given).
void add_namespace(CLI::App& job, Registry& reg) {
  auto* app = job.add_subcommand("namespace", "Print a job's KVS namespace");
  auto ids = std::make_shared<std::vector<std::string>>();
  app->add_option("ids", *ids, "Job ids (default: one per line on stdin)");
  reg.push_back({app, [ids] {
                   std::vector<std::string> list = *ids;
                   if (list.empty())
                     for (std::string line; std::getline(std::cin, line);)
                       if (!line.empty()) list.push_back(line);
                   for (const auto& s : list)
                     std::printf("job-%llu\n",
                                 static_cast<unsigned long long>(parse_jobid(s).value));
                   return 0;
                 }});
}

}  // namespace flux::cmd::jobcmd
