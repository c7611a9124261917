// Tests for jobspec V1 (RFC 25 / RFC 14): parsing JSON and YAML, every
// validation rule with its message, the summary fields, and the shapes
// from_command builds (as flux-core's JobspecV1.from_command).
#include <gtest/gtest.h>

#include <cerrno>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "libflux/jobspec.hpp"
#include "libflux/yaml_json.hpp"

using flux::Jobspec;
using flux::Json;

namespace {

// RFC 25's example: 4 nodes, each with one slot of 2 cores; "app" per slot.
const char* kExampleYaml = R"(
version: 1
resources:
  - type: node
    count: 4
    with:
      - type: slot
        count: 1
        label: default
        with:
          - type: core
            count: 2
tasks:
  - command: [ "app" ]
    slot: default
    count:
      per_slot: 1
attributes:
  system:
    duration: 3600.
    cwd: "/home/flux"
    environment:
      HOME: "/home/flux"
)";

const char* kExampleJson = R"({
  "version": 1,
  "resources": [{"type": "node", "count": 4, "with": [
    {"type": "slot", "count": 1, "label": "default",
     "with": [{"type": "core", "count": 2}]}]}],
  "tasks": [{"command": ["app"], "slot": "default", "count": {"per_slot": 1}}],
  "attributes": {"system": {"duration": 3600.0, "cwd": "/home/flux",
                            "environment": {"HOME": "/home/flux"}}}
})";

// slot>(core,gpu) without nodes: 10 copies of myapp, 2 cores and 1 gpu each.
Json gpu_example() {
  return Json::parse(R"({
    "version": 1,
    "resources": [{"type": "slot", "count": 10, "label": "task",
                   "with": [{"type": "core", "count": 2}, {"type": "gpu", "count": 1}]}],
    "tasks": [{"command": ["myapp"], "slot": "task", "count": {"per_slot": 1}}],
    "attributes": {"system": {"duration": 0}}
  })");
}

Jobspec parse_ok(const std::string& text) {
  auto r = Jobspec::parse(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return Jobspec{};
  return std::move(r).value();
}

std::string parse_error(const std::string& text) {
  auto r = Jobspec::parse(text);
  EXPECT_FALSE(r.ok()) << "accepted: " << text;
  if (r.ok()) return "";
  EXPECT_EQ(r.error().errnum, EINVAL);
  return r.error().message;
}

std::string json_error(const Json& doc) {
  auto r = Jobspec::from_json(doc);
  EXPECT_FALSE(r.ok()) << "accepted: " << doc.dump();
  if (r.ok()) return "";
  EXPECT_EQ(r.error().errnum, EINVAL);
  return r.error().message;
}

}  // namespace

TEST(Jobspec, Rfc25ExampleYaml) {
  Jobspec js = parse_ok(kExampleYaml);
  EXPECT_EQ(js.tasks.command, std::vector<std::string>{"app"});
  EXPECT_EQ(js.tasks.slot, "default");
  EXPECT_EQ(js.tasks.per_slot, 1);
  EXPECT_EQ(js.tasks.total, 0);
  EXPECT_EQ(js.resources.nnodes, 4);
  EXPECT_EQ(js.resources.slot_count, 1);
  EXPECT_EQ(js.resources.nslots, 4);
  EXPECT_EQ(js.resources.cores_per_slot, 2);
  EXPECT_EQ(js.resources.gpus_per_slot, 0);
  EXPECT_FALSE(js.resources.exclusive);
  EXPECT_EQ(js.resources.slot_label, "default");
  EXPECT_EQ(js.ntasks(), 4);
  EXPECT_EQ(js.system.duration, 3600.0);
  EXPECT_EQ(js.system.cwd, "/home/flux");
  EXPECT_EQ(js.system.environment, Json({{"HOME", "/home/flux"}}));
  EXPECT_FALSE(js.system.queue.has_value());
  EXPECT_TRUE(js.system.shell_options.is_null());
  EXPECT_TRUE(js.user.is_null());
  EXPECT_EQ(js.system.all.at("cwd"), "/home/flux");
}

TEST(Jobspec, YamlAndJsonAreEquivalent) {
  Jobspec y = parse_ok(kExampleYaml);
  Jobspec j = parse_ok(kExampleJson);
  EXPECT_EQ(y.to_json(), j.to_json());
  EXPECT_EQ(y.encode(), j.encode());
  // The encoding parses back to the same document.
  EXPECT_EQ(parse_ok(y.encode()).to_json(), y.to_json());
  // A YAML flow mapping that is not JSON (unquoted keys) is also read.
  Jobspec flow = parse_ok(
      "{version: 1, resources: [{type: slot, count: 1, label: task, with: [{type: core, "
      "count: 1}]}], tasks: [{command: [hostname], slot: task, count: {per_slot: 1}}], "
      "attributes: {system: {duration: 0}}}");
  EXPECT_EQ(flow.tasks.command, std::vector<std::string>{"hostname"});
}

TEST(Jobspec, GpuSlotsAndTotal) {
  auto js = Jobspec::from_json(gpu_example());
  ASSERT_TRUE(js.ok()) << js.error().message;
  EXPECT_EQ(js->resources.nnodes, 0);
  EXPECT_EQ(js->resources.nslots, 10);
  EXPECT_EQ(js->resources.cores_per_slot, 2);
  EXPECT_EQ(js->resources.gpus_per_slot, 1);
  EXPECT_EQ(js->ntasks(), 10);

  Json doc = gpu_example();
  doc["tasks"][0]["count"] = {{"total", 7}};
  js = Jobspec::from_json(doc);
  ASSERT_TRUE(js.ok()) << js.error().message;
  EXPECT_EQ(js->tasks.total, 7);
  EXPECT_EQ(js->tasks.per_slot, 0);
  EXPECT_EQ(js->ntasks(), 7);
}

TEST(Jobspec, AttributesFields) {
  Json doc = gpu_example();
  doc["attributes"]["system"] = {
      {"duration", 1.5},
      {"queue", "batch"},
      {"environment", {{"A", "1"}, {"UNSET", nullptr}}},
      {"shell", {{"options", {{"verbose", 2}}}}},
      {"job", {{"name", "x"}}},
      {"site-specific", {1, 2, 3}},
  };
  doc["attributes"]["user"] = {{"study", "x"}};
  auto js = Jobspec::from_json(doc);
  ASSERT_TRUE(js.ok()) << js.error().message;
  EXPECT_EQ(js->system.duration, 1.5);
  EXPECT_EQ(js->system.queue, "batch");
  EXPECT_FALSE(js->system.cwd.has_value());
  EXPECT_EQ(js->system.shell_options, Json({{"verbose", 2}}));
  EXPECT_EQ(js->system.all.at("site-specific"), Json({1, 2, 3}));
  EXPECT_EQ(js->user, Json({{"study", "x"}}));
  EXPECT_EQ(js->to_json(), doc);
}

// Every rule: a mutation of a valid document and the message it must give.
TEST(Jobspec, TaskSlotNeedNotNameTheLabel) {
  // flux-core's t/jobspec/valid/basic_v1.yaml: label "task", task slot "foo".
  Json doc = Json::parse(kExampleJson);
  doc["tasks"][0]["slot"] = "foo";
  Jobspec spec = parse_ok(doc.dump());
  EXPECT_EQ(spec.tasks.slot, "foo");
}

TEST(Jobspec, Rejections) {
  struct Case {
    std::function<void(Json&)> mutate;
    std::string message;
  };
  const std::vector<Case> cases = {
      // top level
      {[](Json& d) { d = Json::array(); }, "jobspec: must be an object (a YAML mapping)"},
      {[](Json& d) { d["extra"] = 1; }, "jobspec: unknown key 'extra'"},
      {[](Json& d) { d.erase("version"); }, "jobspec: missing key 'version'"},
      {[](Json& d) { d.erase("resources"); }, "jobspec: missing key 'resources'"},
      {[](Json& d) { d.erase("tasks"); }, "jobspec: missing key 'tasks'"},
      {[](Json& d) { d.erase("attributes"); }, "jobspec: missing key 'attributes'"},
      {[](Json& d) { d["version"] = 2; }, "jobspec: version: must be 1"},
      {[](Json& d) { d["version"] = "1"; }, "jobspec: version: must be 1"},
      {[](Json& d) { d["version"] = 1.0; }, "jobspec: version: must be 1"},
      // resources
      {[](Json& d) { d["resources"] = Json::object(); },
       "jobspec: resources: must be an array of exactly one resource vertex (node or slot)"},
      {[](Json& d) { d["resources"] = Json::array(); },
       "jobspec: resources: must be an array of exactly one resource vertex (node or slot)"},
      {[](Json& d) { d["resources"].push_back(d["resources"][0]); },
       "jobspec: resources: must be an array of exactly one resource vertex (node or slot)"},
      {[](Json& d) { d["resources"][0] = 5; }, "jobspec: resources[0]: must be an object"},
      {[](Json& d) { d["resources"][0].erase("type"); },
       "jobspec: resources[0]: missing key 'type'"},
      {[](Json& d) { d["resources"][0]["type"] = 7; },
       "jobspec: resources[0].type: must be a string"},
      {[](Json& d) { d["resources"][0]["type"] = "core"; },
       "jobspec: resources[0].type: must be 'node' or 'slot'"},
      {[](Json& d) { d["resources"][0]["type"] = "socket"; },
       "jobspec: resources[0].type: must be 'node' or 'slot'"},
      {[](Json& d) { d["resources"][0]["id"] = "0-3"; }, "jobspec: resources[0]: unknown key 'id'"},
      {[](Json& d) { d["resources"][0].erase("count"); },
       "jobspec: resources[0]: missing key 'count'"},
      {[](Json& d) { d["resources"][0]["count"] = 0; },
       "jobspec: resources[0].count: must be a positive integer"},
      {[](Json& d) { d["resources"][0]["count"] = -1; },
       "jobspec: resources[0].count: must be a positive integer"},
      {[](Json& d) { d["resources"][0]["count"] = 2.5; },
       "jobspec: resources[0].count: must be a positive integer"},
      {[](Json& d) { d["resources"][0]["count"] = "2"; },
       "jobspec: resources[0].count: must be a positive integer"},
      {[](Json& d) {
         d["resources"][0]["count"] = {{"min", 1}};
       },
       "jobspec: resources[0].count: must be a positive integer"},
      {[](Json& d) { d["resources"][0]["count"] = true; },
       "jobspec: resources[0].count: must be a positive integer"},
      {[](Json& d) { d["resources"][0]["count"] = 2147483648LL; },
       "jobspec: resources[0].count: must be at most 2147483647"},
      {[](Json& d) { d["resources"][0]["count"] = UINT64_MAX; },
       "jobspec: resources[0].count: must be at most 2147483647"},
      {[](Json& d) { d["resources"][0]["unit"] = 1; },
       "jobspec: resources[0].unit: must be a string"},
      {[](Json& d) { d["resources"][0]["label"] = 1; },
       "jobspec: resources[0].label: must be a string"},
      {[](Json& d) { d["resources"][0]["exclusive"] = "yes"; },
       "jobspec: resources[0].exclusive: must be a boolean"},
      {[](Json& d) { d["resources"][0].erase("label"); },
       "jobspec: resources[0]: missing key 'label'"},
      {[](Json& d) { d["resources"][0].erase("with"); },
       "jobspec: resources[0]: missing key 'with'"},
      {[](Json& d) { d["resources"][0]["with"] = Json::array(); },
       "jobspec: resources[0].with: must be an array of one core vertex and at most one gpu "
       "vertex"},
      {[](Json& d) {
         d["resources"][0]["with"].push_back({{"type", "gpu"}, {"count", 1}});
       },
       "jobspec: resources[0].with: must be an array of one core vertex and at most one gpu "
       "vertex"},
      {[](Json& d) { d["resources"][0]["with"][0] = "core"; },
       "jobspec: resources[0].with[0]: must be an object"},
      {[](Json& d) { d["resources"][0]["with"][1]["type"] = "memory"; },
       "jobspec: resources[0].with[1].type: must be 'core' or 'gpu'"},
      {[](Json& d) { d["resources"][0]["with"][1]["type"] = "core"; },
       "jobspec: resources[0].with: must not hold more than one core vertex"},
      {[](Json& d) { d["resources"][0]["with"][0]["type"] = "gpu"; },
       "jobspec: resources[0].with: must not hold more than one gpu vertex"},
      {[](Json& d) { d["resources"][0]["with"].erase(0); },
       "jobspec: resources[0].with: must hold a core vertex"},
      {[](Json& d) { d["resources"][0]["with"][0]["count"] = 0; },
       "jobspec: resources[0].with[0].count: must be a positive integer"},
      {[](Json& d) { d["resources"][0]["with"][1]["count"] = "1"; },
       "jobspec: resources[0].with[1].count: must be a positive integer"},
      {[](Json& d) { d["resources"][0]["with"][0].erase("count"); },
       "jobspec: resources[0].with[0]: missing key 'count'"},
      {[](Json& d) { d["resources"][0]["with"][0]["with"] = Json::array(); },
       "jobspec: resources[0].with[0]: unknown key 'with'"},
      {[](Json& d) { d["resources"][0]["with"][0]["exclusive"] = true; },
       "jobspec: resources[0].with[0]: unknown key 'exclusive'"},
      {[](Json& d) { d["resources"][0]["with"][0]["unit"] = 2; },
       "jobspec: resources[0].with[0].unit: must be a string"},
      // tasks
      {[](Json& d) { d["tasks"] = Json::array(); },
       "jobspec: tasks: must be an array of exactly one task"},
      {[](Json& d) { d["tasks"].push_back(d["tasks"][0]); },
       "jobspec: tasks: must be an array of exactly one task"},
      {[](Json& d) { d["tasks"] = d["tasks"][0]; },
       "jobspec: tasks: must be an array of exactly one task"},
      {[](Json& d) { d["tasks"][0] = "myapp"; }, "jobspec: tasks[0]: must be an object"},
      {[](Json& d) { d["tasks"][0]["distribution"] = "block"; },
       "jobspec: tasks[0]: unknown key 'distribution'"},
      {[](Json& d) { d["tasks"][0].erase("command"); }, "jobspec: tasks[0]: missing key 'command'"},
      {[](Json& d) { d["tasks"][0].erase("slot"); }, "jobspec: tasks[0]: missing key 'slot'"},
      {[](Json& d) { d["tasks"][0].erase("count"); }, "jobspec: tasks[0]: missing key 'count'"},
      {[](Json& d) { d["tasks"][0]["command"] = Json::array(); },
       "jobspec: tasks[0].command: must be a non-empty array of strings"},
      {[](Json& d) { d["tasks"][0]["command"] = "myapp"; },
       "jobspec: tasks[0].command: must be a non-empty array of strings"},
      {[](Json& d) {
         d["tasks"][0]["command"] = {"myapp", 1};
       },
       "jobspec: tasks[0].command: must be a non-empty array of strings"},
      {[](Json& d) { d["tasks"][0]["slot"] = 1; }, "jobspec: tasks[0].slot: must be a string"},
      {[](Json& d) { d["tasks"][0]["count"] = 1; },
       "jobspec: tasks[0].count: must be an object with exactly one key, per_slot or total"},
      {[](Json& d) { d["tasks"][0]["count"] = Json::object(); },
       "jobspec: tasks[0].count: must be an object with exactly one key, per_slot or total"},
      {[](Json& d) {
         d["tasks"][0]["count"] = {{"per_slot", 1}, {"total", 2}};
       },
       "jobspec: tasks[0].count: must be an object with exactly one key, per_slot or total"},
      {[](Json& d) {
         d["tasks"][0]["count"] = {{"per_resource", {{"type", "core"}, {"count", 1}}}};
       },
       "jobspec: tasks[0].count: must be an object with exactly one key, per_slot or total"},
      {[](Json& d) {
         d["tasks"][0]["count"] = {{"per_slot", 2}};
       },
       "jobspec: tasks[0].count.per_slot: must be 1"},
      {[](Json& d) {
         d["tasks"][0]["count"] = {{"per_slot", 1.0}};
       },
       "jobspec: tasks[0].count.per_slot: must be 1"},
      {[](Json& d) {
         d["tasks"][0]["count"] = {{"total", 0}};
       },
       "jobspec: tasks[0].count.total: must be a positive integer"},
      {[](Json& d) {
         d["tasks"][0]["count"] = {{"total", 11}};
       },
       "jobspec: tasks[0].count.total: must be at most the number of slots (10)"},
      // attributes
      {[](Json& d) { d["attributes"] = nullptr; }, "jobspec: attributes: must be an object"},
      {[](Json& d) { d["attributes"]["other"] = Json::object(); },
       "jobspec: attributes: unknown key 'other'"},
      {[](Json& d) { d["attributes"].erase("system"); },
       "jobspec: attributes: missing key 'system'"},
      {[](Json& d) { d["attributes"]["system"] = 1; },
       "jobspec: attributes.system: must be an object"},
      {[](Json& d) { d["attributes"]["system"].erase("duration"); },
       "jobspec: attributes.system: missing key 'duration'"},
      {[](Json& d) { d["attributes"]["system"]["duration"] = -1; },
       "jobspec: attributes.system.duration: must be a number >= 0"},
      {[](Json& d) { d["attributes"]["system"]["duration"] = "1h"; },
       "jobspec: attributes.system.duration: must be a number >= 0"},
      {[](Json& d) { d["attributes"]["system"]["duration"] = nullptr; },
       "jobspec: attributes.system.duration: must be a number >= 0"},
      {[](Json& d) { d["attributes"]["system"]["duration"] = INFINITY; },
       "jobspec: attributes.system.duration: must be a number >= 0"},
      {[](Json& d) { d["attributes"]["system"]["preemptible-after"] = -0.5; },
       "jobspec: attributes.system.preemptible-after: must be a number >= 0"},
      {[](Json& d) { d["attributes"]["system"]["cwd"] = 1; },
       "jobspec: attributes.system.cwd: must be a string"},
      {[](Json& d) { d["attributes"]["system"]["queue"] = {"a"}; },
       "jobspec: attributes.system.queue: must be a string"},
      {[](Json& d) { d["attributes"]["system"]["bank"] = 1; },
       "jobspec: attributes.system.bank: must be a string"},
      {[](Json& d) { d["attributes"]["system"]["project"] = 1; },
       "jobspec: attributes.system.project: must be a string"},
      {[](Json& d) { d["attributes"]["system"]["environment"] = {"A=1"}; },
       "jobspec: attributes.system.environment: must be an object"},
      {[](Json& d) {
         d["attributes"]["system"]["environment"] = {{"A", 1}};
       },
       "jobspec: attributes.system.environment.A: must be a string or null"},
      {[](Json& d) { d["attributes"]["system"]["shell"] = "bash"; },
       "jobspec: attributes.system.shell: must be an object"},
      {[](Json& d) {
         d["attributes"]["system"]["shell"] = {{"options", 1}};
       },
       "jobspec: attributes.system.shell.options: must be an object"},
      {[](Json& d) { d["attributes"]["system"]["constraints"] = "x"; },
       "jobspec: attributes.system.constraints: must be an object"},
      {[](Json& d) { d["attributes"]["system"]["job"] = "x"; },
       "jobspec: attributes.system.job: must be an object"},
      {[](Json& d) { d["attributes"]["system"]["files"] = 1; },
       "jobspec: attributes.system.files: must be an object"},
      {[](Json& d) { d["attributes"]["system"]["dependencies"] = Json::object(); },
       "jobspec: attributes.system.dependencies: must be an array"},
      {[](Json& d) { d["attributes"]["user"] = 1; }, "jobspec: attributes.user: must be an object"},
      {[](Json& d) {
         d["attributes"]["user"]["x"] = {1.0, NAN};
       },
       "jobspec: attributes.user.x[1]: must be a finite number"},
      {[](Json& d) { d["attributes"]["system"]["site"] = -INFINITY; },
       "jobspec: attributes.system.site: must be a finite number"},
  };
  ASSERT_TRUE(Jobspec::from_json(gpu_example()).ok());
  for (const auto& c : cases) {
    Json doc = gpu_example();
    c.mutate(doc);
    EXPECT_EQ(json_error(doc), c.message) << doc.dump();
  }
}

// Parsed JSON text holds non-negative integers as unsigned (not as the
// signed values the mutations above assign): check those paths too.
TEST(Jobspec, RejectionsFromText) {
  std::string text = gpu_example().dump();
  auto with_count = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    size_t pos = t.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    return t.replace(pos, from.size(), to);
  };
  EXPECT_EQ(parse_error(with_count("\"count\":2", "\"count\":0")),
            "jobspec: resources[0].with[0].count: must be a positive integer");
  EXPECT_EQ(parse_error(with_count("\"count\":10", "\"count\":0")),
            "jobspec: resources[0].count: must be a positive integer");
  EXPECT_EQ(parse_error(with_count("\"count\":10", "\"count\":4294967296")),
            "jobspec: resources[0].count: must be at most 2147483647");
  EXPECT_EQ(parse_error(with_count("\"per_slot\":1", "\"total\":0")),
            "jobspec: tasks[0].count.total: must be a positive integer");
  EXPECT_EQ(parse_error(with_count("\"per_slot\":1", "\"per_slot\":0")),
            "jobspec: tasks[0].count.per_slot: must be 1");
  EXPECT_EQ(parse_error(with_count("\"version\":1", "\"version\":0")),
            "jobspec: version: must be 1");
}

TEST(Jobspec, NodeRejections) {
  Json base = parse_ok(kExampleJson).to_json();
  struct Case {
    std::function<void(Json&)> mutate;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](Json& d) { d["resources"][0]["count"] = 0; },
       "jobspec: resources[0].count: must be a positive integer"},
      {[](Json& d) { d["resources"][0].erase("with"); },
       "jobspec: resources[0]: missing key 'with'"},
      {[](Json& d) { d["resources"][0]["with"].push_back(d["resources"][0]["with"][0]); },
       "jobspec: resources[0].with: must be an array of exactly one slot vertex"},
      {[](Json& d) { d["resources"][0]["with"] = Json::object(); },
       "jobspec: resources[0].with: must be an array of exactly one slot vertex"},
      {[](Json& d) { d["resources"][0]["with"][0] = nullptr; },
       "jobspec: resources[0].with[0]: must be an object"},
      {[](Json& d) { d["resources"][0]["with"][0]["type"] = "core"; },
       "jobspec: resources[0].with[0].type: must be 'slot'"},
      {[](Json& d) { d["resources"][0]["with"][0]["type"] = "node"; },
       "jobspec: resources[0].with[0].type: must be 'slot'"},
      {[](Json& d) { d["resources"][0]["with"][0].erase("type"); },
       "jobspec: resources[0].with[0]: missing key 'type'"},
      {[](Json& d) { d["resources"][0]["with"][0].erase("label"); },
       "jobspec: resources[0].with[0]: missing key 'label'"},
      {[](Json& d) { d["resources"][0]["with"][0]["with"][0]["count"] = 0; },
       "jobspec: resources[0].with[0].with[0].count: must be a positive integer"},
      {[](Json& d) { d["resources"][0]["with"][0]["with"][0]["type"] = "slot"; },
       "jobspec: resources[0].with[0].with[0].type: must be 'core' or 'gpu'"},
      {[](Json& d) { d["resources"][0]["exclusive"] = 1; },
       "jobspec: resources[0].exclusive: must be a boolean"},
      {[](Json& d) {
         d["tasks"][0]["count"] = {{"total", 3}};
       },
       "jobspec: tasks[0].count.total: must be at least the number of nodes (4)"},
      {[](Json& d) {
         d["tasks"][0]["count"] = {{"total", 5}};
       },
       "jobspec: tasks[0].count.total: must be at most the number of slots (4)"},
  };
  for (const auto& c : cases) {
    Json doc = base;
    c.mutate(doc);
    EXPECT_EQ(json_error(doc), c.message) << doc.dump();
  }
  // Allowed extras: exclusive on node and slot, unit and label anywhere.
  Json doc = base;
  doc["resources"][0]["exclusive"] = true;
  doc["resources"][0]["label"] = "n";
  doc["resources"][0]["with"][0]["exclusive"] = false;
  doc["resources"][0]["with"][0]["with"][0]["unit"] = "core";
  doc["resources"][0]["with"][0]["with"][0]["label"] = "c";
  auto js = Jobspec::from_json(doc);
  ASSERT_TRUE(js.ok()) << js.error().message;
  EXPECT_TRUE(js->resources.exclusive);
}

TEST(Jobspec, TextErrors) {
  EXPECT_EQ(parse_error(""), "jobspec: YAML: no document");
  EXPECT_EQ(parse_error("# only a comment\n"), "jobspec: YAML: no document");
  EXPECT_EQ(parse_error("\xff\xfe"), "jobspec: not valid UTF-8");
  EXPECT_EQ(parse_error("hello"), "jobspec: must be an object (a YAML mapping)");
  EXPECT_EQ(parse_error("- 1\n- 2\n"), "jobspec: must be an object (a YAML mapping)");
  std::string e = parse_error("{\"version\": 1,");
  EXPECT_EQ(e.rfind("jobspec: JSON: parse error", 0), 0u) << e;
  e = parse_error("version: 1\nversion: 1\n");
  EXPECT_EQ(e, "jobspec: YAML: line 2, column 1: duplicate key 'version'");
  e = parse_error("a: [1, 2\n");
  EXPECT_EQ(e.rfind("jobspec: YAML: line ", 0), 0u) << e;
  e = parse_error("version: 1\n---\nversion: 1\n");
  EXPECT_EQ(e.rfind("jobspec: YAML: line 2, column 1: more than one document", 0), 0u) << e;
  // yaml-cpp 0.7's LoadAll loops forever on a ',' after a top-level flow
  // collection (it is never consumed); yaml_to_json must stop.
  // (Text starting with '{' that is neither JSON nor YAML gets the JSON error.)
  EXPECT_EQ(parse_error("{}, 1"),
            "jobspec: JSON: parse error at line 1, column 3: syntax error while parsing value - "
            "unexpected ','; expected end of input");
  EXPECT_EQ(parse_error("[], 1"),
            "jobspec: YAML: line 1, column 3: more than one document (or text after the first)");
  EXPECT_FALSE(flux::yaml_to_json("{\"a\":1},\"b\":1}").ok());
  e = parse_error("? [a, b]\n: 1\n");
  EXPECT_NE(e.find("mapping keys must be scalars"), std::string::npos) << e;
  e = parse_error("version: !custom 1\n");
  EXPECT_NE(e.find("unsupported tag '!custom'"), std::string::npos) << e;
  e = parse_error("version: !!int x\n");
  EXPECT_NE(e.find("'x' is not a valid !!int"), std::string::npos) << e;
  std::string deep(300, '[');
  e = parse_error("{\"a\":" + deep);
  EXPECT_NE(e.find("nested more than 256 levels"), std::string::npos) << e;
  e = parse_error("a: " + deep);
  EXPECT_EQ(e.rfind("jobspec: YAML: ", 0), 0u) << e;
  // An exponential alias expansion is bounded.
  std::string laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; c++) {
    std::string prev(1, static_cast<char>(c - 1));
    laughs += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" +
              prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
              ", *" + prev + "]\n";
  }
  e = parse_error(laughs);
  EXPECT_NE(e.find("document too large"), std::string::npos) << e;
  // A self-referencing alias is caught by the depth bound.
  e = parse_error("a: &a [*a]\n");
  EXPECT_EQ(e.rfind("jobspec: YAML: ", 0), 0u) << e;
  // Duration written as YAML infinity.
  std::string inf = kExampleYaml;
  inf.replace(inf.find("3600."), 5, ".inf");
  EXPECT_EQ(parse_error(inf), "jobspec: attributes.system.duration: must be a number >= 0");
}

TEST(YamlJson, CoreSchemaScalars) {
  auto j = flux::yaml_to_json(R"(
s1: yes
s2: "12"
s3: 'true'
s4: 1.2.3
s5: 0x
s6: |
  block
b1: true
b2: False
n1: ~
n2: null
n3:
i1: 12
i2: -7
i3: 0x1F
i4: 0o17
i5: +3
i6: 18446744073709551615
f1: 1.5
f2: .5
f3: -2e3
f4: 3.
t1: !!str 12
t2: !!float 2
t3: !!int "42"
a: &x {k: v}
b: *x
)");
  ASSERT_TRUE(j.ok()) << j.error().message;
  const Json& d = j.value();
  EXPECT_EQ(d["s1"], "yes");
  EXPECT_EQ(d["s2"], "12");
  EXPECT_EQ(d["s3"], "true");
  EXPECT_EQ(d["s4"], "1.2.3");
  EXPECT_EQ(d["s5"], "0x");
  EXPECT_EQ(d["s6"], "block\n");
  EXPECT_EQ(d["b1"], true);
  EXPECT_EQ(d["b2"], false);
  EXPECT_TRUE(d["n1"].is_null());
  EXPECT_TRUE(d["n2"].is_null());
  EXPECT_TRUE(d["n3"].is_null());
  EXPECT_EQ(d["i1"], 12);
  EXPECT_TRUE(d["i1"].is_number_integer());
  EXPECT_EQ(d["i2"], -7);
  EXPECT_EQ(d["i3"], 31);
  EXPECT_EQ(d["i4"], 15);
  EXPECT_EQ(d["i5"], 3);
  EXPECT_EQ(d["i6"], UINT64_MAX);
  EXPECT_EQ(d["f1"], 1.5);
  EXPECT_EQ(d["f2"], 0.5);
  EXPECT_EQ(d["f3"], -2000.0);
  EXPECT_TRUE(d["f4"].is_number_float());
  EXPECT_EQ(d["t1"], "12");
  EXPECT_TRUE(d["t2"].is_number_float());
  EXPECT_EQ(d["t3"], 42);
  EXPECT_EQ(d["b"], Json({{"k", "v"}}));
}

TEST(Jobspec, YamlYesIsAString) {
  // YAML 1.1 would make "yes" a boolean and so refuse this command.
  std::string text = kExampleYaml;
  text.replace(text.find("[ \"app\" ]"), 9, "[ echo, yes ]");
  Jobspec js = parse_ok(text);
  EXPECT_EQ(js.tasks.command, (std::vector<std::string>{"echo", "yes"}));
}

// The shapes flux-core's JobspecV1.from_command builds.
TEST(Jobspec, FromCommandDefaults) {
  Jobspec js = Jobspec::from_command({"hostname"});
  Json expected = Json::parse(R"({
    "resources": [{"type": "slot", "count": 1, "label": "task",
                   "with": [{"type": "core", "count": 1}]}],
    "tasks": [{"command": ["hostname"], "slot": "task", "count": {"per_slot": 1}}],
    "attributes": {"system": {"duration": 0, "environment": {}}},
    "version": 1
  })");
  EXPECT_EQ(js.to_json(), expected);
  EXPECT_TRUE(js.to_json()["attributes"]["system"]["duration"].is_number_integer());
  EXPECT_EQ(js.ntasks(), 1);
  EXPECT_EQ(js.encode(),
            "{\"attributes\":{\"system\":{\"duration\":0,\"environment\":{}}},\"resources\":[{"
            "\"count\":1,\"label\":\"task\",\"type\":\"slot\",\"with\":[{\"count\":1,\"type\":"
            "\"core\"}]}],\"tasks\":[{\"command\":[\"hostname\"],\"count\":{\"per_slot\":1},"
            "\"slot\":\"task\"}],\"version\":1}");
}

TEST(Jobspec, FromCommandCoresGpusDuration) {
  // flux run -n4 -c2 -g1 -t 60s myapp arg
  Jobspec js = Jobspec::from_command({"myapp", "arg"}, 4, 2, 1, 0, false, 60);
  EXPECT_EQ(js.to_json()["resources"], Json::parse(R"([{"type": "slot", "count": 4,
      "label": "task", "with": [{"type": "core", "count": 2}, {"type": "gpu", "count": 1}]}])"));
  EXPECT_EQ(js.to_json()["tasks"][0]["command"], Json({"myapp", "arg"}));
  EXPECT_TRUE(js.to_json()["attributes"]["system"]["duration"].is_number_float());
  EXPECT_EQ(js.system.duration, 60.0);
  EXPECT_NE(js.encode().find("\"duration\":60.0"), std::string::npos);
  EXPECT_EQ(js.resources.nslots, 4);
  EXPECT_EQ(js.resources.cores_per_slot, 2);
  EXPECT_EQ(js.resources.gpus_per_slot, 1);
  EXPECT_EQ(js.ntasks(), 4);
}

TEST(Jobspec, FromCommandNodes) {
  // flux run -N2 -n4: node>slot>core, 2 slots per node, one task per slot.
  Jobspec even = Jobspec::from_command({"a"}, 4, 1, 0, 2);
  EXPECT_EQ(even.to_json()["resources"], Json::parse(R"([{"type": "node", "count": 2,
      "with": [{"type": "slot", "count": 2, "label": "task",
                "with": [{"type": "core", "count": 1}]}]}])"));
  EXPECT_EQ(even.to_json()["tasks"][0]["count"], Json({{"per_slot", 1}}));
  EXPECT_EQ(even.resources.nnodes, 2);
  EXPECT_EQ(even.resources.slot_count, 2);
  EXPECT_EQ(even.resources.nslots, 4);
  EXPECT_EQ(even.ntasks(), 4);

  // flux run -N2 -n3: uneven, so ceil(3/2) = 2 slots per node and total 3.
  Jobspec uneven = Jobspec::from_command({"a"}, 3, 1, 0, 2);
  EXPECT_EQ(uneven.to_json()["resources"][0]["with"][0]["count"], 2);
  EXPECT_EQ(uneven.to_json()["tasks"][0]["count"], Json({{"total", 3}}));
  EXPECT_EQ(uneven.ntasks(), 3);

  // flux run -N2 -n2 -c4 -g2 --exclusive
  Jobspec x = Jobspec::from_command({"a"}, 2, 4, 2, 2, true);
  EXPECT_EQ(x.to_json()["resources"], Json::parse(R"([{"type": "node", "count": 2,
      "exclusive": true, "with": [{"type": "slot", "count": 1, "label": "task",
      "with": [{"type": "core", "count": 4}, {"type": "gpu", "count": 2}]}]}])"));
  EXPECT_TRUE(x.resources.exclusive);
  EXPECT_EQ(x.ntasks(), 2);
}

TEST(Jobspec, FromCommandRefusals) {
  auto refused = [](std::function<void()> f, const std::string& message) {
    try {
      f();
      ADD_FAILURE() << "accepted; expected " << message;
    } catch (const flux::FluxError& e) {
      EXPECT_EQ(e.errnum(), EINVAL);
      EXPECT_EQ(e.what(), message);
    }
  };
  refused([] { Jobspec::from_command({}); }, "jobspec: command must not be empty");
  refused([] { Jobspec::from_command({"a"}, 0); }, "jobspec: task count must be an integer >= 1");
  refused([] { Jobspec::from_command({"a"}, 1, 0); },
          "jobspec: cores per task must be an integer >= 1");
  refused([] { Jobspec::from_command({"a"}, 1, 1, -1); },
          "jobspec: gpus per task must be an integer >= 0");
  refused([] { Jobspec::from_command({"a"}, 1, 1, 0, -1); },
          "jobspec: node count must be an integer >= 1 (if set)");
  refused([] { Jobspec::from_command({"a"}, 2, 1, 0, 3); },
          "jobspec: node count must not be greater than task count");
  refused([] { Jobspec::from_command({"a"}, 1, 1, 0, 0, true); },
          "jobspec: exclusive can only be set with a node count");
  refused([] { Jobspec::from_command({"a"}, 1, 1, 0, 0, false, -1); },
          "jobspec: duration must be a finite number >= 0");
  refused([] { Jobspec::from_command({"a"}, 1, 1, 0, 0, false, NAN); },
          "jobspec: duration must be a finite number >= 0");
}
