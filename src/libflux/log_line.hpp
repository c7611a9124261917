// RFC 5424 log lines, the form log entries take in the broker's ring buffer
// (log.append / log.dmesg): "<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace flux {

constexpr int kLogEmerg = 0, kLogAlert = 1, kLogCrit = 2, kLogErr = 3, kLogWarning = 4,
              kLogNotice = 5, kLogInfo = 6, kLogDebug = 7;

struct LogEntry {
  int severity = kLogInfo;
  std::string timestamp;  // as written: YYYY-MM-DDTHH:MM:SS.uuuuuuZ
  std::string hostname;   // the broker rank
  std::string appname;
  std::string procid;
  std::string message;
};

std::string format_log_line(int severity, std::string_view rank, std::string_view appname, long pid,
                            std::string_view message);
std::optional<LogEntry> parse_log_line(std::string_view line);
const char* severity_name(int severity);
// Severity from its name (emerg..debug, case-insensitive) or number; -1 if bad.
int severity_from_name(std::string_view name);

}  // namespace flux
