#include "overlay.hpp"

#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "libflux/asio_reactor.hpp"
#include "libflux/log_line.hpp"
#include "libflux/version.hpp"

namespace flux::broker {

namespace {

// Control message kinds (aux1 of an RFC 3 control message).
constexpr uint32_t kCtlHeartbeat = 0;
constexpr uint32_t kCtlStatus = 1;
constexpr uint32_t kCtlGoodbye = 2;
constexpr uint32_t kCtlHello = 10;
constexpr uint32_t kCtlShutdown = 11;
constexpr uint32_t kCtlRefused = 12;

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";

void set_key(void* sock, int opt, const std::string& z85) {
  // libzmq takes a Z85 key as 41 bytes with its terminating NUL.
  if (z85.size() != 40) throw FluxError(EINVAL, "CURVE key must be 40 Z85 characters");
  if (zmq_setsockopt(sock, opt, z85.c_str(), 41) < 0)
    throw FluxError(errno, std::string("zmq_setsockopt: ") + zmq_strerror(errno));
}

void set_int(void* sock, int opt, int v) {
  if (zmq_setsockopt(sock, opt, &v, sizeof(v)) < 0)
    throw FluxError(errno, std::string("zmq_setsockopt: ") + zmq_strerror(errno));
}

// Receive all frames of one message; empty if none is waiting.
std::vector<std::string> recv_frames(void* sock) {
  std::vector<std::string> frames;
  for (;;) {
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    int n = zmq_msg_recv(&msg, sock, ZMQ_DONTWAIT);
    if (n < 0) {
      zmq_msg_close(&msg);
      return frames;  // EAGAIN (or mid-message failure, which ZeroMQ rules out)
    }
    frames.emplace_back(static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg));
    bool more = zmq_msg_more(&msg);
    zmq_msg_close(&msg);
    if (!more) return frames;
  }
}

}  // namespace

const char* peer_state_name(PeerState s) {
  switch (s) {
    case PeerState::Offline:
      return "offline";
    case PeerState::Online:
      return "online";
    case PeerState::Lost:
      return "lost";
  }
  return "unknown";
}

struct TbonOverlay::Child {
  uint32_t rank = 0;
  std::string uuid;  // routing id of the connected broker (empty: never connected)
  PeerState state = PeerState::Offline;
  std::string subtree = "offline";  // as last reported
  double since = 0;                 // when state last changed
  double last_rx = 0, last_tx = 0;
  uint64_t rx = 0, tx = 0;
  std::string error;  // why it is lost or offline
  // Requests forwarded to this child and not yet answered, by sender and
  // matchtag; headers only.
  std::unordered_multimap<std::string, Message> inflight;
};

// ZeroMQ sockets watched from the Asio loop. ZMQ_FD is edge-triggered: a
// wake-up means "look at ZMQ_EVENTS", and after any send the socket must be
// drained again, since the send may have consumed the edge.
struct TbonOverlay::Impl {
  struct Watched {
    void* sock = nullptr;
    std::unique_ptr<asio::posix::stream_descriptor> fd;
    std::function<bool()> on_readable;  // false: nothing was waiting
    bool drain_posted = false;
    bool stopped = false;
  };

  explicit Impl(Reactor& r) : reactor(r) {}
  ~Impl() { close_all(0); }

  void watch(Watched& w) {
    int fd = -1;
    size_t len = sizeof(fd);
    zmq_getsockopt(w.sock, ZMQ_FD, &fd, &len);
    w.fd = std::make_unique<asio::posix::stream_descriptor>(io_context(reactor), fd);
    arm(w);
    drain(w);
  }
  void arm(Watched& w) {
    w.fd->async_wait(asio::posix::stream_descriptor::wait_read, [this, &w](asio::error_code ec) {
      if (ec || w.stopped) return;
      drain(w);
      arm(w);
    });
  }
  void drain(Watched& w) {
    // Receive until EAGAIN: a receive that finds nothing has also handled
    // ZeroMQ's pending commands, which is what re-arms ZMQ_FD. (Asking
    // ZMQ_EVENTS first would cost a poll(2) per message.)
    int budget = 1024;  // let other work run between bursts
    while (!w.stopped) {
      if (budget-- == 0) {
        post_drain(w);
        return;
      }
      if (!w.on_readable()) return;
    }
  }
  void post_drain(Watched& w) {
    if (w.drain_posted || w.stopped) return;
    w.drain_posted = true;
    reactor.post([this, &w] {
      w.drain_posted = false;
      drain(w);
    });
  }
  void close_watch(Watched& w, int linger) {
    if (!w.sock) return;
    w.stopped = true;
    if (w.fd) {
      asio::error_code ec;
      w.fd->cancel(ec);
      w.fd->release();  // the fd belongs to ZeroMQ
    }
    set_int(w.sock, ZMQ_LINGER, linger);
    zmq_close(w.sock);
    w.sock = nullptr;
  }
  void close_all(int linger_ms) {
    close_watch(children, 0);
    close_watch(parent, linger_ms);
    close_watch(zap, 0);
    close_watch(monitor, 0);
    if (ctx) {
      zmq_ctx_term(ctx);
      ctx = nullptr;
    }
  }

  Reactor& reactor;
  void* ctx = nullptr;
  Watched children, parent, zap, monitor;
};

TbonOverlay::TbonOverlay(Reactor& r, Router& router, Topology topo, OverlayOptions opts)
    : reactor_(r),
      router_(router),
      topo_(std::move(topo)),
      opts_(std::move(opts)),
      impl_(std::make_unique<Impl>(r)) {
  health_since_ = monotime();
  for (uint32_t c : topo_.children(opts_.rank)) {
    auto ch = std::make_unique<Child>();
    ch->rank = c;
    ch->since = monotime();
    children_[c] = std::move(ch);
  }
}

TbonOverlay::~TbonOverlay() {
  impl_.reset();
}

void TbonOverlay::set_peers(std::string parent_uri, std::string parent_pubkey,
                            std::set<std::string> child_pubkeys) {
  opts_.parent_uri = std::move(parent_uri);
  opts_.parent_pubkey = std::move(parent_pubkey);
  opts_.child_pubkeys = std::move(child_pubkeys);
}

std::string TbonOverlay::bind() {
  impl_->ctx = zmq_ctx_new();
  if (!impl_->ctx) throw FluxError(errno, "zmq_ctx_new failed");
  if (!opts_.bind_uri.empty() && !children_.empty()) {
    // ZAP: ZeroMQ asks this socket whether a CURVE client key may connect.
    impl_->zap.sock = zmq_socket(impl_->ctx, ZMQ_REP);
    if (zmq_bind(impl_->zap.sock, kZapEndpoint) < 0)
      throw FluxError(errno, std::string("ZAP handler: ") + zmq_strerror(errno));
    impl_->zap.on_readable = [this] {
      auto f = recv_frames(impl_->zap.sock);
      if (f.empty()) return false;
      if (f.size() < 7) return true;
      // version, request id, domain, address, identity, mechanism, key
      bool ok = false;
      if (f[5] == "CURVE" && f[6].size() == 32) {
        char z85[41];
        zmq_z85_encode(z85, reinterpret_cast<const uint8_t*>(f[6].data()), 32);
        ok = opts_.child_pubkeys.count(z85) > 0;
        if (!ok && router_.log)
          router_.log(kLogErr, std::string("overlay: refused a connection with unknown key ") +
                                   z85 + " from " + f[3]);
      }
      const std::string reply[6] = {
          "1.0", f[1], ok ? "200" : "400", ok ? "OK" : "unknown key", ok ? "flux" : "", ""};
      for (int i = 0; i < 6; i++)
        zmq_send(impl_->zap.sock, reply[i].data(), reply[i].size(), i < 5 ? ZMQ_SNDMORE : 0);
      return true;
    };
    impl_->watch(impl_->zap);

    void* s = impl_->children.sock = zmq_socket(impl_->ctx, ZMQ_ROUTER);
    set_int(s, ZMQ_SNDHWM, 0);
    set_int(s, ZMQ_RCVHWM, 0);
    set_int(s, ZMQ_ROUTER_MANDATORY, 1);
    set_int(s, ZMQ_CURVE_SERVER, 1);
    set_key(s, ZMQ_CURVE_SECRETKEY, opts_.secret_key);
    zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, "flux", 4);
    if (opts_.bind_uri.rfind("tcp://", 0) == 0) set_int(s, ZMQ_IPV6, 1);
    // An abruptly dead node is noticed when TCP gives up on unacknowledged data.
    if (opts_.tcp_user_timeout > 0)
      set_int(s, ZMQ_TCP_MAXRT, static_cast<int>(opts_.tcp_user_timeout * 1000));
    if (zmq_bind(s, opts_.bind_uri.c_str()) < 0)
      throw FluxError(errno, "overlay: bind " + opts_.bind_uri + ": " + zmq_strerror(errno));
    char last[1024] = {};
    size_t len = sizeof(last);
    zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, last, &len);
    bound_uri_ = last;
    impl_->children.on_readable = [this] {
      auto f = recv_frames(impl_->children.sock);
      if (f.empty()) return false;
      if (f.size() != 2) return true;  // [identity][RFC 3 message]
      auto m = Message::decode(f[1]);
      if (!m) {
        if (router_.log) router_.log(kLogErr, "overlay: malformed message from a child dropped");
        return true;
      }
      on_child_message(f[0], std::move(*m));
      return true;
    };
    impl_->watch(impl_->children);
  }
  return bound_uri_;
}

void TbonOverlay::start() {
  if (has_parent()) {
    void* s = impl_->parent.sock = zmq_socket(impl_->ctx, ZMQ_DEALER);
    set_int(s, ZMQ_SNDHWM, 0);
    set_int(s, ZMQ_RCVHWM, 0);
    zmq_setsockopt(s, ZMQ_ROUTING_ID, opts_.uuid.data(), opts_.uuid.size());
    set_key(s, ZMQ_CURVE_SERVERKEY, opts_.parent_pubkey);
    set_key(s, ZMQ_CURVE_PUBLICKEY, opts_.public_key);
    set_key(s, ZMQ_CURVE_SECRETKEY, opts_.secret_key);
    if (opts_.parent_uri.rfind("tcp://", 0) == 0) set_int(s, ZMQ_IPV6, 1);
    if (opts_.tcp_user_timeout > 0)
      set_int(s, ZMQ_TCP_MAXRT, static_cast<int>(opts_.tcp_user_timeout * 1000));
    if (opts_.connect_timeout > 0)
      set_int(s, ZMQ_CONNECT_TIMEOUT, static_cast<int>(opts_.connect_timeout * 1000));
    set_int(s, ZMQ_RECONNECT_IVL, 100);
    set_int(s, ZMQ_RECONNECT_IVL_MAX, 2000);
    if (zmq_connect(s, opts_.parent_uri.c_str()) < 0)
      throw FluxError(errno, "overlay: connect " + opts_.parent_uri + ": " + zmq_strerror(errno));
    impl_->parent.on_readable = [this] {
      auto f = recv_frames(impl_->parent.sock);
      if (f.empty()) return false;
      if (f.size() != 1) return true;
      auto m = Message::decode(f[0]);
      if (!m) {
        if (router_.log) router_.log(kLogErr, "overlay: malformed message from the parent dropped");
        return true;
      }
      on_parent_message(std::move(*m));
      return true;
    };
    impl_->watch(impl_->parent);
    watch_handshakes(s);
    parent_last_rx_ = monotime();
    send_control_parent(kCtlHello, {{"rank", opts_.rank}, {"version", kFluxVersion}});
  }
  if (opts_.heartbeat > 0) tick_timer_ = reactor_.after(opts_.heartbeat / 2, [this] { tick(); });
}

// A CURVE handshake with the parent that fails (a wrong key on either side)
// is otherwise silent: ZeroMQ just retries. Say so, once per kind.
void TbonOverlay::watch_handshakes(void* sock) {
  constexpr const char* kMonitor = "inproc://overlay-parent-monitor";
  int events = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_SUCCEEDED;
  if (zmq_socket_monitor(sock, kMonitor, events) < 0) return;
  impl_->monitor.sock = zmq_socket(impl_->ctx, ZMQ_PAIR);
  if (zmq_connect(impl_->monitor.sock, kMonitor) < 0) return;
  impl_->monitor.on_readable = [this] {
    auto f = recv_frames(impl_->monitor.sock);
    if (f.empty()) return false;
    if (f[0].size() < 6) return true;
    uint16_t event = 0;
    std::memcpy(&event, f[0].data(), sizeof(event));
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
      handshake_failures_ = 0;
      return true;
    }
    if (handshake_failures_++ == 0 && router_.log)
      router_.log(kLogErr,
                  "overlay: cannot join the parent at " + opts_.parent_uri +
                      ": the CURVE handshake failed (" +
                      (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ? "key refused" : "wrong key?") +
                      ")");
    return true;
  };
  impl_->watch(impl_->monitor);
}

void TbonOverlay::stop(double linger) {
  tick_timer_.reset();
  impl_->close_all(static_cast<int>(linger * 1000));
}

// --- sending ---------------------------------------------------------------

void TbonOverlay::send_parent(Message&& m) {
  if (!impl_->parent.sock || parent_lost_) {
    if (m.type() == MsgType::Request) router_.respond_error(m, EHOSTUNREACH, "parent is lost");
    return;
  }
  std::string buf = m.encode();
  if (zmq_send(impl_->parent.sock, buf.data(), buf.size(), ZMQ_DONTWAIT) < 0) {
    if (router_.log)
      router_.log(kLogErr, std::string("overlay: send to parent: ") + zmq_strerror(errno));
    if (m.type() == MsgType::Request) router_.respond_error(m, EHOSTUNREACH, "");
  }
  parent_last_tx_ = monotime();
  impl_->post_drain(impl_->parent);
}

void TbonOverlay::send_child(Child& c, const Message& m) {
  send_child_encoded(c, m.encode());
}

void TbonOverlay::send_child_encoded(Child& c, const std::string& buf) {
  void* s = impl_->children.sock;
  if (zmq_send(s, c.uuid.data(), c.uuid.size(), ZMQ_DONTWAIT | ZMQ_SNDMORE) < 0 ||
      zmq_send(s, buf.data(), buf.size(), ZMQ_DONTWAIT) < 0) {
    if (errno == EHOSTUNREACH) {
      // Not from inside a send: the change of state sends messages of its
      // own (errors, events), which must not overtake the one in hand.
      uint32_t rank = c.rank;
      std::string uuid = c.uuid;
      reactor_.post([this, rank, uuid] {
        Child* ch = child_by_rank(rank);
        if (!ch || ch->uuid != uuid || ch->state != PeerState::Online) return;
        if (shutting_down_)
          set_child_state(*ch, PeerState::Offline, "it has left", "administrative shutdown");
        else
          set_child_state(*ch, PeerState::Lost, "its connection is gone", "lost connection");
      });
    } else if (router_.log) {
      router_.log(kLogErr,
                  "overlay: send to rank " + std::to_string(c.rank) + ": " + zmq_strerror(errno));
    }
  } else {
    c.tx++;
    c.last_tx = monotime();
  }
  impl_->post_drain(impl_->children);
}

bool TbonOverlay::send_to_rank(uint32_t rank, Message&& m) {
  if (rank >= opts_.size) return false;
  auto hop = topo_.next_hop(opts_.rank, rank);
  if (!hop) return false;
  if (topo_.parent(opts_.rank) == hop) {
    // Before the parent's welcome is fine: ZeroMQ keeps order behind our hello.
    if (parent_lost_) return false;
    send_parent(std::move(m));
    return true;
  }
  Child* c = child_by_rank(*hop);
  if (!c || c->state != PeerState::Online) return false;
  if (m.type() == MsgType::Request) track(*c, m);
  send_child(*c, m);
  return true;
}

bool TbonOverlay::send_to_peer(const std::string& uuid, Message&& m) {
  if (!parent_uuid_.empty() && uuid == parent_uuid_) {
    send_parent(std::move(m));
    return true;
  }
  Child* c = child_by_uuid(uuid);
  if (!c || c->state != PeerState::Online) return false;
  if (m.type() == MsgType::Request) track(*c, m);
  send_child(*c, m);
  return true;
}

void TbonOverlay::send_event_down(const Message& ev) {
  std::string buf;
  for (auto& [rank, c] : children_)
    if (c->state == PeerState::Online) {
      if (buf.empty()) buf = ev.encode();  // once for every child
      send_child_encoded(*c, buf);
    }
}

void TbonOverlay::send_control_parent(int kind, const Json& payload) {
  Message m(MsgType::Control);
  m.set_aux1(static_cast<uint32_t>(kind));
  m.set_json(payload);
  send_parent(std::move(m));
}

void TbonOverlay::send_control_child(Child& c, int kind, const Json& payload) {
  Message m(MsgType::Control);
  m.set_aux1(static_cast<uint32_t>(kind));
  m.set_json(payload);
  send_child(c, m);
}

void TbonOverlay::send_goodbye() {
  if (impl_->parent.sock && parent_welcomed_ && !parent_lost_)
    send_control_parent(kCtlGoodbye, Json::object());
}

void TbonOverlay::send_shutdown_to_children() {
  shutting_down_ = true;  // from now on a child that is gone has left, not failed
  for (auto& [rank, c] : children_)
    if (c->state == PeerState::Online) send_control_child(*c, kCtlShutdown, Json::object());
}

// --- request tracking --------------------------------------------------------

namespace {
std::string track_key(const Message& m) {
  const std::string* first = m.first_route();
  return (first ? *first : std::string()) + '/' + std::to_string(m.matchtag());
}
}  // namespace

void TbonOverlay::track(Child& c, const Message& req) {
  if (req.has_flag(msgflag::kNoResponse)) {
    // A client went away: its tracked requests will never be answered.
    if (req.topic().size() > 11 && req.topic().ends_with(".disconnect")) {
      const std::string* sender = req.first_route();
      if (sender)
        std::erase_if(c.inflight, [&](const auto& kv) {
          const std::string* s = kv.second.first_route();
          return s && *s == *sender;
        });
    }
    return;
  }
  Message hdr = Message::response_to(req);  // routes, matchtag, topic; no payload
  hdr.set_type(MsgType::Request);
  c.inflight.emplace(track_key(req), std::move(hdr));
}

void TbonOverlay::untrack(Child& c, const Message& rsp) {
  auto it = c.inflight.find(track_key(rsp));
  if (it == c.inflight.end()) return;
  // A stream stays open until its terminating (error) response.
  if (it->second.has_flag(msgflag::kStreaming) && rsp.errnum() == 0) return;
  c.inflight.erase(it);
}

// --- receiving ---------------------------------------------------------------

TbonOverlay::Child* TbonOverlay::child_by_uuid(const std::string& uuid) {
  auto it = by_uuid_.find(uuid);
  return it == by_uuid_.end() ? nullptr : it->second;
}

TbonOverlay::Child* TbonOverlay::child_by_rank(uint32_t rank) {
  auto it = children_.find(rank);
  return it == children_.end() ? nullptr : it->second.get();
}

void TbonOverlay::on_child_message(const std::string& identity, Message&& m) {
  Child* c = child_by_uuid(identity);
  if (m.type() == MsgType::Control) {
    child_control(c, identity, m);
    return;
  }
  if (!c || c->state != PeerState::Online) {
    // Not (or no longer) a member: tell it, so it stops talking to us.
    if (router_.log)
      router_.log(kLogDebug, "overlay: message from an unknown peer " + identity + " dropped");
    return;
  }
  c->rx++;
  c->last_rx = monotime();
  m.set_rolemask(m.rolemask() & ~role::kLocal);  // local only where it was accepted
  switch (m.type()) {
    case MsgType::Request:
      m.push_route(identity);
      router_.route_request(std::move(m), nullptr);
      break;
    case MsgType::Response:
      untrack(*c, m);
      router_.route_response(std::move(m));
      break;
    case MsgType::Event:
      // Events from below go up to rank 0, which sequences and fans them out.
      router_.publish(std::move(m));
      break;
    default:
      break;
  }
}

void TbonOverlay::child_control(Child* c, const std::string& identity, const Message& m) {
  auto payload = m.json();
  Json p = payload ? *payload : Json::object();
  switch (m.aux1()) {
    case kCtlHello: {
      uint32_t rank = p.value("rank", UINT32_MAX);
      Child* want = child_by_rank(rank);
      if (!want) {
        if (router_.log)
          router_.log(kLogErr, "overlay: hello from rank " + std::to_string(rank) +
                                   ", which is not a child of this broker");
        Message r(MsgType::Control);
        r.set_aux1(kCtlRefused);
        r.set_json({{"reason", "rank " + std::to_string(rank) + " is not my child"}});
        std::string buf = r.encode();
        zmq_send(impl_->children.sock, identity.data(), identity.size(),
                 ZMQ_DONTWAIT | ZMQ_SNDMORE);
        zmq_send(impl_->children.sock, buf.data(), buf.size(), ZMQ_DONTWAIT);
        return;
      }
      if (want->state == PeerState::Online && want->uuid != identity)
        set_child_state(*want, PeerState::Lost, "it was replaced by a new broker",
                        "lost connection");
      if (!want->uuid.empty()) by_uuid_.erase(want->uuid);
      want->uuid = identity;
      by_uuid_[identity] = want;
      want->last_rx = monotime();
      want->subtree = "partial";
      set_child_state(*want, PeerState::Online, "", "");
      send_control_child(*want, kCtlHello, {{"uuid", opts_.uuid}});
      return;
    }
    case kCtlHeartbeat:
      if (c) c->last_rx = monotime();
      return;
    case kCtlStatus:
      if (c) {
        c->last_rx = monotime();
        if (p.contains("subtree") && p["subtree"].is_string()) {
          c->subtree = p["subtree"].get<std::string>();
          report_status();
        }
      }
      return;
    case kCtlGoodbye:
      if (c) set_child_state(*c, PeerState::Offline, "it said goodbye", "administrative shutdown");
      return;
    default:
      return;
  }
}

void TbonOverlay::on_parent_message(Message&& m) {
  parent_last_rx_ = monotime();
  m.set_rolemask(m.rolemask() & ~role::kLocal);  // local only where it was accepted
  switch (m.type()) {
    case MsgType::Request:
      m.push_route(parent_uuid_);
      router_.route_request(std::move(m), nullptr);
      break;
    case MsgType::Response:
      router_.route_response(std::move(m));
      break;
    case MsgType::Event:
      router_.receive_event(std::move(m));
      break;
    case MsgType::Control: {
      auto payload = m.json();
      Json p = payload ? *payload : Json::object();
      if (m.aux1() == kCtlHello && !parent_welcomed_) {
        parent_uuid_ = p.value("uuid", "");
        parent_welcomed_ = true;
        last_status_sent_.clear();
        report_status();
        if (on_parent_hello) on_parent_hello();
      } else if (m.aux1() == kCtlShutdown) {
        if (on_shutdown) on_shutdown();
      } else if (m.aux1() == kCtlRefused) {
        parent_lost_ = true;
        if (on_parent_lost) on_parent_lost("the parent refused us: " + p.value("reason", ""));
      }
      break;
    }
  }
}

// --- peer states -------------------------------------------------------------

void TbonOverlay::set_child_state(Child& c, PeerState s, const std::string& why,
                                  const std::string& error) {
  if (c.state == s) return;
  PeerState old = c.state;
  c.state = s;
  c.since = monotime();
  c.error = error;
  if (s != PeerState::Online) {
    c.subtree = s == PeerState::Lost ? "lost" : "offline";
    // Everything in flight through this child will never be answered.
    auto inflight = std::move(c.inflight);
    c.inflight.clear();
    // Plain EHOSTUNREACH ("No route to host"), as flux-core answers.
    for (auto& [key, req] : inflight) router_.respond_error(req, EHOSTUNREACH, "");
    if (router_.log)
      router_.log(s == PeerState::Lost ? kLogErr : kLogInfo,
                  "overlay: rank " + std::to_string(c.rank) + " is " + peer_state_name(s) +
                      (why.empty() ? "" : ": " + why));
  } else if (router_.log && old == PeerState::Lost) {
    router_.log(kLogInfo, "overlay: rank " + std::to_string(c.rank) + " has rejoined");
  }
  if (on_child_state) on_child_state(c.rank, s);
  report_status();
}

std::string TbonOverlay::subtree_status() const {
  bool partial = false, degraded = false;
  for (const auto& [rank, c] : children_) {
    if (c->state == PeerState::Lost || c->subtree == "degraded" || c->subtree == "lost")
      degraded = true;
    else if (c->state == PeerState::Offline || c->subtree != "full")
      partial = true;
  }
  return degraded ? "degraded" : partial ? "partial" : "full";
}

void TbonOverlay::report_status() {
  if (!impl_->parent.sock || !parent_welcomed_ || parent_lost_) return;
  std::string s = subtree_status();
  if (s == last_status_sent_) return;
  last_status_sent_ = s;
  send_control_parent(kCtlStatus, {{"subtree", s}});
}

size_t TbonOverlay::children_online() const {
  size_t n = 0;
  for (const auto& [rank, c] : children_)
    if (c->state == PeerState::Online) n++;
  return n;
}

bool TbonOverlay::disconnect_child(uint32_t rank, const std::string& why) {
  Child* c = child_by_rank(rank);
  if (!c) return false;
  if (c->state == PeerState::Online) send_control_child(*c, kCtlRefused, {{"reason", why}});
  set_child_state(*c, PeerState::Lost, why, "administrative disconnect");
  return true;
}

void TbonOverlay::tick() {
  double now = monotime();
  if (impl_->parent.sock && !parent_lost_) {
    if (parent_welcomed_ && now - parent_last_rx_ > opts_.lost_timeout) {
      parent_lost_ = true;
      if (on_parent_lost)
        on_parent_lost("no message from the parent for " +
                       std::to_string(static_cast<int>(opts_.lost_timeout)) + "s");
    } else if (now - parent_last_tx_ >= opts_.heartbeat) {
      send_control_parent(kCtlHeartbeat, Json::object());
    }
  }
  for (auto& [rank, c] : children_) {
    if (c->state != PeerState::Online) continue;
    if (now - c->last_rx > opts_.lost_timeout) {
      set_child_state(
          *c, PeerState::Lost,
          "no message for " + std::to_string(static_cast<int>(opts_.lost_timeout)) + "s",
          "lost connection");
    } else if (now - c->last_tx >= opts_.heartbeat) {
      send_control_child(*c, kCtlHeartbeat, Json::object());
    }
  }
  tick_timer_ = reactor_.after(opts_.heartbeat / 2, [this] { tick(); });
}

Json TbonOverlay::child_stats() const {
  Json children = Json::array();
  for (const auto& [rank, c] : children_)
    children.push_back({{"rank", rank},
                        {"status", peer_state_name(c->state)},
                        {"subtree", c->subtree},
                        {"rx", c->rx},
                        {"tx", c->tx},
                        {"inflight", c->inflight.size()}});
  return {{"child-count", children_.size()},
          {"child-connected", children_online()},
          {"parent-count", has_parent() ? 1 : 0},
          {"children", children}};
}

Json TbonOverlay::health() const {
  double now = monotime();
  Json children = Json::array();
  for (const auto& [rank, c] : children_) {
    std::string status = c->state == PeerState::Online ? c->subtree : peer_state_name(c->state);
    Json child = {{"rank", rank}, {"status", status}, {"duration", now - c->since}};
    if (!c->error.empty()) child["error"] = c->error;
    children.push_back(std::move(child));
  }
  std::string status = subtree_status();
  if (status != health_status_) {
    health_status_ = status;
    health_since_ = now;
  }
  return {{"rank", opts_.rank},
          {"status", status},
          {"duration", now - health_since_},
          {"children", children}};
}

}  // namespace flux::broker
