// Watching signals on the shell's Reactor; fd readers/writers and child
// reaping come from libflux. The Asio side stays in io.cpp, so the rest of
// the shell compiles without Asio.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "libflux/child_reaper.hpp"
#include "libflux/fd_io.hpp"
#include "libflux/reactor.hpp"

namespace flux::shell {

// Calls fn(signo) for each of the signals delivered to the process.
class SignalWatch {
 public:
  SignalWatch(Reactor& r, const std::vector<int>& signals, std::function<void(int)> fn);
  ~SignalWatch();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// FdReader, FdWriter: libflux/fd_io.hpp; ChildReaper and exit_code_of:
// libflux/child_reaper.hpp.
using flux::ChildReaper;
using flux::exit_code_of;
using flux::FdReader;
using flux::FdWriter;

}  // namespace flux::shell
