// event.fanout for make bench: how long an event takes to reach every rank.
// Run on rank 0 of an instance:
//   bench_event drive ROUNDS
// starts `flux exec -r all bench_event sub ROUNDS` (one subscriber per rank),
// waits until each has said it is subscribed (a bench.ready event), then
// for each round publishes bench.go and waits for every rank's bench.ack.
// Prints the median round time in ms: publish -> seen on all ranks -> their
// acks back at rank 0 (one fan-out and one fan-in through rank 0).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "libflux/handle.hpp"

using namespace flux;

namespace {

void pump_until(Handle& h, const std::function<bool()>& done, double timeout) {
  double deadline = monotime() + timeout;
  auto timer = h.reactor().after(timeout, [] {});
  while (!done()) {
    if (monotime() > deadline) {
      std::fprintf(stderr, "bench_event: timed out\n");
      std::exit(1);
    }
    h.reactor().run_one();
  }
}

int subscriber(int rounds) {
  auto h = Handle::open();
  int seen = 0;
  h->on_event("bench.go", [&](const Message& m) {
    seen++;
    h->publish("bench.ack", m.json().value());
  });
  h->subscribe("bench.go").get();
  h->publish("bench.ready").get();
  pump_until(
      *h, [&] { return seen >= rounds; }, 120);
  return 0;
}

int driver(int rounds, const char* self) {
  auto h = Handle::open();
  int size =
      std::stoi(h->rpc("attr.get", {{"name", "size"}}).get_json().at("value").get<std::string>());
  int ready = 0, acks = 0, round = -1;
  h->on_event("bench.ready", [&](const Message&) { ready++; });
  h->on_event("bench.ack", [&](const Message& m) {
    if (m.json().value().value("round", -2) == round) acks++;
  });
  h->subscribe("bench.ready").get();
  h->subscribe("bench.ack").get();
  std::string cmd =
      "flux exec -r all " + std::string(self) + " sub " + std::to_string(rounds) + " &";
  if (std::system(cmd.c_str()) != 0) return 1;
  pump_until(
      *h, [&] { return ready >= size; }, 120);
  std::vector<double> times;
  for (round = 0; round < rounds; round++) {
    acks = 0;
    double t0 = monotime();
    h->publish("bench.go", {{"round", round}});
    pump_until(
        *h, [&] { return acks >= size; }, 60);
    times.push_back((monotime() - t0) * 1000.0);
  }
  std::sort(times.begin(), times.end());
  std::printf("%.3f ms\n", times[times.size() / 2]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_event drive|sub ROUNDS\n");
    return 2;
  }
  std::string mode = argv[1];
  int rounds = std::atoi(argv[2]);
  if (mode == "sub") return subscriber(rounds);
  char self[4096] = {};
  if (readlink("/proc/self/exe", self, sizeof(self) - 1) < 0) return 1;
  return driver(rounds, self);
}
