// flux._core: the C++ handle for Python (pybind11). A thin layer: a Handle,
// its RPCs and messages, and the reactor's watchers (timer, fd, signal);
// the `flux` package builds flux-core's Python API on it.
//
// Threads and the GIL: blocking calls (run_one, a response's wait) release
// the GIL; a Python callback runs from the reactor with the GIL taken
// again. A callback's exception may not unwind through the reactor, so it
// is kept and raised by the run_one() (or wait) that ran it, as flux-core's
// reactor_run() raises it. A FluxError becomes OSError(errno, text).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <unistd.h>

#include <asio/posix/stream_descriptor.hpp>
#include <asio/signal_set.hpp>
#include <cstring>

#include "libflux/asio_reactor.hpp"
#include "libflux/handle.hpp"
#include "libflux/hostlist.hpp"
#include "libflux/idset.hpp"
#include "libflux/jobid.hpp"
#include "libflux/log_line.hpp"
#include "libflux/message.hpp"
#include "libflux/signed_request.hpp"
#include "libflux/task.hpp"

namespace py = pybind11;
using flux::FluxError;
using flux::Handle;
using flux::Message;
using flux::Rpc;

namespace {

// flux-core's rpc flags (FLUX_RPC_*) to message flags.
constexpr int kRpcNoResponse = 1;
constexpr int kRpcStreaming = 2;

uint8_t message_flags(int rpc_flags) {
  uint8_t f = 0;
  if (rpc_flags & kRpcNoResponse) f |= flux::msgflag::kNoResponse;
  if (rpc_flags & kRpcStreaming) f |= flux::msgflag::kStreaming;
  return f;
}

// What a handle's Python callbacks share: the handle, and the first
// exception a callback raised, waiting to be raised by run_one().
struct Shared {
  std::shared_ptr<Handle> h;
  std::optional<py::error_already_set> error;
  py::object on_message;  // the Python dispatcher of requests and events
  bool dispatching = false;

  void raise_pending() {
    if (error) {
      py::error_already_set e = std::move(*error);
      error.reset();
      throw e;
    }
  }
};

// A Python callable held by a watcher; the reactor reaches it through a
// weak_ptr, so a watcher Python dropped is simply not called.
struct Callback {
  py::object fn;
};

// Call back into Python from the reactor. The GIL is taken before the
// weak_ptrs are locked, so that the last references they may hold are
// dropped with the GIL held.
template <class... A>
void fire(const std::weak_ptr<Shared>& shared, const std::weak_ptr<Callback>& cb, A&&... args) {
  py::gil_scoped_acquire gil;
  auto s = shared.lock();
  auto c = cb.lock();
  if (!s || !c) return;
  try {
    c->fn(std::forward<A>(args)...);
  } catch (py::error_already_set& e) {
    if (!s->error) s->error = std::move(e);
  }
}

// Call back once into Python and drop the callable, with the GIL held.
void fire_once(const std::weak_ptr<Shared>& shared, std::shared_ptr<Callback> cb) {
  fire(shared, std::weak_ptr<Callback>(cb));
  py::gil_scoped_acquire gil;
  cb.reset();
}

flux::MsgType to_msg_type(int type) {
  switch (type) {
    case 1:
    case 2:
    case 4:
    case 8:
      return static_cast<flux::MsgType>(type);
    default:
      throw FluxError(EINVAL, "invalid message type " + std::to_string(type));
  }
}

class PyMessage {
 public:
  explicit PyMessage(Message m) : m_(std::move(m)) {}
  // A new message to fill in and send (flux-core's Message(type)).
  explicit PyMessage(int type) : m_(to_msg_type(type)) {}
  const Message& message() const { return m_; }
  void set_type(int type) { m_.set_type(to_msg_type(type)); }
  void set_topic(std::string topic) { m_.set_topic(std::move(topic)); }
  void set_payload(py::object data) {
    if (data.is_none()) {
      m_.clear_payload();
      return;
    }
    m_.set_payload(data.cast<std::string>());
  }
  void set_userid(uint32_t userid) { m_.set_userid(userid); }
  void set_rolemask(uint32_t rolemask) { m_.set_rolemask(rolemask); }
  int type() const { return static_cast<int>(m_.type()); }
  std::string topic() const { return m_.topic(); }
  py::object payload() const {
    if (!m_.has_payload() || m_.payload().empty()) return py::none();
    return py::bytes(m_.payload());
  }
  uint32_t userid() const { return m_.userid(); }
  uint32_t rolemask() const { return m_.rolemask(); }
  int errnum() const { return m_.type() == flux::MsgType::Response ? m_.errnum() : 0; }
  std::string errstr() const { return m_.error_string(); }
  uint32_t matchtag() const { return m_.matchtag(); }
  uint32_t nodeid() const { return m_.type() == flux::MsgType::Request ? m_.nodeid() : 0; }
  int flags() const { return m_.flags(); }

 private:
  Message m_;
};

// One RPC: its responses, read one at a time, blocking or by callback.
class PyRpc {
 public:
  explicit PyRpc(std::shared_ptr<Shared> s) : s_(std::move(s)) {}  // no response
  // The handle is kept with the RPC: a script may drop its Flux object
  // (flux.Flux().rpc(...).get()) before reading the answer.
  PyRpc(std::shared_ptr<Shared> s, Rpc rpc) : s_(std::move(s)), rpc_(std::move(rpc)) {}

  // The next response's payload (bytes), or None when it has none (or
  // the request has no response). An error response, the end of a stream
  // (ENODATA) among them, raises OSError.
  py::object next() {
    if (!rpc_) return py::none();
    std::optional<Message> m;
    try {
      py::gil_scoped_release unlocked;
      m = rpc_->get();
    } catch (const FluxError&) {
      s_->raise_pending();
      throw;
    }
    s_->raise_pending();
    if (!m->has_payload()) return py::none();
    return py::bytes(m->payload());
  }
  bool ready() const { return !rpc_ || rpc_->ready(); }
  uint32_t matchtag() const { return rpc_ ? rpc_->matchtag() : 0; }

  // Wait up to `seconds` for a response; whether one is ready.
  bool wait_for(double seconds) {
    if (ready()) return true;
    bool expired = false;
    {
      py::gil_scoped_release unlocked;
      flux::Reactor& r = s_->h->reactor();
      auto timer = r.after(seconds, [&expired] { expired = true; });
      while (!rpc_->ready() && !expired && !s_->error) {
        if (!r.run_one()) break;
      }
    }
    s_->raise_pending();
    return rpc_->ready();
  }

  // Call fn() once, when a response is ready (the caller reads it with
  // next()); Python arms it again for each response of a stream. Until
  // then fn is held by the waiting coroutine, not by this object: a
  // Python future holding its Rpc is then no reference cycle.
  void then(py::object fn) {
    auto cb = std::make_shared<Callback>(Callback{std::move(fn)});
    if (!rpc_ || rpc_->ready()) {
      // Called from the reactor, as always, never from inside then().
      s_->h->reactor().post(
          [w = std::weak_ptr<Shared>(s_), cb]() mutable { fire_once(w, std::move(cb)); });
      return;
    }
    flux::spawn(wait_then(*rpc_, s_, std::move(cb)));
  }

 private:
  static flux::Task<void> wait_then(Rpc rpc, std::weak_ptr<Shared> s,
                                    std::shared_ptr<Callback> cb) {
    co_await rpc.when_ready();
    // From the reactor, not from inside the response's dispatch: the
    // callback may itself wait for another RPC (a nested get()).
    if (auto shared = s.lock()) {
      shared->h->reactor().post([s, cb]() mutable { fire_once(s, std::move(cb)); });
      co_return;
    }
    fire_once(s, std::move(cb));
  }

  std::shared_ptr<Shared> s_;
  std::optional<Rpc> rpc_;
};

// A one-shot timer: fn() after `seconds`; stop() or dropping it cancels.
class PyTimer {
 public:
  PyTimer(std::shared_ptr<Shared> s, double seconds, py::object fn)
      : s_(std::move(s)), cb_(std::make_shared<Callback>(Callback{std::move(fn)})) {
    timer_ = s_->h->reactor().after(
        seconds, [w = std::weak_ptr<Shared>(s_), c = std::weak_ptr<Callback>(cb_)] { fire(w, c); });
  }
  void stop() { timer_.reset(); }

 private:
  std::shared_ptr<Shared> s_;
  std::shared_ptr<Callback> cb_;
  std::unique_ptr<flux::Timer> timer_;
};

// A one-shot wait for a file descriptor to be readable (1) and/or
// writable (2): fn(revents). The descriptor stays the caller's.
class PyFdWatch {
 public:
  PyFdWatch(std::shared_ptr<Shared> s, int fd, int events, py::object fn)
      : s_(std::move(s)),
        cb_(std::make_shared<Callback>(Callback{std::move(fn)})),
        sd_(flux::io_context(s_->h->reactor()), fd) {
    auto arm = [this](asio::posix::descriptor_base::wait_type type, int revents) {
      sd_.async_wait(type, [w = std::weak_ptr<Shared>(s_), c = std::weak_ptr<Callback>(cb_),
                            revents](const asio::error_code& ec) {
        if (ec == asio::error::operation_aborted) return;
        fire(w, c, ec ? 4 : revents);  // FLUX_POLLERR
      });
    };
    if (events & 1) arm(asio::posix::descriptor_base::wait_read, 1);
    if (events & 2) arm(asio::posix::descriptor_base::wait_write, 2);
  }
  ~PyFdWatch() { stop(); }
  void stop() {
    if (!sd_.is_open()) return;
    asio::error_code ec;
    sd_.cancel(ec);
    sd_.release();
  }

 private:
  std::shared_ptr<Shared> s_;
  std::shared_ptr<Callback> cb_;
  asio::posix::stream_descriptor sd_;
};

// A one-shot wait for a signal: fn(signum).
class PySignalWatch {
 public:
  PySignalWatch(std::shared_ptr<Shared> s, int signum, py::object fn)
      : s_(std::move(s)),
        cb_(std::make_shared<Callback>(Callback{std::move(fn)})),
        set_(flux::io_context(s_->h->reactor()), signum) {
    set_.async_wait([w = std::weak_ptr<Shared>(s_), c = std::weak_ptr<Callback>(cb_)](
                        const asio::error_code& ec, int sig) {
      if (!ec) fire(w, c, sig);
    });
  }
  void stop() {
    asio::error_code ec;
    set_.cancel(ec);
    set_.clear(ec);
  }

 private:
  std::shared_ptr<Shared> s_;
  std::shared_ptr<Callback> cb_;
  asio::signal_set set_;
};

class PyHandle {
 public:
  explicit PyHandle(const std::string& uri) : s_(std::make_shared<Shared>()) {
    s_->h = std::shared_ptr<Handle>(Handle::open(uri));
  }
  ~PyHandle() {
    if (s_) s_->on_message = py::object();
  }
  // Every use goes through here: a closed handle is an error, not a crash.
  Handle& handle() {
    if (!s_->h) throw FluxError(EINVAL, "the handle is closed");
    return *s_->h;
  }
  const std::shared_ptr<Shared>& shared() {
    handle();
    return s_;
  }

  PyRpc rpc(const std::string& topic, py::object payload, uint32_t nodeid, int flags) {
    std::string body;
    if (!payload.is_none()) body = payload.cast<std::string>();
    Message m = Message::request(topic, nodeid);
    if (!body.empty()) m.set_payload(std::move(body));
    m.set_flag(message_flags(flags));
    if (flags & kRpcNoResponse) {
      handle().send(std::move(m));
      return PyRpc(s_);
    }
    Rpc rpc = handle().rpc_message(std::move(m));
    return PyRpc(s_, std::move(rpc));
  }

  // Run at most one reactor handler, waiting for one; raise what a
  // callback it ran raised. False when the reactor has nothing to wait for.
  bool run_one() {
    Handle& h = handle();
    s_->raise_pending();
    bool ran;
    {
      py::gil_scoped_release unlocked;
      ran = h.reactor().run_one();
    }
    s_->raise_pending();
    return ran;
  }

  // Deliver requests, events and unmatched responses to fn(Message) from
  // now on (flux-core's message watchers are matched in Python).
  void set_message_callback(py::object fn) {
    Handle& h = handle();
    s_->on_message = std::move(fn);
    if (s_->dispatching) return;
    s_->dispatching = true;
    std::weak_ptr<Shared> w = s_;
    auto deliver = [w](const Message& m) {
      py::gil_scoped_acquire gil;
      auto s = w.lock();
      if (!s || !s->on_message) return;
      try {
        s->on_message(PyMessage(m));
      } catch (py::error_already_set& e) {
        if (!s->error) s->error = std::move(e);
      }
    };
    h.serve({flux::Route("*", flux::Access::kUser, deliver)});
    h.on_event("*", deliver, flux::Access::kUser);
    h.on_response("*", deliver);
  }

  void respond(const PyMessage& req, py::object payload) {
    std::string body;
    if (!payload.is_none()) body = payload.cast<std::string>();
    handle().respond_raw(req.message(), std::move(body));
  }
  // Send a message as it is (flux_send): a request gets no RPC, so its
  // response reaches the message callback.
  void send(const PyMessage& msg) { handle().send(Message(msg.message())); }
  void respond_error(const PyMessage& req, int errnum, const std::string& errstr) {
    handle().respond_error(req.message(), errnum, errstr);
  }

  // An entry in the broker log (RFC 5424, as flux logger sends it).
  void log(int severity, const std::string& rank, const std::string& appname,
           const std::string& text) {
    std::string line = flux::format_log_line(severity, rank, appname, ::getpid(), text);
    Handle& h = handle();
    {
      py::gil_scoped_release unlocked;
      h.rpc_raw("log.append", line).get();
    }
    s_->raise_pending();
  }
  void close() { s_->h.reset(); }

 private:
  std::shared_ptr<Shared> s_;
};

py::object to_oserror(int errnum, const std::string& text) {
  return py::module_::import("builtins").attr("OSError")(errnum, text);
}

template <class T>
T value_or_raise(flux::Result<T> r) {
  if (!r) throw FluxError(r.error().errnum, r.error().message);
  return std::move(*r);
}

void bind_hostlist(py::module_& m) {
  using flux::Hostlist;
  py::class_<Hostlist>(m, "Hostlist")
      .def(py::init<>())
      .def_static("decode",
                  [](const std::string& s) { return value_or_raise(Hostlist::decode(s)); })
      .def("encode", &Hostlist::encode)
      .def("__len__", &Hostlist::size)
      .def("nth", [](const Hostlist& h, size_t i) { return value_or_raise(h.nth(i)); })
      .def("find", [](const Hostlist& h, const std::string& s) { return h.find(s); })
      .def("append", [](Hostlist& h, const std::string& s) { return value_or_raise(h.append(s)); })
      .def("append_list", [](Hostlist& h, const Hostlist& o) { h.append(o); })
      .def("erase", &Hostlist::erase)
      .def("remove", [](Hostlist& h, const std::string& s) { return h.remove(s); })
      .def("clear", &Hostlist::clear)
      .def("sort", &Hostlist::sort)
      .def("uniq", &Hostlist::uniq)
      .def("expand", &Hostlist::expand)
      .def("copy", [](const Hostlist& h) { return Hostlist(h); })
      .def("__eq__", [](const Hostlist& a, const Hostlist& b) { return a == b; });
}

// flux-core's IDSET_FLAG_* encode flags and "no such id" value, which its
// Python IDset API exposes.
constexpr int kIdsetFlagBrackets = 2;
constexpr int kIdsetFlagRange = 4;
constexpr uint32_t kIdsetInvalidId = 0xfffffffe;

// Comma-separated ids without ranges (flux-core's encode without
// IDSET_FLAG_RANGE), brackets only around more than one id.
std::string encode_idset(const flux::Idset& ids, int flags) {
  if (flags & kIdsetFlagRange) return ids.encode(flags & kIdsetFlagBrackets);
  bool brackets = (flags & kIdsetFlagBrackets) && ids.count() > 1;
  std::string out = brackets ? "[" : "";
  for (const auto& r : ids.ranges()) {
    for (uint64_t id = r.lo; id <= r.hi; id++) {
      if (out.size() > (brackets ? 1U : 0U)) out += ',';
      out += std::to_string(id);
    }
  }
  if (brackets) out += ']';
  return out;
}

void bind_idset(py::module_& m) {
  using flux::Idset;
  m.attr("IDSET_FLAG_BRACKETS") = kIdsetFlagBrackets;
  m.attr("IDSET_FLAG_RANGE") = kIdsetFlagRange;
  m.attr("IDSET_INVALID_ID") = kIdsetInvalidId;
  auto or_invalid = [](std::optional<uint32_t> id) { return id.value_or(kIdsetInvalidId); };
  py::class_<Idset>(m, "Idset")
      .def(py::init<>())
      .def_static("decode",
                  [](const std::string& s) {
                    auto r = Idset::decode(s);
                    if (!r) throw py::value_error(r.error().message);
                    return std::move(*r);
                  })
      .def("encode", &encode_idset, py::arg("flags") = kIdsetFlagRange)
      .def("set", [](Idset& ids, uint32_t lo, uint32_t hi) { ids.insert(lo, hi); })
      .def("clear", [](Idset& ids, uint32_t lo, uint32_t hi) { ids.erase(lo, hi); })
      .def("test", &Idset::contains)
      .def("count", &Idset::count)
      .def("first", [=](const Idset& ids) { return or_invalid(ids.first()); })
      .def("last", [=](const Idset& ids) { return or_invalid(ids.last()); })
      .def("next", [=](const Idset& ids, uint32_t id) { return or_invalid(ids.next(id)); })
      .def("copy", [](const Idset& ids) { return Idset(ids); })
      .def("add", [](Idset& a, const Idset& b) { a |= b; })
      .def("subtract", [](Idset& a, const Idset& b) { a -= b; })
      .def("union", [](const Idset& a, const Idset& b) { return a | b; })
      .def("intersect", [](const Idset& a, const Idset& b) { return a & b; })
      .def("difference", [](const Idset& a, const Idset& b) { return a - b; })
      .def("__eq__", [](const Idset& a, const Idset& b) { return a == b; });
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "The C++ core of the flux package";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const FluxError& e) {
      std::string what = e.what();
      if (what.empty() || what == std::strerror(e.errnum())) {
        // No message of its own: flux-core's bindings then say
        // "ENOENT: No such file or directory".
        py::object names = py::module_::import("errno").attr("errorcode");
        py::object name = names.attr("get")(e.errnum(), "E?");
        what = name.cast<std::string>() + ": " + std::strerror(e.errnum());
      }
      py::object err = to_oserror(e.errnum(), what);
      PyErr_SetObject(PyExc_OSError, err.ptr());
    }
  });
  py::class_<PyMessage>(m, "Message")
      .def(py::init<int>())
      .def_property("type", &PyMessage::type, &PyMessage::set_type)
      .def_property("topic", &PyMessage::topic, &PyMessage::set_topic)
      .def_property("payload", &PyMessage::payload, &PyMessage::set_payload)
      .def_property("userid", &PyMessage::userid, &PyMessage::set_userid)
      .def_property("rolemask", &PyMessage::rolemask, &PyMessage::set_rolemask)
      .def("set_userid", &PyMessage::set_userid)
      .def("set_rolemask", &PyMessage::set_rolemask)
      .def_property_readonly("errnum", &PyMessage::errnum)
      .def_property_readonly("errstr", &PyMessage::errstr)
      .def_property_readonly("matchtag", &PyMessage::matchtag)
      .def_property_readonly("nodeid", &PyMessage::nodeid)
      .def_property_readonly("flags", &PyMessage::flags);
  py::class_<PyRpc>(m, "Rpc")
      .def("next", &PyRpc::next)
      .def("ready", &PyRpc::ready)
      .def("matchtag", &PyRpc::matchtag)
      .def("wait_for", &PyRpc::wait_for)
      .def("then", &PyRpc::then);
  py::class_<PyTimer>(m, "Timer").def("stop", &PyTimer::stop);
  py::class_<PyFdWatch>(m, "FdWatch").def("stop", &PyFdWatch::stop);
  py::class_<PySignalWatch>(m, "SignalWatch").def("stop", &PySignalWatch::stop);
  py::class_<PyHandle>(m, "Handle")
      .def(py::init<const std::string&>(), py::arg("uri") = "")
      .def("rpc", &PyHandle::rpc, py::arg("topic"), py::arg("payload") = py::none(),
           py::arg("nodeid") = flux::kNodeidAny, py::arg("flags") = 0)
      .def("run_one", &PyHandle::run_one)
      .def("set_message_callback", &PyHandle::set_message_callback)
      .def("respond", &PyHandle::respond)
      .def("respond_error", &PyHandle::respond_error)
      .def("send", &PyHandle::send)
      .def("timer", [](PyHandle& h, double seconds,
                       py::object fn) { return PyTimer(h.shared(), seconds, std::move(fn)); })
      .def("fd_watch",
           [](PyHandle& h, int fd, int events, py::object fn) {
             return std::make_unique<PyFdWatch>(h.shared(), fd, events, std::move(fn));
           })
      .def("signal_watch",
           [](PyHandle& h, int signum, py::object fn) {
             return std::make_unique<PySignalWatch>(h.shared(), signum, std::move(fn));
           })
      .def("log", &PyHandle::log)
      .def("close", &PyHandle::close);
  m.def("sign_none", [](const std::string& payload, uint32_t userid) {
    return flux::sign_none(payload, userid);
  });
  m.def("jobid_parse",
        [](const std::string& s) { return value_or_raise(flux::JobId::parse(s)).value; });
  m.def("jobid_encode", [](uint64_t id, const std::string& encoding) {
    return flux::JobId{id}.encode(value_or_raise(flux::parse_jobid_encoding(encoding)));
  });
  bind_hostlist(m);
  bind_idset(m);
}
