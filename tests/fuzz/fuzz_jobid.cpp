// libFuzzer target for RFC 19 job ids (FLUIDs).
//
// Every input is
//   1. parsed as a job id; a refusal must be EINVAL "invalid jobid '...'",
//      an accepted id must encode in every encoding to text that parses
//      back to the same id (and parse(dec) must agree);
//   2. read as a 64-bit value (its first 8 bytes), which must round-trip
//      through every encoding, with F58 at most 11 digits and emoji at
//      most 7 symbols;
//   3. read as a script of clock movements (each byte a signed step in ms)
//      for a FluidGenerator, whose ids must strictly increase and keep
//      its generator id.
// Any mismatch calls abort() so libFuzzer records the input as a crash.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "libflux/jobid.hpp"

using flux::FluidGenerator;
using flux::JobId;
using flux::JobIdEncoding;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_jobid: %s\n", what);
  std::abort();
}

constexpr JobIdEncoding kAll[] = {
    JobIdEncoding::kDec,   JobIdEncoding::kHex, JobIdEncoding::kDothex,   JobIdEncoding::kKvs,
    JobIdEncoding::kWords, JobIdEncoding::kF58, JobIdEncoding::kF58Plain, JobIdEncoding::kEmoji};

void check_round_trip(uint64_t v) {
  for (auto enc : kAll) {
    std::string s = JobId{v}.encode(enc);
    auto back = JobId::parse(s);
    if (!back.ok()) fail("an encoding does not parse");
    if (back.value().value != v) fail("an encoding parses to another id");
  }
  if (JobId{v}.encode(JobIdEncoding::kF58Plain).size() > 1 + 11) fail("F58 too long");
  if (JobId{v}.encode(JobIdEncoding::kEmoji).size() > 4 * 7) fail("emoji too long");
}

void check_generator(const uint8_t* data, size_t size) {
  uint64_t now = 1u << 20;
  uint32_t gen_id =
      size > 0 ? (data[0] | (size > 1 ? data[1] << 8 : 0)) & FluidGenerator::kMaxId : 0;
  FluidGenerator gen(gen_id, size > 2 ? data[2] : 0, [&] { return now; });
  JobId last{0};
  bool first = true;
  for (size_t i = 0; i < size && i < 512; i++) {
    now += static_cast<uint64_t>(static_cast<int64_t>(static_cast<int8_t>(data[i])));
    // A zero byte asks for a burst within one millisecond.
    int n = data[i] == 0 ? 1500 : 1;
    for (int k = 0; k < n; k++) {
      auto id = gen.next();
      if (!id.ok()) fail("generator failed");
      if (id.value().generator_id() != gen_id) fail("generator id not kept");
      if (!first && !(id.value() > last)) fail("ids not strictly increasing");
      first = false;
      last = id.value();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto id = JobId::parse(text);
  if (id.ok()) {
    check_round_trip(id.value().value);
    auto dec = JobId::parse(id.value().encode(JobIdEncoding::kDec));
    if (!dec.ok() || dec.value() != id.value()) fail("dec does not agree");
  } else {
    if (id.error().errnum != EINVAL) fail("error is not EINVAL");
    if (id.error().message.rfind("invalid jobid '", 0) != 0) fail("unexpected error message");
  }

  uint64_t v = 0;
  std::memcpy(&v, data, size < sizeof v ? size : sizeof v);
  check_round_trip(v);

  check_generator(data, size);
  return 0;
}
