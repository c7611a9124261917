// KVS and content-store workloads for make bench; run inside an instance.
//   bench_kvs commit N          N puts of distinct keys, one commit each
//   bench_kvs onekey N          N commits rewriting one key
//   bench_kvs parallel C N      C client threads, N commits each
//   bench_kvs batch N           one commit of N keys
//   bench_kvs lookup N          N lookups of one key (kvs cache)
//   bench_kvs store N SIZE      N content.store of SIZE-byte blobs (pipelined 64)
//   bench_kvs load N SIZE       N content.load of stored blobs
// Prints "<rate> <unit>" on stdout.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "libflux/blobref.hpp"
#include "libflux/handle.hpp"
#include "libflux/kvs.hpp"

using namespace flux;

// Returns the rates of the first and the last tenth of the commits, to show
// whether commits slow down as the directory grows.
static std::pair<double, double> commits(Handle& h, const std::string& prefix, int n,
                                         bool same_key = false) {
  int tenth = std::max(1, n / 10);
  double start = monotime(), first = 0, last_start = 0;
  for (int i = 0; i < n; i++) {
    if (i == n - tenth) last_start = monotime();
    kvs::Txn t;
    t.put(same_key ? prefix : prefix + std::to_string(i), "value-" + std::to_string(i));
    kvs::commit(h, t).get();
    if (i + 1 == tenth) first = tenth / (monotime() - start);
  }
  return {first, tenth / (monotime() - last_start)};
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_kvs MODE ARGS...\n");
    return 2;
  }
  std::string mode = argv[1];
  int n = std::atoi(argv[2]);
  auto h = Handle::open();
  double t0 = monotime();
  double count = n;
  const char* unit = "ops/s";
  std::string extra;
  if (mode == "commit") {
    auto [first, last] = commits(*h, "bench.commit.k", n);
    extra = " first-10%=" + std::to_string(static_cast<int>(first)) +
            " last-10%=" + std::to_string(static_cast<int>(last));
    unit = "commits/s";
  } else if (mode == "onekey") {
    auto [first, last] = commits(*h, "bench.onekey", n, true);
    extra = " first-10%=" + std::to_string(static_cast<int>(first)) +
            " last-10%=" + std::to_string(static_cast<int>(last));
    unit = "commits/s";
  } else if (mode == "parallel") {
    int clients = n;
    int each = std::atoi(argv[3]);
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; c++)
      threads.emplace_back([c, each] {
        auto hc = Handle::open();
        commits(*hc, "bench.parallel.c" + std::to_string(c) + ".k", each);
      });
    for (auto& t : threads) t.join();
    count = double(clients) * each;
    unit = "commits/s";
  } else if (mode == "batch") {
    kvs::Txn t;
    for (int i = 0; i < n; i++) t.put("bench.batch.k" + std::to_string(i), std::to_string(i));
    kvs::commit(*h, t).get();
    unit = "keys/s";
  } else if (mode == "lookup") {
    kvs::Txn t;
    t.put("bench.lookup.key", "some value");
    kvs::commit(*h, t).get();
    t0 = monotime();
    for (int i = 0; i < n; i++) kvs::lookup(*h, "bench.lookup.key").get();
    unit = "lookups/s";
  } else if (mode == "store" || mode == "load") {
    size_t size = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 4096;
    std::vector<std::string> digests;
    std::vector<Rpc> window;
    auto drain = [&](size_t keep) {
      while (window.size() > keep) {
        digests.emplace_back(window.front().get().payload());
        window.erase(window.begin());
      }
    };
    for (int i = 0; i < n; i++) {
      std::string blob(size, 'x');
      std::snprintf(blob.data(), size, "blob %d ", i);
      window.push_back(h->rpc_raw("content.store", std::move(blob)));
      drain(64);
    }
    drain(0);
    unit = "stores/s";
    if (mode == "load") {
      t0 = monotime();
      for (const auto& d : digests) {
        window.push_back(h->rpc_raw("content.load", d));
        if (window.size() > 64) {
          window.front().get();
          window.erase(window.begin());
        }
      }
      for (auto& r : window) r.get();
      unit = "loads/s";
    }
  } else {
    std::fprintf(stderr, "bench_kvs: unknown mode %s\n", mode.c_str());
    return 2;
  }
  double secs = monotime() - t0;
  std::printf("%.1f %s%s\n", count / secs, unit, extra.c_str());
  return 0;
}
