// The broker's log: a ring buffer of RFC 5424 lines (flux dmesg), copied to
// stderr and to log-filename by severity.
//
// Service "log":
//   log.append  raw RFC 5424 line (usually with kNoResponse)
//   log.dmesg   {"follow":bool,"nobacklog":bool}, streaming: one string
//               response per entry, then ENODATA (or more, if following)
//   log.clear   {} -> {}
//   log.disconnect  drops the sender's followers
#pragma once

#include <cstdio>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "libflux/handle.hpp"

namespace flux::broker {

class Attributes;

class LogBuffer {
 public:
  LogBuffer(Attributes& attrs, uint32_t rank) : attrs_(attrs), rank_(rank) {}
  ~LogBuffer();
  void serve(Handle& h);
  // Log from the broker itself.
  void log(int severity, const std::string& appname, const std::string& message);
  void append(std::string line);
  void set_rank(uint32_t rank) { rank_ = rank; }
  // Rank > 0: pass a line at or above log-forward-level toward rank 0;
  // returns false when it cannot (not joined yet, parent lost).
  std::function<bool(const std::string& line)> forward;

 private:
  void emit(const std::string& line);
  Attributes& attrs_;
  uint32_t rank_;
  Handle* h_ = nullptr;
  std::deque<std::string> ring_;
  std::vector<Message> followers_;
  FILE* file_ = nullptr;
  std::string file_name_;
};

}  // namespace flux::broker
