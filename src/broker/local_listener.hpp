// The local connector, broker side: a UNIX socket in the run directory
// (RUNDIR/local-RANK, mode 0777: the run directory and the roles guard it).
// Each connection's user comes from SO_PEERCRED: the instance owner gets the
// owner role, root too with access.allow-root-owner, other users the user
// role with access.allow-guest-user; anyone else is refused. After the check
// the broker writes one status byte (0 = welcome, else the errno, as
// flux-core), then messages flow in the local framing (libflux/message.hpp).
#pragma once

#include <memory>
#include <string>

#include "config.hpp"
#include "libflux/reactor.hpp"
#include "router.hpp"

namespace flux::broker {

class LocalListener {
 public:
  // A client that sends a message over max_message bytes, or leaves more
  // than max_backlog bytes unread, is disconnected.
  LocalListener(Reactor& r, Router& router, std::string path, uint32_t owner, AccessPolicy access,
                size_t max_message, size_t max_backlog);
  ~LocalListener();
  const std::string& path() const { return path_; }

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

}  // namespace flux::broker
