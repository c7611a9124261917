// flux jobs: list jobs from job-list, in flux-core's formats.
#include <pwd.h>
#include <unistd.h>

#include <cmath>
#include <ctime>
#include <optional>
#include <set>

#include "cli.hpp"
#include "command.hpp"
#include "instance_uri.hpp"
#include "jobs_format.hpp"
#include "libflux/fsd.hpp"
#include "libflux/jobid.hpp"

namespace flux::cmd {
namespace {

using jobs::JobFormat;
using jobs::JobView;

struct JobsOptions {
  bool from_stdin = false;  // hidden, for tests: jobs as JSON lines on stdin
  bool all_states = false;  // -a
  bool all_users = false;   // -A
  std::string user;
  int count = 1000;
  std::vector<std::string> filters;
  std::string since;
  bool no_header = false;
  std::string name, queue;
  std::string format = "default";
  std::string color = "auto";
  bool json = false;
  bool stats = false;
  bool stats_only = false;
  std::vector<std::string> ids;
  bool filtered = false;
  bool recursive = false;    // -R: into jobs that are instances
  bool recurse_all = false;  // --recurse-all: other users' too
  int level = -1;            // -L: how deep (-1: no limit)
};

// The jobs the options select, from the instance at h.
struct Fetched {
  std::vector<JobView> jobs;
  bool truncated = false;
};

uint32_t user_to_uid(const std::string& user) {
  char* end = nullptr;
  unsigned long v = std::strtoul(user.c_str(), &end, 10);
  if (!user.empty() && *end == '\0') return static_cast<uint32_t>(v);
  struct passwd pw, *res = nullptr;
  char buf[4096];
  if (getpwnam_r(user.c_str(), &pw, buf, sizeof buf, &res) != 0 || !res)
    throw FluxError(EINVAL, "Invalid user " + user + " specified");
  return res->pw_uid;
}

// -f words: states (masks) and results (masks).
void parse_filters(const std::vector<std::string>& words, int& states, int& results) {
  static const std::map<std::string, int> kStates = {
      {"depend", 2},    {"priority", 4}, {"sched", 8},    {"run", 16},    {"cleanup", 32},
      {"inactive", 64}, {"pending", 14}, {"running", 48}, {"active", 62}, {"new", 1}};
  static const std::map<std::string, int> kResults = {
      {"completed", 1}, {"failed", 2}, {"canceled", 4}, {"cancelled", 4}, {"timeout", 8}};
  for (const auto& w : words) {
    size_t start = 0;
    while (start <= w.size()) {
      size_t comma = w.find(',', start);
      std::string f = w.substr(start, comma == std::string::npos ? comma : comma - start);
      for (auto& c : f) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (auto s = kStates.find(f); s != kStates.end())
        states |= s->second;
      else if (auto r = kResults.find(f); r != kResults.end())
        results |= r->second;
      else
        throw FluxError(EINVAL, "Invalid filter specified: " + f);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
}

// --since=WHEN: "-FSD" (that long ago), a number (a timestamp), or a
// local date and time "YYYY-MM-DD[ HH:MM[:SS]]" / "HH:MM[:SS]" (today).
double parse_since(const std::string& when) {
  double now = static_cast<double>(std::time(nullptr));
  double t = 0;
  if (!when.empty() && when[0] == '-') {
    auto d = fsd_parse(when.substr(1));
    if (!d) throw FluxError(EINVAL, "invalid --since value: " + when);
    t = now - *d;
  } else {
    char* end = nullptr;
    t = std::strtod(when.c_str(), &end);
    if (when.empty() || *end) {
      struct tm tm = {};
      time_t tnow = std::time(nullptr);
      localtime_r(&tnow, &tm);
      tm.tm_sec = 0;
      const char* rest = nullptr;
      for (const char* f : {"%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d",
                            "%H:%M:%S", "%H:%M"}) {
        struct tm try_tm = tm;
        if (std::string_view(f) == "%Y-%m-%d") try_tm.tm_hour = try_tm.tm_min = 0;
        rest = strptime(when.c_str(), f, &try_tm);
        if (rest && *rest == '\0') {
          tm = try_tm;
          break;
        }
        rest = nullptr;
      }
      if (!rest) throw FluxError(EINVAL, "invalid --since value: " + when);
      tm.tm_isdst = -1;
      t = static_cast<double>(mktime(&tm));
    }
  }
  if (t > now) throw FluxError(EINVAL, "--since=" + when + " appears to be in the future");
  return t;
}

bool use_color(const std::string& when) {
  if (when == "always" || when.empty()) return true;
  if (when == "never") return false;
  if (when == "auto") return isatty(STDOUT_FILENO);
  throw FluxError(EINVAL, "invalid --color value: " + when);
}

const char* color_of(const JobView& j) {
  int result = j.raw().value("result", 0);
  switch (result) {
    case 1:
      return "\033[01;32m";
    case 2:
    case 8:
      return "\033[01;31m";
    case 4:
      return "\033[37m";
    default:
      // Not finished: blue if it is a Flux instance.
      return j.uri_of().empty() ? nullptr : "\033[01;34m";
  }
}

// The job-list counts: all jobs, or the sum over the --queue queues.
// child: as flux-core prints it under an instance job's path (no purged count).
void print_stats(Handle& h, const std::string& queue, bool& active, bool child = false) {
  Json s = h.rpc("job-list.job-stats").get_json();
  if (!queue.empty()) {
    Json sum = {{"job_states", Json::object()}};
    for (size_t start = 0; start <= queue.size();) {
      size_t comma = queue.find(',', start);
      std::string q = queue.substr(start, comma == std::string::npos ? comma : comma - start);
      const Json* found = nullptr;
      for (const auto& e : s.value("queues", Json::array()))
        if (e.value("name", "") == q) found = &e;
      if (!found)
        throw FluxError(ENOENT, "error retrieving job stats: no stats available for queue " + q);
      for (const auto& [k, v] : found->items()) {
        if (k == "job_states") {
          for (const auto& [st, n] : v.items())
            sum["job_states"][st] = sum["job_states"].value(st, int64_t{0}) + n.get<int64_t>();
        } else if (v.is_number()) {
          sum[k] = sum.value(k, int64_t{0}) + v.get<int64_t>();
        }
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    s = std::move(sum);
  }
  const Json& st = s.at("job_states");
  auto n = [&](const char* k) { return st.value(k, int64_t{0}); };
  int64_t pending = n("depend") + n("priority") + n("sched");
  int64_t running = n("run") + n("cleanup");
  int64_t failed = s.value("failed", int64_t{0}) + s.value("canceled", int64_t{0}) +
                   s.value("timeout", int64_t{0});
  std::printf("%lld running, %lld completed, %lld failed, %lld pending",
              static_cast<long long>(running),
              static_cast<long long>(s.value("successful", int64_t{0})),
              static_cast<long long>(failed), static_cast<long long>(pending));
  if (child)
    std::printf("\n");
  else
    std::printf(", %lld inactive purged\n",
                static_cast<long long>(s.value("inactive_purged", int64_t{0})));
  active = n("total") - n("inactive") > 0;
}

bool print_jobs(const JobsOptions& o, const JobFormat& formatter, const std::vector<JobView>& jobs,
                bool color);
void print_children(JobsOptions& o, const JobFormat& formatter, const std::vector<JobView>& jobs,
                    bool color, const std::string& path, int level);

Fetched fetch_jobs(Handle& h, JobsOptions& o) {
  Json attrs = Json::array({"all"});
  Fetched f;
  std::vector<JobView>& jobs = f.jobs;
  if (!o.ids.empty()) {
    if (o.filtered)
      std::fprintf(stderr, "flux-jobs: WARNING: Filtering options ignored with jobid list\n");
    std::vector<std::pair<std::string, Rpc>> rpcs;
    for (const auto& text : o.ids) {
      auto id = JobId::parse(text);
      if (!id) throw FluxError(EINVAL, "invalid JobID value: '" + text + "'");
      Json req = {{"id", id->value}, {"attrs", attrs}};
      rpcs.emplace_back(text, h.rpc("job-list.list-id", req));
    }
    for (auto& [text, rpc] : rpcs) {
      try {
        jobs.emplace_back(rpc.get_json().at("job"));
      } catch (const FluxError& e) {
        if (e.errnum() == ENOENT)
          std::fprintf(stderr, "flux-jobs: ERROR: JobID %s unknown\n", text.c_str());
        else
          std::fprintf(stderr, "flux-jobs: ERROR: %s: %s\n", text.c_str(), e.what());
      }
    }
  } else {
    int states = 0, results = 0;
    double since = 0;
    if (!o.since.empty()) {
      since = parse_since(o.since);
      if (o.filters.empty()) o.all_states = true;
    }
    parse_filters(o.filters, states, results);
    if (o.all_states) states |= 14 | 48 | 64;
    if (!states && !results) states = 14 | 48;
    Json all = Json::array();
    if (!o.all_users) {
      std::string user = o.user.empty() ? std::to_string(getuid()) : o.user;
      if (user != "all") all.push_back({{"userid", Json::array({user_to_uid(user)})}});
    }
    Json either = Json::array();
    if (states) either.push_back({{"states", Json::array({states})}});
    if (results) either.push_back({{"results", Json::array({results})}});
    all.push_back({{"or", either}});
    if (!o.name.empty()) all.push_back({{"name", Json::array({o.name})}});
    if (!o.queue.empty()) all.push_back({{"queue", Json::array({o.queue})}});
    // One more than asked, to tell the user when output was cut.
    Json req = {{"max_entries", o.count > 0 ? o.count + 1 : 0},
                {"attrs", attrs},
                {"constraint", {{"and", all}}}};
    if (since > 0) req["since"] = since;
    Json r = h.rpc("job-list.list", req).get_json();
    for (auto& j : r.at("jobs")) jobs.emplace_back(std::move(j));
    if (o.count > 0 && jobs.size() > static_cast<size_t>(o.count)) {
      jobs.pop_back();
      f.truncated = true;
    }
  }
  return f;
}

int run_jobs(JobsOptions& o) {
  const char* named = jobs::named_format(o.format);
  if (!named && o.format.find('{') == std::string::npos) {
    if (o.format == "help") {
      std::printf("\nConfigured flux-jobs output formats:\n\n");
      std::printf("  default      Default flux-jobs format string\n");
      std::printf("  deps         Show job urgency, priority, and dependencies\n");
      std::printf("  long         Extended flux-jobs format string\n");
      return 0;
    }
    throw FluxError(EINVAL, "--format: No such format " + o.format);
  }
  std::string fmt = named ? named : o.format;
  if (!named && o.format == "default") fmt = jobs::named_format("default");
  if (const char* env = std::getenv("FLUX_JOBS_FORMAT_DEFAULT");
      env && *env && o.format == "default")
    fmt = jobs::named_format(env) ? jobs::named_format(env) : env;
  JobFormat formatter(fmt);
  bool color = use_color(o.color);
  if (o.json && (o.stats || o.stats_only))
    throw FluxError(EINVAL, "--json is incompatible with --stats and --stats-only");
  if (o.count < 0) throw FluxError(EINVAL, "--count must be >= 0");

  if (o.from_stdin) {
    std::vector<JobView> jobs;
    // One job object per line, as job-list gives it; filters are ignored.
    std::string line;
    for (int n = 1; std::getline(std::cin, line); n++) {
      Json j = Json::parse(line, nullptr, false);
      if (!j.is_object())
        throw FluxError(EINVAL,
                        "JSON input error: line " + std::to_string(n) + ": not a job object");
      jobs.emplace_back(std::move(j));
    }
    print_jobs(o, formatter, jobs, color);
    return 0;
  }
  auto h = open_instance();
  if (o.stats || o.stats_only) {
    bool active = false;
    print_stats(*h, o.queue, active);
    if (o.stats_only) return active ? 0 : 1;
  }

  Fetched f = fetch_jobs(*h, o);
  std::vector<JobView>& jobs = f.jobs;
  bool truncated = f.truncated;
  // Ids given and none known: the errors were printed, nothing else is
  // (some known: they print and the unknown ones were named, exit 0).
  if (!o.ids.empty() && jobs.empty()) return 1;
  int rc = 0;

  if (formatter.uses("instance.")) add_instance_info(jobs, o.recurse_all);
  print_jobs(o, formatter, jobs, color);
  if (o.recursive && !o.json) print_children(o, formatter, jobs, color, "", 0);
  if (truncated && !o.no_header && !o.json) {
    std::fprintf(stderr, "warning: output truncated at %d jobs.\n", o.count);
    std::fprintf(stderr,
                 "Use --count to increase returned results or use filters to alter results.\n");
  }
  return rc;
}

bool print_jobs(const JobsOptions& o, const JobFormat& formatter, const std::vector<JobView>& jobs,
                bool color) {
  if (o.json) {
    // -R: an instance job's own jobs in its "jobs" (one level, as flux-core).
    auto dict = [&](const JobView& j) {
      Json d = j.to_dict();
      auto uri =
          o.recursive && o.level != 0 ? running_instance_uri(j.raw(), o.recurse_all) : std::nullopt;
      if (uri) {
        try {
          JobsOptions child = o;
          child.ids.clear();
          auto h = Handle::open(*uri);
          Json list = Json::array();
          for (const auto& c : fetch_jobs(*h, child).jobs) list.push_back(c.to_dict());
          d["jobs"] = std::move(list);
        } catch (const std::exception&) {
          // unreachable: no "jobs"
        }
      }
      return d;
    };
    if (o.ids.size() == 1 && jobs.size() == 1) {
      std::printf("%s\n", dict(jobs[0]).dump().c_str());
    } else {
      Json out = Json::array();
      for (const auto& j : jobs) out.push_back(dict(j));
      std::printf("%s\n", Json{{"jobs", out}}.dump().c_str());
    }
    return true;
  }
  JobFormat shown = formatter.filter_empty(jobs, !o.no_header);
  if (!o.no_header) std::printf("%s\n", shown.header().c_str());
  for (const auto& j : jobs) {
    const char* c = color ? color_of(j) : nullptr;
    std::printf("%s%s%s\n", c ? c : "", shown.format(j).c_str(), c ? "\033[0;0m" : "");
  }
  return true;
}

// -R: after the jobs of an instance, each of its instance jobs' jobs under
// "PATH/ID:", as flux-core's (one that cannot be reached is skipped).
void print_children(JobsOptions& o, const JobFormat& formatter, const std::vector<JobView>& jobs,
                    bool color, const std::string& path, int level) {
  if (o.level >= 0 && level >= o.level) return;
  o.ids.clear();  // the ids asked for are this instance's, not its children's
  for (const auto& j : jobs) {
    auto uri = running_instance_uri(j.raw(), o.recurse_all);
    if (!uri) continue;
    Fetched f;
    std::unique_ptr<Handle> h;
    try {
      h = Handle::open(*uri);
      f = fetch_jobs(*h, o);
    } catch (const std::exception&) {
      continue;
    }
    std::string here = path + (path.empty() ? "" : "/") +
                       JobId{j.raw().value("id", uint64_t{0})}.encode(JobIdEncoding::kF58);
    std::printf("\n%s:\n", here.c_str());
    if (o.stats) {
      bool active = false;
      try {
        print_stats(*h, "", active, true);
      } catch (const std::exception&) {
        // no counts for this one
      }
    }
    JobsOptions child = o;
    child.no_header = true;
    if (formatter.uses("instance.")) add_instance_info(f.jobs, o.recurse_all);
    print_jobs(child, formatter, f.jobs, color);
    print_children(o, formatter, f.jobs, color, here, level + 1);
  }
}

}  // namespace

int cmd_jobs(int argc, char** argv) {
  CLI::App app{"List jobs."};
  JobsOptions o;
  app.add_flag("-a", o.all_states, "List jobs in all states, including inactive jobs");
  app.add_flag("-A", o.all_users, "List jobs of all users");
  app.add_option("-u,--user", o.user, "List jobs of USERNAME or UID (\"all\" for all users)");
  app.add_option("-c,--count", o.count, "Limit output to N jobs (default 1000)");
  app.add_option("-f,--filter", o.filters,
                 "List jobs with these states or results (comma separated)")
      ->expected(1);
  app.add_option("--since", o.since, "List jobs inactive since WHEN (implies -a)");
  app.add_flag("-n,--no-header,--suppress-header", o.no_header, "Do not print the header");
  app.add_option("--name", o.name, "List jobs with this job name");
  app.add_option("-q,--queue", o.queue, "List jobs in this queue");
  app.add_flag("--from-stdin", o.from_stdin)->group("");
  app.add_option("-o,--format", o.format,
                 "Output format: a name (default, deps, long, help) or a format string");
  app.add_option("--color", o.color, "Color output: never, always or auto")
      ->expected(0, 1)
      ->default_str("always");
  app.add_flag("--json", o.json, "Print the jobs as JSON");
  app.add_flag("--stats", o.stats, "Print job statistics before the header");
  app.add_flag("--stats-only", o.stats_only, "Print job statistics and exit (1 if no active jobs)");
  app.add_flag("-R,--recursive", o.recursive, "List the jobs of jobs that are Flux instances too");
  app.add_flag("--recurse-all", o.recurse_all, "With -R, other users' instances too (implies -R)");
  app.add_option("-L,--level", o.level, "With -R, descend at most N levels");
  app.add_option("ids", o.ids, "Job ids to list");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  for (const char* opt :
       {"-a", "-A", "--user", "--count", "--filter", "--since", "--name", "--queue"})
    if (app.count(opt)) o.filtered = true;
  if (o.recurse_all) o.recursive = true;
  return run_jobs(o);
}

}  // namespace flux::cmd
