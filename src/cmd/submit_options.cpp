#include "submit_options.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <fnmatch.h>
#include <cmath>
#include <ctime>

#include "job_query.hpp"
#include "libflux/child_reaper.hpp"
#include "libflux/constraint_query.hpp"
#include "libflux/fsd.hpp"
#include "libflux/idset.hpp"
#include "libflux/jobspec.hpp"
#include "libflux/rlimit.hpp"
#include "libflux/signed_request.hpp"
#include "libflux/wallclock.hpp"

extern char** environ;

namespace flux::cmd {

namespace {

// A --setattr/--setopt value: JSON if it parses as JSON, else a string.
Json parse_value(const std::string& text) {
  Json v = Json::parse(text, nullptr, false);
  if (v.is_discarded()) return text;
  return v;
}

// Set a dotted path under obj, creating objects on the way.
void set_path(Json& obj, const std::string& path, Json value) {
  Json* at = json_make_path(obj, path);
  if (!at) throw FluxError(EINVAL, "invalid key " + path);
  *at = std::move(value);
}

std::pair<std::string, std::string> split_kv(const std::string& s, const char* opt) {
  size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0) {
    if (std::string(opt) == "--setopt") return {s, "1"};  // -o NAME means NAME=1
    throw FluxError(EINVAL, std::string(opt) + ": expected KEY=VALUE, got " + s);
  }
  return {s.substr(0, eq), s.substr(eq + 1)};
}

// --begin-time: "+DURATION" from now, or seconds since the epoch.
double begin_time(const std::string& s) {
  if (!s.empty() && s[0] == '+') return wallclock() + fsd_parse(s.substr(1)).value();
  char* end = nullptr;
  double t = std::strtod(s.c_str() + (s[0] == '@'), &end);
  if (end == s.c_str() || *end || !std::isfinite(t))
    throw FluxError(EINVAL, "--begin-time: expected +DURATION or seconds since the epoch: " + s);
  return t;
}

// The environment the job gets: all of ours, then --env rules in order
// (NAME=VAL sets, -PATTERN removes, PATTERN keeps only... as flux-core:
// a rule with '=' sets, a leading '-' removes matching names), then
// --env-remove patterns.
Json job_environment(const std::vector<std::string>& rules,
                     const std::vector<std::string>& remove) {
  Json env = Json::object();
  for (char** e = environ; *e; e++) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq == std::string::npos) continue;
    env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  auto erase_matching = [&](const std::string& pattern) {
    for (auto it = env.begin(); it != env.end();) {
      if (fnmatch(pattern.c_str(), it.key().c_str(), 0) == 0)
        it = env.erase(it);
      else
        ++it;
    }
  };
  for (const auto& r : rules) {
    if (!r.empty() && r[0] == '-') {
      erase_matching(r.substr(1));
    } else if (size_t eq = r.find('='); eq != std::string::npos) {
      std::string value = r.substr(eq + 1);
      // $NAME and ${NAME} expand from our environment.
      std::string out;
      for (size_t i = 0; i < value.size(); i++) {
        if (value[i] != '$') {
          out += value[i];
          continue;
        }
        size_t j = i + 1;
        bool brace = j < value.size() && value[j] == '{';
        if (brace) j++;
        size_t k = j;
        while (k < value.size() &&
               (std::isalnum(static_cast<unsigned char>(value[k])) || value[k] == '_'))
          k++;
        std::string name = value.substr(j, k - j);
        const char* v = std::getenv(name.c_str());
        out += v ? v : "";
        i = brace && k < value.size() && value[k] == '}' ? k : k - 1;
      }
      env[r.substr(0, eq)] = out;
    } else {
      // A bare NAME (or pattern) copies it from our environment; already there.
      const char* v = std::getenv(r.c_str());
      if (v) env[r] = v;
    }
  }
  for (const auto& p : remove) erase_matching(p);
  return env;
}

}  // namespace

void SubmitOptions::add_to(CLI::App& app) {
  app.add_option("-n,--ntasks", ntasks, "Number of tasks to start")
      ->each([this](const std::string&) { ntasks_given = true; });
  app.add_option("-c,--cores-per-task", cores_per_task, "Number of cores to allocate per task");
  app.add_option("-g,--gpus-per-task", gpus_per_task, "Number of GPUs to allocate per task");
  app.add_option("-N,--nodes", nnodes, "Number of nodes to allocate");
  app.add_flag("-x,--exclusive", exclusive, "Allocate whole nodes (with -N)");
  app.add_option("-t,--time-limit", time_limit, "Time limit (Flux Standard Duration, e.g. 10m)");
  app.add_option("--urgency", urgency, "Urgency: 0-31, hold (0), default (16), expedite (31)")
      ->transform(CLI::Transformer(std::map<std::string, std::string>{
          {"hold", "0"}, {"default", "16"}, {"expedite", "31"}}));
  app.add_flag("--dry-run", dry_run, "Print the jobspec instead of submitting the job");
  app.add_option("--dependency", dependencies, "Dependency URI (afterok:JOBID, ...)")
      ->allow_extra_args(false);
  app.add_option("--requires,--require", requires_, "Job constraints in RFC 35 syntax")
      ->allow_extra_args(false);
  app.add_option("--begin-time", begin_time, "Start no earlier than +DURATION or epoch seconds");
  app.add_option("--job-name", job_name, "Job name");
  app.add_option("--env", env_rules, "Environment rule: NAME=VAL, NAME, or -PATTERN")
      ->allow_extra_args(false);
  app.add_option("--env-remove", env_remove, "Remove environment variables matching PATTERN")
      ->allow_extra_args(false);
  app.add_option("--cwd", cwd, "Working directory of the job");
  app.add_option("-S,--setattr", setattr, "Set jobspec attribute KEY=VAL (system. is assumed)")
      ->allow_extra_args(false);
  app.add_option("-o,--setopt", setopt, "Set shell option KEY[=VAL]")->allow_extra_args(false);
  app.add_option("--flags", flags, "Submit flags: waitable, debug, novalidate")
      ->delimiter(',')
      ->allow_extra_args(false);
  app.add_option("--cc", cc, "Submit a copy for each id in IDSET ({cc} in args is the id)");
  app.add_option("--output", output, "Send task stdout to FILE ({{id}}, {{taskid}} expand)");
  app.add_option("--error", error, "Send task stderr to FILE ({{id}}, {{taskid}} expand)");
  app.add_flag("-l,--label-io", label_io, "Prefix output lines with the task id");
  app.add_option("--input", input, "Tasks that get stdin: all or an idset (default 0)");
  app.add_option("--rlimit", rlimit_rules,
                 "Resource limits for the tasks: NAME=VALUE, -NAME or -* (default: all of ours)")
      ->delimiter(',')
      ->allow_extra_args(false);
  app.add_flag("--quiet", quiet, "Do not print job ids");
  app.add_option("-q,--queue", queue, "Submit to the named queue");
  app.add_option("--wait-event", wait_event, "Wait for EVENT (exec.EVENT: exec eventlog)");
  app.add_flag("--wait", wait, "Wait for the jobs to complete; exit with their status");
}

uint32_t SubmitOptions::flag_bits() const {
  uint32_t bits = 0;
  for (const auto& f : flags) {
    if (f == "debug")
      bits |= 2;
    else if (f == "waitable")
      bits |= 4;
    else if (f == "novalidate")
      bits |= 8;
    else
      throw FluxError(EINVAL, "unknown flag " + f);
  }
  if (wait) bits |= 4;
  return bits;
}

std::optional<Idset> SubmitOptions::cc_ids() const {
  if (cc.empty()) return std::nullopt;
  auto ids = Idset::decode(cc);
  if (!ids) throw FluxError(EINVAL, "--cc: invalid idset " + cc);
  return std::move(*ids);
}

Json SubmitOptions::jobspec(std::vector<std::string> argv, long cc_id) const {
  if (cc_id >= 0)
    for (auto& a : argv)
      for (size_t p; (p = a.find("{cc}")) != std::string::npos;)
        a.replace(p, 4, std::to_string(cc_id));
  double duration = time_limit.empty() ? 0 : fsd_parse(time_limit).value();
  if (std::isinf(duration)) duration = 0;
  // -N without -n: one task per node, as flux-core.
  int tasks = ntasks_given || nnodes <= 0 ? ntasks : nnodes;
  Jobspec spec = Jobspec::from_command(argv, tasks, cores_per_task, gpus_per_task, nnodes,
                                       exclusive, duration);
  Json js = spec.to_json();
  Json& sys = js["attributes"]["system"];
  sys["environment"] = job_environment(env_rules, env_remove);
  if (!cwd.empty()) {
    sys["cwd"] = cwd;
  } else {
    char buf[4096];
    if (getcwd(buf, sizeof buf)) sys["cwd"] = buf;
  }
  if (!job_name.empty()) sys["job"]["name"] = job_name;
  if (!queue.empty()) sys["queue"] = queue;
  Json deps = Json::array();
  for (const auto& d : dependencies) {
    size_t colon = d.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == d.size())
      throw FluxError(EINVAL, "--dependency: expected SCHEME:VALUE, got " + d);
    deps.push_back({{"scheme", d.substr(0, colon)}, {"value", d.substr(colon + 1)}});
  }
  if (!begin_time.empty())
    deps.push_back({{"scheme", "begin-time"}, {"value", cmd::begin_time(begin_time)}});
  if (!deps.empty()) sys["dependencies"] = deps;
  if (!requires_.empty()) {
    std::string query;
    for (const auto& r : requires_) query += (query.empty() ? "" : " ") + r;
    auto c = parse_constraint_query(query, requires_syntax());
    if (!c) throw FluxError(EINVAL, "--requires='" + query + "': " + c.error().message);
    sys["constraints"] = std::move(*c);
  }
  if (!output.empty()) {
    sys["shell"]["options"]["output"]["stdout"] = {{"type", "file"}, {"path", output}};
    if (label_io) sys["shell"]["options"]["output"]["stdout"]["label"] = true;
  }
  if (!error.empty()) {
    sys["shell"]["options"]["output"]["stderr"] = {{"type", "file"}, {"path", error}};
    if (label_io) sys["shell"]["options"]["output"]["stderr"]["label"] = true;
  }
  // Our soft limits go with the job (as flux-core), changed by --rlimit.
  Json limits = current_rlimits();
  for (const auto& rule : rlimit_rules) {
    if (rule == "-*") {
      limits = Json::object();
    } else if (!rule.empty() && rule[0] == '-') {
      limits.erase(rule.substr(1));
    } else if (size_t eq = rule.find('='); eq != std::string::npos) {
      std::string name = rule.substr(0, eq), value = rule.substr(eq + 1);
      if (!rlimit_resource(name)) throw FluxError(EINVAL, "--rlimit: unknown limit " + name);
      if (value == "unlimited" || value == "infinity") {
        limits[name] = -1;
      } else {
        char* end = nullptr;
        unsigned long long v = std::strtoull(value.c_str(), &end, 10);
        if (value.empty() || *end) throw FluxError(EINVAL, "--rlimit: invalid value " + rule);
        limits[name] = static_cast<uint64_t>(v);
      }
    } else if (!rlimit_resource(rule) && rule != "*") {
      throw FluxError(EINVAL, "--rlimit: unknown limit " + rule);
    }
  }
  if (!limits.empty()) sys["shell"]["options"]["rlimit"] = limits;
  for (const auto& o : setopt) {
    auto [k, v] = split_kv(o, "--setopt");
    set_path(sys["shell"]["options"], k, parse_value(v));
  }
  for (const auto& a : setattr) {
    auto [k, v] = split_kv(a, "--setattr");
    if (k.rfind("user.", 0) == 0)
      set_path(js["attributes"]["user"], k.substr(5), parse_value(v));
    else if (k.rfind("system.", 0) == 0)
      set_path(sys, k.substr(7), parse_value(v));
    else if (k[0] == '.')
      set_path(js["attributes"], k.substr(1), parse_value(v));
    else
      set_path(sys, k, parse_value(v));
  }
  return js;
}

JobSubmitter::JobSubmitter(Handle& h, int urgency, uint32_t flags, std::function<void(JobId)> on_id)
    : h_(h), urgency_(urgency), flags_(flags), on_id_(std::move(on_id)) {}

void JobSubmitter::submit(const std::string& jobspec) {
  if (!have_req_ || jobspec != last_) {
    have_req_ = true;
    req_ = Message::request("job-ingest.submit");
    req_.set_json({{"J", sign_none(jobspec, getuid())}, {"urgency", urgency_}, {"flags", flags_}});
    last_ = jobspec;
  }
  pending_.push_back(h_.rpc_message(req_));
  if (pending_.size() >= kWindow) take_one();
}

void JobSubmitter::take_one() {
  JobId id{pending_.front().get_json().at("id").get<uint64_t>()};
  pending_.pop_front();
  on_id_(id);
}

void JobSubmitter::finish() {
  while (!pending_.empty()) take_one();
}

std::vector<JobId> submit_jobspecs(Handle& h, const std::vector<std::string>& jobspecs, int urgency,
                                   uint32_t flags) {
  std::vector<JobId> ids;
  ids.reserve(jobspecs.size());
  JobSubmitter s(h, urgency, flags, [&ids](JobId id) { ids.push_back(id); });
  for (const auto& js : jobspecs) s.submit(js);
  s.finish();
  return ids;
}

void wait_for_event(Handle& h, JobId id, const std::string& event) {
  bool exec = event.starts_with("exec.");
  std::string name = exec ? event.substr(5) : event;
  Rpc rpc = jobcmd::eventlog_watch(h, id, exec ? "guest.exec.eventlog" : "eventlog", exec ? 1 : 0);
  while (auto m = rpc.next()) {
    if (jobcmd::watch_entry(*m).name == name) {
      jobcmd::eventlog_watch_cancel(h, rpc);
      while (rpc.next()) {
      }
      return;
    }
  }
  throw FluxError(ENODATA, id.encode() + ": event '" + event + "' never received");
}

int wait_jobs(Handle& h, const std::vector<JobId>& ids, const char* prog) {
  std::vector<Rpc> rpcs;
  for (const auto& id : ids) rpcs.push_back(h.rpc("job-manager.wait", {{"id", id.value}}));
  int rc = 0;
  for (size_t i = 0; i < rpcs.size(); i++) {
    Json r = rpcs[i].get_json();
    if (r.value("success", false)) continue;
    std::fprintf(stderr, "%s: %s: %s\n", prog, ids[i].encode().c_str(),
                 r.value("errstr", "").c_str());
    // A failed job whose tasks exited 0 (an exception) still counts as 1.
    int code = r.contains("status") ? exit_code_of(r["status"].get<int>()) : 0;
    rc = std::max(rc, code ? code : 1);
  }
  return rc;
}

}  // namespace flux::cmd
