// Router: moves messages between the broker's endpoints (local clients,
// modules, the broker's own services) by the RFC 3 rules — requests by
// service name and nodeid, responses back along their route stack, events
// to every subscriber. Built as one rank of many: requests for other ranks
// go to the overlay once there is one.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "libflux/message.hpp"

namespace flux::broker {

class Endpoint {
 public:
  Endpoint(std::string uuid, std::string name, bool trusted)
      : uuid_(std::move(uuid)), name_(std::move(name)), trusted_(trusted) {}
  virtual ~Endpoint() = default;
  // Hand a message to whoever is on the other side of this endpoint.
  virtual void deliver(Message&& m) = 0;

  const std::string& uuid() const { return uuid_; }
  const std::string& name() const { return name_; }
  // Trusted endpoints (modules, the broker) may send messages on behalf of
  // other users; clients' messages are stamped with their credentials.
  bool trusted() const { return trusted_; }
  uint32_t userid = kUseridUnknown;
  uint32_t rolemask = role::kNone;
  std::vector<std::string> subscriptions;
  // `<service>.disconnect` requests to send when this endpoint goes away:
  // (topic, nodeid, flags), one for each place its requests went.
  std::set<std::tuple<std::string, uint32_t, uint8_t>> disconnect_topics;
  uint64_t rx = 0, tx = 0;

 private:
  std::string uuid_, name_;
  bool trusted_;
};

// The link to other brokers (the TBON), supplied by the overlay. Without
// one, the broker is rank 0 of a size-1 instance.
class Overlay {
 public:
  virtual ~Overlay() = default;
  virtual bool has_parent() const = 0;
  virtual void send_parent(Message&& m) = 0;
  // Send toward `rank` (down the tree or up); false, leaving m untouched,
  // if unreachable.
  virtual bool send_to_rank(uint32_t rank, Message&& m) = 0;
  // Send a response whose next hop is a peer broker; false if unknown.
  virtual bool send_to_peer(const std::string& uuid, Message&& m) = 0;
  // Pass a sequenced event on to every child.
  virtual void send_event_down(const Message& ev) = 0;
};

class Router {
 public:
  // Messages routed so far (to see whether the broker has been busy).
  uint64_t routed = 0;
  Router(uint32_t rank, uint32_t size) : rank_(rank), size_(size) {}

  void attach(std::shared_ptr<Endpoint> ep);
  // Remove an endpoint: drop its services and subscriptions and tell the
  // services it used that it is gone.
  void detach(const std::string& uuid);
  Endpoint* find(const std::string& uuid) const;

  // A message arriving from an endpoint.
  void ingress(Endpoint& from, Message&& m);
  void route_request(Message&& m, const Endpoint* from);
  void route_response(Message&& m);
  // Publish an event instance-wide: on rank 0 give it the next sequence
  // number (returned), deliver it here and send it down the tree; on other
  // ranks send it up toward rank 0 (returns 0).
  uint32_t publish(Message&& ev);
  // A sequenced event from the parent: deliver it here and pass it down.
  void receive_event(Message&& ev);

  // Services: the first word of a request topic names its endpoint.
  // Throws FluxError (EEXIST) if taken.
  void add_service(const std::string& name, const std::string& uuid);
  // Throws FluxError (ENOENT) unless `uuid` registered it.
  void remove_service(const std::string& name, const std::string& uuid);
  std::vector<std::string> services_of(const std::string& uuid) const;

  void respond_error(const Message& req, int errnum, const std::string& errstr);
  void set_overlay(Overlay* o) { overlay_ = o; }
  uint32_t rank() const { return rank_; }
  uint32_t size() const { return size_; }
  uint32_t event_seq() const { return seq_; }
  void set_rank(uint32_t rank, uint32_t size) {
    rank_ = rank;
    size_ = size;
  }
  // Called for each malformed or undeliverable message worth logging.
  std::function<void(int severity, const std::string&)> log;

 private:
  static std::string no_service(const Message& m);
  uint32_t rank_, size_;
  uint32_t seq_ = 0;
  Overlay* overlay_ = nullptr;
  std::map<std::string, std::shared_ptr<Endpoint>> endpoints_;
  std::map<std::string, std::string, std::less<>> services_;  // name -> uuid
  void deliver_event(Message&& ev);
};

// "kvs.get" -> "kvs.disconnect"
std::string disconnect_topic(const std::string& topic);

}  // namespace flux::broker
