// flux resource: helpers its subcommands share (resource.cpp,
// resource_list.cpp, resource_status.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "libflux/handle.hpp"
#include "libflux/rset.hpp"

namespace flux::cmd::resourcecmd {

// The scheduler's view (sched.resource-status).
struct SchedView {
  Rset all;
  Rset allocated;
  Rset down;
};
SchedView sched_view(Handle& h);

// The ranks of r named by TARGETS (an idset or a hostlist); names that
// are not in r are ignored. Throws FluxError(EINVAL) if TARGETS is neither.
Idset include_ranks(const Rset& r, const std::string& targets);

std::vector<std::string> split_commas(const std::string& s);

int list(int argc, char** argv);
int info(int argc, char** argv);
int emit_r(int argc, char** argv);
int status(int argc, char** argv);
int drain(int argc, char** argv);
int undrain(int argc, char** argv);
int reserve(int argc, char** argv);
int reservations(int argc, char** argv);
int unreserve(int argc, char** argv);

}  // namespace flux::cmd::resourcecmd
