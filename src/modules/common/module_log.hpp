// Logging from a broker module: entries go to the broker's log ring buffer
// (log.append, so `flux dmesg` shows them), and from there to the broker's
// stderr when severe enough. Header-only; shared by the modules in this tree.
#pragma once

#include <unistd.h>

#include <string>
#include <string_view>

#include "libflux/handle.hpp"
#include "libflux/log_line.hpp"

namespace flux::modules {

class ModuleLog {
 public:
  ModuleLog(Handle& h, std::string appname, uint32_t rank = 0)
      : h_(h), appname_(std::move(appname)), rank_(std::to_string(rank)) {}
  void set_rank(uint32_t rank) { rank_ = std::to_string(rank); }

  void operator()(int severity, std::string_view message) const {
    Message m = Message::request("log.append");
    std::string line = format_log_line(severity, rank_, appname_, getpid(), message);
    line.push_back('\0');
    m.set_payload(std::move(line));
    m.set_flag(msgflag::kNoResponse);
    h_.send(std::move(m));
  }
  void err(std::string_view message) const { (*this)(kLogErr, message); }
  void info(std::string_view message) const { (*this)(kLogInfo, message); }
  void debug(std::string_view message) const { (*this)(kLogDebug, message); }

 private:
  Handle& h_;
  std::string appname_;
  std::string rank_;
};

}  // namespace flux::modules
