// Task input (RFC 24): the tasks' stdin pipes are fed from the job's input
// eventlog, job.<id>.guest.input. Shell rank 0 writes its header
// ({"version":1,"encoding":{"stdin":"UTF-8"},"count":{"stdin":1},
// "options":{}}) before the tasks start; a writer (flux run, flux job
// attach) appends `data` events {"stream":"stdin","rank":"all"|IDSET,
// "data"?:"...","encoding"?:"base64","eof"?:true}. Each shell watches the
// log (kvs-watch, waitcreate + append) and writes each event's data to
// the stdin of its tasks in rank; eof closes their stdin.
//
// With the shell option input.stdin.type=file (path input.stdin.path)
// the tasks read that file instead and nothing is watched.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "libflux/eventlog.hpp"
#include "libflux/handle.hpp"
#include "libflux/idset.hpp"
#include "libflux/task.hpp"

namespace flux::shell {

// input.stdin.path when input.stdin.type is "file" (or a path is given);
// EINVAL for a malformed option.
Result<std::optional<std::string>> parse_input_file(const Json& shell_options);

EventlogEntry input_header();

// A decoded stdin data event: for which tasks ("all" = empty optional).
struct InputEvent {
  std::optional<Idset> ranks;
  std::string data;
  bool eof = false;
};
// nullopt for events that are not stdin data (the header, others).
// EINVAL for a malformed data event.
Result<std::optional<InputEvent>> input_event_decode(const EventlogEntry& e);

// Watch key and call deliver for each stdin data event until stopped (the
// stream is left to end with the connection). Errors go to stderr.
Task<void> watch_input(Handle& h, std::string key, std::function<void(const InputEvent&)> deliver,
                       std::shared_ptr<bool> stopped);

}  // namespace flux::shell
