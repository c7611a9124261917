// Attaching to a job, as `flux run`, `flux job attach` and `flux submit
// --watch` do: follow its eventlog, print its output (RFC 24 guest.output)
// as it arrives, forward our stdin to it (guest.input), and return its
// exit code once it is inactive.
#pragma once
#include <string>

#include "libflux/handle.hpp"
#include "libflux/jobid.hpp"

namespace flux::cmd {

struct AttachOptions {
  bool label_io = false;          // prefix output lines with "TASKID: "
  bool show_exec = false;         // print the exec eventlog too (-X)
  bool verbose = false;           // print job events on stderr
  bool read_only = false;         // no stdin, no signals to the job
  std::string input_ranks = "0";  // which tasks get our stdin ("all" or an idset)
  bool forward_stdin = true;
};

// The job's exit code: its tasks' largest (128+signal for a signal), 1 if
// a fatal exception ended it otherwise. Ctrl-C once cancels the job;
// twice within 2 s detaches (returns 130 at once).
int attach_job(Handle& h, JobId id, const AttachOptions& opts, const char* prog);

}  // namespace flux::cmd
