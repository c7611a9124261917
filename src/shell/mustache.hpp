// Mustache-style templates for output file names, as flux-core's shell
// expands them: {{id}} and {{jobid}} (the job id, F58), {{taskid}} (the
// task rank; only in per-task templates), {{name}} (the job name: the
// jobspec's attributes.system.job.name, else the command's base name), and
// {{id.dec}}, {{id.hex}}, {{id.kvs}}, {{id.dothex}}, {{id.words}},
// {{id.f58}} for other id encodings, {{tmpdir}} (the job's FLUX_JOB_TMPDIR),
// {{nnodes}} and {{size}} or {{ntasks}}. An unknown tag is left as it is.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "libflux/jobid.hpp"

namespace flux::shell {

struct MustacheContext {
  JobId id;
  std::string name;
  std::optional<int> taskid;
  std::string tmpdir;
  int nnodes = 0;
  int ntasks = 0;
};

std::string mustache_render(std::string_view tmpl, const MustacheContext& ctx);
// True if tmpl names {{taskid}} (one file per task).
bool mustache_has_taskid(std::string_view tmpl);

}  // namespace flux::shell
