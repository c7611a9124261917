// flux startlog: the instance's start and stop times from admin.eventlog,
// where rc1 posts "start" {"version":1,"core_version"} and rc3 "finish"
// {"version":1} (flux-startlog(1)). A start that follows a start without a
// finish between them means the instance crashed.
#include <ctime>

#include "cli.hpp"
#include "command.hpp"
#include "libflux/eventlog.hpp"
#include "libflux/fsd.hpp"
#include "libflux/kvs.hpp"
#include "libflux/version.hpp"
#include "libflux/wallclock.hpp"

namespace flux::cmd {

namespace {

constexpr int kStartlogVersion = 1;

std::string local_minute(double t) {
  time_t secs = static_cast<time_t>(t);
  struct tm tm {};
  char buf[64];
  if (t < 0 || !localtime_r(&secs, &tm) || strftime(buf, sizeof buf, "%Y-%m-%d %R", &tm) == 0)
    return "?";
  return buf;
}

}  // namespace

int cmd_startlog(int argc, char** argv) {
  CLI::App app{"List the instance's start and stop times."};
  bool check = false, quiet = false, show_version = false, post_start = false, post_finish = false;
  std::string key = "admin.eventlog";
  int version = kStartlogVersion;
  app.add_flag("--check", check, "Exit 1 if the instance last restarted from a crash");
  app.add_flag("--quiet", quiet, "Print nothing but errors");
  app.add_flag("-v,--show-version", show_version, "Show the flux version of each start");
  // As flux-core's, for rc1, rc3 and tests (not in --help).
  app.add_flag("--post-start-event", post_start)->group("");
  app.add_flag("--post-finish-event", post_finish)->group("");
  app.add_option("--test-startlog-key", key)->group("");
  app.add_option("--test-startlog-version", version)->group("");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto h = open_instance();

  if (post_start || post_finish) {
    auto rank = h->rpc("attr.get", {{"name", "rank"}}).get_json().at("value").get<std::string>();
    if (rank != "0") throw FluxError(EINVAL, "Startlog events may only be posted from rank 0");
    Json context = {{"version", version}};
    if (post_start) context["core_version"] = kFluxVersion;
    kvs::Txn txn;
    txn.append(key, eventlog_entry_encode(
                        eventlog_entry_make(post_start ? "start" : "finish", std::move(context))));
    // The start is on disk before anything runs: a crash after it shows.
    try {
      kvs::commit(*h, txn, post_start ? kvs::kSync : 0).get();
    } catch (const FluxError& e) {
      // An instance whose rc1 loaded no KVS keeps no startlog: the finish
      // that rc3 posts has nowhere to go, and that is not an error.
      if (post_finish && e.errnum() == ENOSYS) return 0;
      throw;
    }
    return 0;
  }

  std::string text;
  try {
    text = kvs::lookup_value(kvs::lookup(*h, key).get());
  } catch (const FluxError& e) {
    // None yet (a new instance's first start): nothing to list.
    if (e.errnum() != ENOENT)
      throw FluxError(e.errnum(),
                      std::string("Error fetching eventlog: ") + std::strerror(e.errnum()));
  }
  bool started = false, crashed = false;
  double last = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line(text.data() + pos, (nl == std::string::npos ? text.size() : nl) - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    auto e = eventlog_entry_decode(line);
    // Entries that are not ours (or from a newer flux) are passed over.
    if (!e || !e.value().context.is_object()) continue;
    const Json& ctx = e.value().context;
    if (!ctx.contains("version") || !ctx["version"].is_number_integer() ||
        ctx["version"].get<int>() < 0 || ctx["version"].get<int>() > version)
      continue;
    double t = e.value().timestamp;
    if (e.value().name == "start") {
      if (started) {
        if (!quiet) std::printf("crashed\n");
        crashed = true;
      }
      if (!quiet) {
        if (show_version) std::printf("%25s  ", ctx.value("core_version", "").c_str());
        std::printf("%s - ", local_minute(t).c_str());
      }
      started = true;
    } else if (e.value().name == "finish") {
      if (started) {
        if (!quiet)
          std::printf("%s (%s)\n", local_minute(t).c_str(), fsd_format_digits(t - last, 2).c_str());
        crashed = false;
      }
      started = false;
    }
    last = t;
  }
  if (started && !quiet)
    std::printf("running (%s)\n", fsd_format_digits(wallclock() - last, 2).c_str());
  return check && crashed ? 1 : 0;
}

}  // namespace flux::cmd
