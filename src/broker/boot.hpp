// Bootstrap: how a broker learns its rank, the instance size and its TBON
// neighbours before its event loop starts.
//
//   config   a TOML [bootstrap] table (flux-config-bootstrap(5)): every broker
//            reads the same host list and finds its rank by its hostname; all
//            share one CURVE certificate (flux keygen)
//   simple / libpmi[:path]   PMI-1: each broker makes a CURVE keypair, binds
//            (if it has children) and puts a business card under its rank:
//            {"hostname","pubkey","uri"}; after a barrier it reads everyone's
//            card (the hostlist) and its parent's and children's keys
//   single   a size-1 instance (nothing else applies)
#pragma once

#include <memory>
#include <string>

#include "overlay.hpp"

namespace flux::broker {

class Broker;

// Sets rank, size, hostlist, broker.mapping, broker.boot-method and the tbon.*
// attributes; returns the overlay (null for a size-1 instance), bound but
// not yet connected to its parent.
std::unique_ptr<TbonOverlay> boot(Broker& b);

}  // namespace flux::broker
