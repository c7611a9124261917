// Pieces shared by the `flux job` subcommands (job*.cpp). Each file adds
// its subcommands to the `job` CLI11 app and registers what runs each one
// once parsed; job.cpp parses and dispatches.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "libflux/handle.hpp"
#include "libflux/jobid.hpp"

namespace flux::cmd::jobcmd {

using cmd::Registry;  // cli.hpp

// attach, kill, submit, cancel, raise, urgency, memo, wait
void add_control(CLI::App& job, Registry& reg);
// id, info, eventlog, wait-event, status, last
void add_query(CLI::App& job, Registry& reg);
// taskmap
void add_taskmap(CLI::App& job, Registry& reg);
// list, list-inactive, list-ids
void add_list(CLI::App& job, Registry& reg);
// timeleft
void add_timeleft(CLI::App& job, Registry& reg);
// purge
void add_purge(CLI::App& job, Registry& reg);
// stats
void add_stats(CLI::App& job, Registry& reg);
// namespace
void add_namespace(CLI::App& job, Registry& reg);

// A job id in any RFC 19 encoding, or FluxError(EINVAL) "invalid jobid: X".
JobId parse_jobid(const std::string& text);

}  // namespace flux::cmd::jobcmd
