// The tree-based overlay network (TBON): this broker's links to its parent
// and children over ZeroMQ, authenticated and encrypted with CURVE.
//
// A broker with children binds one ROUTER socket; each child connects a
// DEALER whose routing id is the child's UUID. Messages travel as one frame
// holding the RFC 3 encoding. Peers speak these control messages (RFC 3
// control type, aux1 = kind, payload JSON):
//   hello     child -> parent {"rank","version"}; answered by hello with
//             {"uuid": parent's UUID} (or a disconnect if refused)
//   heartbeat either way, every tbon.torpid_min/2 when idle; a peer not heard
//             from for tbon.torpid_max is lost
//   status    child -> parent {"subtree": "full|partial|degraded|..."}
//   shutdown  parent -> child: the instance is shutting down
//   goodbye   child -> parent: leaving cleanly (offline, not lost)
// Requests forwarded to a child are tracked until answered, so that a lost
// child's requests get EHOSTUNREACH instead of silence.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "libflux/json.hpp"
#include "libflux/reactor.hpp"
#include "libflux/topology.hpp"
#include "router.hpp"

namespace flux::broker {

struct OverlayOptions {
  uint32_t rank = 0;
  uint32_t size = 1;
  std::string uuid;
  std::string public_key, secret_key;  // Z85 CURVE keypair of this broker
  std::string bind_uri;                // empty: no children
  std::string parent_uri;              // empty: rank 0
  std::string parent_pubkey;
  std::set<std::string> child_pubkeys;  // keys allowed to connect as children
  double heartbeat = 2.5;               // seconds between keepalives when idle
  double lost_timeout = 30;             // silence after which a peer is lost
  double tcp_user_timeout = 0;          // tbon.tcp_user_timeout (0: system default)
  double connect_timeout = 0;           // tbon.connect_timeout (0: system default)
};

enum class PeerState { Offline, Online, Lost };
const char* peer_state_name(PeerState s);

class TbonOverlay : public Overlay {
 public:
  TbonOverlay(Reactor& r, Router& router, Topology topo, OverlayOptions opts);
  ~TbonOverlay() override;

  // Bind the children's endpoint (if there are children); returns the
  // endpoint actually bound (a tcp port chosen by the system), or "".
  std::string bind();
  // The parent (empty uri: none) and the keys children may connect with.
  void set_peers(std::string parent_uri, std::string parent_pubkey,
                 std::set<std::string> child_pubkeys);
  // Connect to the parent (if any) and start heartbeats.
  void start();
  // Stop all I/O; pending messages to the parent get up to linger seconds.
  void stop(double linger = 1.0);

  // Overlay (the router's view)
  bool has_parent() const override { return !opts_.parent_uri.empty(); }
  void send_parent(Message&& m) override;
  bool send_to_rank(uint32_t rank, Message&& m) override;
  bool send_to_peer(const std::string& uuid, Message&& m) override;
  void send_event_down(const Message& ev) override;

  // Lifecycle hooks for the state machine.
  std::function<void()> on_parent_hello;            // joined: the parent welcomed us
  std::function<void(std::string)> on_parent_lost;  // the parent is gone
  std::function<void()> on_shutdown;                // the parent says shut down
  std::function<void(uint32_t, PeerState)> on_child_state;
  void send_goodbye();
  void send_shutdown_to_children();
  // Children (direct) that are online.
  size_t children_online() const;
  const Topology& topology() const { return topo_; }
  Json child_stats() const;  // for overlay.stats / flux module stats overlay
  Json health() const;       // for overlay.health: this subtree's status
  // Drop the connection of a child (flux overlay disconnect). false if not a child.
  bool disconnect_child(uint32_t rank, const std::string& why);
  std::string parent_uuid() const { return parent_uuid_; }
  bool parent_joined() const { return parent_welcomed_ && !parent_lost_; }
  std::string bound_uri() const { return bound_uri_; }
  // The status of this broker's subtree: full, partial, degraded, lost, offline.
  std::string subtree_status() const;

 private:
  struct Impl;
  struct Child;
  void on_child_message(const std::string& identity, Message&& m);
  void on_parent_message(Message&& m);
  void child_control(Child* c, const std::string& identity, const Message& m);
  // why: for the log; error: for overlay.health (flux-core's words).
  void set_child_state(Child& c, PeerState s, const std::string& why, const std::string& error);
  void send_child(Child& c, const Message& m);
  void send_child_encoded(Child& c, const std::string& buf);
  void send_control_parent(int kind, const Json& payload);
  void send_control_child(Child& c, int kind, const Json& payload);
  void tick();
  void watch_handshakes(void* sock);
  void report_status();
  void track(Child& c, const Message& req);
  void untrack(Child& c, const Message& rsp);
  Child* child_by_uuid(const std::string& uuid);
  Child* child_by_rank(uint32_t rank);

  Reactor& reactor_;
  Router& router_;
  Topology topo_;
  OverlayOptions opts_;
  std::unique_ptr<Impl> impl_;
  std::map<uint32_t, std::unique_ptr<Child>> children_;  // by rank
  std::map<std::string, Child*> by_uuid_;
  std::string parent_uuid_, bound_uri_;
  bool parent_welcomed_ = false;
  bool parent_lost_ = false;
  int handshake_failures_ = 0;
  bool shutting_down_ = false;
  mutable std::string health_status_;  // overlay.health: status and since when
  mutable double health_since_ = 0;
  double parent_last_rx_ = 0, parent_last_tx_ = 0;
  std::string last_status_sent_;
  std::unique_ptr<Timer> tick_timer_;
};

}  // namespace flux::broker
