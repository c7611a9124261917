// Starting one task: fork, then in the child its own process group, its
// stdio, its PMI descriptor, working directory, CPU binding and
// environment, then exec. A task that cannot be started (a command that
// cannot be executed, a bad cwd or stdin file) makes the child report its
// errno to the shell through a close-on-exec pipe and exit 127 (126 for
// EACCES): start_task() waits for the exec, so the shell knows at once
// (flux-core's "start failed" job exception).
#pragma once
#include <sys/resource.h>

#include <utility>

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "libflux/result.hpp"

namespace flux::shell {

struct TaskSpec {
  int taskid = 0;
  std::vector<std::string> argv;
  std::vector<std::string> env;           // "NAME=value"
  std::string cwd;                        // "" = the shell's
  std::optional<std::string> stdin_path;  // a file for stdin; else a pipe
  std::vector<int> cpus;                  // CPUs to bind to; empty = no binding
  int pmi_fd = -1;                        // the task's end of its PMI socket, or -1
  int tty_fd = -1;  // a pty follower: the task's stdio and controlling terminal (no pipes)
  std::vector<std::pair<int, rlim_t>> rlimits;  // soft limits to set (RLIMIT_*, value)
};

struct TaskFds {
  pid_t pid = -1;
  int stdin_fd = -1;  // write end of the task's stdin pipe (-1 with stdin_path or tty_fd)
  int stdout_fd = -1;
  int stderr_fd = -1;
  int start_errno = 0;       // the task could not be started: why; then pid is -1
  std::string start_failed;  // what failed: the command, or the cwd/stdin path
  int exit_status = 0;       // with start_errno: its wait status (exit 126/127)
};

// Start the task. Fails (with errno) only if the shell itself cannot
// (pipes, fork, an unreadable stdin file); every fd returned is close-on-exec.
Result<TaskFds> start_task(const TaskSpec& spec);

}  // namespace flux::shell
