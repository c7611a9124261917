// flux ping TARGET: round trips to SERVICE.ping, where TARGET is
// "service", "rank!service" or "rank" (= rank!broker).
#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "cli.hpp"
#include "command.hpp"

namespace flux::cmd {
namespace {

struct Target {
  uint32_t nodeid = kNodeidAny;
  std::string service;
  std::string prefix;  // "3!" or "" for any
};

bool parse_rank(const std::string& s, uint32_t& out) {
  if (s == "any") {
    out = kNodeidAny;
    return true;
  }
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 10)
    return false;
  unsigned long v = std::stoul(s);
  if (v >= kNodeidUpstream) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

Target parse_target(const std::string& t) {
  Target out;
  size_t bang = t.find('!');
  if (bang != std::string::npos) {
    if (!parse_rank(t.substr(0, bang), out.nodeid))
      throw FluxError(EINVAL, "invalid nodeid/host: '" + t.substr(0, bang) + "'");
    out.service = t.substr(bang + 1);
  } else if (parse_rank(t, out.nodeid)) {
    out.service = "broker";
  } else {
    out.service = t;
  }
  if (out.service.empty()) throw FluxError(EINVAL, "missing service name in '" + t + "'");
  if (out.nodeid != kNodeidAny) out.prefix = std::to_string(out.nodeid) + "!";
  return out;
}

}  // namespace

int cmd_ping(int argc, char** argv) {
  CLI::App app{"Send SERVICE.ping requests and print each round trip."};
  std::string target_str;
  int count = 0, pad = 0;
  double interval = 1.0;
  bool batch = false, userid = false;
  app.add_option("target", target_str, "service, rank!service or rank")->required();
  app.add_option("-c,--count", count, "Stop after N replies (0: forever)");
  app.add_option("-i,--interval", interval, "Seconds between requests (default 1)");
  app.add_option("-p,--pad", pad, "Pad each request with N bytes");
  app.add_flag("-b,--batch", batch, "Send all requests at once, then wait");
  app.add_flag("-u,--userid", userid, "Show the userid and rolemask of each reply");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  if (batch && count <= 0) throw FluxError(EINVAL, "--batch should only be used with --count");
  if (pad < 0 || count < 0 || interval < 0)
    throw FluxError(EINVAL, "negative values are not allowed");
  Target t = parse_target(target_str);
  std::string topic = t.service + ".ping";
  std::string padding(static_cast<size_t>(pad), 'p');
  auto h = open_instance();

  std::printf("flux-ping %s!%s\n",
              t.nodeid == kNodeidAny ? "any" : std::to_string(t.nodeid).c_str(), t.service.c_str());
  std::fflush(stdout);

  auto send = [&](int seq) {
    auto now = std::chrono::steady_clock::now().time_since_epoch();
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
    Json req = {{"seq", seq},
                {"time.tv_sec", ns / 1000000000},
                {"time.tv_nsec", ns % 1000000000},
                {"pad", padding}};
    return std::make_pair(h->rpc(topic, req, t.nodeid), monotime());
  };
  auto report = [&](Rpc& rpc, double t0) {
    Json r;
    try {
      r = rpc.get_json();
    } catch (const FluxError& e) {
      throw FluxError(e.errnum(), t.prefix + topic + ": " + e.what());
    }
    double ms = (monotime() - t0) * 1000.0;
    if (r.value("pad", std::string()) != padding)
      throw FluxError(EPROTO, t.prefix + topic + ": padding contents invalid");
    std::string who;
    if (userid)
      who =
          fmt::format(" userid={} rolemask=0x{:x}", r.value("userid", 0u), r.value("rolemask", 0u));
    std::printf("%s%s pad=%d%s seq=%d time=%0.3f ms (%s)\n", t.prefix.c_str(), topic.c_str(), pad,
                who.c_str(), r.value("seq", -1), ms, r.value("route", std::string()).c_str());
    std::fflush(stdout);
  };

  if (batch) {
    std::vector<std::pair<Rpc, double>> all;
    for (int i = 0; i < count; i++) all.push_back(send(i));
    for (auto& [rpc, t0] : all) report(rpc, t0);
    return 0;
  }
  for (int seq = 0; count == 0 || seq < count; seq++) {
    if (seq > 0 && interval > 0)
      std::this_thread::sleep_for(std::chrono::duration<double>(interval));
    auto [rpc, t0] = send(seq);
    report(rpc, t0);
  }
  return 0;
}

}  // namespace flux::cmd
