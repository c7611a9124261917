// flux._core: the C++ handle for Python (pybind11). A thin layer: a Handle
// and its RPCs; the `flux` package builds flux-core's Python API on it.
// Blocking calls release the GIL; a FluxError becomes OSError(errno, text).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <unistd.h>

#include <cstring>

#include "libflux/handle.hpp"
#include "libflux/log_line.hpp"
#include "libflux/message.hpp"

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

// One RPC: its responses, read one at a time.
class PyRpc {
 public:
  PyRpc() = default;  // a request without response
  // The handle is kept with the RPC: a script may drop its Flux object
  // (flux.Flux().rpc(...).get()) before reading the answer.
  PyRpc(std::shared_ptr<Handle> h, Rpc rpc, bool streaming)
      : h_(std::move(h)), rpc_(std::move(rpc)), streaming_(streaming) {}
  // The next response's payload (bytes), or None at the end of a stream
  // (or for a request that has no response).
  py::object next() {
    if (!rpc_) return py::none();
    std::optional<Message> m;
    {
      py::gil_scoped_release unlocked;
      if (streaming_)
        m = rpc_->next();
      else
        m = rpc_->get();
    }
    if (!m) return py::none();
    return py::bytes(m->payload());
  }

 private:
  std::shared_ptr<Handle> h_;
  std::optional<Rpc> rpc_;
  bool streaming_ = false;
};

class PyHandle {
 public:
  explicit PyHandle(const std::string& uri) : h_(Handle::open(uri)) {}
  // Every use goes through here: a closed handle is an error, not a crash.
  Handle& handle() {
    if (!h_) throw FluxError(EINVAL, "the handle is closed");
    return *h_;
  }
  PyRpc rpc(const std::string& topic, py::object payload, uint32_t nodeid, int flags) {
    std::string body;
    if (!payload.is_none()) body = payload.cast<std::string>();
    Message m = Message::request(topic, nodeid);
    if (!body.empty()) m.set_payload(std::move(body));
    m.set_flag(message_flags(flags));
    if (flags & kRpcNoResponse) {
      handle().send(std::move(m));
      return PyRpc();
    }
    Rpc rpc = handle().rpc_message(std::move(m));
    return PyRpc(h_, std::move(rpc), flags & kRpcStreaming);
  }
  // An entry in the broker log (RFC 5424, as flux logger sends it).
  void log(int severity, const std::string& rank, const std::string& appname,
           const std::string& text) {
    std::string line = flux::format_log_line(severity, rank, appname, ::getpid(), text);
    Handle& h = handle();
    py::gil_scoped_release unlocked;
    h.rpc_raw("log.append", line).get();
  }
  void close() { h_.reset(); }

 private:
  std::shared_ptr<Handle> h_;
};

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "The C++ core of the flux package";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const FluxError& e) {
      std::string what = e.what();
      if (what.empty()) what = std::strerror(e.errnum());
      py::object err = py::module_::import("builtins").attr("OSError")(e.errnum(), what);
      PyErr_SetObject(PyExc_OSError, err.ptr());
    }
  });
  py::class_<PyRpc>(m, "Rpc").def("next", &PyRpc::next);
  py::class_<PyHandle>(m, "Handle")
      .def(py::init<const std::string&>(), py::arg("uri") = "")
      .def("rpc", &PyHandle::rpc, py::arg("topic"), py::arg("payload") = py::none(),
           py::arg("nodeid") = flux::kNodeidAny, py::arg("flags") = 0)
      .def("log", &PyHandle::log)
      .def("close", &PyHandle::close);
}
