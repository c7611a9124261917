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
#include <type_traits>
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

  // Whether get()/next() would return at once: a response or the RPC's
  // failure is waiting, or no response ever will (a stream read to its end).
  bool ready() const;
  // co_await rpc.when_ready(): resume once ready(), taking nothing (for
  // callers that read the response themselves, e.g. Python's then()).
  struct ReadyAwaiter {
    std::shared_ptr<RpcState> s;
    bool await_ready() const;
    void await_suspend(std::coroutine_handle<> h);
    void await_resume() const noexcept {}
  };
  ReadyAwaiter when_ready() const { return ReadyAwaiter{s_}; }

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

// Who may reach a request handler. Owner only unless a service's table
// says otherwise, as in flux-core; a kUser handler checks per-object rights
// (own jobs, own namespaces) itself.
enum class Access : uint8_t { kOwner, kUser };

// One row of a service's handler table: requests whose topic matches the
// glob `topic` go to the handler when the sender's role allows (else EPERM).
// The handler is one of
//   Json(const Message&)           its value is the response payload;
//   Task<Json>(const Message&)     the same, as a coroutine;
//   void(const Message&)           it answers by itself, now or later;
//   Task<void>(const Message&)     the same, as a coroutine (it may keep m).
// Whatever it throws becomes the error response (error_of); nothing escapes.
struct Route {
  enum class Kind : uint8_t { kValue, kTask, kSelf, kSelfTask };

  template <class F>
  Route(std::string topic_glob, Access a, F fn) : topic(std::move(topic_glob)), access(a) {
    using R = std::invoke_result_t<F&, const Message&>;
    if constexpr (std::is_void_v<R>) {
      kind = Kind::kSelf;
      self = std::move(fn);
    } else if constexpr (std::is_same_v<R, Task<void>>) {
      kind = Kind::kSelfTask;
      self_task = std::move(fn);
    } else if constexpr (std::is_same_v<R, Task<Json>>) {
      kind = Kind::kTask;
      task = std::move(fn);
    } else {
      static_assert(std::is_convertible_v<R, Json>, "a handler returns Json, Task, or nothing");
      kind = Kind::kValue;
      value = std::move(fn);
    }
  }
  // A member function of `obj` as the handler.
  template <class C, class M>
  Route(std::string topic_glob, Access a, C* obj, M C::*fn)
      : Route(std::move(topic_glob), a, std::bind_front(fn, obj)) {}

  std::string topic;
  Access access;
  Kind kind;
  std::function<Json(const Message&)> value;
  std::function<Task<Json>(const Message&)> task;
  std::function<void(const Message&)> self;
  std::function<Task<void>(const Message&)> self_task;
};

class Handle {
 public:
  using MessageHandler = std::function<void(const Message&)>;

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

  // A service's handler table (see Route). Rows are matched in order,
  // first match wins, across calls; requests that match nothing get ENOSYS.
  void serve(std::vector<Route> routes);
  // Events (subscribed with subscribe()) by topic glob: by default only
  // those the owner (a broker, a module) published, as flux-core, so a
  // guest's event cannot pose as the instance's. A failure is logged.
  void on_event(std::string topic_glob, MessageHandler fn, Access from = Access::kOwner);
  // Responses that carry no matchtag (RFC 27's sched.alloc, exec start).
  void on_response(std::string topic_glob, MessageHandler fn);
  // The request topics served and who may send them (NAME.routes answers
  // the same for a module or the broker).
  std::vector<std::pair<std::string, Access>> routes() const;

  // Events: subscribe to a topic prefix; publish through the broker.
  Rpc subscribe(const std::string& prefix);
  Rpc unsubscribe(const std::string& prefix);
  Rpc publish(const std::string& topic, const Json& payload = nullptr, bool private_ = false);
  // Register an extra service name for this handle.
  Rpc service_add(const std::string& name);

  // The module's debug flags, as `flux module debug` set them.
  int debug_flags() const;

  // Called when the connection to the broker is lost.
  void on_lost(std::function<void(const Error&)> fn);
  // Module readiness (see module.hpp).
  bool ready_deferred() const;
  void set_ready_deferred(bool on);
  // Answer NAME.ping, NAME.stats-get and NAME.stats-clear, as every module
  // does, and NAME.routes (the table above, for the live fuzzer).
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
