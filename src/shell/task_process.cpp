#include "task_process.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sched.h>
#include <signal.h>
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

// In the child: report why the task cannot run, on its stderr, and exit.
[[noreturn]] void child_fail(const TaskSpec& spec, const std::string& what, int err) {
  std::string msg = "flux-shell: task " + std::to_string(spec.taskid) + ": " + what + ": " +
                    std::strerror(err) + "\n";
  ssize_t n = ::write(STDERR_FILENO, msg.data(), msg.size());
  (void)n;
  _exit(err == EACCES ? 126 : 127);
}

[[noreturn]] void child(const TaskSpec& spec, char** argv, char** envp, int in_fd, int out_fd,
                        int err_fd) {
  setpgid(0, 0);
  // A task does not outlive its shell, even one killed outright.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) _exit(1);  // the shell died before the line above
  // Signals: the shell's mask and handlers are not the task's.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
  dup2(out_fd, STDOUT_FILENO);
  dup2(err_fd, STDERR_FILENO);
  if (spec.stdin_path) {
    int fd = ::open(spec.stdin_path->c_str(), O_RDONLY);
    if (fd < 0) child_fail(spec, *spec.stdin_path, errno);
    dup2(fd, STDIN_FILENO);
  } else {
    dup2(in_fd, STDIN_FILENO);
  }
  if (spec.pmi_fd >= 0) fcntl(spec.pmi_fd, F_SETFD, 0);  // inherited across exec
  if (!spec.cwd.empty() && chdir(spec.cwd.c_str()) < 0) child_fail(spec, spec.cwd, errno);
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
  child_fail(spec, spec.argv[0], errno);
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
  Pipe in, out, err;
  if (pipe2(out.fd, O_CLOEXEC) < 0 || pipe2(err.fd, O_CLOEXEC) < 0 ||
      (!spec.stdin_path && pipe2(in.fd, O_CLOEXEC) < 0))
    return Error{errno, std::string("pipe: ") + std::strerror(errno)};
  pid_t pid = fork();
  if (pid < 0) return Error{errno, std::string("fork: ") + std::strerror(errno)};
  if (pid == 0) child(spec, argv.data(), envp.data(), in.fd[0], out.fd[1], err.fd[1]);
  setpgid(pid, pid);  // also in the parent, so killpg works at once
  TaskFds fds;
  fds.pid = pid;
  if (!spec.stdin_path) fds.stdin_fd = in.take(1);
  fds.stdout_fd = out.take(0);
  fds.stderr_fd = err.take(0);
  return fds;
}

}  // namespace flux::shell
