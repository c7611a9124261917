// flux job list | list-inactive | list-ids: job-list's records as JSON, one
// per line (flux-core's test tools; flux-jobs(1) is for people).
#include <unistd.h>

#include <cstdio>

#include "job_common.hpp"
#include "job_states.hpp"

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
    app->add_option("-s,--states", o->states, "List jobs in these states")->delimiter(',');
    app->add_option("-u,--user", o->user, "Jobs of USER (all: every user)");
    app->add_flag("-a,--all-user", o->all_user, "My jobs in any state");
    app->add_flag("-A,--all", o->all, "Every user's jobs in any state");
    reg.push_back({app, [o] {
                     not_for_terminal();
                     uint32_t states = kStatePending | kStateRunning;
                     if (o->all || o->all_user) {
                       states = kStateActive | kStateInactive;
                     } else if (!o->states.empty()) {
                       states = 0;
                       for (const auto& s : o->states) {
                         try {
                           states |= parse_state_mask(s);
                         } catch (const FluxError&) {
                           throw FluxError(EINVAL, "error parsing --states: " + s + " is unknown");
                         }
                       }
                       if (!states) throw FluxError(EINVAL, "no states specified");
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
    reg.push_back({app, [o] {
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
                     for (const auto& s : o->ids)
                       rpcs.push_back(h->rpc("job-list.list-id", {{"id", parse_jobid(s).value},
                                                                  {"attrs", {"all"}},
                                                                  {"state", state}}));
                     for (auto& r : rpcs) {
                       try {
                         std::printf("%s\n", r.get_json().at("job").dump().c_str());
                       } catch (const FluxError& e) {
                         throw FluxError(e.errnum(), std::string("flux job-list.list-id: ") + e.what());
                       }
                     }
                     return 0;
                   }});
  }
}

}  // namespace flux::cmd::jobcmd
