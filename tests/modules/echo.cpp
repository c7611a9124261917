// echo: a test broker module for the integration tests.
//
//   echo.hello   request payload echoed back plus {"module":"echo","args":[argv...]}
//   echo.stream  {"count":N} -> N responses {"i":k}, then ENODATA
//   echo.sleep   {"seconds":S} -> {} after S seconds (a coroutine handler)
//   echo2.*      an extra service name registered with service.add; echo2.ping
//                and echo2.hello answer like their echo.* counterparts
//
// Arguments: "fail" makes mod_main return 1 at once (a failed load).
#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "libflux/module.hpp"

namespace {

std::vector<std::string> g_args;

flux::Task<flux::Json> sleep_handler(flux::Handle* h, flux::Message req) {
  flux::Json in = req.json().value();
  double seconds = in.value("seconds", 0.0);
  if (seconds < 0) throw flux::FluxError(EINVAL, "seconds must be >= 0");
  co_await h->reactor().sleep(seconds);
  co_return flux::Json::object();
}

flux::Task<void> register_echo2(flux::Handle* h) {
  try {
    co_await h->service_add("echo2");
  } catch (const flux::FluxError& e) {
    std::fprintf(stderr, "echo: service.add echo2: %s\n", e.what());
  }
}

void hello(flux::Handle* h, const flux::Message& m) {
  auto req = m.json();
  if (!req) return h->respond_error(m, EPROTO, req.error().message);
  flux::Json r = *req;
  r["module"] = "echo";
  r["args"] = g_args;
  h->respond(m, r);
}

void ping(flux::Handle* h, const flux::Message& m) {
  auto req = m.json();
  if (!req) return h->respond_error(m, EPROTO, req.error().message);
  flux::Json r = *req;
  r["route"] = flux::route_string(m) + "!echo2";
  r["userid"] = m.userid();
  r["rolemask"] = m.rolemask();
  h->respond(m, r);
}

void stream(flux::Handle* h, const flux::Message& m) {
  if (!m.has_flag(flux::msgflag::kStreaming))
    return h->respond_error(m, EPROTO, "echo.stream requires the streaming flag");
  auto req = m.json();
  if (!req) return h->respond_error(m, EPROTO, req.error().message);
  long count = req->value("count", 0L);
  if (count < 0) return h->respond_error(m, EINVAL, "count must be >= 0");
  for (long k = 0; k < count; k++) h->respond(m, {{"i", k}});
  h->respond_error(m, ENODATA);
}

}  // namespace

extern "C" int mod_main(flux::Handle* h, int argc, char** argv) {
  g_args.clear();
  for (int i = 0; i < argc; i++) g_args.emplace_back(argv[i]);
  for (const auto& a : g_args)
    if (a == "fail") return 1;

  // Open to guests, so tests can see what a guest's request carries.
  using flux::Access;
  h->serve({
      {"echo.hello", Access::kUser, [h](const flux::Message& m) { hello(h, m); }},
      {"echo2.hello", Access::kUser, [h](const flux::Message& m) { hello(h, m); }},
      {"echo2.ping", Access::kUser, [h](const flux::Message& m) { ping(h, m); }},
      {"echo.stream", Access::kUser, [h](const flux::Message& m) { stream(h, m); }},
      {"echo.sleep", Access::kUser, [h](const flux::Message& m) { return sleep_handler(h, m); }},
      {"echo.owner-only", Access::kOwner,
       [](const flux::Message&) { return flux::Json::object(); }},
  });

  // service.add must not block here: its response arrives on the reactor.
  flux::spawn(register_echo2(h));

  h->reactor().run();
  return 0;
}
