// flux ping TARGET: round trips to SERVICE.ping, where TARGET is
// "service", "rank!service" or "rank" (= rank!broker).
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "cli.hpp"
#include "command.hpp"
#include "libflux/hostlist.hpp"

namespace flux::cmd {
namespace {

std::optional<std::string> attr_get(Handle& h, const std::string& name) {
  try {
    return h.rpc("attr.get", {{"name", name}}).get_json().at("value").get<std::string>();
  } catch (const FluxError&) {
    return std::nullopt;
  }
}

struct Target {
  uint32_t nodeid = kNodeidAny;
  bool upstream = false;
  std::string service;
  std::string header;  // "any!broker", "3!broker", "host!broker (rank 0)"
  std::string header_suffix;
};

// A nodeid: any, upstream, a hostname of the instance, or a rank. False
// when the word is none of these (it is then a service name).
bool parse_nodeid(Handle& h, const std::string& s, Target& t, std::string& shown) {
  if (s == "any") {
    t.nodeid = kNodeidAny;
    shown = "any";
    return true;
  }
  if (s == "upstream") {
    t.upstream = true;
    shown = "upstream";
    return true;
  }
  if (auto hosts = attr_get(h, "hostlist")) {
    if (auto hl = Hostlist::decode(*hosts)) {
      auto i = hl.value().find(s);
      if (i >= 0) {
        t.nodeid = static_cast<uint32_t>(i);
        shown = s;
        t.header_suffix = " (rank " + std::to_string(i) + ")";
        return true;
      }
    }
  }
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 10)
    return false;
  unsigned long v = std::stoul(s);
  if (v >= kNodeidUpstream) return false;
  t.nodeid = static_cast<uint32_t>(v);
  shown = s;
  return true;
}

Target parse_target(Handle& h, const std::string& text, const std::string& rank_opt) {
  Target t;
  std::string shown = "any";
  size_t bang = text.find('!');
  if (bang != std::string::npos) {
    if (!rank_opt.empty())
      throw FluxError(EINVAL, "--rank and TARGET both try to specify a nodeid");
    if (!parse_nodeid(h, text.substr(0, bang), t, shown))
      throw FluxError(EINVAL, "invalid nodeid/host: '" + text.substr(0, bang) + "'");
    t.service = text.substr(bang + 1);
  } else if (rank_opt.empty() && parse_nodeid(h, text, t, shown)) {
    t.service = "broker";
  } else {
    t.service = text;
    if (!rank_opt.empty() && !parse_nodeid(h, rank_opt, t, shown))
      throw FluxError(EINVAL, "invalid nodeid/host: '" + rank_opt + "'");
  }
  if (t.service.empty()) throw FluxError(EINVAL, "missing service name in '" + text + "'");
  t.header = shown + "!" + t.service + t.header_suffix;
  return t;
}

}  // namespace

int cmd_ping(int argc, char** argv) {
  CLI::App app{"Send SERVICE.ping requests and print each round trip."};
  std::string target_str, rank_opt, pad_str = "0";
  int count = 0;
  double interval = 1.0;
  bool batch = false, userid = false;
  app.add_option("TARGET", target_str, "service, rank!service, host!service, rank or host")
      ->required();
  app.add_option("-r,--rank", rank_opt, "Find TARGET on this broker (a rank, any or upstream)");
  app.add_option("-c,--count", count, "Stop after N replies (0: forever)");
  app.add_option("-i,--interval", interval, "Seconds between requests (default 1)");
  app.add_option("-p,--pad", pad_str, "Pad each request with N bytes (k, M, G multiply)");
  app.add_flag("-b,--batch", batch, "Send all requests at once, then wait");
  app.add_flag("-u,--userid", userid, "Show the userid and rolemask of each reply");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  if (batch && count <= 0) throw FluxError(EINVAL, "--batch should only be used with --count");
  if (count < 0 || interval < 0) throw FluxError(EINVAL, "negative values are not allowed");
  size_t pad = parse_size_suffix("--pad", pad_str, 1024.0 * 1024 * 1024);
  auto h = open_instance();
  Target t = parse_target(*h, target_str, rank_opt);
  std::string topic = t.service + ".ping";
  std::string padding(pad, 'p');
  // Upstream: from this broker's rank, to the first broker above it that
  // has the service.
  uint8_t flags = 0;
  if (t.upstream) {
    t.nodeid = static_cast<uint32_t>(std::stoul(attr_get(*h, "rank").value_or("0")));
    flags = msgflag::kUpstream;
  }
  std::string prefix = t.upstream               ? "upstream!"
                       : t.nodeid == kNodeidAny ? ""
                                                : std::to_string(t.nodeid) + "!";
  std::printf("flux-ping %s\n", t.header.c_str());
  std::fflush(stdout);

  auto send = [&](int seq) {
    auto now = std::chrono::steady_clock::now().time_since_epoch();
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
    Json req = {{"seq", seq},
                {"time.tv_sec", ns / 1000000000},
                {"time.tv_nsec", ns % 1000000000},
                {"pad", padding}};
    return std::make_pair(h->rpc(topic, req, t.nodeid, flags), monotime());
  };
  auto report = [&](Rpc& rpc, double t0) {
    Json r;
    try {
      r = rpc.get_json();
    } catch (const FluxError& e) {
      // As flux-core's ping: the errno's text, not the responder's message.
      throw FluxError(e.errnum(), prefix + topic + ": " + std::strerror(e.errnum()));
    }
    double ms = (monotime() - t0) * 1000.0;
    if (r.value("pad", std::string()) != padding)
      throw FluxError(EPROTO, prefix + topic + ": padding contents invalid");
    std::string who;
    if (userid)
      who =
          fmt::format(" userid={} rolemask=0x{:x}", r.value("userid", 0u), r.value("rolemask", 0u));
    // The reply says which broker answered.
    std::string from = r.contains("rank") ? std::to_string(r.value("rank", 0u)) + "!" : prefix;
    std::printf("%s%s pad=%zu%s seq=%d time=%0.3f ms (%s)\n", from.c_str(), topic.c_str(), pad,
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
