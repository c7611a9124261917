// Message encode/decode rates: the codec sits on every hop of every message.
#include <benchmark/benchmark.h>

#include "libflux/message.hpp"

using namespace flux;

static Message sample_request() {
  Message m = Message::request("kvs.lookup");
  m.set_json({{"key", "job.0000.0001.eventlog"}, {"flags", 0}, {"namespace", "primary"}});
  m.set_matchtag(42);
  m.set_userid(1000);
  m.set_rolemask(role::kOwner);
  m.push_route("0123456789abcdef0123456789abcdef0123");
  return m;
}

static void BM_MessageEncode(benchmark::State& state) {
  Message m = sample_request();
  std::string out;
  for (auto _ : state) {
    out.clear();
    m.frame_to(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MessageEncode);

static void BM_MessageDecode(benchmark::State& state) {
  std::string buf = sample_request().encode();
  for (auto _ : state) {
    auto r = Message::decode(buf);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MessageDecode);

static void BM_FrameStream(benchmark::State& state) {
  std::string stream;
  for (int i = 0; i < 64; i++) sample_request().frame_to(stream);
  for (auto _ : state) {
    FrameReader r;
    r.feed(stream.data(), stream.size());
    while (r.has_message()) benchmark::DoNotOptimize(r.next());
  }
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_FrameStream);

BENCHMARK_MAIN();
