#include "submit_options.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fnmatch.h>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>

#include "job_query.hpp"
#include "libflux/base64.hpp"
#include "libflux/child_reaper.hpp"
#include "libflux/config_file.hpp"
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

// A --env pattern: a glob, or /REGEX/.
bool env_match(const std::string& pattern, const std::string& name) {
  if (pattern.size() > 1 && pattern[0] == '/') {
    std::string re = pattern.substr(1);
    if (!re.empty() && re.back() == '/') re.pop_back();
    try {
      return std::regex_search(name, std::regex(re), std::regex_constants::match_continuous);
    } catch (const std::regex_error&) {
      throw FluxError(EINVAL, "--env: invalid regex " + pattern);
    }
  }
  return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

// Python's string.Template.substitute: $NAME, ${NAME}, $$; the values from
// lookup. EINVAL with flux-core's words otherwise.
std::string substitute(const std::string& value, const std::string& rule,
                       const std::function<const std::string*(const std::string&)>& lookup) {
  std::string out;
  auto ident = [](char c, bool first) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
           (!first && std::isdigit(static_cast<unsigned char>(c)));
  };
  for (size_t i = 0; i < value.size(); i++) {
    if (value[i] != '$') {
      out += value[i];
      continue;
    }
    if (i + 1 < value.size() && value[i + 1] == '$') {
      out += '$';
      i++;
      continue;
    }
    bool brace = i + 1 < value.size() && value[i + 1] == '{';
    size_t j = i + 1 + (brace ? 1 : 0);
    size_t k = j;
    while (k < value.size() && ident(value[k], k == j)) k++;
    if (k == j || (brace && (k >= value.size() || value[k] != '}')))
      throw FluxError(EINVAL, "--env: Unable to substitute " + rule);
    std::string name = value.substr(j, k - j);
    const std::string* v = lookup(name);
    if (!v) throw FluxError(EINVAL, "--env: Variable '" + name + "' not found in " + rule);
    out += *v;
    i = brace ? k : k - 1;
  }
  return out;
}

std::map<std::string, std::string> our_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; e++) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

// flux-core's --env rules, in order, on env: -PATTERN removes, ^FILE reads
// rules from FILE, NAME=VALUE sets (with $NAME from env, then ours), a
// bare PATTERN copies matching variables of ours not already set.
void apply_env_rules(std::map<std::string, std::string>& env,
                     const std::map<std::string, std::string>& ours,
                     const std::vector<std::string>& rules) {
  for (const auto& r : rules) {
    if (!r.empty() && r[0] == '-') {
      std::erase_if(env, [&](const auto& kv) { return env_match(r.substr(1), kv.first); });
    } else if (!r.empty() && r[0] == '^') {
      std::string file = r.substr(1);
      if (file.starts_with("~/"))
        if (const char* home = std::getenv("HOME")) file = home + file.substr(1);
      std::ifstream in(file);
      if (!in) throw FluxError(ENOENT, "--env: " + file + ": " + std::strerror(errno));
      std::vector<std::string> lines;
      for (std::string line; std::getline(in, line);) {
        size_t a = line.find_first_not_of(" \t\r"), b = line.find_last_not_of(" \t\r");
        lines.push_back(a == std::string::npos ? "" : line.substr(a, b - a + 1));
      }
      apply_env_rules(env, ours, lines);
    } else if (size_t eq = r.find('='); eq != std::string::npos) {
      std::string value = r.substr(eq + 1);
      if (value.find("{{") == std::string::npos)  // mustache: the shell's
        value = substitute(value, r, [&](const std::string& name) -> const std::string* {
          if (auto it = env.find(name); it != env.end()) return &it->second;
          if (auto it = ours.find(name); it != ours.end()) return &it->second;
          return nullptr;
        });
      env[r.substr(0, eq)] = value;
    } else if (!r.empty()) {
      for (const auto& [k, v] : ours)
        if (env_match(r, k) && !env.count(k)) env[k] = v;
    }
  }
}

// The environment the job gets: all of ours, then the --env rules (and
// --env-file's), then --env-remove patterns.
Json job_environment(const std::vector<std::string>& rules,
                     const std::vector<std::string>& remove) {
  auto ours = our_environment();
  auto env = ours;
  apply_env_rules(env, ours, rules);
  for (const auto& p : remove)
    std::erase_if(env, [&](const auto& kv) { return env_match(p, kv.first); });
  Json out = Json::object();
  for (auto& [k, v] : env) out[k] = std::move(v);
  return out;
}

// -t: a number of minutes, or a Flux standard duration.
double time_limit_seconds(const std::string& s) {
  char* end = nullptr;
  double minutes = std::strtod(s.c_str(), &end);
  if (!s.empty() && *end == '\0' && std::isfinite(minutes) && minutes >= 0) return minutes * 60;
  auto d = fsd_parse(s);
  if (!d) throw FluxError(EINVAL, "invalid Flux standard duration '" + s + "'");
  return *d;
}

}  // namespace

void SubmitOptions::add_to(CLI::App& app, Shape shape) {
  if (shape == Shape::kSlots) {
    app.add_option("-n,--nslots", ntasks, "Number of resource slots (default: -N, else required)")
        ->each([this](const std::string&) { ntasks_given = true; });
    app.add_option("-c,--cores-per-slot", cores_per_task, "Number of cores per slot (default 1)");
    app.add_option("-g,--gpus-per-slot", gpus_per_task, "Number of GPUs per slot");
    app.add_option("--broker-opts,--broker-opt", broker_opts,
                   "Options for the new instance's brokers (comma-separated)")
        ->allow_extra_args(false);
    app.add_option("--conf", confs,
                   "Configuration of the new instance: KEY=VAL, JSON or TOML text, or a file")
        ->allow_extra_args(false);
  } else {
    app.add_option("-n,--ntasks", ntasks, "Number of tasks to start")
        ->each([this](const std::string&) { ntasks_given = true; });
    app.add_option("-c,--cores-per-task", cores_per_task, "Number of cores to allocate per task")
        ->each([this](const std::string&) { per_task_given = true; });
    app.add_option("-g,--gpus-per-task", gpus_per_task, "Number of GPUs to allocate per task")
        ->each([this](const std::string& v) { per_task_given = per_task_given || v != "0"; });
    // Per-resource: a number of cores (or nodes) and tasks per node or core.
    app.add_option("--cores", cores, "Number of cores to allocate (per-resource)");
    app.add_option("--tasks-per-node", tasks_per_node, "Tasks per node (per-resource)");
    app.add_option("--tasks-per-core", tasks_per_core, "Tasks per core (per-resource)");
    app.add_option("--gpus-per-node", gpus_per_node, "GPUs per node, with -N (per-resource)");
  }
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
  app.add_option("--bcc", bcc, "As --cc, without FLUX_JOB_CC in the copies' environment");
  app.add_option("-B,--bank", bank, "Bank to charge");
  app.add_option("--env-file", env_files, "Read environment rules from FILE")
      ->allow_extra_args(false);
  app.add_option("--add-file", add_files,
                 "Add a file ([NAME[:PERMS]=]PATH, or NAME=TEXT) to {{tmpdir}} of the job")
      ->allow_extra_args(false);
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

namespace {

// RFC 7386-style merge: objects merge key by key, anything else replaces.
void merge_into(Json& into, const Json& from) {
  if (!into.is_object() || !from.is_object()) {
    into = from;
    return;
  }
  for (const auto& [k, v] : from.items()) merge_into(into[k], v);
}

// $XDG_CONFIG_HOME (~/.config), then $XDG_CONFIG_DIRS (/etc/xdg), each
// with /flux/config: where a named --conf is looked for.
std::vector<std::string> xdg_config_dirs() {
  std::vector<std::string> dirs;
  const char* home = std::getenv("XDG_CONFIG_HOME");
  const char* user_home = std::getenv("HOME");
  dirs.push_back(home && *home ? home : std::string(user_home ? user_home : "") + "/.config");
  const char* more = std::getenv("XDG_CONFIG_DIRS");
  std::string list = more && *more ? more : "/etc/xdg";
  for (size_t start = 0; start <= list.size();) {
    size_t colon = list.find(':', start);
    dirs.push_back(list.substr(start, colon == std::string::npos ? colon : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  for (auto& d : dirs) d += "/flux/config";
  return dirs;
}

// --add-file=ARG as flux-core takes it: [NAME[:PERMS]=]DATA, where DATA
// with a newline (a literal "\\n" counts) is the file's text, else a path
// whose contents (and mode) are read; NAME defaults to the path's base
// name. The RFC 37 entry for attributes.system.files.
std::pair<std::string, Json> file_entry(const std::string& arg) {
  std::string text = arg;
  for (size_t p; (p = text.find("\\n")) != std::string::npos;) text.replace(p, 2, "\n");
  std::string name, data;
  std::optional<int> perms;
  size_t eq = text.find('=');
  if (eq == std::string::npos) {
    if (text.find('\n') != std::string::npos)
      throw FluxError(EINVAL, "--add-file: file name missing");
    data = text;
    name = std::filesystem::path(data).filename().string();
  } else {
    name = text.substr(0, eq);
    data = text.substr(eq + 1);
    if (size_t colon = name.find(':'); colon != std::string::npos) {
      char* end = nullptr;
      std::string p = name.substr(colon + 1);
      long v = std::strtol(p.c_str(), &end, 8);
      if (!p.empty() && *end == '\0') {
        perms = static_cast<int>(v);
        name = name.substr(0, colon);
      }
    }
  }
  if (data.find('\n') != std::string::npos)
    return {name,
            {{"mode", 0100000 | perms.value_or(0600)}, {"data", data}, {"encoding", "utf-8"}}};
  std::ifstream in(data, std::ios::binary);
  struct stat sb {};
  if (!in || ::stat(data.c_str(), &sb) < 0)
    throw FluxError(ENOENT,
                    "--add-file=" + arg + ": [Errno 2] No such file or directory: '" + data + "'");
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  bool utf8 = valid_utf8(contents);
  Json ref = {{"mode", sb.st_mode},
              {"size", static_cast<int64_t>(sb.st_size)},
              {"data", utf8 ? contents : base64_encode(contents)},
              {"encoding", utf8 ? "utf-8" : "base64"}};
  return {name, ref};
}

// flux batch/alloc --conf=VALUE, with flux-core's rules: text with a
// newline is JSON or TOML; KEY=VAL sets a dotted key (VAL as JSON, else a
// string); a .toml or .json name is a file; anything else is a named
// config NAME.toml or NAME.json on the XDG search path.
void batch_conf_update(Json& conf, const std::string& value) {
  if (value.find('\n') != std::string::npos) {
    Json j = Json::parse(value, nullptr, false);
    if (j.is_discarded()) {
      try {
        j = config_parse_toml(value, "--conf");
      } catch (const FluxError&) {
        throw FluxError(EINVAL, "--conf: failed to parse multiline as TOML or JSON");
      }
    }
    merge_into(conf, j);
    return;
  }
  if (size_t eq = value.find('='); eq != std::string::npos) {
    std::string key = value.substr(0, eq);
    Json v = Json::parse(value.substr(eq + 1), nullptr, false);
    if (v.is_discarded()) v = value.substr(eq + 1);
    Json* at = json_make_path(conf, key);
    if (!at) throw FluxError(EINVAL, "--conf: failed to set " + key);
    *at = std::move(v);
    return;
  }
  auto load = [](const std::string& path, const std::string& what) {
    try {
      return config_load(path);
    } catch (const FluxError& e) {
      throw FluxError(EINVAL, what + e.what());
    }
  };
  std::string ext = std::filesystem::path(value).extension().string();
  if (ext == ".toml" || ext == ".json") {
    std::error_code ec;
    if (!std::filesystem::exists(value, ec))
      throw FluxError(ENOENT, "--conf: " + value + ": no such file");
    merge_into(conf, load(value, "--conf: parse error: " + value + ": "));
    return;
  }
  for (const auto& dir : xdg_config_dirs())
    for (const char* e : {".toml", ".json"}) {
      std::string path = dir + "/" + value + e;
      std::error_code ec;
      if (std::filesystem::exists(path, ec)) {
        merge_into(conf, load(path, "--conf=" + value + ": " + path + ": "));
        return;
      }
    }
  throw FluxError(ENOENT, "--conf: named config '" + value + "' not found");
}

}  // namespace

Json SubmitOptions::instance_jobspec(const std::vector<std::string>& command) const {
  SubmitOptions o = *this;
  if (!o.ntasks_given) {
    if (o.nnodes <= 0) throw FluxError(EINVAL, "Number of slots to allocate must be specified");
    o.ntasks = o.nnodes;
    o.ntasks_given = true;
    o.exclusive = true;
  }
  std::vector<std::string> argv = {"flux", "broker"};
  for (const auto& list : broker_opts)
    for (size_t start = 0; start <= list.size();) {
      size_t comma = list.find(',', start);
      std::string one = list.substr(start, comma == std::string::npos ? comma : comma - start);
      if (!one.empty()) argv.push_back(one);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  Json conf = Json::object();
  for (const auto& c : confs) batch_conf_update(conf, c);
  if (!confs.empty()) argv.push_back("-c{{tmpdir}}/conf.json");
  argv.insert(argv.end(), command.begin(), command.end());
  Json js = o.jobspec(argv);
  Json& sys = js["attributes"]["system"];
  Json& shell = sys["shell"]["options"];
  if (!shell.contains("per-resource")) shell["per-resource"] = {{"type", "node"}};
  if (!shell.contains("mpi")) shell["mpi"] = "none";
  if (!shell.contains("exit-timeout")) shell["exit-timeout"] = "none";
  if (!confs.empty()) sys["files"]["conf.json"] = {{"mode", 0100600}, {"data", conf}};
  return js;
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (n < 0 || i + static_cast<size_t>(n) >= s.size() + (n == 0 ? 1 : 0)) return false;
    for (int k = 1; k <= n; k++)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += static_cast<size_t>(n) + 1;
  }
  return true;
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
      throw FluxError(EINVAL, "unknown flag: " + f);
  }
  if (wait) bits |= 4;
  return bits;
}

std::optional<Idset> SubmitOptions::cc_ids() const {
  if (!cc.empty() && !bcc.empty()) throw FluxError(EINVAL, "specify only one of --cc or --bcc");
  const std::string& set = cc.empty() ? bcc : cc;
  if (set.empty()) return std::nullopt;
  auto ids = Idset::decode(set);
  if (!ids)
    throw FluxError(EINVAL, std::string(cc.empty() ? "--bcc" : "--cc") + ": invalid idset " + set);
  return std::move(*ids);
}

// flux-core's JobspecV1.per_resource: cores (or whole nodes) in one slot
// per node (or one per core), the tasks placed by the shell's per-resource
// option.
Json SubmitOptions::per_resource_jobspec(const std::vector<std::string>& argv,
                                         double duration) const {
  if (tasks_per_node && tasks_per_core)
    throw FluxError(EINVAL, "Do not specify both the number of tasks per node and per core");
  if (tasks_per_node && *tasks_per_node < 1)
    throw FluxError(EINVAL, "--tasks-per-node must be >= 1");
  if (tasks_per_core && *tasks_per_core < 1)
    throw FluxError(EINVAL, "--tasks-per-core must be >= 1");
  if (gpus_per_node && nnodes <= 0) throw FluxError(EINVAL, "--gpus-per-node requires --nodes");
  if (ntasks_given || per_task_given)
    throw FluxError(EINVAL,
                    "Per-resource options can't be used with per-task options. (See --help for "
                    "details)");
  if (cores && *cores < 1) throw FluxError(EINVAL, "ncores must be an integer >= 1");
  if (gpus_per_node && *gpus_per_node < 0)
    throw FluxError(EINVAL, "gpus_per_node must be an integer >= 0");
  if (nnodes < 0) throw FluxError(EINVAL, "nnodes must be an integer >= 1");
  bool excl = exclusive || (nnodes > 0 && !cores);  // -N alone: whole nodes
  if (excl && nnodes <= 0) throw FluxError(EINVAL, "exclusive can only be set with a node count");
  int nslots = 1, slot_size = 1;
  if (nnodes > 0 && cores) {
    if (*cores < nnodes) throw FluxError(EINVAL, "number of cores cannot be less than nnodes");
    if (*cores % nnodes != 0)
      throw FluxError(EINVAL, "number of cores must be evenly divisible by node count");
    slot_size = *cores / nnodes;
  } else if (cores) {
    nslots = *cores;
  } else if (nnodes <= 0) {
    throw FluxError(EINVAL, "must specify node or core count with per_resource");
  }
  if (argv.empty()) throw FluxError(EINVAL, "job command and arguments are missing");
  Json with = Json::array({{{"type", "core"}, {"count", slot_size}}});
  if (gpus_per_node && *gpus_per_node > 0)
    with.push_back({{"type", "gpu"}, {"count", *gpus_per_node}});
  Json slot = {{"type", "slot"}, {"count", nslots}, {"label", "task"}, {"with", with}};
  Json res = slot;
  if (nnodes > 0) {
    res = {{"type", "node"}, {"count", nnodes}, {"with", Json::array({slot})}};
    if (excl) res["exclusive"] = true;
  }
  Json system = {{"duration", duration}};
  if (tasks_per_node || tasks_per_core)
    system["shell"]["options"]["per-resource"] = {
        {"type", tasks_per_node ? "node" : "core"},
        {"count", tasks_per_node ? *tasks_per_node : *tasks_per_core}};
  Json js = {
      {"version", 1},
      {"resources", Json::array({res})},
      {"tasks", Json::array({{{"command", argv}, {"slot", "task"}, {"count", {{"per_slot", 1}}}}})},
      {"attributes", {{"system", system}}}};
  return Jobspec::from_json(js).value().json;  // what ingest would refuse, refused here
}

Json SubmitOptions::jobspec(std::vector<std::string> argv, long cc_id) const {
  bool bcc_mode = cc.empty() && !bcc.empty();
  if (!argv.empty() && argv[0] == "--") argv.erase(argv.begin());  // the end of the options
  if (cc_id >= 0)
    for (auto& a : argv)
      for (size_t p; (p = a.find("{cc}")) != std::string::npos;)
        a.replace(p, 4, std::to_string(cc_id));
  double duration = time_limit.empty() ? 0 : time_limit_seconds(time_limit);
  if (std::isinf(duration)) duration = 0;
  Json js;
  if (cores || tasks_per_node || tasks_per_core || gpus_per_node) {
    js = per_resource_jobspec(argv, duration);
  } else {
    // -N without -n: one task per node, as flux-core.
    int tasks = ntasks_given || nnodes <= 0 ? ntasks : nnodes;
    js = Jobspec::from_command(argv, tasks, cores_per_task, gpus_per_task, nnodes, exclusive,
                               duration)
             .to_json();
  }
  Json& sys = js["attributes"]["system"];
  std::vector<std::string> rules = env_rules;
  for (const auto& f : env_files) rules.push_back("^" + f);
  sys["environment"] = job_environment(rules, env_remove);
  if (cc_id >= 0 && !bcc_mode) sys["environment"]["FLUX_JOB_CC"] = std::to_string(cc_id);
  if (!bank.empty()) sys["bank"] = bank;
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
  // "kvs" and "none" are not files: the output stays in the KVS.
  auto to_file = [](const std::string& t) { return !t.empty() && t != "kvs" && t != "none"; };
  if (to_file(output)) {
    sys["shell"]["options"]["output"]["stdout"] = {{"type", "file"}, {"path", output}};
    if (label_io) sys["shell"]["options"]["output"]["stdout"]["label"] = true;
  }
  if (to_file(error)) {
    sys["shell"]["options"]["output"]["stderr"] = {{"type", "file"}, {"path", error}};
    if (label_io) sys["shell"]["options"]["output"]["stderr"]["label"] = true;
  }
  // Our soft limits go with the job (as flux-core), changed by --rlimit.
  // flux-core leaves out the limits a job should not inherit, then applies
  // --rlimit rules (comma lists) in order.
  Json limits = current_rlimits();
  std::vector<std::string> rlimit_list = {"-memlock", "-ofile",  "-msgqueue",  "-nice",
                                          "-rtprio",  "-rttime", "-sigpending"};
  for (const auto& r : rlimit_rules)
    for (size_t start = 0; start <= r.size();) {
      size_t comma = r.find(',', start);
      rlimit_list.push_back(r.substr(start, comma == std::string::npos ? comma : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  const Json ours = limits;
  for (const auto& rule : rlimit_list) {
    if (rule == "-*") {
      limits = Json::object();
    } else if (!rule.empty() && rule[0] == '-') {
      limits.erase(rule.substr(1));
    } else if (rule == "*") {
      limits = ours;
    } else if (size_t eq = rule.find('='); eq != std::string::npos) {
      std::string name = rule.substr(0, eq), value = rule.substr(eq + 1);
      if (!rlimit_resource(name)) throw FluxError(EINVAL, "--rlimit: unknown limit " + name);
      if (value == "unlimited" || value == "infinity" || value == "inf") {
        limits[name] = -1;
      } else {
        char* end = nullptr;
        unsigned long long v = std::strtoull(value.c_str(), &end, 10);
        if (value.empty() || *end) throw FluxError(EINVAL, "--rlimit: invalid value " + rule);
        limits[name] = static_cast<uint64_t>(v);
      }
    } else if (!rlimit_resource(rule)) {
      throw FluxError(EINVAL, "--rlimit: unknown limit " + rule);
    } else if (ours.contains(rule)) {
      limits[rule] = ours[rule];  // a bare name: our own limit again
    }
  }
  if (!limits.empty()) sys["shell"]["options"]["rlimit"] = limits;
  for (const auto& f : add_files) {
    auto [name, ref] = file_entry(f);
    sys["files"][name] = std::move(ref);
  }
  for (const auto& o : setopt) {
    auto [k, v] = split_kv(o, "--setopt");
    set_path(sys["shell"]["options"], k, parse_value(v));
  }
  for (const auto& a : setattr) {
    // KEY=VAL (system. assumed, user./system./.top-level prefixes), a bare
    // KEY (= 1), or ^KEY=FILE (the JSON in FILE).
    bool from_file = !a.empty() && a[0] == '^';
    std::string spec = from_file ? a.substr(1) : a;
    size_t eq = spec.find('=');
    std::string k = spec.substr(0, eq);
    if (k.empty()) throw FluxError(EINVAL, "--setattr: expected KEY[=VALUE], got " + a);
    Json v = 1;
    if (eq != std::string::npos) {
      std::string text = spec.substr(eq + 1);
      if (from_file) {
        std::ifstream in(text);
        if (!in) throw FluxError(ENOENT, "--setattr: " + text + ": " + std::strerror(errno));
        try {
          v = Json::parse(in);
        } catch (const Json::exception& e) {
          throw FluxError(EINVAL, "--setattr: " + text + ": " + e.what());
        }
      } else {
        v = parse_value(text);
      }
    }
    if (k.rfind("user.", 0) == 0)
      set_path(js["attributes"]["user"], k.substr(5), v);
    else if (k.rfind("system.", 0) == 0)
      set_path(sys, k.substr(7), v);
    else if (k[0] == '.')
      set_path(js["attributes"], k.substr(1), v);
    else
      set_path(sys, k, v);
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
