// Pieces shared by the `flux job` query subcommands: job_query.cpp (id,
// info, last), job_eventlog.cpp (eventlog, wait-event), job_status.cpp
// (status). They read jobs through the job-info module.
#pragma once

#include <string>

#include "job_common.hpp"
#include "libflux/eventlog.hpp"

namespace flux::cmd::jobcmd {

void add_eventlog_cmds(CLI::App& job, Registry& reg);  // eventlog, wait-event
void add_status_cmd(CLI::App& job, Registry& reg);     // status

// -p NAME: "exec", "output", "input" stand for guest.exec.eventlog,
// guest.output, guest.input; anything else is a path under job.<id>.
std::string eventlog_path(const std::string& name);

// job-info.eventlog-watch (streaming): responses {"event": "<entry>\n"}.
Rpc eventlog_watch(Handle& h, JobId id, const std::string& path, int flags = 0);
// Ask job-info to end the stream; it answers the stream with ENODATA.
void eventlog_watch_cancel(Handle& h, const Rpc& rpc);
// The entry in a watch response.
EventlogEntry watch_entry(const Message& m);

// -f/--format, -T/--time-format, -H/--human, -L/--color, as flux-core's
// eventlog formatter takes them.
struct EventFormatOptions {
  std::string format = "text";
  std::string time_format = "raw";
  bool human = false;
  std::string color = "auto";
  void add(CLI::App* cmd);
};

class EventPrinter {
 public:
  // Throws FluxError(EINVAL) for an unknown format, time format or color.
  explicit EventPrinter(const EventFormatOptions& o);
  void print(const EventlogEntry& e);
  // Keep the offset/human clocks right for entries that are not printed.
  void seen(const EventlogEntry& e);

 private:
  bool json_ = false;
  bool started_ = false;
  EventlogFormatter formatter_;
};

}  // namespace flux::cmd::jobcmd
