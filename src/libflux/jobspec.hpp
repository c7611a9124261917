// Jobspec version 1 (RFC 25, a restriction of RFC 14's canonical jobspec):
// parse JSON or YAML, validate, and expose the parts tools and services use;
// from_command() builds the jobspec `flux run`/`flux submit` build.
//
// Validation follows RFC 25's text and its JSON schema. Where they disagree,
// or where RFC 14 adds a rule, the choice made is:
//   - keys of a resource vertex: core/gpu may have type, count, unit, label;
//     node and slot may also have with and exclusive (the text allows label
//     everywhere and exclusive on node; the schema allows exclusive on slot).
//     Any other key is refused.
//   - a slot holds exactly one core vertex and at most one gpu vertex
//     (slot>core, slot>(core,gpu): the four graphs RFC 25 enumerates).
//   - counts are integers 1..2147483647 (flux-core stores them in an int).
//   - tasks[0].slot must name the slot's label (RFC 14: "SHALL match").
//   - tasks[0].count.per_slot must be 1; total must be at least the node
//     count and at most the number of slots (RFC 25's text; flux-core's
//     checkers allow any positive per_slot).
//   - the command must be an array (the text; the schema also allows a
//     string, which flux-core refuses).
//   - attributes may hold only system and user (the schema); system must
//     hold duration, a finite number >= 0. The common system attributes of
//     RFC 14 are type-checked when present (cwd, queue, bank, project:
//     strings; environment: object of strings or nulls; shell and its
//     options, constraints, job: objects; dependencies: array; files:
//     object; preemptible-after: number >= 0); others are kept unchecked.
//   - numbers anywhere must be finite (YAML's .inf and .nan have no JSON
//     form, and a jobspec is passed on as JSON).
//
// YAML is read with the YAML 1.2 core schema: unquoted true/false, null/~
// and decimal, 0x, 0o and floating-point numbers (.inf, .nan) are typed,
// everything else (including yes/no/on/off) is a string. Mapping keys must
// be scalars and unique; a document must be exactly one. Anchors and
// aliases work, within a bound on the expanded size.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json.hpp"
#include "result.hpp"

namespace flux {

// tasks[0] of the jobspec.
struct JobspecTasks {
  std::vector<std::string> command;  // argv, never empty
  std::string slot;                  // the slot label the tasks run in
  int64_t per_slot = 0;              // count.per_slot (1), or 0 if total is used
  int64_t total = 0;                 // count.total, or 0 if per_slot is used
};

// A summary of the resources: node>slot>(core[,gpu]) or slot>(core[,gpu]).
struct JobspecResources {
  int64_t nnodes = 0;          // node count, 0 if there is no node vertex
  int64_t slot_count = 0;      // count of the slot vertex (per node, if nodes)
  int64_t nslots = 0;          // total slots: slot_count * max(nnodes, 1)
  int64_t cores_per_slot = 0;  // the core vertex's count
  int64_t gpus_per_slot = 0;   // the gpu vertex's count, 0 if none
  bool exclusive = false;      // the node vertex says exclusive: true
  std::string slot_label;
};

// attributes.system.
struct JobspecSystem {
  double duration = 0;  // seconds; 0 means unlimited
  std::optional<std::string> cwd;
  Json environment;  // object, or null if absent
  std::optional<std::string> queue;
  Json shell_options;         // shell.options, or null if absent
  Json all = Json::object();  // the whole attributes.system object
};

struct Jobspec {
  Json json;  // the document as given (YAML converted to JSON)
  JobspecTasks tasks;
  JobspecResources resources;
  JobspecSystem system;
  Json user;  // attributes.user, or null if absent

  // The number of tasks: count.total, or per_slot * nslots.
  int64_t ntasks() const;

  // Parse a JSON or YAML document and validate it. Failures are EINVAL
  // with a message naming the field, e.g.
  // "jobspec: resources[0].with[0].count: must be a positive integer".
  static Result<Jobspec> parse(std::string_view text);

  // Validate a document already in JSON form.
  static Result<Jobspec> from_json(Json doc);

  // The jobspec flux-core's JobspecV1.from_command builds for
  // `flux run -n ntasks -c cores_per_task -g gpus_per_task -N nnodes
  // [--exclusive] -t duration CMD...`:
  //   without nnodes: slot[count=ntasks]>(core[,gpu]), per_slot 1;
  //   with nnodes: node[count=nnodes]>slot[count=ceil(ntasks/nnodes)]>
  //     (core[,gpu]), per_slot 1 if ntasks divides evenly, else total ntasks.
  // The slot label is "task"; exclusive marks the node vertex. nnodes 0
  // means no node vertex; gpus_per_task 0 means no gpu vertex; duration 0
  // means unlimited (written as the integer 0, as flux-core does when -t is
  // not given). attributes.system.environment is {} (the caller fills it,
  // as `flux run` copies its environment). Throws FluxError(EINVAL) for
  // what flux-core refuses: empty argv, ntasks or cores_per_task < 1,
  // gpus_per_task < 0, nnodes < 0 or > ntasks, exclusive without nnodes,
  // a negative or non-finite duration.
  static Jobspec from_command(std::vector<std::string> argv, int ntasks = 1, int cores_per_task = 1,
                              int gpus_per_task = 0, int nnodes = 0, bool exclusive = false,
                              double duration = 0);

  // The document (json).
  Json to_json() const { return json; }

  // Compact JSON text of the document, as submitted to job-ingest.
  std::string encode() const;
};

}  // namespace flux
