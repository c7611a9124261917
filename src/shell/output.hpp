// Task output: stdout and stderr of the local tasks, line by line, to the
// job's RFC 24 output eventlog (job.<id>.guest.output), to files (shell
// option output.{stdout,stderr}.type=file with a mustache path), or, in
// standalone mode, to the shell's own stdout/stderr.
//
// Output is cut at newlines: a task's partial last line waits for the
// rest of it (or for EOF, or until it passes 4 KiB), so lines of different
// tasks never interleave. Data that is not UTF-8 goes to the eventlog
// base64-encoded ("encoding":"base64"). A stream redirected to a file gets
// one `redirect` event per task ({"stream","rank","path"}) in the eventlog
// instead of data and eof events.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jobinfo.hpp"
#include "mustache.hpp"
#include "kvs_writer.hpp"

namespace flux::shell {

enum class Stream { kStdout = 0, kStderr = 1 };
const char* stream_name(Stream s);

struct StreamOptions {
  bool to_file = false;
  std::string path;  // template
  bool label = false;
};

struct OutputOptions {
  StreamOptions out, err;
  bool append = false;  // output.mode=append: append to files, else truncate
};

// attributes.system.shell.options.output; EINVAL for a malformed option.
Result<OutputOptions> parse_output_options(const Json& shell_options);

class Output {
 public:
  // kvs null: standalone, to fds 1 and 2.
  Output(const JobInfo& info, OutputOptions opts, KvsWriter* kvs);
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  // Open the files for this shell's tasks, their names rendered from ctx
  // (with each task's id) and relative to cwd. Throws FluxError naming a
  // path that cannot be opened.
  void open_files(const MustacheContext& ctx, const std::string& cwd);
  // The header event (RFC 24) for the whole job.
  EventlogEntry header() const;
  // Redirect events for this shell's tasks, one per task and file stream.
  std::vector<EventlogEntry> redirects() const;

  void write(int taskid, Stream s, std::string_view data);
  void eof(int taskid, Stream s);
  // Write data as if task taskid had written it (for shell messages).
  void emit(int taskid, Stream s, std::string_view data);

  std::string output_key() const { return info_.kvs_dir() + ".guest.output"; }

 private:
  const StreamOptions& options(Stream s) const {
    return s == Stream::kStdout ? opts_.out : opts_.err;
  }
  std::string path_of(int taskid, Stream s) const;

  const JobInfo& info_;
  OutputOptions opts_;
  MustacheContext ctx_;
  KvsWriter* kvs_;
  std::string cwd_;
  std::map<std::string, int> files_;                    // path -> fd
  std::map<std::pair<int, int>, int> task_fd_;          // (task, stream) -> file fd
  std::map<std::pair<int, int>, std::string> partial_;  // held partial lines
};

}  // namespace flux::shell
