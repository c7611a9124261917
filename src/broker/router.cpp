#include "router.hpp"

#include <cerrno>

#include "libflux/log_line.hpp"

namespace flux::broker {

std::string disconnect_topic(const std::string& topic) {
  size_t dot = topic.rfind('.');
  return dot == std::string::npos ? "disconnect" : topic.substr(0, dot) + ".disconnect";
}

void Router::attach(std::shared_ptr<Endpoint> ep) {
  std::string id = ep->uuid();
  endpoints_[id] = std::move(ep);
}

void Router::detach(const std::string& uuid) {
  auto it = endpoints_.find(uuid);
  if (it == endpoints_.end()) return;
  auto ep = it->second;
  endpoints_.erase(it);
  std::erase_if(services_, [&](const auto& kv) { return kv.second == uuid; });
  for (const auto& [topic, nodeid, flags] : ep->disconnect_topics) {
    Message m = Message::request(topic, nodeid);
    m.set_flag(msgflag::kNoResponse | flags);
    m.set_userid(ep->userid);
    m.set_rolemask(ep->rolemask);
    m.push_route(uuid);
    route_request(std::move(m), nullptr);
  }
}

Endpoint* Router::find(const std::string& uuid) const {
  auto it = endpoints_.find(uuid);
  return it == endpoints_.end() ? nullptr : it->second.get();
}

void Router::ingress(Endpoint& from, Message&& m) {
  from.rx++;
  routed++;
  // Credentials come from the connection, never from what a client says;
  // only the instance owner (and the broker's own modules) may speak for
  // another user, as flux-core allows for tests and proxies.
  bool may_forward = from.trusted() || (from.rolemask & role::kOwner);
  if (!may_forward || m.userid() == kUseridUnknown) m.set_userid(from.userid);
  if (!may_forward || m.rolemask() == role::kNone) m.set_rolemask(from.rolemask);
  switch (m.type()) {
    case MsgType::Request:
      if (!m.has_flag(msgflag::kNoResponse) && from.disconnect_topics.size() < 1024)
        from.disconnect_topics.emplace(disconnect_topic(m.topic()), m.nodeid(),
                                       m.flags() & msgflag::kUpstream);
      m.push_route(from.uuid());
      route_request(std::move(m), &from);
      break;
    case MsgType::Response:
      route_response(std::move(m));
      break;
    case MsgType::Event:
      if (from.trusted()) {
        publish(std::move(m));
      } else if (log) {
        log(kLogWarning, "dropped event sent directly by client " + from.name());
      }
      break;
    case MsgType::Control:
      break;  // control messages are only for overlay peers
  }
}

void Router::respond_error(const Message& req, int errnum, const std::string& errstr) {
  if (req.has_flag(msgflag::kNoResponse)) return;
  Message r = Message::response_to(req);
  r.set_errnum(errnum);
  if (!errstr.empty()) r.set_payload(errstr + '\0');
  route_response(std::move(r));
}

void Router::route_request(Message&& m, const Endpoint* from) {
  uint32_t nodeid = m.nodeid();
  bool upstream = m.has_flag(msgflag::kUpstream);
  if (!upstream && nodeid != kNodeidAny && nodeid != rank_) {
    if (overlay_ && overlay_->send_to_rank(nodeid, std::move(m))) return;
    respond_error(m, EHOSTUNREACH, "");
    return;
  }
  // An upstream request skips only the broker whose rank it names (its
  // sender's); any broker above that one may serve it.
  if (!upstream || nodeid != rank_) {
    std::string_view topic = m.topic();
    std::string_view service = topic.substr(0, topic.find('.'));
    auto it = services_.find(service);
    // RFC 3: a module's request to "any" for its own service goes on
    // upstream (kvs on rank 1 asking rank 0's kvs); a client's request to
    // a service it registered itself comes back to it, as flux-core's.
    bool to_self = it != services_.end() && from && from->trusted() && from->uuid() == it->second;
    if (it != services_.end() && !(nodeid == kNodeidAny && to_self)) {
      if (auto* ep = find(it->second)) {
        ep->tx++;
        ep->deliver(std::move(m));
        return;
      }
    }
    if (nodeid == rank_ && !upstream) {
      respond_error(m, ENOSYS, no_service(m));
      return;
    }
  }
  if (overlay_ && overlay_->has_parent()) {
    overlay_->send_parent(std::move(m));
    return;
  }
  // Upstream of the root there is nothing.
  if (upstream && nodeid == rank_)
    respond_error(m, EHOSTUNREACH, "");
  else
    respond_error(m, ENOSYS, no_service(m));
}

// flux-core's words for a request nobody serves (scripts show them).
std::string Router::no_service(const Message& m) {
  return "No service matching " + std::string(m.topic()) + " is registered";
}

void Router::route_response(Message&& m) {
  if (m.routes().empty()) {
    if (log) log(kLogDebug, "dropped response without route: " + m.topic());
    return;
  }
  std::string hop = m.pop_route();
  if (auto* ep = find(hop)) {
    ep->tx++;
    ep->deliver(std::move(m));
    return;
  }
  if (overlay_ && overlay_->send_to_peer(hop, std::move(m))) return;
  // A response for an endpoint that has gone away is dropped silently.
}

uint32_t Router::publish(Message&& ev) {
  ev.clear_routes();
  if (overlay_ && overlay_->has_parent()) {
    ev.set_seq(0);
    overlay_->send_parent(std::move(ev));
    return 0;
  }
  ev.set_seq(++seq_);
  if (overlay_) overlay_->send_event_down(ev);
  uint32_t seq = seq_;
  deliver_event(std::move(ev));
  return seq;
}

void Router::receive_event(Message&& ev) {
  uint32_t seq = ev.seq();
  if (seq_ != 0 && seq != seq_ + 1 && log)
    log(kLogErr, "event sequence gap: expected " + std::to_string(seq_ + 1) + ", got " +
                     std::to_string(seq) + " (" + ev.topic() + ")");
  seq_ = seq;
  if (overlay_) overlay_->send_event_down(ev);
  deliver_event(std::move(ev));
}

void Router::deliver_event(Message&& ev) {
  bool priv = ev.has_flag(msgflag::kPrivate);
  std::vector<Endpoint*> to;
  for (auto& [id, ep] : endpoints_) {
    if (priv && !(ep->rolemask & role::kOwner) && ep->userid != ev.userid()) continue;
    for (const auto& prefix : ep->subscriptions) {
      if (ev.topic().compare(0, prefix.size(), prefix) == 0) {
        to.push_back(ep.get());
        break;
      }
    }
  }
  for (size_t i = 0; i < to.size(); i++) {
    to[i]->tx++;
    if (i + 1 == to.size())
      to[i]->deliver(std::move(ev));
    else
      to[i]->deliver(Message(ev));
  }
}

void Router::add_service(const std::string& name, const std::string& uuid) {
  if (services_.count(name)) throw FluxError(EEXIST, "service " + name + " is already registered");
  services_[name] = uuid;
}

void Router::remove_service(const std::string& name, const std::string& uuid) {
  auto it = services_.find(name);
  if (it == services_.end() || it->second != uuid)
    throw FluxError(ENOENT, "service " + name + " is not registered by the sender");
  services_.erase(it);
}

std::vector<std::string> Router::services_of(const std::string& uuid) const {
  std::vector<std::string> out;
  for (const auto& [name, id] : services_)
    if (id == uuid) out.push_back(name);
  return out;
}

}  // namespace flux::broker
