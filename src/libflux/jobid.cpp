// RFC 19 FLUIDs: the generator and every string encoding. See jobid.hpp
// for the choices made where RFC 19 and flux-core differ.
#include "jobid.hpp"

#include <cerrno>
#include <chrono>
#include <limits>
#include <optional>
#include <unordered_map>
#include <utility>

#include "jobid_tables.hpp"
#include "json_check.hpp"

namespace flux {
namespace {

using jobid_tables::kEmojiBase;
using jobid_tables::kEmojiCodePoints;
using jobid_tables::kMnemonicBase;
using jobid_tables::kMnemonicWords;

constexpr std::string_view kF58Alphabet =
    "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
constexpr std::string_view kF58Prefix = "\xc6\x92";  // U+0192 ƒ
constexpr std::string_view kKvsPrefix = "job.";
constexpr size_t kF58MaxDigits = 11;  // 58^11 > 2^64
constexpr size_t kEmojiMaxCount = 7;  // 576^7 > 2^64
constexpr size_t kShowMax = 64;

// ---- error text -------------------------------------------------------------

// The input as it may appear in an error message: valid UTF-8 is kept (so
// "ƒ..." reads as typed), control bytes and anything in invalid UTF-8 are
// escaped, and long inputs are cut.
std::string show(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  const bool utf8 = utf8_valid(s);
  std::string out;
  for (size_t i = 0; i < s.size() && i < kShowMax; i++) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c >= 0x20 && c < 0x7f && c != '\\') || (utf8 && c >= 0x80)) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (s.size() > kShowMax) out += "...";
  return out;
}

Error invalid(std::string_view text) {
  return Error{EINVAL, "invalid jobid '" + show(text) + "'"};
}

// ---- small helpers ----------------------------------------------------------

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// value * base + digit, or nullopt on overflow.
std::optional<uint64_t> push_digit(uint64_t value, uint64_t base, uint64_t digit) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  if (value > (kMax - digit) / base) return std::nullopt;
  return value * base + digit;
}

// ---- dec / hex / dothex -------------------------------------------------------

std::optional<uint64_t> decode_dec(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    auto next = push_digit(v, 10, static_cast<uint64_t>(c - '0'));
    if (!next) return std::nullopt;
    v = *next;
  }
  return v;
}

// Digits only (no prefix), at most max_digits of them.
std::optional<uint64_t> decode_hex_digits(std::string_view s, size_t max_digits) {
  if (s.empty() || s.size() > max_digits) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    int d = hex_digit(c);
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

std::optional<uint64_t> decode_hex(std::string_view s) {
  // Leading zeros are fine ("0x0000ff"); 16 significant digits at most.
  s.remove_prefix(2);
  size_t zeros = 0;
  while (zeros + 1 < s.size() && s[zeros] == '0') zeros++;
  if (s.empty()) return std::nullopt;
  return decode_hex_digits(s.substr(zeros), 16);
}

std::optional<uint64_t> decode_dothex(std::string_view s) {
  uint64_t v = 0;
  for (int group = 0; group < 4; group++) {
    size_t dot = s.find('.');
    if ((group < 3) != (dot != std::string_view::npos)) return std::nullopt;
    auto part = decode_hex_digits(s.substr(0, dot), 4);
    if (!part) return std::nullopt;
    v = (v << 16) | *part;
    s = group < 3 ? s.substr(dot + 1) : std::string_view{};
  }
  return v;
}

std::string encode_dothex(uint64_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int shift = 60; shift >= 0; shift -= 4) {
    out += kHex[(v >> shift) & 15];
    if (shift % 16 == 0 && shift > 0) out += '.';
  }
  return out;
}

std::string encode_hex(uint64_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string digits;
  do {
    digits.insert(digits.begin(), kHex[v & 15]);
    v >>= 4;
  } while (v != 0);
  return "0x" + digits;
}

// ---- F58 --------------------------------------------------------------------

int f58_digit(char c) {
  size_t pos = kF58Alphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

std::optional<uint64_t> decode_f58(std::string_view digits) {
  // Leading '1's are zeros; what follows must fit in 64 bits.
  if (digits.empty() || digits.size() > kF58MaxDigits + 1) return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) {
    int d = f58_digit(c);
    if (d < 0) return std::nullopt;
    auto next = push_digit(v, 58, static_cast<uint64_t>(d));
    if (!next) return std::nullopt;
    v = *next;
  }
  return v;
}

std::string encode_f58(uint64_t v, std::string_view prefix) {
  std::string digits;
  do {
    digits.insert(digits.begin(), kF58Alphabet[v % 58]);
    v /= 58;
  } while (v != 0);
  return std::string(prefix) + digits;
}

// ---- words (mnemonicode) ------------------------------------------------------

// Word → index in kMnemonicWords.
const std::unordered_map<std::string_view, int>& word_index() {
  static const auto* map = [] {
    auto* m = new std::unordered_map<std::string_view, int>;
    for (size_t i = 0; i < kMnemonicWords.size(); i++) {
      m->emplace(kMnemonicWords[i], static_cast<int>(i));
    }
    return m;
  }();
  return *map;
}

// Mnemonicode turns each 4-byte group (little-endian) of the id into three
// base-1626 digits, least significant first; a 64-bit id is two groups
// written "w-w-w--w-w-w".
std::string encode_words(uint64_t v) {
  std::string out;
  for (int group = 0; group < 2; group++) {
    uint64_t x = (v >> (32 * group)) & 0xffffffffu;
    if (group == 1) out += "--";
    for (int k = 0; k < 3; k++) {
      if (k > 0) out += '-';
      out += kMnemonicWords[x % kMnemonicBase];
      x /= kMnemonicBase;
    }
  }
  return out;
}

std::optional<uint64_t> decode_words(std::string_view s) {
  const auto& index = word_index();
  uint64_t digits[6];
  size_t n = 0;
  size_t i = 0;
  while (i < s.size()) {
    if (!is_letter(s[i])) {
      i++;
      continue;
    }
    size_t start = i;
    while (i < s.size() && is_letter(s[i])) i++;
    if (n == 6 || i - start > 7) return std::nullopt;
    char lower[7];
    for (size_t k = start; k < i; k++) {
      char c = s[k];
      lower[k - start] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    auto it = index.find(std::string_view(lower, i - start));
    // The remainder words only end an odd-length input; never in a FLUID.
    if (it == index.end() || it->second >= kMnemonicBase) return std::nullopt;
    digits[n++] = static_cast<uint64_t>(it->second);
  }
  if (n != 6) return std::nullopt;
  uint64_t v = 0;
  for (int group = 0; group < 2; group++) {
    const uint64_t* d = digits + 3 * group;
    uint64_t x = d[0] + d[1] * kMnemonicBase + d[2] * kMnemonicBase * kMnemonicBase;
    if (x > 0xffffffffu) return std::nullopt;  // ~0.09% of triples encode nothing
    v |= x << (32 * group);
  }
  return v;
}

// ---- emoji ------------------------------------------------------------------

// Every table emoji is U+1F000..U+1FFFF: F0 9F xx xx in UTF-8.
std::string utf8_of(char32_t cp) {
  std::string out(4, '\0');
  out[0] = static_cast<char>(0xf0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
  out[3] = static_cast<char>(0x80 | (cp & 0x3f));
  return out;
}

const std::unordered_map<std::string, int>& emoji_index() {
  static const auto* map = [] {
    auto* m = new std::unordered_map<std::string, int>;
    for (size_t i = 0; i < kEmojiCodePoints.size(); i++) {
      m->emplace(utf8_of(kEmojiCodePoints[i]), static_cast<int>(i));
    }
    return m;
  }();
  return *map;
}

std::optional<uint64_t> decode_emoji(std::string_view s) {
  if (s.empty() || s.size() % 4 != 0 || s.size() / 4 > kEmojiMaxCount) return std::nullopt;
  const auto& index = emoji_index();
  uint64_t v = 0;
  for (size_t i = 0; i < s.size(); i += 4) {
    auto it = index.find(std::string(s.substr(i, 4)));
    if (it == index.end()) return std::nullopt;
    auto next = push_digit(v, kEmojiBase, static_cast<uint64_t>(it->second));
    if (!next) return std::nullopt;
    v = *next;
  }
  return v;
}

std::string encode_emoji(uint64_t v) {
  std::string out;
  do {
    out.insert(0, utf8_of(kEmojiCodePoints[v % kEmojiBase]));
    v /= kEmojiBase;
  } while (v != 0);
  return out;
}

// ---- detection --------------------------------------------------------------

std::optional<uint64_t> decode_any(std::string_view s) {
  if (s.starts_with(kKvsPrefix)) s.remove_prefix(kKvsPrefix.size());
  if (s.find('.') != std::string_view::npos) return decode_dothex(s);
  if (s.find('-') != std::string_view::npos) return decode_words(s);
  if (s.starts_with(kF58Prefix)) return decode_f58(s.substr(kF58Prefix.size()));
  if (s.starts_with('f')) return decode_f58(s.substr(1));
  if (s.starts_with("\xf0\x9f")) return decode_emoji(s);
  if (s.starts_with("0x")) return decode_hex(s);
  return decode_dec(s);
}

uint64_t steady_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

}  // namespace

// ---- encodings by name --------------------------------------------------------

std::string_view to_string(JobIdEncoding enc) {
  switch (enc) {
    case JobIdEncoding::kDec:
      return "dec";
    case JobIdEncoding::kHex:
      return "hex";
    case JobIdEncoding::kDothex:
      return "dothex";
    case JobIdEncoding::kKvs:
      return "kvs";
    case JobIdEncoding::kWords:
      return "words";
    case JobIdEncoding::kF58:
      return "f58";
    case JobIdEncoding::kF58Plain:
      return "f58plain";
    case JobIdEncoding::kEmoji:
      return "emoji";
  }
  return "dec";
}

Result<JobIdEncoding> parse_jobid_encoding(std::string_view name) {
  std::string lower;
  for (char c : name) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  for (auto enc : {JobIdEncoding::kDec, JobIdEncoding::kHex, JobIdEncoding::kDothex,
                   JobIdEncoding::kKvs, JobIdEncoding::kWords, JobIdEncoding::kF58,
                   JobIdEncoding::kF58Plain, JobIdEncoding::kEmoji}) {
    if (lower == to_string(enc)) return enc;
  }
  return Error{EINVAL, "unknown jobid encoding '" + show(name) + "'"};
}

// ---- JobId --------------------------------------------------------------------

Result<JobId> JobId::parse(std::string_view text) {
  auto v = decode_any(trim(text));
  if (!v) return invalid(text);
  return JobId{*v};
}

std::string JobId::encode(JobIdEncoding enc) const {
  switch (enc) {
    case JobIdEncoding::kDec:
      return std::to_string(value);
    case JobIdEncoding::kHex:
      return encode_hex(value);
    case JobIdEncoding::kDothex:
      return encode_dothex(value);
    case JobIdEncoding::kKvs:
      return std::string(kKvsPrefix) + encode_dothex(value);
    case JobIdEncoding::kWords:
      return encode_words(value);
    case JobIdEncoding::kF58:
      return encode_f58(value, kF58Prefix);
    case JobIdEncoding::kF58Plain:
      return encode_f58(value, "f");
    case JobIdEncoding::kEmoji:
      return encode_emoji(value);
  }
  return std::to_string(value);
}

// ---- FluidGenerator -----------------------------------------------------------

FluidGenerator::FluidGenerator(uint32_t id, uint64_t timestamp)
    : FluidGenerator(id, timestamp, steady_ms) {}

FluidGenerator::FluidGenerator(uint32_t id, uint64_t timestamp, Clock clock)
    : id_(id), offset_(timestamp), timestamp_(timestamp), clock_(std::move(clock)) {
  if (id > kMaxId) {
    throw FluxError(
        EINVAL, "fluid: generator id " + std::to_string(id) + " exceeds " + std::to_string(kMaxId));
  }
  if (timestamp >= (uint64_t{1} << kTimestampBits)) {
    throw FluxError(EINVAL, "fluid: timestamp " + std::to_string(timestamp) + " does not fit in " +
                                std::to_string(kTimestampBits) + " bits");
  }
  if (!clock_) throw FluxError(EINVAL, "fluid: no clock");
  clock_zero_ = clock_();
}

void FluidGenerator::update() {
  // A clock reading before clock_zero_ (a stepped-back clock) counts as no
  // time passed; timestamp_ never decreases.
  uint64_t now = clock_();
  uint64_t elapsed = now > clock_zero_ ? now - clock_zero_ : 0;
  uint64_t ts = offset_ + elapsed;
  if (ts > timestamp_) {
    timestamp_ = ts;
    seq_ = 0;
  }
}

Result<JobId> FluidGenerator::next() {
  update();
  if (seq_ >= (1u << kSeqBits)) {
    // This millisecond's sequence numbers are used up: borrow the next one.
    timestamp_++;
    seq_ = 0;
  }
  if (timestamp_ >= (uint64_t{1} << kTimestampBits)) {
    return Error{EOVERFLOW, "fluid: timestamp space exhausted"};
  }
  uint64_t v = (timestamp_ << (kIdBits + kSeqBits)) | (uint64_t{id_} << kSeqBits) | seq_;
  seq_++;
  return JobId{v};
}

uint64_t FluidGenerator::timestamp() {
  update();
  return timestamp_;
}

}  // namespace flux
