#include "handle.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <tuple>

#include "base64.hpp"
#include "module.hpp"

namespace flux {

struct RpcState {
  std::weak_ptr<HandleCore> core;
  Reactor* reactor = nullptr;
  uint32_t matchtag = kMatchtagNone;
  bool streaming = false;
  bool done = false;
  std::deque<Message> queue;
  std::optional<Error> failure;
  std::coroutine_handle<> waiter;
  std::unique_ptr<Timer> timer;

  bool ready() const { return !queue.empty() || failure.has_value(); }
  void wake() {
    if (waiter) std::exchange(waiter, {}).resume();
  }
};

struct HandlerEntry {
  MsgType type;
  Route route;
};

struct MsgCounters {
  uint64_t request = 0, response = 0, event = 0, control = 0;
  void count(MsgType t) {
    switch (t) {
      case MsgType::Request:
        request++;
        break;
      case MsgType::Response:
        response++;
        break;
      case MsgType::Event:
        event++;
        break;
      case MsgType::Control:
        control++;
        break;
    }
  }
  Json json() const {
    return {{"request", request}, {"response", response}, {"event", event}, {"control", control}};
  }
};

class HandleCore : public std::enable_shared_from_this<HandleCore> {
 public:
  HandleCore(Reactor& r, std::unique_ptr<Connector> c) : reactor(r), conn(std::move(c)) {}

  // Credentials to put on what this handle sends (FLUX_HANDLE_USERID/ROLEMASK).
  std::optional<std::pair<uint32_t, uint32_t>> relabel;
  // FLUX_HANDLE_TRACE: each message sent and received, on stderr.
  bool trace = false;
  // A module's debug flags (NAME.debug, flux module debug).
  int debug_flags = 0;

  static void print_trace(const char* dir, const Message& m) {
    const char* type = m.type() == MsgType::Request    ? "request"
                       : m.type() == MsgType::Response ? "response"
                       : m.type() == MsgType::Event    ? "event"
                                                       : "control";
    std::fprintf(stderr, "%s %s %s\n", dir, type, m.topic().c_str());
  }

  void start() {
    std::weak_ptr<HandleCore> weak = shared_from_this();
    conn->start(
        [weak](Message&& m) {
          if (auto self = weak.lock()) self->dispatch(std::move(m));
        },
        [weak](const Error& e) {
          if (auto self = weak.lock()) self->lost(e);
        });
  }

  void send(Message&& m) {
    if (lost_error) return;
    if (relabel && m.type() != MsgType::Response && m.type() != MsgType::Control) {
      if (relabel->first != kUseridUnknown && m.userid() == kUseridUnknown)
        m.set_userid(relabel->first);
      if (relabel->second != role::kNone && m.rolemask() == role::kNone)
        m.set_rolemask(relabel->second);
    }
    tx.count(m.type());
    if (trace) print_trace("-->", m);
    conn->send(std::move(m));
  }

  Rpc rpc(Message req) {
    auto s = std::make_shared<RpcState>();
    s->core = weak_from_this();
    s->reactor = &reactor;
    s->streaming = req.has_flag(msgflag::kStreaming);
    if (lost_error) {
      s->failure = *lost_error;
      s->done = true;
      return Rpc(s);
    }
    if (req.has_flag(msgflag::kNoResponse)) {
      req.set_matchtag(kMatchtagNone);
      s->done = true;
      send(std::move(req));
      return Rpc(s);
    }
    do {
      if (++next_matchtag == kMatchtagNone) next_matchtag = 1;
    } while (pending.count(next_matchtag));
    s->matchtag = next_matchtag;
    req.set_matchtag(s->matchtag);
    pending.emplace(s->matchtag, s);
    send(std::move(req));
    return Rpc(s);
  }

  void finish(RpcState& s) {
    s.done = true;
    s.timer.reset();
    pending.erase(s.matchtag);
  }

  void dispatch(Message&& m) {
    rx.count(m.type());
    if (trace) print_trace("<--", m);
    if (m.type() == MsgType::Response) {
      // Responses without a matchtag (RFC 27's sched.alloc, exec start)
      // are matched by their payload, so they go to response handlers.
      if (m.matchtag() != kMatchtagNone) {
        auto it = pending.find(m.matchtag());
        if (it == pending.end()) return;  // late response to a finished RPC
        auto s = it->second;
        bool last = !s->streaming || m.errnum() != 0;
        s->queue.push_back(std::move(m));
        if (last) finish(*s);
        s->wake();
        return;
      }
    }
    for (const auto& h : handlers) {
      if (h->type == m.type() && topic_match(h->route.topic, m.topic())) {
        run(h, m);
        return;
      }
    }
    if (m.type() == MsgType::Request && !m.has_flag(msgflag::kNoResponse)) {
      respond_error(m, ENOSYS, "");
    }
  }

  // No handler's failure may escape into the reactor (it would end the
  // broker or module): a request gets it as an error response.
  // The entry is held (not the reference into handlers): a handler may
  // close its handle, and a coroutine handler outlives this call.
  void run(std::shared_ptr<const HandlerEntry> entry, const Message& m) {
    const Route& r = entry->route;
    bool request = m.type() == MsgType::Request;
    if (r.access == Access::kOwner && !(m.rolemask() & role::kOwner)) {
      if (request) respond_error(m, EPERM, "Request requires owner credentials");
      return;
    }
    try {
      switch (r.kind) {
        case Route::Kind::kSelf:
          r.self(m);
          break;
        case Route::Kind::kValue:
          respond_value(m, r.value(m));
          break;
        case Route::Kind::kTask:
        case Route::Kind::kSelfTask:
          spawn(run_task(weak_from_this(), std::move(entry), m));
          break;
      }
    } catch (...) {
      auto [errnum, errstr] = error_of(std::current_exception());
      if (request)
        respond_error(m, errnum, errstr);
      else
        std::fprintf(stderr, "flux: %s handler failed: %s\n", std::string(m.topic()).c_str(),
                     errstr.c_str());
    }
  }

  // A handler's value: the one response; a streaming request (RFC 6) also
  // gets the ENODATA that ends its stream, so stream readers finish.
  void respond_value(const Message& req, const Json& payload) {
    respond(req, payload);
    if (req.has_flag(msgflag::kStreaming)) respond_error(req, ENODATA, "");
  }

  void respond(const Message& req, const Json& payload) {
    if (req.has_flag(msgflag::kNoResponse)) return;
    Message r = Message::response_to(req);
    if (!payload.is_null()) r.set_json(payload);
    send(std::move(r));
  }

  // The coroutine kinds run detached, each with its own copy of the
  // request; a kTask's value is the response, a kSelfTask answers itself.
  static Task<void> run_task(std::weak_ptr<HandleCore> weak,
                             std::shared_ptr<const HandlerEntry> entry, Message req) {
    const Route& r = entry->route;
    try {
      if (r.kind == Route::Kind::kSelfTask) {
        co_await r.self_task(req);
      } else {
        Json result = co_await r.task(req);
        if (auto core = weak.lock()) core->respond_value(req, result);
      }
    } catch (...) {
      if (auto core = weak.lock()) core->respond_error_of(req, std::current_exception());
    }
  }
  void respond_error_of(const Message& req, std::exception_ptr ep) {
    auto [errnum, errstr] = error_of(ep);
    respond_error(req, errnum, errstr);
  }

  void respond_error(const Message& req, int errnum, const std::string& errstr) {
    if (req.has_flag(msgflag::kNoResponse)) return;
    Message r = Message::response_to(req);
    r.set_errnum(errnum);
    if (!errstr.empty()) r.set_payload(errstr + '\0');
    send(std::move(r));
  }

  void lost(const Error& e) {
    if (lost_error) return;
    lost_error = e;
    auto all = std::move(pending);
    pending.clear();
    for (auto& [tag, s] : all) {
      s->failure = e;
      s->done = true;
      s->timer.reset();
    }
    for (auto& [tag, s] : all) s->wake();
    if (on_lost) on_lost(e);
  }

  Reactor& reactor;
  std::unique_ptr<Connector> conn;
  uint32_t next_matchtag = 0;
  std::map<uint32_t, std::shared_ptr<RpcState>> pending;
  std::vector<std::shared_ptr<const HandlerEntry>> handlers;
  std::optional<Error> lost_error;
  std::function<void(const Error&)> on_lost;
  MsgCounters tx, rx;
  bool ready_deferred = false;
};

// --- Rpc -------------------------------------------------------------------

namespace {

std::optional<Message> take(RpcState& s, bool stream_end_ok) {
  if (!s.queue.empty()) {
    Message m = std::move(s.queue.front());
    s.queue.pop_front();
    if (m.errnum() != 0) {
      if (stream_end_ok && m.errnum() == ENODATA) return std::nullopt;
      throw FluxError(m.errnum(), m.error_string());
    }
    return m;
  }
  if (s.failure) throw FluxError(*s.failure);
  throw FluxError(EINVAL, "no response pending");
}

void wait_blocking(RpcState& s) {
  while (!s.ready()) {
    if (s.done) throw FluxError(ENODATA, "no more responses");
    if (!s.reactor->run_one()) throw FluxError(ECONNRESET, "connection to broker lost");
  }
}

}  // namespace

Message Rpc::get() {
  wait_blocking(*s_);
  return *take(*s_, false);
}

std::optional<Message> Rpc::next() {
  wait_blocking(*s_);
  return take(*s_, true);
}

Rpc& Rpc::timeout(double seconds) {
  if (s_->done) return *this;
  std::weak_ptr<RpcState> weak = s_;
  s_->timer = s_->reactor->after(seconds, [weak] {
    auto s = weak.lock();
    if (!s || s->done || s->ready()) return;
    s->failure = Error{ETIMEDOUT, "Connection timed out"};
    if (auto core = s->core.lock()) core->finish(*s);
    s->wake();
  });
  return *this;
}

uint32_t Rpc::matchtag() const {
  return s_->matchtag;
}

bool Rpc::ready() const {
  return s_->ready() || s_->done;
}
bool Rpc::ReadyAwaiter::await_ready() const {
  return s->ready() || s->done;
}
void Rpc::ReadyAwaiter::await_suspend(std::coroutine_handle<> h) {
  s->waiter = h;
}

bool Rpc::Awaiter::await_ready() const {
  return s->ready();
}
void Rpc::Awaiter::await_suspend(std::coroutine_handle<> h) {
  s->waiter = h;
}
std::optional<Message> Rpc::Awaiter::await_resume() {
  return take(*s, stream_end_ok);
}

// --- Handle ----------------------------------------------------------------

std::unique_ptr<Handle> Handle::open(const std::string& uri) {
  std::string u = uri;
  if (u.empty()) {
    const char* env = std::getenv("FLUX_URI");
    if (!env || !*env)
      throw FluxError(EINVAL, "FLUX_URI is not set; run inside an instance (flux start)");
    u = env;
  }
  auto reactor = std::make_unique<Reactor>();
  auto conn = connect_uri(*reactor, u);
  if (!conn) throw FluxError(conn.error());
  auto h = std::make_unique<Handle>(*reactor, std::move(*conn));
  h->owned_reactor_ = std::move(reactor);
  // FLUX_HANDLE_USERID / FLUX_HANDLE_ROLEMASK (flux-core's, for tests): the
  // owner's requests speak as another user or role. The broker honours
  // them only from the owner's connections.
  const char* uid = std::getenv("FLUX_HANDLE_USERID");
  const char* roles = std::getenv("FLUX_HANDLE_ROLEMASK");
  if ((uid && *uid) || (roles && *roles))
    h->core_->relabel = std::pair<uint32_t, uint32_t>{
        uid && *uid ? static_cast<uint32_t>(std::strtoul(uid, nullptr, 0)) : kUseridUnknown,
        roles && *roles ? static_cast<uint32_t>(std::strtoul(roles, nullptr, 0)) : role::kNone};
  if (const char* t = std::getenv("FLUX_HANDLE_TRACE"); t && *t && std::string(t) != "0")
    h->core_->trace = true;
  return h;
}

Handle::Handle(Reactor& r, std::unique_ptr<Connector> c)
    : core_(std::make_shared<HandleCore>(r, std::move(c))) {
  core_->start();
}

Handle::~Handle() {
  // Pending coroutines are abandoned with the connection.
  core_->handlers.clear();
  core_.reset();
}

Reactor& Handle::reactor() {
  return core_->reactor;
}

Rpc Handle::rpc(std::string topic, const Json& payload, uint32_t nodeid, uint8_t flags) {
  Message m = Message::request(std::move(topic), nodeid);
  if (!payload.is_null()) m.set_json(payload);
  m.set_flag(flags);
  return core_->rpc(std::move(m));
}

Rpc Handle::rpc_raw(std::string topic, std::string payload, uint32_t nodeid, uint8_t flags) {
  Message m = Message::request(std::move(topic), nodeid);
  m.set_payload(std::move(payload));
  m.set_flag(flags);
  return core_->rpc(std::move(m));
}

Rpc Handle::rpc_message(Message req) {
  return core_->rpc(std::move(req));
}

void Handle::send(Message m) {
  core_->send(std::move(m));
}

void Handle::respond(const Message& req, const Json& payload) {
  core_->respond(req, payload);
}

void Handle::respond_raw(const Message& req, std::string payload) {
  if (req.has_flag(msgflag::kNoResponse)) return;
  Message r = Message::response_to(req);
  r.set_payload(std::move(payload));
  core_->send(std::move(r));
}

void Handle::respond_error(const Message& req, int errnum, const std::string& errstr) {
  core_->respond_error(req, errnum, errstr);
}

void Handle::serve(std::vector<Route> routes) {
  for (auto& r : routes) {
    // A later row for the same topic replaces the earlier one, so that a
    // module may serve its own NAME.stats-get instead of the default.
    std::erase_if(core_->handlers, [&](const auto& h) {
      return h->type == MsgType::Request && h->route.topic == r.topic;
    });
    core_->handlers.push_back(
        std::make_shared<const HandlerEntry>(HandlerEntry{MsgType::Request, std::move(r)}));
  }
}

void Handle::on_event(std::string topic_glob, MessageHandler fn, Access from) {
  core_->handlers.push_back(std::make_shared<const HandlerEntry>(
      HandlerEntry{MsgType::Event, Route(std::move(topic_glob), from, std::move(fn))}));
}

void Handle::on_response(std::string topic_glob, MessageHandler fn) {
  core_->handlers.push_back(std::make_shared<const HandlerEntry>(
      HandlerEntry{MsgType::Response, Route(std::move(topic_glob), Access::kUser, std::move(fn))}));
}

std::vector<std::pair<std::string, Access>> Handle::routes() const {
  std::vector<std::pair<std::string, Access>> out;
  for (const auto& h : core_->handlers)
    if (h->type == MsgType::Request) out.emplace_back(h->route.topic, h->route.access);
  return out;
}

// The one place an exception from a handler becomes errnum and text.
std::pair<int, std::string> error_of(std::exception_ptr ep) {
  try {
    std::rethrow_exception(ep);
  } catch (const FluxError& e) {
    return {e.errnum(), e.what()};
  } catch (const Json::exception& e) {
    return {EPROTO, std::string("malformed request: ") + e.what()};
  } catch (const std::bad_alloc&) {
    return {ENOMEM, "out of memory"};
  } catch (const std::exception& e) {
    return {EINVAL, e.what()};
  }
}

Rpc Handle::subscribe(const std::string& prefix) {
  return rpc("local.sub", {{"topic", prefix}});
}

Rpc Handle::unsubscribe(const std::string& prefix) {
  return rpc("local.unsub", {{"topic", prefix}});
}

Rpc Handle::publish(const std::string& topic, const Json& payload, bool private_) {
  Json req = {{"topic", topic}, {"flags", private_ ? msgflag::kPrivate : 0}};
  if (!payload.is_null()) {
    std::string bytes = payload.dump();
    bytes.push_back('\0');
    req["payload"] = base64_encode(bytes);
  }
  return rpc("event.pub", req);
}

Rpc Handle::service_add(const std::string& name) {
  return rpc("service.add", {{"service", name}});
}

bool Handle::ready_deferred() const {
  return core_->ready_deferred;
}
void Handle::set_ready_deferred(bool on) {
  core_->ready_deferred = on;
}

void module_defer_ready(Handle& h) {
  h.set_ready_deferred(true);
}

void module_ready(Handle& h) {
  h.rpc("module.status", {{"status", 1}}, kNodeidAny, msgflag::kNoResponse);
}

void module_failed(Handle& h, int errnum) {
  h.rpc("module.status", {{"status", 3}, {"errnum", errnum}}, kNodeidAny, msgflag::kNoResponse);
}

void Handle::on_lost(std::function<void(const Error&)> fn) {
  core_->on_lost = std::move(fn);
}

int Handle::debug_flags() const {
  return core_->debug_flags;
}

void Handle::add_module_services(const std::string& name, const std::string& uuid, uint32_t rank) {
  std::string hop = uuid.substr(0, 8);
  std::weak_ptr<HandleCore> weak = core_;
  // Access as flux-core's default methods: ping and stats-get for anyone.
  serve({
      {name + ".ping", Access::kUser,
       [hop, rank](const Message& m) {
         Json r = m.json().value();
         r["route"] = route_string(m) + "!" + hop;
         r["userid"] = m.userid();
         r["rolemask"] = m.rolemask();
         r["rank"] = rank;
         return r;
       }},
      {name + ".stats-get", Access::kUser,
       [weak](const Message&) -> Json {
         auto core = weak.lock();
         return {{"tx", core->tx.json()}, {"rx", core->rx.json()}};
       }},
      // Ours: the request topics this handle serves, for the live fuzzer.
      {name + ".routes", Access::kOwner,
       [weak](const Message&) -> Json {
         Json rows = Json::array();
         for (const auto& h : weak.lock()->handlers)
           if (h->type == MsgType::Request)
             rows.push_back({{"topic", h->route.topic},
                             {"access", h->route.access == Access::kOwner ? "owner" : "user"}});
         return {{"routes", rows}};
       }},
      // flux module debug: {"op":"set"|"clr"|"setbit"|"clrbit","flags":N}.
      {name + ".debug", Access::kOwner,
       [weak](const Message& m) -> Json {
         auto core = weak.lock();
         Json req = m.json().value();
         std::string op = req.at("op").get<std::string>();
         int flags = req.at("flags").get<int>();
         int& f = core->debug_flags;
         if (op == "set")
           f = flags;
         else if (op == "clr")
           f = 0;
         else if (op == "setbit")
           f |= flags;
         else if (op == "clrbit")
           f &= ~flags;
         else
           throw FluxError(EPROTO, "unknown debug op '" + op + "'");
         return {{"flags", f}};
       }},
      {name + ".stats-clear", Access::kOwner,
       [weak](const Message&) -> Json {
         auto core = weak.lock();
         core->tx = {};
         core->rx = {};
         return nullptr;
       }},
  });
}

std::string route_string(const Message& m) {
  std::string s;
  for (const auto& r : m.routes()) {
    if (!s.empty()) s += '!';
    s.append(r, 0, 8);
  }
  return s;
}

bool topic_match(std::string_view glob, std::string_view topic) {
  // Iterative '*' matching with backtracking to the last star.
  size_t g = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < topic.size()) {
    if (g < glob.size() && (glob[g] == '?' || glob[g] == topic[t])) {
      g++;
      t++;
    } else if (g < glob.size() && glob[g] == '*') {
      star = g++;
      mark = t;
    } else if (star != std::string_view::npos) {
      g = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (g < glob.size() && glob[g] == '*') g++;
  return g == glob.size();
}

}  // namespace flux
