// RFC 29 hostlists: parsing, run-wise storage, encoding, sorting and the
// set helpers. See hostlist.hpp for the choices made where RFC 29 and
// flux-core differ.
#include "hostlist.hpp"

#include "printable.hpp"

#include <algorithm>
#include <cerrno>
#include <optional>
#include <unordered_set>
#include <utility>

namespace flux {
namespace {

using Run = Hostlist::Run;

// Untrusted text in error messages: at most this many bytes, printable
// ASCII only.
constexpr size_t kShowMax = 64;

// 10^k for k = 0..18 (kMaxNumber is 10^18 - 1).
constexpr int kMaxDigits = 18;
constexpr uint64_t kPow10[kMaxDigits + 1] = {1,
                                             10,
                                             100,
                                             1000,
                                             10000,
                                             100000,
                                             1000000,
                                             10000000,
                                             100000000,
                                             1000000000,
                                             10000000000,
                                             100000000000,
                                             1000000000000,
                                             10000000000000,
                                             100000000000000,
                                             1000000000000000,
                                             10000000000000000,
                                             100000000000000000,
                                             1000000000000000000};

std::string show(std::string_view s) {
  return printable(s, kShowMax);
}

Error fail(std::string_view expr, const std::string& why, int errnum = EINVAL) {
  return Error{errnum, "hostlist: '" + show(expr) + "': " + why};
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// RFC 29: printable, non-whitespace ASCII other than '[', ']' and ','.
bool is_name_char(char c) {
  return c > 0x20 && c < 0x7f && c != '[' && c != ']' && c != ',';
}

// Why name is not a valid hostname, or nullopt if it is.
std::optional<std::string> name_problem(std::string_view name) {
  if (name.empty()) return "empty hostname";
  if (name.size() > Hostlist::kMaxHostnameLength) {
    return "hostname longer than " + std::to_string(Hostlist::kMaxHostnameLength) + " characters";
  }
  for (char c : name) {
    if (!is_name_char(c)) return "invalid character '" + show(std::string_view(&c, 1)) + "'";
  }
  return std::nullopt;
}

size_t digits(uint64_t n) {
  size_t d = 1;
  while (n >= 10) {
    n /= 10;
    d++;
  }
  return d;
}

// The length of n written with zero padding to width.
size_t text_length(uint64_t n, size_t width) {
  return std::max(width, digits(n));
}

void append_padded(std::string& out, uint64_t n, size_t width) {
  std::string num = std::to_string(n);
  if (num.size() < width) out.append(width - num.size(), '0');
  out += num;
}

// Decimal value of a digit string, or nullopt above Hostlist::kMaxNumber.
std::optional<uint64_t> parse_number(std::string_view s) {
  uint64_t n = 0;
  for (char c : s) {
    auto d = static_cast<uint64_t>(c - '0');
    if (n > (Hostlist::kMaxNumber - d) / 10) return std::nullopt;
    n = n * 10 + d;
  }
  return n;
}

// Split a valid hostname by its last run of digits (see hostlist.hpp).
// Names without digits, or whose number exceeds kMaxNumber, are one-host
// runs of width 0.
Run parse_host(std::string_view name) {
  size_t end = name.size();
  while (end > 0 && !is_digit(name[end - 1])) end--;
  size_t start = end;
  while (start > 0 && is_digit(name[start - 1])) start--;
  if (start == end) return Run{std::string(name), "", 0, 0, 0};
  auto n = parse_number(name.substr(start, end - start));
  if (!n) return Run{std::string(name), "", 0, 0, 0};
  return Run{std::string(name.substr(0, start)), std::string(name.substr(end)), *n, *n,
             end - start};
}

uint64_t run_count(const Run& r) {
  return r.width == 0 ? 1 : r.hi - r.lo + 1;
}

// Whether every host of run b is written the same with b's width and with
// width w: equal widths, or b's numbers need no padding and are at least
// w digits long.
bool width_compatible(const Run& b, size_t w) {
  return b.width == w || (b.width == digits(b.lo) && b.width >= w);
}

bool same_family(const Run& a, const Run& b) {
  return a.width != 0 && b.width != 0 && a.prefix == b.prefix && a.suffix == b.suffix;
}

}  // namespace

// Builds a Hostlist from an RFC 29 string in two passes: every expression
// is checked and the hosts counted before any run is built, so a refused
// string costs no expansion. Runs are added whole, except where a suffix
// with digits (or a digit-ending prefix too large to fold) forces one host
// at a time, which kMaxHosts bounds.
class HostlistDecoder {
 public:
  Result<Hostlist> decode(std::string_view text);

 private:
  struct Span {
    uint64_t lo, hi;
  };
  // One expression: a plain name (no spans) or pre[spans]suf.
  struct Expression {
    std::string_view pre;
    std::string_view suf;
    size_t width = 0;  // RFC 29: the first id's digits set the padding
    std::vector<Span> spans;
  };

  std::optional<Error> check(std::string_view expr, size_t open, size_t close);
  void add_range(std::string_view pre, std::string_view suf, uint64_t lo, uint64_t hi,
                 size_t width);
  void add_hosts(std::string_view pre, std::string_view suf, uint64_t lo, uint64_t hi,
                 size_t width);

  std::vector<Expression> exprs_;
  uint64_t total_ = 0;
  Hostlist hl_;
};

Result<Hostlist> HostlistDecoder::decode(std::string_view text) {
  size_t pos = 0;
  while (true) {
    size_t start = pos;
    size_t open = std::string_view::npos;
    size_t close = std::string_view::npos;
    while (pos < text.size() && text[pos] != ',') {
      char c = text[pos];
      if (c == ']') return fail(text.substr(start), "unmatched ']'");
      if (c == '[') {
        if (open != std::string_view::npos) {
          return fail(text.substr(start), "more than one '[' in an expression");
        }
        open = pos;
        size_t end = text.find_first_of("[]", pos + 1);
        if (end == std::string_view::npos) return fail(text.substr(start), "unterminated '['");
        if (text[end] == '[') return fail(text.substr(start), "nested '['");
        close = pos = end;
      }
      pos++;
    }
    std::string_view expr = text.substr(start, pos - start);
    if (open != std::string_view::npos) {
      open -= start;
      close -= start;
    }
    if (auto err = check(expr, open, close)) return *err;
    if (pos == text.size()) break;
    pos++;  // the comma
  }
  for (const auto& e : exprs_) {
    if (e.spans.empty()) {
      hl_.add_run(parse_host(e.pre));
    } else {
      for (const auto& s : e.spans) add_range(e.pre, e.suf, s.lo, s.hi, e.width);
    }
  }
  return std::move(hl_);
}

std::optional<Error> HostlistDecoder::check(std::string_view expr, size_t open, size_t close) {
  const std::string too_many = "more than " + std::to_string(Hostlist::kMaxHosts) + " hosts";
  if (open == std::string_view::npos) {
    if (expr.empty()) return std::nullopt;  // RFC 29: an empty list
    if (auto why = name_problem(expr)) return fail(expr, *why);
    if (++total_ > Hostlist::kMaxHosts) return fail(expr, too_many);
    exprs_.push_back(Expression{expr, {}, 0, {}});
    return std::nullopt;
  }

  Expression e;
  e.pre = expr.substr(0, open);
  e.suf = expr.substr(close + 1);
  std::string_view list = expr.substr(open + 1, close - open - 1);
  for (auto part : {e.pre, e.suf}) {
    for (char c : part) {
      if (!is_name_char(c)) {
        return fail(expr, "invalid character '" + show(std::string_view(&c, 1)) + "'");
      }
    }
  }
  if (list.empty()) return fail(expr, "empty '[]'");

  size_t pos = 0;
  while (true) {
    size_t comma = list.find(',', pos);
    std::string_view elem = list.substr(pos, comma == std::string_view::npos ? comma : comma - pos);
    if (elem.empty()) return fail(expr, "empty range in '[...]'");
    size_t dash = elem.find('-');
    std::string_view lo_text = elem.substr(0, dash);
    std::string_view hi_text = dash == std::string_view::npos ? lo_text : elem.substr(dash + 1);
    for (auto t : {lo_text, hi_text}) {
      if (t.empty() || !std::all_of(t.begin(), t.end(), is_digit)) {
        return fail(expr, "bad range '" + show(elem) + "'");
      }
    }
    auto lo = parse_number(lo_text);
    auto hi = parse_number(hi_text);
    if (!lo || !hi) {
      return fail(expr,
                  "number in '" + show(elem) + "' exceeds " + std::to_string(Hostlist::kMaxNumber));
    }
    if (*lo > *hi) return fail(expr, "range '" + show(elem) + "' is backwards");
    if (e.spans.empty()) e.width = lo_text.size();
    if (e.pre.size() + text_length(*hi, e.width) + e.suf.size() > Hostlist::kMaxHostnameLength) {
      return fail(expr, "hostname longer than " + std::to_string(Hostlist::kMaxHostnameLength) +
                            " characters");
    }
    total_ += *hi - *lo + 1;
    if (total_ > Hostlist::kMaxHosts) return fail(expr, too_many);
    e.spans.push_back(Span{*lo, *hi});
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  exprs_.push_back(std::move(e));
  return std::nullopt;
}

// Add pre + lo..hi (padded to width) + suf as runs. A digit-free suffix and
// a prefix not ending in digits give one run per padding length; trailing
// digits of the prefix are folded into the number ("n1[1-2]" is n11, n12).
void HostlistDecoder::add_range(std::string_view pre, std::string_view suf, uint64_t lo,
                                uint64_t hi, size_t width) {
  if (std::any_of(suf.begin(), suf.end(), is_digit)) {
    add_hosts(pre, suf, lo, hi, width);
    return;
  }
  size_t p = pre.size();
  while (p > 0 && is_digit(pre[p - 1])) p--;
  std::string_view tail = pre.substr(p);
  std::optional<uint64_t> tail_value = parse_number(tail);

  uint64_t n = lo;
  while (true) {
    size_t len = text_length(n, width);
    uint64_t end = len > static_cast<size_t>(kMaxDigits) ? hi : std::min(hi, kPow10[len] - 1);
    if (tail.empty()) {
      hl_.add_run(Run{std::string(pre), std::string(suf), n, end, len});
    } else if (tail_value &&
               (*tail_value == 0 || (len <= static_cast<size_t>(kMaxDigits) &&
                                     *tail_value <= (Hostlist::kMaxNumber - end) / kPow10[len]))) {
      uint64_t base = *tail_value == 0 ? 0 : *tail_value * kPow10[len];
      hl_.add_run(Run{std::string(pre.substr(0, p)), std::string(suf), base + n, base + end,
                      tail.size() + len});
    } else {
      add_hosts(pre, suf, n, end, width);  // numbers too large: plain names
    }
    if (end == hi) break;
    n = end + 1;
  }
}

void HostlistDecoder::add_hosts(std::string_view pre, std::string_view suf, uint64_t lo,
                                uint64_t hi, size_t width) {
  std::string name;
  for (uint64_t n = lo;; n++) {
    name.assign(pre);
    append_padded(name, n, width);
    name += suf;
    hl_.add_run(parse_host(name));
    if (n == hi) break;
  }
}

Result<Hostlist> Hostlist::decode(std::string_view text) {
  return HostlistDecoder().decode(text);
}

void Hostlist::add_run(Run b) {
  size_ += run_count(b);
  if (!runs_.empty()) {
    Run& a = runs_.back();
    if (same_family(a, b) && a.hi + 1 == b.lo && width_compatible(b, a.width)) {
      a.hi = b.hi;
      return;
    }
  }
  runs_.push_back(std::move(b));
}

std::string Hostlist::host(const Run& run, uint64_t offset) const {
  if (run.width == 0) return run.prefix;
  std::string name = run.prefix;
  append_padded(name, run.lo + offset, run.width);
  name += run.suffix;
  return name;
}

std::string Hostlist::encode() const {
  std::string out;
  size_t i = 0;
  while (i < runs_.size()) {
    if (i > 0) out += ',';
    const Run& r = runs_[i];
    if (r.width == 0) {
      out += r.prefix;
      i++;
      continue;
    }
    // One bracket for the following runs of the same prefix and suffix
    // that read the same at this run's width.
    size_t j = i + 1;
    while (j < runs_.size() && same_family(r, runs_[j]) && width_compatible(runs_[j], r.width)) {
      j++;
    }
    bool bracket = j - i > 1 || r.lo != r.hi;
    out += r.prefix;
    if (bracket) out += '[';
    for (size_t k = i; k < j; k++) {
      if (k > i) out += ',';
      append_padded(out, runs_[k].lo, r.width);
      if (runs_[k].hi != runs_[k].lo) {
        out += '-';
        append_padded(out, runs_[k].hi, r.width);
      }
    }
    if (bracket) out += ']';
    out += r.suffix;
    i = j;
  }
  return out;
}

Result<std::string> Hostlist::nth(size_t i) const {
  uint64_t index = i;
  for (const auto& r : runs_) {
    uint64_t n = run_count(r);
    if (index < n) return host(r, index);
    index -= n;
  }
  return Error{ENOENT, "hostlist: index " + std::to_string(i) + " out of range (size " +
                           std::to_string(size_) + ")"};
}

std::string Hostlist::operator[](size_t i) const {
  return nth(i).value();
}

std::ptrdiff_t Hostlist::find(std::string_view name) const {
  if (name_problem(name)) return -1;
  Run h = parse_host(name);
  uint64_t index = 0;
  for (const auto& r : runs_) {
    if (r.width == 0) {
      if (h.width == 0 && r.prefix == h.prefix) return static_cast<std::ptrdiff_t>(index);
    } else if (same_family(r, h) && h.lo >= r.lo && h.lo <= r.hi &&
               h.width == text_length(h.lo, r.width)) {
      return static_cast<std::ptrdiff_t>(index + (h.lo - r.lo));
    }
    index += run_count(r);
  }
  return -1;
}

void Hostlist::push_back(std::string_view name) {
  if (auto why = name_problem(name)) throw FluxError(fail(name, *why));
  if (size_ >= kMaxHosts) {
    throw FluxError(EOVERFLOW, "hostlist: more than " + std::to_string(kMaxHosts) + " hosts");
  }
  add_run(parse_host(name));
}

Result<size_t> Hostlist::append(std::string_view hosts) {
  auto more = decode(hosts);
  if (!more.ok()) return more.error();
  if (size_ + more.value().size() > kMaxHosts) {
    return Error{EOVERFLOW, "hostlist: more than " + std::to_string(kMaxHosts) + " hosts"};
  }
  append(more.value());
  return more.value().size();
}

void Hostlist::append(const Hostlist& other) {
  if (size_ + other.size_ > kMaxHosts) {
    throw FluxError(EOVERFLOW, "hostlist: more than " + std::to_string(kMaxHosts) + " hosts");
  }
  std::vector<Run> more = other.runs_;  // other may be *this
  for (auto& r : more) add_run(std::move(r));
}

void Hostlist::erase(size_t i) {
  uint64_t index = i;
  size_t k = 0;
  while (k < runs_.size() && index >= run_count(runs_[k])) index -= run_count(runs_[k++]);
  if (k == runs_.size()) {
    throw FluxError(ENOENT, "hostlist: index " + std::to_string(i) + " out of range (size " +
                                std::to_string(size_) + ")");
  }
  // Rebuild so that runs that now meet are merged.
  Hostlist out;
  for (size_t j = 0; j < k; j++) out.add_run(std::move(runs_[j]));
  const Run& r = runs_[k];
  if (r.width != 0) {
    uint64_t n = r.lo + index;
    if (n > r.lo) out.add_run(Run{r.prefix, r.suffix, r.lo, n - 1, r.width});
    if (n < r.hi) out.add_run(Run{r.prefix, r.suffix, n + 1, r.hi, text_length(n + 1, r.width)});
  }
  for (size_t j = k + 1; j < runs_.size(); j++) out.add_run(std::move(runs_[j]));
  *this = std::move(out);
}

bool Hostlist::remove(std::string_view name) {
  auto i = find(name);
  if (i < 0) return false;
  erase(static_cast<size_t>(i));
  return true;
}

void Hostlist::clear() {
  runs_.clear();
  size_ = 0;
}

namespace {

// One host of a hostlist being sorted: its run and number.
struct SortEntry {
  const Run* run;
  uint64_t n;
};

bool sort_less(const SortEntry& x, const SortEntry& y) {
  const Run& a = *x.run;
  const Run& b = *y.run;
  if (int c = a.prefix.compare(b.prefix)) return c < 0;
  if ((a.width == 0) != (b.width == 0)) return a.width == 0;  // plain names first
  if (a.width == 0) return false;                             // the same name
  if (int c = a.suffix.compare(b.suffix)) return c < 0;
  if (x.n != y.n) return x.n < y.n;
  return text_length(x.n, a.width) < text_length(y.n, b.width);
}

// Every host of runs, in sort order; with unique, each host once.
std::vector<SortEntry> sorted_entries(const std::vector<Run>& runs, size_t size, bool unique) {
  std::vector<SortEntry> entries;
  entries.reserve(size);
  for (const auto& r : runs) {
    if (r.width == 0) {
      entries.push_back(SortEntry{&r, 0});
    } else {
      for (uint64_t n = r.lo;; n++) {
        entries.push_back(SortEntry{&r, n});
        if (n == r.hi) break;
      }
    }
  }
  std::sort(entries.begin(), entries.end(), sort_less);
  if (unique) {
    auto same = [](const SortEntry& x, const SortEntry& y) { return !sort_less(x, y); };
    entries.erase(std::unique(entries.begin(), entries.end(), same), entries.end());
  }
  return entries;
}

}  // namespace

void Hostlist::sort_hosts(bool unique) {
  Hostlist out;
  for (const auto& e : sorted_entries(runs_, size_, unique)) {
    const Run& r = *e.run;
    if (r.width == 0) {
      out.add_run(r);
    } else {
      out.add_run(Run{r.prefix, r.suffix, e.n, e.n, text_length(e.n, r.width)});
    }
  }
  *this = std::move(out);
}

void Hostlist::sort() {
  sort_hosts(false);
}

void Hostlist::uniq() {
  sort_hosts(true);
}

std::vector<std::string> Hostlist::expand() const {
  std::vector<std::string> out;
  out.reserve(size_);
  for (auto it = begin(); it != end(); ++it) out.push_back(*it);
  return out;
}

std::string Hostlist::Iterator::operator*() const {
  return hl_->host(hl_->runs_[run_], offset_);
}

Hostlist::Iterator& Hostlist::Iterator::operator++() {
  if (++offset_ >= run_count(hl_->runs_[run_])) {
    run_++;
    offset_ = 0;
  }
  return *this;
}

Hostlist hostlist_union(const Hostlist& a, const Hostlist& b) {
  Hostlist out = a;
  out.uniq();
  Hostlist more = b;
  more.uniq();
  out.append(more);
  out.uniq();
  return out;
}

Hostlist hostlist_intersect(const Hostlist& a, const Hostlist& b) {
  std::unordered_set<std::string> in_b;
  for (auto it = b.begin(); it != b.end(); ++it) in_b.insert(*it);
  Hostlist out;
  for (auto it = a.begin(); it != a.end(); ++it) {
    std::string name = *it;
    if (in_b.count(name)) out.push_back(name);
  }
  out.uniq();
  return out;
}

Hostlist hostlist_difference(const Hostlist& a, const Hostlist& b) {
  std::unordered_set<std::string> in_b;
  for (auto it = b.begin(); it != b.end(); ++it) in_b.insert(*it);
  Hostlist out;
  for (auto it = a.begin(); it != a.end(); ++it) {
    std::string name = *it;
    if (!in_b.count(name)) out.push_back(name);
  }
  return out;
}

}  // namespace flux
