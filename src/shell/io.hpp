// Watching file descriptors, signals and child processes on the shell's
// Reactor. The Asio side stays in io.cpp, so the rest of the shell compiles
// without Asio.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libflux/child_reaper.hpp"
#include "libflux/reactor.hpp"

namespace flux::shell {

// Reads an fd (a pipe or socket) until EOF or an error, passing each chunk
// to on_data and then calling on_eof once. Owns and closes the fd.
class FdReader {
 public:
  FdReader(Reactor& r, int fd, std::function<void(std::string_view)> on_data,
           std::function<void()> on_eof);
  ~FdReader();
  FdReader(const FdReader&) = delete;
  FdReader& operator=(const FdReader&) = delete;
  bool done() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Writes queued data to an fd (a pipe or socket) as it becomes writable.
// close() closes the fd once everything queued is written. Write errors
// (EPIPE: the reader is gone) drop the rest quietly. Owns the fd.
class FdWriter {
 public:
  FdWriter(Reactor& r, int fd);
  ~FdWriter();
  FdWriter(const FdWriter&) = delete;
  FdWriter& operator=(const FdWriter&) = delete;
  void write(std::string data);
  void close();
  bool closed() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Calls fn(signo) for each of the signals delivered to the process.
class SignalWatch {
 public:
  SignalWatch(Reactor& r, const std::vector<int>& signals, std::function<void(int)> fn);
  ~SignalWatch();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ChildReaper and exit_code_of: libflux/child_reaper.hpp.
using flux::ChildReaper;
using flux::exit_code_of;

}  // namespace flux::shell
