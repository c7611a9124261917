#include "task_process.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

extern char** environ;

namespace flux::shell {

namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
  int take(int i) {
    int f = fd[i];
    fd[i] = -1;
    return f;
  }
};

// In the child: tell the shell why the task cannot start (which step and
// its errno, on the exec-status pipe), and exit.
[[noreturn]] void child_fail(int status_fd, int step, int err) {
  int report[2] = {step, err};
  ssize_t n = ::write(status_fd, report, sizeof(report));
  (void)n;
  _exit(err == EACCES ? 126 : 127);
}

enum Step { kStepExec = 0, kStepStdin = 1, kStepCwd = 2 };

[[noreturn]] void child(const TaskSpec& spec, char** argv, char** envp, int in_fd, int out_fd,
                        int err_fd, int status_fd) {
  if (spec.tty_fd >= 0) {
    // A session of its own, led by the task, with the pty as its terminal.
    setsid();
    ioctl(spec.tty_fd, TIOCSCTTY, 0);
  } else {
    setpgid(0, 0);
  }
  // A task does not outlive its shell, even one killed outright.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) _exit(1);  // the shell died before the line above
  // Signals: the shell's mask and handlers are not the task's.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
  if (spec.tty_fd >= 0) out_fd = err_fd = in_fd = spec.tty_fd;
  dup2(out_fd, STDOUT_FILENO);
  dup2(err_fd, STDERR_FILENO);
  if (spec.stdin_path && spec.tty_fd < 0) {
    int fd = ::open(spec.stdin_path->c_str(), O_RDONLY);
    if (fd < 0) child_fail(status_fd, kStepStdin, errno);
    dup2(fd, STDIN_FILENO);
  } else {
    dup2(in_fd, STDIN_FILENO);
  }
  if (spec.pmi_fd >= 0) fcntl(spec.pmi_fd, F_SETFD, 0);  // inherited across exec
  if (!spec.cwd.empty() && chdir(spec.cwd.c_str()) < 0) child_fail(status_fd, kStepCwd, errno);
  for (const auto& [resource, value] : spec.rlimits) {
    // The submitter's soft limit, within our hard limit (best effort).
    rlimit rl{};
    if (getrlimit(resource, &rl) != 0) continue;
    rl.rlim_cur = value == RLIM_INFINITY || value > rl.rlim_max ? rl.rlim_max : value;
    setrlimit(resource, &rl);
  }
  if (!spec.cpus.empty()) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c : spec.cpus)
      if (c >= 0 && c < CPU_SETSIZE) CPU_SET(c, &set);
    sched_setaffinity(0, sizeof(set), &set);  // best effort: the CPU may not exist
  }
  environ = envp;  // execvp searches the task's PATH
  execvp(argv[0], argv);
  child_fail(status_fd, kStepExec, errno);
}

}  // namespace

Result<TaskFds> start_task(const TaskSpec& spec) {
  if (spec.argv.empty()) return Error{EINVAL, "empty command"};
  // Built before fork: the child only execs.
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  Pipe in, out, err, status;
  bool pipes = spec.tty_fd < 0;
  if ((pipes && (pipe2(out.fd, O_CLOEXEC) < 0 || pipe2(err.fd, O_CLOEXEC) < 0)) ||
      pipe2(status.fd, O_CLOEXEC) < 0 || (pipes && !spec.stdin_path && pipe2(in.fd, O_CLOEXEC) < 0))
    return Error{errno, std::string("pipe: ") + std::strerror(errno)};
  pid_t pid = fork();
  if (pid < 0) return Error{errno, std::string("fork: ") + std::strerror(errno)};
  if (pid == 0) child(spec, argv.data(), envp.data(), in.fd[0], out.fd[1], err.fd[1], status.fd[1]);
  // Also in the parent, so killpg works at once (a tty task's setsid does it).
  if (pipes) setpgid(pid, pid);
  TaskFds fds;
  fds.pid = pid;
  // The exec closes the status pipe; a report before that says why not.
  ::close(status.take(1));
  int report[2] = {0, 0};
  ssize_t n;
  do {
    n = ::read(status.fd[0], report, sizeof(report));
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof(report))) {
    // Reap it here: it is exiting, and a signal sent to the job meanwhile
    // must not turn its 127 into a signal death.
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    fds.pid = -1;
    fds.exit_status = wstatus;
    fds.start_errno = report[1];
    fds.start_failed = report[0] == kStepStdin ? spec.stdin_path.value_or("stdin")
                       : report[0] == kStepCwd ? spec.cwd
                                               : spec.argv[0];
  }
  if (pipes && !spec.stdin_path) fds.stdin_fd = in.take(1);
  fds.stdout_fd = out.take(0);
  fds.stderr_fd = err.take(0);
  return fds;
}

}  // namespace flux::shell
