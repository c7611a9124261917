// Jobspec V1 (RFC 25 / RFC 14): parsing, validation, from_command. See
// jobspec.hpp for the choices made where the RFCs leave room.
#include "jobspec.hpp"

#include "printable.hpp"

#include <cerrno>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>
#include <utility>

#include "json_check.hpp"
#include "yaml_json.hpp"

namespace flux {
namespace {

constexpr int64_t kMaxCount = std::numeric_limits<int32_t>::max();
constexpr size_t kMaxJsonDepth = 256;
constexpr size_t kShowMax = 64;

std::string show(std::string_view s) {
  return printable(s, kShowMax, true);
}

// Thrown inside the validator, turned into an Error by from_json().
struct Invalid {
  std::string message;
};

[[noreturn]] void fail(const std::string& path, const std::string& why) {
  std::string msg = "jobspec: ";
  if (!path.empty()) msg += path + ": ";
  throw Invalid{msg + why};
}

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// obj must be an object whose keys are all in `allowed` and which has all
// of `required`.
void check_keys(const Json& obj, const std::string& path,
                std::initializer_list<std::string_view> allowed,
                std::initializer_list<std::string_view> required) {
  if (!obj.is_object()) fail(path, "must be an object");
  for (const auto& [key, value] : obj.items()) {
    bool known = false;
    for (auto a : allowed) known = known || key == a;
    if (!known) fail(path, "unknown key '" + show(key) + "'");
  }
  for (auto r : required) {
    if (!obj.contains(r)) fail(path, "missing key '" + std::string(r) + "'");
  }
}

int64_t positive_count(const Json& j, const std::string& path) {
  if (!j.is_number_integer()) fail(path, "must be a positive integer");
  if (j.is_number_unsigned()) {  // how nlohmann parses a literal >= 0
    uint64_t n = j.get<uint64_t>();
    if (n < 1) fail(path, "must be a positive integer");
    if (n > static_cast<uint64_t>(kMaxCount)) {
      fail(path, "must be at most " + std::to_string(kMaxCount));
    }
    return static_cast<int64_t>(n);
  }
  int64_t n = j.get<int64_t>();
  if (n < 1) fail(path, "must be a positive integer");
  if (n > kMaxCount) fail(path, "must be at most " + std::to_string(kMaxCount));
  return n;
}

const std::string& string_at(const Json& obj, std::string_view key, const std::string& path) {
  const Json& v = obj.at(key);
  if (!v.is_string()) fail(join(path, key), "must be a string");
  return v.get_ref<const std::string&>();
}

void optional_string(const Json& obj, std::string_view key, const std::string& path) {
  if (obj.contains(key)) (void)string_at(obj, key, path);
}

void optional_object(const Json& obj, std::string_view key, const std::string& path) {
  if (obj.contains(key) && !obj.at(key).is_object()) fail(join(path, key), "must be an object");
}

void optional_bool(const Json& obj, std::string_view key, const std::string& path) {
  if (obj.contains(key) && !obj.at(key).is_boolean()) fail(join(path, key), "must be a boolean");
}

bool nonnegative_number(const Json& j) {
  if (!j.is_number()) return false;
  double d = j.get<double>();
  return std::isfinite(d) && d >= 0;
}

// The vertex keys common to every type; `with`, `exclusive` only where
// allowed (see jobspec.hpp).
void check_vertex_common(const Json& v, const std::string& path, bool container) {
  if (container) {
    check_keys(v, path, {"type", "count", "unit", "label", "with", "exclusive"},
               {"type", "count", "with"});
  } else {
    check_keys(v, path, {"type", "count", "unit", "label"}, {"type", "count"});
  }
  optional_string(v, "unit", path);
  optional_string(v, "label", path);
  optional_bool(v, "exclusive", path);
}

std::string type_of(const Json& v, const std::string& path) {
  const Json& t = v.at("type");
  if (!t.is_string()) fail(join(path, "type"), "must be a string");
  return t.get<std::string>();
}

// slot>(core[,gpu]) at path.
void check_slot(const Json& v, const std::string& path, JobspecResources& res) {
  check_vertex_common(v, path, true);
  if (!v.contains("label")) fail(path, "missing key 'label'");
  res.slot_count = positive_count(v.at("count"), join(path, "count"));
  res.slot_label = v.at("label").get<std::string>();
  const Json& with = v.at("with");
  const std::string with_path = join(path, "with");
  if (!with.is_array() || with.empty() || with.size() > 2) {
    fail(with_path, "must be an array of one core vertex and at most one gpu vertex");
  }
  bool core = false;
  bool gpu = false;
  for (size_t i = 0; i < with.size(); i++) {
    const std::string child_path = index(with_path, i);
    const Json& child = with[i];
    if (!child.is_object()) fail(child_path, "must be an object");
    if (!child.contains("type")) fail(child_path, "missing key 'type'");
    std::string type = type_of(child, child_path);
    if (type != "core" && type != "gpu") fail(join(child_path, "type"), "must be 'core' or 'gpu'");
    check_vertex_common(child, child_path, false);
    int64_t count = positive_count(child.at("count"), join(child_path, "count"));
    bool& seen = type == "core" ? core : gpu;
    if (seen) fail(with_path, "must not hold more than one " + type + " vertex");
    seen = true;
    (type == "core" ? res.cores_per_slot : res.gpus_per_slot) = count;
  }
  if (!core) fail(with_path, "must hold a core vertex");
}

JobspecResources check_resources(const Json& resources) {
  const std::string path = "resources";
  if (!resources.is_array() || resources.size() != 1) {
    fail(path, "must be an array of exactly one resource vertex (node or slot)");
  }
  JobspecResources res;
  const Json& top = resources[0];
  const std::string top_path = index(path, 0);
  if (!top.is_object()) fail(top_path, "must be an object");
  if (!top.contains("type")) fail(top_path, "missing key 'type'");
  std::string type = type_of(top, top_path);
  if (type == "slot") {
    check_slot(top, top_path, res);
    res.nslots = res.slot_count;
    return res;
  }
  if (type != "node") fail(join(top_path, "type"), "must be 'node' or 'slot'");
  check_vertex_common(top, top_path, true);
  res.nnodes = positive_count(top.at("count"), join(top_path, "count"));
  res.exclusive = top.value("exclusive", false);
  const Json& with = top.at("with");
  const std::string with_path = join(top_path, "with");
  if (!with.is_array() || with.size() != 1) {
    fail(with_path, "must be an array of exactly one slot vertex");
  }
  const std::string slot_path = index(with_path, 0);
  if (!with[0].is_object()) fail(slot_path, "must be an object");
  if (!with[0].contains("type")) fail(slot_path, "missing key 'type'");
  if (type_of(with[0], slot_path) != "slot") fail(join(slot_path, "type"), "must be 'slot'");
  check_slot(with[0], slot_path, res);
  res.nslots = res.slot_count * res.nnodes;  // both <= 2^31-1: fits
  return res;
}

JobspecTasks check_tasks(const Json& tasks, const JobspecResources& res) {
  if (!tasks.is_array() || tasks.size() != 1) fail("tasks", "must be an array of exactly one task");
  const std::string path = "tasks[0]";
  const Json& task = tasks[0];
  check_keys(task, path, {"command", "slot", "count"}, {"command", "slot", "count"});
  JobspecTasks out;

  const Json& command = task.at("command");
  if (!command.is_array() || command.empty()) {
    fail(join(path, "command"), "must be a non-empty array of strings");
  }
  for (const auto& arg : command) {
    if (!arg.is_string()) fail(join(path, "command"), "must be a non-empty array of strings");
    out.command.push_back(arg.get<std::string>());
  }

  // flux-core does not hold the task's slot name to the resource's label
  // (its own test jobspecs differ), so neither do we: there is one slot.
  out.slot = string_at(task, "slot", path);

  const Json& count = task.at("count");
  const std::string count_path = join(path, "count");
  if (!count.is_object() || count.size() != 1 ||
      !(count.contains("per_slot") || count.contains("total"))) {
    fail(count_path, "must be an object with exactly one key, per_slot or total");
  }
  if (count.contains("per_slot")) {
    const Json& n = count.at("per_slot");
    if (!n.is_number_integer() || n != 1) {
      fail(join(count_path, "per_slot"), "must be 1");
    }
    out.per_slot = 1;
  } else {
    const std::string total_path = join(count_path, "total");
    out.total = positive_count(count.at("total"), total_path);
    if (out.total > res.nslots) {
      fail(total_path, "must be at most the number of slots (" + std::to_string(res.nslots) + ")");
    }
    if (out.total < res.nnodes) {
      fail(total_path, "must be at least the number of nodes (" + std::to_string(res.nnodes) + ")");
    }
  }
  return out;
}

JobspecSystem check_system(const Json& system) {
  const std::string path = "attributes.system";
  if (!system.is_object()) fail(path, "must be an object");
  if (!system.contains("duration")) fail(path, "missing key 'duration'");
  JobspecSystem out;
  const Json& duration = system.at("duration");
  if (!nonnegative_number(duration)) fail(join(path, "duration"), "must be a number >= 0");
  out.duration = duration.get<double>();
  if (system.contains("preemptible-after") && !nonnegative_number(system.at("preemptible-after"))) {
    fail(join(path, "preemptible-after"), "must be a number >= 0");
  }
  for (auto key : {"cwd", "queue", "bank", "project"}) optional_string(system, key, path);
  for (auto key : {"constraints", "job", "files", "shell"}) optional_object(system, key, path);
  if (system.contains("dependencies") && !system.at("dependencies").is_array()) {
    fail(join(path, "dependencies"), "must be an array");
  }
  if (system.contains("environment")) {
    const Json& env = system.at("environment");
    const std::string env_path = join(path, "environment");
    if (!env.is_object()) fail(env_path, "must be an object");
    for (const auto& [name, value] : env.items()) {
      if (!value.is_string() && !value.is_null()) {
        fail(env_path + "." + show(name), "must be a string or null");
      }
    }
    out.environment = env;
  }
  if (system.contains("shell")) {
    const Json& shell = system.at("shell");
    optional_object(shell, "options", join(path, "shell"));
    if (shell.contains("options")) out.shell_options = shell.at("options");
  }
  if (system.contains("cwd")) out.cwd = system.at("cwd").get<std::string>();
  if (system.contains("queue")) out.queue = system.at("queue").get<std::string>();
  out.all = system;
  return out;
}

// The path (below j) of a number with no JSON form (YAML's .inf, .nan).
std::optional<std::string> find_nonfinite(const Json& j) {
  if (j.is_number_float() && !std::isfinite(j.get<double>())) return std::string();
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      if (auto below = find_nonfinite(value)) {
        return "." + show(key) + *below;
      }
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); i++) {
      if (auto below = find_nonfinite(j[i])) return "[" + std::to_string(i) + "]" + *below;
    }
  }
  return std::nullopt;
}

Jobspec check(Json doc) {
  if (!doc.is_object()) fail("", "must be an object (a YAML mapping)");
  for (const auto& [key, value] : doc.items()) {
    if (key != "version" && key != "resources" && key != "tasks" && key != "attributes") {
      fail("", "unknown key '" + show(key) + "'");
    }
  }
  for (auto key : {"version", "resources", "tasks", "attributes"}) {
    if (!doc.contains(key)) fail("", "missing key '" + std::string(key) + "'");
  }
  const Json& version = doc.at("version");
  if (!version.is_number_integer() || version != 1) fail("version", "must be 1");

  Jobspec js;
  js.resources = check_resources(doc.at("resources"));
  js.tasks = check_tasks(doc.at("tasks"), js.resources);

  const Json& attributes = doc.at("attributes");
  check_keys(attributes, "attributes", {"system", "user"}, {"system"});
  js.system = check_system(attributes.at("system"));
  if (attributes.contains("user")) {
    if (!attributes.at("user").is_object()) fail("attributes.user", "must be an object");
    js.user = attributes.at("user");
  }
  // JSON has no infinity or NaN, so the document could not be passed on.
  if (auto where = find_nonfinite(doc)) fail(where->substr(1), "must be a finite number");
  js.json = std::move(doc);
  return js;
}

bool looks_like_json(std::string_view text) {
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    return c == '{';
  }
  return false;
}

Result<Json> parse_json(std::string_view text) {
  if (json_nesting_exceeds(text, kMaxJsonDepth)) {
    return Error{EINVAL,
                 "JSON: nested more than " + std::to_string(kMaxJsonDepth) + " levels deep"};
  }
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    // "[json.exception.parse_error.101] parse error at ..." → "parse error at ..."
    std::string what = e.what();
    auto close = what.find("] ");
    if (what.starts_with("[json.exception.") && close != std::string::npos) {
      what.erase(0, close + 2);
    }
    return Error{EINVAL, "JSON: " + what};
  }
}

}  // namespace

int64_t Jobspec::ntasks() const {
  return tasks.total > 0 ? tasks.total : tasks.per_slot * resources.nslots;
}

Result<Jobspec> Jobspec::from_json(Json doc) {
  try {
    return check(std::move(doc));
  } catch (const Invalid& e) {
    return Error{EINVAL, e.message};
  }
}

Result<Jobspec> Jobspec::parse(std::string_view text) {
  if (!utf8_valid(text)) return Error{EINVAL, "jobspec: not valid UTF-8"};
  Result<Json> doc = Error{EINVAL, ""};
  if (looks_like_json(text)) {
    doc = parse_json(text);
    // A YAML flow mapping also starts with '{': try YAML before giving up,
    // but report the JSON error.
    if (!doc.ok()) {
      auto yaml = yaml_to_json(text);
      if (yaml.ok()) doc = std::move(yaml);
    }
  } else {
    doc = yaml_to_json(text);
  }
  if (!doc.ok()) return Error{EINVAL, "jobspec: " + doc.error().message};
  return from_json(std::move(doc).value());
}

Jobspec Jobspec::from_command(std::vector<std::string> argv, int ntasks, int cores_per_task,
                              int gpus_per_task, int nnodes, bool exclusive, double duration) {
  auto refuse = [](const std::string& why) { throw FluxError(EINVAL, "jobspec: " + why); };
  if (argv.empty()) refuse("command must not be empty");
  if (ntasks < 1) refuse("task count must be an integer >= 1");
  if (cores_per_task < 1) refuse("cores per task must be an integer >= 1");
  if (gpus_per_task < 0) refuse("gpus per task must be an integer >= 0");
  if (nnodes < 0) refuse("node count must be an integer >= 1 (if set)");
  if (nnodes > ntasks) refuse("node count must not be greater than task count");
  if (nnodes == 0 && exclusive) refuse("exclusive can only be set with a node count");
  if (!std::isfinite(duration) || duration < 0) refuse("duration must be a finite number >= 0");

  Json children = Json::array({{{"type", "core"}, {"count", cores_per_task}}});
  if (gpus_per_task > 0) children.push_back({{"type", "gpu"}, {"count", gpus_per_task}});

  Json count = {{"per_slot", 1}};
  Json resource;
  if (nnodes > 0) {
    int slots_per_node = (ntasks + nnodes - 1) / nnodes;
    if (ntasks % nnodes != 0) count = {{"total", ntasks}};  // uneven: some slots idle
    Json slot = {
        {"type", "slot"}, {"count", slots_per_node}, {"with", children}, {"label", "task"}};
    resource = {{"type", "node"}, {"count", nnodes}, {"with", Json::array({slot})}};
    if (exclusive) resource["exclusive"] = true;
  } else {
    resource = {{"type", "slot"}, {"count", ntasks}, {"with", children}, {"label", "task"}};
  }

  Json system = {{"environment", Json::object()}};
  if (duration == 0) {
    system["duration"] = 0;
  } else {
    system["duration"] = duration;
  }
  Json doc = {
      {"resources", Json::array({resource})},
      {"tasks", Json::array({{{"command", argv}, {"slot", "task"}, {"count", count}}})},
      {"attributes", {{"system", system}}},
      {"version", 1},
  };
  auto js = from_json(std::move(doc));
  if (!js.ok()) throw FluxError(js.error());
  return std::move(js).value();
}

std::string Jobspec::encode() const {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace flux
