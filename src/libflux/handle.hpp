// Handle: a connection to a broker. Tools, broker modules and the broker's
// own services all use this one API: RPCs (awaitable or blocking), responses,
// message handlers matched by topic glob, event subscription and publishing.
#pragma once

#include <coroutine>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connector.hpp"
#include "json.hpp"
#include "message.hpp"
#include "reactor.hpp"
#include "result.hpp"
#include "task.hpp"

namespace flux {

class HandleCore;
struct RpcState;

// The errnum and text an exception from a request handler is answered with
// (FluxError as it says, malformed JSON EPROTO, anything else EINVAL).
std::pair<int, std::string> error_of(std::exception_ptr ep);

// The pending result of an RPC: one response, or a stream of them (RFC 6:
// a streaming RPC ends with an ENODATA error response).
class Rpc {
 public:
  explicit Rpc(std::shared_ptr<RpcState> s) : s_(std::move(s)) {}

  // Blocking: wait for the next response (running the handle's reactor).
  // Throws FluxError on an error response, a timeout or a lost connection.
  Message get();
  Json get_json() { return get().json().value(); }
  // Blocking stream read: the next response, or nullopt at the end (ENODATA).
  std::optional<Message> next();
  // Fail with ETIMEDOUT if no response arrives within `seconds`.
  Rpc& timeout(double seconds);
  uint32_t matchtag() const;

  struct Awaiter {
    std::shared_ptr<RpcState> s;
    bool stream_end_ok;
    bool await_ready() const;
    void await_suspend(std::coroutine_handle<> h);
    std::optional<Message> await_resume();
  };
  // co_await rpc -> Message (throws FluxError like get()).
  struct MessageAwaiter : Awaiter {
    Message await_resume() { return *Awaiter::await_resume(); }
  };
  MessageAwaiter operator co_await() const { return MessageAwaiter{{s_, false}}; }
  // co_await rpc.next_async() -> optional<Message>, nullopt at end of stream.
  Awaiter next_async() const { return Awaiter{s_, true}; }

 private:
  std::shared_ptr<RpcState> s_;
};

class Handle {
 public:
  using MessageHandler = std::function<void(const Message&)>;
  // A request handler coroutine: its value is the response payload; a
  // FluxError it throws becomes an error response.
  using RequestHandler = std::function<Task<Json>(const Message&)>;

  // Open a tool's connection to the broker at `uri` (FLUX_URI if empty).
  static std::unique_ptr<Handle> open(const std::string& uri = "");
  // A handle over any connector, on a reactor owned by the caller.
  Handle(Reactor& r, std::unique_ptr<Connector> c);
  ~Handle();
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  Reactor& reactor();

  // RPC: send a request and get its Rpc. flags may add kStreaming,
  // kNoResponse or kUpstream.
  Rpc rpc(std::string topic, const Json& payload = Json::object(), uint32_t nodeid = kNodeidAny,
          uint8_t flags = 0);
  Rpc rpc_raw(std::string topic, std::string payload, uint32_t nodeid = kNodeidAny,
              uint8_t flags = 0);
  Rpc rpc_message(Message req);

  void send(Message m);
  void respond(const Message& req, const Json& payload);
  void respond_raw(const Message& req, std::string payload);
  void respond_error(const Message& req, int errnum, const std::string& errstr = "");

  // Message handlers, matched by type and topic glob; first match wins in
  // order of registration. Requests that match nothing get ENOSYS.
  int add_handler(MsgType type, std::string topic_glob, MessageHandler fn);
  // A request handler that answers by itself (now or later); an exception
  // it throws becomes the error response.
  int on_request(std::string topic_glob, MessageHandler fn);
  int serve(std::string topic_glob, RequestHandler fn);
  void remove_handler(int id);

  // Events: subscribe to a topic prefix; publish through the broker.
  Rpc subscribe(const std::string& prefix);
  Rpc unsubscribe(const std::string& prefix);
  Rpc publish(const std::string& topic, const Json& payload = nullptr, bool private_ = false);
  // Register an extra service name for this handle.
  Rpc service_add(const std::string& name);

  // Called when the connection to the broker is lost.
  void on_lost(std::function<void(const Error&)> fn);
  // Module readiness (see module.hpp).
  bool ready_deferred() const;
  void set_ready_deferred(bool on);
  // Answer NAME.ping and NAME.stats-get, as every module does.
  void add_module_services(const std::string& name, const std::string& uuid, uint32_t rank);

 private:
  std::unique_ptr<Reactor> owned_reactor_;  // declared first: outlives core_
  std::shared_ptr<HandleCore> core_;
};

// `a!b!c`: the route a request took, each hop shortened to 8 characters.
std::string route_string(const Message& m);
// Shell-style glob match ('*' and '?'), for topics.
bool topic_match(std::string_view glob, std::string_view topic);

}  // namespace flux
