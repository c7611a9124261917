// Job ids: RFC 19 FLUIDs (Flux Locally Unique IDs). FluidGenerator makes
// them; JobId parses and encodes every representation flux-core accepts
// (flux_job_id_parse / flux_job_id_encode, `flux job id`).
//
// A FLUID is [timestamp:40 | generator id:14 | sequence:10], the timestamp
// in milliseconds since the generator's epoch (RFC 19; flux-core's fluid.c
// uses the same split).
//
// Choices where RFC 19 and flux-core leave room:
//   - parse() ignores leading and trailing whitespace for every encoding
//     (RFC 19; flux-core only trims trailing whitespace of dec/hex).
//   - dothex groups must be 1-4 hex digits; hex needs 1-16 digits after a
//     lowercase "0x"; dec is digits only (no sign); values that do not fit
//     in 64 bits are refused (flux-core's F58 and emoji decoders wrap).
//   - words must be exactly six known mnemonicode words (any case,
//     separated by non-letters, as mnemonicode reads them); flux-core
//     silently ignores unknown words after the sixth.
//   - the F58 encoding always uses the "ƒ" prefix (flux-core falls back to
//     "f" in a non-UTF-8 locale); kF58Plain always uses "f".
//   - the words encoding lays the id out little-endian, as flux-core does
//     on every machine it runs on (mnemonicode encodes the id's bytes).
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "result.hpp"

namespace flux {

enum class JobIdEncoding {
  kDec,       // 6731191091817518
  kHex,       // 0x17e9fb8df16c2e
  kDothex,    // 0017.e9fb.8df1.6c2e
  kKvs,       // job.0017.e9fb.8df1.6c2e (the job's KVS directory)
  kWords,     // reform-remote-galileo--heart-package-academy
  kF58,       // ƒuZZybuNNy (U+0192 prefix)
  kF58Plain,  // fuZZybuNNy (ASCII prefix)
  kEmoji,     // 😃... (RFC 19 basemoji, base 576)
};

// The name `flux job id --to=NAME` uses: dec, hex, dothex, kvs, words, f58,
// f58plain, emoji.
std::string_view to_string(JobIdEncoding enc);

// The encoding named NAME (case-insensitive), or EINVAL "unknown jobid
// encoding 'NAME'".
Result<JobIdEncoding> parse_jobid_encoding(std::string_view name);

struct JobId {
  uint64_t value = 0;

  // Any representation: decimal, hex "0x..", dothex "xxxx.xxxx.xxxx.xxxx",
  // kvs "job.<dothex>" (any encoding after "job." is accepted, as in
  // flux-core), words "w-w-w--w-w-w", F58 "ƒ..." or "f...", emoji. The
  // encoding is chosen by RFC 19's rules ('.' → dothex, '-' → words, ƒ/f →
  // F58, F0 9F → emoji, 0x → hex, else decimal). Failure: EINVAL
  // "invalid jobid 'TEXT'".
  static Result<JobId> parse(std::string_view text);

  std::string encode(JobIdEncoding enc = JobIdEncoding::kF58) const;

  // The fields of a FLUID.
  uint64_t timestamp() const { return value >> 24; }
  uint32_t generator_id() const { return static_cast<uint32_t>((value >> 10) & 0x3fff); }
  uint32_t sequence() const { return static_cast<uint32_t>(value & 0x3ff); }

  friend auto operator<=>(const JobId&, const JobId&) = default;
};

// Makes FLUIDs: unique for a generator id, strictly increasing, even if the
// clock goes backwards (the last timestamp is kept) or more than 1024 ids
// are wanted in one millisecond (the timestamp is then advanced ahead of
// the clock; the clock catches up later).
class FluidGenerator {
 public:
  static constexpr int kTimestampBits = 40;
  static constexpr int kIdBits = 14;
  static constexpr int kSeqBits = 10;
  static constexpr uint32_t kMaxId = (1u << kIdBits) - 1;

  // Milliseconds from some fixed point; only differences are used.
  using Clock = std::function<uint64_t()>;

  // id: the generator id, 0..kMaxId. timestamp: the first timestamp to
  // use, in ms since the epoch; a restarted instance passes the timestamp
  // of the last id it issued plus one (see JobId::timestamp()), so that new
  // ids sort after old ones. Throws FluxError(EINVAL) if id > kMaxId or
  // timestamp does not fit in 40 bits. The default clock is
  // std::chrono::steady_clock.
  FluidGenerator(uint32_t id, uint64_t timestamp);
  FluidGenerator(uint32_t id, uint64_t timestamp, Clock clock);

  // The next id. EOVERFLOW once the 40-bit timestamp is exhausted (about
  // 34 years after the epoch).
  Result<JobId> next();

  // The current timestamp (after reading the clock): at least the
  // timestamp of every id issued so far, so a generator restarted with
  // timestamp() + 1 issues only larger ids.
  uint64_t timestamp();

  uint32_t id() const { return id_; }

 private:
  void update();

  uint32_t id_;
  uint64_t clock_zero_;  // clock reading at construction
  uint64_t offset_;      // the starting timestamp
  uint64_t timestamp_;   // timestamp of the last id (or the start)
  uint32_t seq_ = 0;     // next sequence number within timestamp_
  Clock clock_;
};

}  // namespace flux
