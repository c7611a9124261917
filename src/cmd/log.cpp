// flux logger and flux dmesg: write to and read the broker's log.
#include <unistd.h>

#include <ctime>
#include <iostream>

#include "cli.hpp"
#include "command.hpp"
#include "libflux/log_line.hpp"

namespace flux::cmd {
namespace {

// The entry's UTC timestamp in local time, ISO 8601 with the zone offset.
std::string local_timestamp(const std::string& utc) {
  tm t{};
  const char* rest = strptime(utc.c_str(), "%Y-%m-%dT%H:%M:%S", &t);
  if (!rest) return utc;
  std::string frac;
  if (*rest == '.') {
    frac = ".";
    for (rest++; *rest >= '0' && *rest <= '9'; rest++) frac += *rest;
  }
  time_t secs = timegm(&t);
  tm local{};
  localtime_r(&secs, &local);
  if (local.tm_gmtoff == 0) return utc;
  char date[32], zone[8];
  strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &local);
  strftime(zone, sizeof(zone), "%z", &local);
  std::string z = zone;
  if (z.size() == 5) z.insert(3, ":");
  return date + frac + z;
}

void print_entry(std::string_view line) {
  auto e = parse_log_line(line);
  if (!e) {
    std::printf("%.*s\n", static_cast<int>(line.size()), line.data());
    return;
  }
  std::printf("%s %s.%s[%s]: %s\n", local_timestamp(e->timestamp).c_str(), e->appname.c_str(),
              severity_name(e->severity), e->hostname.c_str(), e->message.c_str());
}

}  // namespace

int cmd_logger(int argc, char** argv) {
  CLI::App app{"Add an entry to the broker's log."};
  std::string severity = "notice", appname = "logger";
  std::vector<std::string> words;
  app.add_option("-s,--severity", severity, "emerg|alert|crit|err|warning|notice|info|debug");
  app.add_option("-n,--appname", appname, "Application name (default: logger)");
  app.add_option("message", words, "The message (default: read stdin)");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  int sev = severity_from_name(severity);
  if (sev < 0)
    throw FluxError(EINVAL, "invalid severity: Use emerg|alert|crit|err|warning|notice|info|debug");
  std::string msg;
  if (words.empty()) {
    std::string line;
    while (std::getline(std::cin, line)) msg += (msg.empty() ? "" : " ") + line;
  } else {
    for (const auto& w : words) msg += (msg.empty() ? "" : " ") + w;
  }
  auto h = open_instance();
  std::string rank = "0";
  try {
    rank = h->rpc("attr.get", {{"name", "rank"}}).get_json().at("value").get<std::string>();
  } catch (const FluxError&) {
  }
  // Wait for the answer: a dmesg that follows must see the entry.
  h->rpc_raw("log.append", format_log_line(sev, rank, appname, getpid(), msg)).get();
  return 0;
}

int cmd_dmesg(int argc, char** argv) {
  CLI::App app{"Print or clear the broker's log ring buffer."};
  bool clear = false, read_clear = false, follow = false, newonly = false;
  app.add_flag("-C,--clear", clear, "Clear the buffer without printing it");
  app.add_flag("-c,--read-clear", read_clear, "Print the buffer, then clear it");
  app.add_flag("-f,--follow", follow, "Keep printing new entries");
  app.add_flag("-n,--new", newonly, "Only entries added from now on (with --follow)");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto h = open_instance();
  if (!clear) {
    auto rpc = h->rpc("log.dmesg", {{"follow", follow}, {"nobacklog", newonly}}, kNodeidAny,
                      msgflag::kStreaming);
    while (auto m = rpc.next()) {
      print_entry(m->payload_string());
      if (follow) std::fflush(stdout);
    }
  }
  if (clear || read_clear) h->rpc("log.clear").get();
  return 0;
}

}  // namespace flux::cmd
