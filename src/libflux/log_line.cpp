#include "log_line.hpp"

#include <sys/time.h>

#include <cctype>
#include <cstdio>
#include <ctime>
#include <vector>

namespace flux {
namespace {
constexpr const char* kNames[] = {"emerg",   "alert",  "crit", "err",
                                  "warning", "notice", "info", "debug"};

std::string utc_timestamp() {
  timeval tv;
  gettimeofday(&tv, nullptr);
  tm t;
  gmtime_r(&tv.tv_sec, &t);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                static_cast<long>(tv.tv_usec));
  return buf;
}

std::string_view field(std::string_view s) {
  return s.empty() ? std::string_view("-") : s;
}
}  // namespace

const char* severity_name(int severity) {
  return severity >= 0 && severity <= 7 ? kNames[severity] : "unknown";
}

int severity_from_name(std::string_view name) {
  for (int i = 0; i < 8; i++) {
    std::string_view n = kNames[i];
    if (n.size() != name.size()) continue;
    bool eq = true;
    for (size_t k = 0; k < n.size(); k++)
      if (std::tolower(static_cast<unsigned char>(name[k])) != n[k]) eq = false;
    if (eq) return i;
  }
  if (name.size() == 1 && name[0] >= '0' && name[0] <= '7') return name[0] - '0';
  return -1;
}

std::string format_log_line(int severity, std::string_view rank, std::string_view appname, long pid,
                            std::string_view message) {
  std::string msg(message);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r')) msg.pop_back();
  std::string out = "<" + std::to_string((severity & 7) << 3) + ">1 " + utc_timestamp() + " ";
  out.append(field(rank)).append(" ").append(field(appname)).append(" ");
  out += std::to_string(pid) + " - - " + msg;
  return out;
}

std::optional<LogEntry> parse_log_line(std::string_view line) {
  if (line.size() < 4 || line[0] != '<') return std::nullopt;
  size_t close = line.find('>');
  if (close == std::string_view::npos || close > 4) return std::nullopt;
  int pri = 0;
  for (size_t i = 1; i < close; i++) {
    if (!std::isdigit(static_cast<unsigned char>(line[i]))) return std::nullopt;
    pri = pri * 10 + (line[i] - '0');
  }
  std::string_view rest = line.substr(close + 1);
  // VERSION TIMESTAMP HOSTNAME APPNAME PROCID MSGID SD, then the message.
  std::vector<std::string_view> f;
  for (int i = 0; i < 7; i++) {
    size_t sp = rest.find(' ');
    if (sp == std::string_view::npos) {
      if (i < 6) return std::nullopt;
      f.push_back(rest);
      rest = {};
      break;
    }
    f.push_back(rest.substr(0, sp));
    rest = rest.substr(sp + 1);
  }
  if (f.size() < 7 || f[0] != "1") return std::nullopt;
  LogEntry e;
  e.severity = (pri >> 3) & 7;  // flux-core writes severity << 3
  e.timestamp = f[1];
  e.hostname = f[2];
  e.appname = f[3];
  e.procid = f[4];
  e.message = rest;
  return e;
}

}  // namespace flux
