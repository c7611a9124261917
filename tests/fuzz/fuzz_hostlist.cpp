// libFuzzer target for flux::Hostlist (RFC 29).
//
// Every input is decoded as a hostlist. A refusal must be EINVAL with a
// printable "hostlist: " message. A decoded list must
//   - keep size() equal to the hosts its runs hold, and its runs valid;
//   - encode to text that decodes to an equal list and encodes identically;
//   - when small: expand to exactly what a naive RFC 29 expansion written
//     here gives; match nth() and find() host by host; equal the list built
//     by push_back() of each host and the decode of the hosts joined by
//     commas (runs are canonical); stay the same multiset through sort()
//     and lose only duplicates through uniq(); and after erase() of one
//     host, equal the model without it.
// Inputs that would expand a big range host by host (a suffix holding
// digits, or a prefix ending in 17+ digits, with a 5+ digit id) are skipped:
// each costs seconds under ASan, and the unit tests cover that path.
// Any mismatch calls abort() so libFuzzer records the input as a crash.
#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "libflux/hostlist.hpp"

using flux::Hostlist;

namespace {

// Lists larger than this are not checked host by host.
constexpr size_t kModelMax = 2000;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_hostlist: %s\n", what);
  std::abort();
}

void check_error(const flux::Error& e) {
  if (e.errnum != EINVAL) fail("error is not EINVAL");
  if (e.message.rfind("hostlist: ", 0) != 0) fail("error does not start with 'hostlist: '");
  for (unsigned char c : e.message) {
    if (c < 0x20 || c >= 0x7f) fail("error message is not printable ASCII");
  }
}

// RFC 29 expansion of text that Hostlist::decode accepted: split at commas
// outside brackets; prefix[idlist]suffix gives prefix + id + suffix with
// every id zero-padded to the width of the idlist's first number.
std::vector<std::string> naive_expand(std::string_view text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = pos;
    int depth = 0;
    while (end < text.size() && (depth > 0 || text[end] != ',')) {
      if (text[end] == '[') depth++;
      if (text[end] == ']') depth--;
      end++;
    }
    std::string_view expr = text.substr(pos, end - pos);
    size_t open = expr.find('[');
    if (open == std::string_view::npos) {
      if (!expr.empty()) out.emplace_back(expr);
    } else {
      size_t close = expr.find(']');
      std::string_view pre = expr.substr(0, open);
      std::string_view list = expr.substr(open + 1, close - open - 1);
      std::string_view suf = expr.substr(close + 1);
      size_t width = 0;
      size_t p = 0;
      bool first = true;
      while (p <= list.size()) {
        size_t comma = std::min(list.find(',', p), list.size());
        std::string_view elem = list.substr(p, comma - p);
        size_t dash = elem.find('-');
        std::string lo_text(elem.substr(0, dash));
        if (first) width = lo_text.size();
        first = false;
        uint64_t lo = std::stoull(lo_text);
        uint64_t hi =
            dash == std::string_view::npos ? lo : std::stoull(std::string(elem.substr(dash + 1)));
        for (uint64_t n = lo; n <= hi; n++) {
          std::string num = std::to_string(n);
          if (num.size() < width) num.insert(0, width - num.size(), '0');
          out.push_back(std::string(pre) + num + std::string(suf));
        }
        p = comma + 1;
      }
    }
    pos = end + 1;
  }
  return out;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// See the header comment: true for expressions like "a[0-99999]b1".
bool expands_host_by_host(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('[', pos);
    if (open == std::string_view::npos) return false;
    size_t close = text.find(']', open);
    if (close == std::string_view::npos) return false;
    size_t end = std::min(text.find(',', close), text.size());
    std::string_view suf = text.substr(close + 1, end - close - 1);
    size_t start = text.rfind(',', open);
    std::string_view pre = text.substr(start == std::string_view::npos ? 0 : start + 1);
    pre = pre.substr(0, open - (text.size() - pre.size()));
    size_t tail = 0;
    while (tail < pre.size() && is_digit(pre[pre.size() - 1 - tail])) tail++;
    bool per_host = std::any_of(suf.begin(), suf.end(), is_digit) || tail >= 17;
    size_t run = 0, longest = 0;
    for (size_t i = open + 1; i < close; i++) {
      run = is_digit(text[i]) ? run + 1 : 0;
      longest = std::max(longest, run);
    }
    if (per_host && longest >= 5) return true;
    pos = close + 1;
  }
  return false;
}

void check_runs(const Hostlist& hl) {
  uint64_t total = 0;
  for (const auto& r : hl.runs()) {
    if (r.width == 0) {
      if (r.prefix.empty() || !r.suffix.empty() || r.lo != 0 || r.hi != 0) fail("bad plain run");
      total += 1;
    } else {
      if (r.lo > r.hi || r.hi > Hostlist::kMaxNumber) fail("bad numeric run");
      if (r.width < std::to_string(r.lo).size()) fail("run narrower than its first number");
      if (!r.prefix.empty() && r.prefix.back() >= '0' && r.prefix.back() <= '9') {
        fail("run prefix ends in a digit");
      }
      for (char c : r.suffix) {
        if (c >= '0' && c <= '9') fail("run suffix holds a digit");
      }
      total += r.hi - r.lo + 1;
    }
  }
  if (total != hl.size()) fail("size() differs from the runs");
  if (hl.size() > Hostlist::kMaxHosts) fail("more than kMaxHosts");
}

void check_small(std::string_view text, const Hostlist& hl, const uint8_t* data, size_t size) {
  std::vector<std::string> hosts = hl.expand();
  if (hosts != naive_expand(text)) fail("expand() differs from the naive RFC 29 expansion");
  if (hosts.size() != hl.size()) fail("expand() size differs");

  Hostlist built;
  std::string joined;
  for (size_t i = 0; i < hosts.size(); i++) {
    if (hl[i] != hosts[i]) fail("nth() differs from expand()");
    auto first = std::find(hosts.begin(), hosts.end(), hosts[i]) - hosts.begin();
    if (hl.find(hosts[i]) != first) fail("find() is not the first occurrence");
    built.push_back(hosts[i]);
    if (i > 0) joined += ',';
    joined += hosts[i];
  }
  if (!(built == hl)) fail("push_back of each host gives different runs");
  auto rejoined = Hostlist::decode(joined);
  if (!rejoined.ok() || !(rejoined.value() == hl)) fail("decode of the joined hosts differs");
  if (hl.nth(hosts.size()).ok()) fail("nth(size()) succeeded");

  Hostlist sorted = hl;
  sorted.sort();
  check_runs(sorted);
  auto s = sorted.expand();
  auto expect = hosts;
  std::sort(expect.begin(), expect.end());
  auto got = s;
  std::sort(got.begin(), got.end());
  if (got != expect) fail("sort() changed the hosts");
  Hostlist again = sorted;
  again.sort();
  if (!(again == sorted)) fail("sort() is not idempotent");

  Hostlist unique = hl;
  unique.uniq();
  check_runs(unique);
  auto u = unique.expand();
  expect.erase(std::unique(expect.begin(), expect.end()), expect.end());
  got = u;
  std::sort(got.begin(), got.end());
  if (got != expect) fail("uniq() is not the distinct hosts");

  if (!hosts.empty() && size > 0) {
    size_t i = data[size - 1] % hosts.size();
    Hostlist cut = hl;
    cut.erase(i);
    check_runs(cut);
    hosts.erase(hosts.begin() + static_cast<std::ptrdiff_t>(i));
    if (cut.expand() != hosts) fail("erase() removed the wrong host");
    Hostlist rebuilt;
    for (const auto& h : hosts) rebuilt.push_back(h);
    if (!(rebuilt == cut)) fail("erase() left runs that are not canonical");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (expands_host_by_host(text)) return 0;
  auto r = Hostlist::decode(text);
  if (!r.ok()) {
    check_error(r.error());
    return 0;
  }
  const Hostlist& hl = r.value();
  check_runs(hl);
  std::string enc = hl.encode();
  auto back = Hostlist::decode(enc);
  if (!back.ok()) fail("encoding does not decode");
  if (!(back.value() == hl)) fail("encode/decode changed the list");
  if (back.value().encode() != enc) fail("second encoding differs");
  if (hl.size() <= kModelMax) check_small(text, hl, data, size);
  return 0;
}
