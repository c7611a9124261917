// flux top [TARGET]: one screen about an instance (ours, a job's, or a
// URI's), redrawn every two seconds until q: its nodes, cores and GPUs in
// use, its job counts, size, depth, uptime and time left, and its running
// jobs. --test-exit draws one screen, without the terminal, and exits.
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include "cli.hpp"
#include "command.hpp"
#include "instance_uri.hpp"
#include "jobs_format.hpp"
#include "libflux/fsd.hpp"
#include "libflux/wallclock.hpp"
#include "resource_common.hpp"

namespace flux::cmd {

namespace {

constexpr const char* kJobFormat =
    "{id.f58:>12} {username:<8.8} {status_abbrev:>2.2} {ntasks:>6} {nnodes:>6} "
    "{runtime!F:>8} {name}";

std::string bar(const char* what, size_t used, size_t down, size_t total) {
  constexpr int kWidth = 40;
  std::string b(kWidth, ' ');
  if (total > 0) {
    size_t u = used * kWidth / total, d = down * kWidth / total;
    for (size_t i = 0; i < u && i < kWidth; i++) b[i] = '#';
    for (size_t i = 0; i < d && i < kWidth; i++) b[kWidth - 1 - i] = 'x';
  }
  char line[160];
  std::snprintf(line, sizeof line, "%8s [%s] %zu/%zu\n", what, b.c_str(), used, total);
  return line;
}

std::string attr(Handle& h, const char* name) {
  try {
    return attr_of(h, name).value_or("");
  } catch (const FluxError&) {
    return "";
  }
}

// One screen of text.
std::string frame(Handle& h, const std::string& path, const std::string& queue) {
  std::string out;
  auto view = resourcecmd::sched_view(h);
  double now = wallclock();
  double exp = view.all.expiration;
  std::string left = exp > 0 ? fsd_format(std::max(exp - now, 0.0)) : "∞";
  out += (path.empty() ? std::string(".") : path) + std::string(40, ' ') + left + "\n";
  Rset used = view.allocated & view.all;
  out += bar("nodes", used.nnodes(), view.down.nnodes(), view.all.nnodes());
  out += bar("cores", used.ncores(), view.down.ncores(), view.all.ncores());
  out += bar("gpus", used.ngpus(), view.down.ngpus(), view.all.ngpus());

  Json req = Json::object();
  if (!queue.empty()) req["queue"] = queue;
  Json s = h.rpc("job-list.job-stats", req).get_json();
  if (!queue.empty() && s.contains("queues") && s["queues"].is_array())
    for (const auto& q : s["queues"])
      if (q.value("name", "") == queue) s = q;
  const Json& st = s.value("job_states", Json::object());
  auto n = [&](const char* k) { return static_cast<long long>(st.value(k, int64_t{0})); };
  long long failed = s.value("failed", int64_t{0}) + s.value("canceled", int64_t{0}) +
                     s.value("timeout", int64_t{0});
  double start = std::atof(attr(h, "broker.starttime").c_str());
  char line[256];
  std::snprintf(line, sizeof line,
                "%6lld pending %6lld running %6lld complete %6lld failed    size: %s  depth: "
                "%s  uptime: %s  %s\n\n",
                n("depend") + n("priority") + n("sched"), n("run") + n("cleanup"),
                static_cast<long long>(s.value("successful", int64_t{0})), failed,
                attr(h, "size").c_str(), attr(h, "instance-level").c_str(),
                start > 0 ? fsd_format(now - start).c_str() : "-", attr(h, "version").c_str());
  out += line;

  Json all = Json::array({Json{{"states", Json::array({16 | 32})}}});
  if (!queue.empty()) all.push_back({{"queue", Json::array({queue})}});
  Json lreq = {
      {"max_entries", 100}, {"attrs", Json::array({"all"})}, {"constraint", {{"and", all}}}};
  Json jobs = h.rpc("job-list.list", lreq).get_json().at("jobs");
  jobs::JobFormat fmt(kJobFormat);
  out += fmt.header() + "\n";
  for (auto& j : jobs) out += fmt.format(jobs::JobView(j)) + "\n";
  return out;
}

// The terminal in raw mode while we run; restored however we leave.
struct RawTerminal {
  termios saved{};
  bool ok = false;
  RawTerminal() {
    if (tcgetattr(0, &saved) < 0) return;
    termios raw = saved;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    ok = tcsetattr(0, TCSANOW, &raw) == 0;
    std::fputs("\033[?25l", stdout);  // hide the cursor
  }
  ~RawTerminal() {
    if (ok) tcsetattr(0, TCSANOW, &saved);
    std::fputs("\033[?25h\n", stdout);
    std::fflush(stdout);
  }
};

}  // namespace

int cmd_top(int argc, char** argv) {
  CLI::App app{"Show an instance's resources, job counts and running jobs, refreshed."};
  std::string target, queue, color;
  bool test_exit = false;
  app.add_option("-q,--queue", queue, "Only this queue's jobs");
  add_color_option(&app, color);
  app.add_flag("--test-exit", test_exit, "Draw one screen to stdout and exit (for tests)")
      ->group("");
  app.add_option("TARGET", target, "A job id (a Flux instance) or a URI (default: this instance)");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  std::string uri = target.empty() ? "" : resolve_instance_uri(target);
  auto h = Handle::open(uri);
  std::string path = target.rfind("jobid:", 0) == 0 ? target.substr(6) : target;
  if (target.find("://") != std::string::npos) path.clear();
  if (test_exit) {
    std::string f = frame(*h, path, queue);
    std::fwrite(f.data(), 1, f.size(), stdout);
    return 0;
  }
  if (!isatty(0) || !isatty(1))
    throw FluxError(EINVAL, "stdin and stdout must be a terminal (or use --test-exit)");
  RawTerminal term;
  for (;;) {
    std::string f = frame(*h, path, queue);
    std::fputs("\033[H\033[2J", stdout);
    std::fwrite(f.data(), 1, f.size(), stdout);
    std::fputs("\nq: quit\n", stdout);
    std::fflush(stdout);
    pollfd p{0, POLLIN, 0};
    if (::poll(&p, 1, 2000) > 0) {
      char c = 0;
      if (::read(0, &c, 1) == 1 && (c == 'q' || c == 'Q')) break;
    }
  }
  return 0;
}

}  // namespace flux::cmd
