// flux start --test-size=N: launch N brokers on this host with our own
// PMI-1 server (one socketpair per broker, PMI_FD/PMI_RANK/PMI_SIZE), stay
// up while they run, and return the initial program's exit status.
#include "start_test.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "libflux/asio_reactor.hpp"
#include "libflux/child_reaper.hpp"
#include "libflux/hostlist.hpp"
#include "libflux/pmi_server.hpp"
#include "libflux/result.hpp"
#include "libflux/taskmap.hpp"

extern char** environ;

namespace flux::cmd {

namespace {

std::string process_mapping(const std::string& clique, int size) {
  if (clique == "none") return "";
  if (clique == "single") return "(vector,(0,1," + std::to_string(size) + "))";
  if (clique == "per-broker") return "(vector,(0," + std::to_string(size) + ",1))";
  auto map = Taskmap::decode(clique);
  if (!map) throw FluxError(EINVAL, "--test-pmi-clique: " + map.error().message);
  if (map->ntasks() != size)
    throw FluxError(EINVAL, "--test-pmi-clique: the task map has " + std::to_string(map->ntasks()) +
                                " tasks, not " + std::to_string(size));
  return map->encode_pmi();
}

// fork + exec, so that the broker dies with us (PR_SET_PDEATHSIG) even if
// this process is killed without a chance to clean up.
pid_t spawn_broker(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                   int keep_fd) {
  std::vector<char*> a, e;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  for (const auto& s : env) e.push_back(const_cast<char*>(s.c_str()));
  e.push_back(nullptr);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw FluxError(errno, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    int flags = fcntl(keep_fd, F_GETFD);
    fcntl(keep_fd, F_SETFD, flags & ~FD_CLOEXEC);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execvpe(a[0], a.data(), e.data());  // a[0] may be a --wrap program
    std::fprintf(stderr, "flux-start: exec %s: %s\n", a[0], std::strerror(errno));
    _exit(127);
  }
  return pid;
}

}  // namespace

int run_test_instance(const std::vector<std::string>& broker_argv,
                      const std::vector<std::string>& command, const TestOptions& o) {
  int size = o.size;
  std::vector<std::string> hosts;
  if (!o.hosts.empty()) {
    auto hl = Hostlist::decode(o.hosts);
    if (!hl) throw FluxError(EINVAL, "--test-hosts: " + hl.error().message);
    hosts = hl->expand();
    if (static_cast<int>(hosts.size()) < size)
      throw FluxError(EINVAL, "--test-hosts: " + std::to_string(hosts.size()) + " hosts for " +
                                  std::to_string(size) + " brokers");
  }
  if (o.exit_mode != "any" && o.exit_mode != "leader")
    throw FluxError(EINVAL, "--test-exit-mode must be any or leader");
  if (o.start_mode != "all" && o.start_mode != "leader")
    throw FluxError(EINVAL, "--test-start-mode must be all or leader");
  int nstart = o.start_mode == "leader" ? 1 : size;

  Reactor reactor;
  PmiJob job;
  job.kvsname = "0";
  job.size = size;
  job.local_size = nstart;
  job.process_mapping = process_mapping(o.pmi_clique, size);
  PmiServer pmi(
      reactor, job, std::make_unique<LocalExchange>(),
      [](int rank, int code, const std::string& msg) {
        std::fprintf(stderr, "flux-start: broker %d aborted (%d): %s\n", rank, code, msg.c_str());
      },
      [](const std::string& text) { std::fprintf(stderr, "flux-start: PMI: %s\n", text.c_str()); });

  std::vector<std::string> base_env;
  for (char** e = environ; *e; e++) {
    std::string_view kv = *e;
    if (kv.starts_with("PMI_FD=") || kv.starts_with("PMI_RANK=") || kv.starts_with("PMI_SIZE=") ||
        kv.starts_with("FLUX_FAKE_HOSTNAME="))
      continue;
    base_env.emplace_back(kv);
  }

  ChildReaper reaper(reactor);
  std::map<int, pid_t> running;  // rank -> pid
  int exit_code = 0, leader_code = 0;
  std::unique_ptr<Timer> exit_timer;
  auto kill_all = [&](int sig) {
    for (auto& [rank, pid] : running) ::kill(pid, sig);
  };

  for (int rank = 0; rank < nstart; rank++) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
      throw FluxError(errno, std::string("socketpair: ") + std::strerror(errno));
    std::vector<std::string> env = base_env;
    env.push_back("PMI_FD=" + std::to_string(sv[1]));
    env.push_back("PMI_RANK=" + std::to_string(rank));
    env.push_back("PMI_SIZE=" + std::to_string(size));
    if (!hosts.empty()) env.push_back("FLUX_FAKE_HOSTNAME=" + hosts[rank]);
    std::vector<std::string> argv = broker_argv;
    if (!o.rundir.empty()) argv.push_back("--setattr=rundir=" + o.rundir);
    argv.push_back("--");
    if (rank == 0)
      for (const auto& c : command) argv.push_back(c);
    if (o.verbose) {
      std::string line;
      for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
      std::fprintf(stderr, "flux-start: %d: %s\n", rank, line.c_str());
    }
    pid_t pid = spawn_broker(argv, env, sv[1]);
    ::close(sv[1]);
    pmi.add_client(rank, sv[0]);
    running[rank] = pid;
    reaper.watch(pid, [&, rank](int status) {
      running.erase(rank);
      pmi.remove_client(rank);
      int rc = exit_code_of(status);
      if (rank == 0) leader_code = rc;
      exit_code = std::max(exit_code, rc);
      if (o.verbose) std::fprintf(stderr, "flux-start: %d (rank %d) exited %d\n", 0, rank, rc);
      if (running.empty()) {
        reactor.stop();
        return;
      }
      bool trigger = o.exit_mode == "any" || rank == 0;
      if (trigger && !exit_timer && o.exit_timeout > 0) {
        exit_timer = reactor.after(o.exit_timeout, [&] {
          std::fprintf(stderr, "flux-start: killing %zu brokers still running after %gs\n",
                       running.size(), o.exit_timeout);
          kill_all(SIGKILL);
        });
      }
    });
  }

  // Ctrl-C reaches every broker itself (they share our process group); a
  // SIGTERM or SIGHUP sent to us alone is passed on to all of them.
  asio::signal_set signals(io_context(reactor), SIGINT, SIGTERM, SIGHUP);
  std::function<void(const asio::error_code&, int)> on_signal = [&](const asio::error_code& ec,
                                                                    int sig) {
    if (ec) return;
    if (sig != SIGINT) kill_all(SIGTERM);
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);

  reactor.keep_alive(true);
  reactor.run();
  asio::error_code ec;
  signals.cancel(ec);
  if (!o.rundir.empty() && o.rundir_cleanup) {
    std::error_code fec;
    std::filesystem::remove_all(o.rundir, fec);
  }
  return o.exit_mode == "leader" ? leader_code : exit_code;
}

}  // namespace flux::cmd
