// The local connector, broker side: a UNIX socket in the run directory
// (RUNDIR/local-RANK). Each connection's user comes from SO_PEERCRED; the
// instance owner gets the owner role and anyone else is refused (EPERM) for
// now. After the check the broker writes one status byte (0 = welcome),
// then messages flow in the local framing (see libflux/message.hpp).
#pragma once

#include <memory>
#include <string>

#include "libflux/reactor.hpp"
#include "router.hpp"

namespace flux::broker {

class LocalListener {
 public:
  // A client that sends a message over max_message bytes is disconnected.
  LocalListener(Reactor& r, Router& router, std::string path, uint32_t owner, size_t max_message);
  ~LocalListener();
  const std::string& path() const { return path_; }

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

}  // namespace flux::broker
