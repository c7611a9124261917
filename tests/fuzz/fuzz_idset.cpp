// libFuzzer target for flux::Idset (RFC 22).
//
// Every input is
//   1. decoded whole. A decoded set must keep its ranges sorted, disjoint,
//      non-adjacent and within kMaxId; its encoding (with and without
//      brackets) must decode to the same set; a small set must iterate,
//      count and answer contains/next/prev as its std::set model does.
//      A refusal must be EINVAL with a printable "idset: " message.
//   2. split at its first '|' into two idsets; when both decode, the set
//      operators must agree with each other (and with std::set when small).
//   3. read as a program of insert/erase operations on small ranges, run
//      against both an Idset and a std::set.
// Any mismatch calls abort() so libFuzzer records the input as a crash.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "libflux/idset.hpp"

using flux::Idset;

namespace {

// Sets larger than this are not compared id by id.
constexpr size_t kModelMax = 5000;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_idset: %s\n", what);
  std::abort();
}

void check_error(const flux::Error& e) {
  if (e.errnum != EINVAL) fail("error is not EINVAL");
  if (e.message.rfind("idset: ", 0) != 0) fail("error does not start with 'idset: '");
  for (unsigned char c : e.message) {
    if (c < 0x20 || c >= 0x7f) fail("error message is not printable ASCII");
  }
}

void check_invariants(const Idset& s) {
  const auto& r = s.ranges();
  for (size_t i = 0; i < r.size(); i++) {
    if (r[i].lo > r[i].hi) fail("range with lo > hi");
    if (r[i].hi > Idset::kMaxId) fail("id above kMaxId");
    if (i > 0 && uint64_t{r[i - 1].hi} + 1 >= r[i].lo) fail("ranges overlap or touch");
  }
  auto back = Idset::decode(s.encode());
  if (!back.ok() || !(back.value() == s)) fail("encode/decode changed the set");
  auto bracketed = Idset::decode(s.encode(true));
  if (!bracketed.ok() || !(bracketed.value() == s)) fail("bracketed encode/decode changed the set");
  if (s.empty() != (s.count() == 0) || s.empty() != r.empty()) fail("empty() disagrees");
}

std::set<uint32_t> model_of(const Idset& s) {
  return std::set<uint32_t>(s.begin(), s.end());
}

void check_model(const Idset& s, const std::set<uint32_t>& m) {
  if (s.count() != m.size()) fail("count differs from model");
  if (model_of(s) != m) fail("iteration differs from model");
  if (s.first() != (m.empty() ? std::nullopt : std::optional<uint32_t>(*m.begin()))) {
    fail("first() differs from model");
  }
  if (s.last() != (m.empty() ? std::nullopt : std::optional<uint32_t>(*m.rbegin()))) {
    fail("last() differs from model");
  }
  // Probe around every member.
  for (uint32_t id : m) {
    for (uint32_t probe : {id - 1, id, id + 1}) {
      if (s.contains(probe) != (m.count(probe) == 1)) fail("contains() differs from model");
      auto up = m.upper_bound(probe);
      std::optional<uint32_t> next;
      if (up != m.end()) next = *up;
      if (s.next(probe) != next) fail("next() differs from model");
      auto lo = m.lower_bound(probe);
      std::optional<uint32_t> prev;
      if (lo != m.begin()) prev = *std::prev(lo);
      if (s.prev(probe) != prev) fail("prev() differs from model");
    }
  }
}

void check_pair(const Idset& a, const Idset& b) {
  Idset u = a | b, i = a & b, d = a - b;
  check_invariants(u);
  check_invariants(i);
  check_invariants(d);
  if (!((u & a) == a) || !((u & b) == b)) fail("union does not contain its operands");
  if (!(i == (a - (a - b)))) fail("a & b != a - (a - b)");
  if (!((d & b).empty())) fail("(a - b) & b is not empty");
  if (!((d | i) == a)) fail("(a - b) | (a & b) != a");
  if (!(u - b == d)) fail("(a | b) - b != a - b");
  if (a.intersects(b) == i.empty()) fail("intersects() disagrees with &");
  if (u.count() + i.count() != a.count() + b.count()) fail("|a|b| + |a&b| != |a| + |b|");
  Idset c = a;
  c |= b;
  if (!(c == u)) fail("|= differs from |");
  c = a;
  c &= b;
  if (!(c == i)) fail("&= differs from &");
  c = a;
  c -= b;
  if (!(c == d)) fail("-= differs from -");
  if (a.count() <= kModelMax && b.count() <= kModelMax) {
    auto ma = model_of(a), mb = model_of(b);
    std::set<uint32_t> mu = ma, mi, md;
    mu.insert(mb.begin(), mb.end());
    for (auto id : ma) (mb.count(id) ? mi : md).insert(id);
    check_model(u, mu);
    check_model(i, mi);
    check_model(d, md);
  }
}

// Each 3-byte group: op (insert/erase, range or single), lo, length.
void run_program(const uint8_t* data, size_t size) {
  Idset s;
  std::set<uint32_t> m;
  for (size_t k = 0; k + 3 <= size; k += 3) {
    uint32_t lo = data[k + 1];
    uint32_t hi = lo + (data[k] & 0x80 ? data[k + 2] % 16 : 0);
    if (data[k] & 1) {
      s.erase(lo, hi);
      for (uint32_t id = lo; id <= hi; id++) m.erase(id);
    } else {
      s.insert(lo, hi);
      for (uint32_t id = lo; id <= hi; id++) m.insert(id);
    }
  }
  check_invariants(s);
  check_model(s, m);
}

void check_one(std::string_view text) {
  auto r = Idset::decode(text);
  if (!r.ok()) {
    check_error(r.error());
    return;
  }
  const Idset& s = r.value();
  check_invariants(s);
  if (s.count() <= kModelMax) check_model(s, model_of(s));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check_one(text);

  size_t bar = text.find('|');
  if (bar != std::string_view::npos) {
    auto a = Idset::decode(text.substr(0, bar));
    auto b = Idset::decode(text.substr(bar + 1));
    if (a.ok() && b.ok()) {
      check_pair(a.value(), b.value());
      check_pair(b.value(), a.value());
    }
  }

  run_program(data, size);
  return 0;
}
