// Finding a Flux instance that runs as a job: its rank 0 posts its URI
// (ssh://HOST/PATH) in the job's memo. flux proxy, flux alloc --bg.
#pragma once

#include <optional>
#include <string>

#include <vector>

#include "jobs_format.hpp"
#include "libflux/handle.hpp"
#include "libflux/jobid.hpp"

namespace flux::cmd {

// A broker attribute, nullopt if it is not set (other errors throw).
std::optional<std::string> attr_of(Handle& h, const std::string& name);

// uri as local://PATH when it is ssh://HOST/PATH and HOST is this machine.
std::string local_uri_of(const std::string& uri);

// The URI a running job's instance posted. ENOENT "jobid ID is not
// running" for a job that is not running; "... is not a Flux instance" for
// one that never posted a URI.
std::string job_instance_uri(Handle& h, JobId id);

// A job-list job object's instance, made local where it can be: set when
// the job is running, is ours (or any_user), and posted a `uri` memo
// (job-list keeps memos under annotations.user). flux jobs -R, pstree.
std::optional<std::string> running_instance_uri(const Json& job, bool any_user = false);

// For flux-core's instance.* format fields: each running instance job's
// own job counts and resources (JobView::set_instance); one that cannot
// be reached keeps none.
void add_instance_info(std::vector<jobs::JobView>& jobs, bool any_user = false);

// TARGET as flux-core's tools take it: a URI (local://, ssh://) as it is,
// or [jobid:]ID[/ID...], a job of the enclosing instance (then a job of
// that job's instance, ...), made local where it can be.
std::string resolve_instance_uri(const std::string& target);

}  // namespace flux::cmd
