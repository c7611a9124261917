// RFC 22 idsets: parsing, encoding, range-wise updates and set operations.
// See idset.hpp for the choices made where RFC 22 and flux-core differ.
#include "idset.hpp"

#include "printable.hpp"

#include <algorithm>
#include <cerrno>
#include <limits>
#include <utility>

namespace flux {
namespace {

// Untrusted text in error messages: at most this many bytes, printable
// ASCII only.
constexpr size_t kShowMax = 64;

std::string show(std::string_view s) {
  return printable(s, kShowMax);
}

Error fail(std::string_view what_text, const std::string& why) {
  return Error{EINVAL, "idset: '" + show(what_text) + "': " + why};
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Parse one decimal id, the whole of s. nullopt with *why set on failure.
std::optional<uint32_t> parse_id(std::string_view s, std::string* why) {
  if (s.empty()) {
    *why = "missing number";
    return std::nullopt;
  }
  uint64_t n = 0;
  for (char c : s) {
    if (!is_digit(c)) {
      *why = "invalid character '" + show(std::string_view(&c, 1)) + "'";
      return std::nullopt;
    }
    n = n * 10 + static_cast<uint64_t>(c - '0');
    if (n > Idset::kMaxId) {
      *why = "id exceeds the maximum " + std::to_string(Idset::kMaxId);
      return std::nullopt;
    }
  }
  if (s.size() > 1 && s[0] == '0') {
    *why = "leading zero";
    return std::nullopt;
  }
  return static_cast<uint32_t>(n);
}

void check_range(uint32_t lo, uint32_t hi) {
  if (lo > hi) {
    throw FluxError(
        EINVAL, "idset: range " + std::to_string(lo) + "-" + std::to_string(hi) + " is backwards");
  }
  if (hi > Idset::kMaxId) {
    throw FluxError(EINVAL, "idset: id " + std::to_string(hi) + " exceeds the maximum " +
                                std::to_string(Idset::kMaxId));
  }
}

void append_range(std::string& out, uint32_t lo, uint32_t hi) {
  out += std::to_string(lo);
  if (hi != lo) {
    out += '-';
    out += std::to_string(hi);
  }
}

}  // namespace

Idset::Iterator& Idset::Iterator::operator++() {
  const auto& r = (*ranges_)[range_];
  if (id_ < r.hi) {
    id_++;
  } else if (++range_ < ranges_->size()) {
    id_ = (*ranges_)[range_].lo;
  } else {
    id_ = 0;
  }
  return *this;
}

Idset::Idset(std::initializer_list<uint32_t> ids) {
  for (auto id : ids) insert(id);
}

Result<Idset> Idset::decode(std::string_view text) {
  std::string_view body = text;
  if (body.size() >= 2 && body.front() == '[' && body.back() == ']') {
    body = body.substr(1, body.size() - 2);
  }
  for (size_t i = 0; i < body.size(); i++) {
    if (body[i] == '[' || body[i] == ']') {
      return fail(text, "mismatched or nested brackets");
    }
  }
  Idset set;
  if (body.empty()) return set;

  // Elements ascend strictly, so each one is appended (or merged with the
  // last range when adjacent); no search, no per-id work.
  std::optional<uint32_t> max_id;
  size_t pos = 0;
  while (true) {
    size_t comma = body.find(',', pos);
    std::string_view elem = body.substr(pos, comma == std::string_view::npos ? comma : comma - pos);
    if (elem.empty()) return fail(text, "empty element");

    std::string why;
    size_t dash = elem.find('-');
    auto lo = parse_id(elem.substr(0, dash), &why);
    if (!lo) return fail(elem, why);
    uint32_t hi = *lo;
    if (dash != std::string_view::npos) {
      auto h = parse_id(elem.substr(dash + 1), &why);
      if (!h) return fail(elem, why);
      if (*h < *lo) return fail(elem, "range is backwards");
      if (*h == *lo) return fail(elem, "range has equal ends");
      hi = *h;
    }
    if (max_id && *lo <= *max_id) {
      return fail(elem, "out of order or overlapping (ids must ascend)");
    }
    if (!set.ranges_.empty() && set.ranges_.back().hi + 1 == *lo) {
      set.ranges_.back().hi = hi;
    } else {
      set.ranges_.push_back(Range{*lo, hi});
    }
    max_id = hi;

    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return set;
}

std::string Idset::encode(bool brackets) const {
  std::string out;
  bool bracket = brackets && count() > 1;
  if (bracket) out += '[';
  for (size_t i = 0; i < ranges_.size(); i++) {
    if (i > 0) out += ',';
    append_range(out, ranges_[i].lo, ranges_[i].hi);
  }
  if (bracket) out += ']';
  return out;
}

void Idset::insert(uint32_t lo, uint32_t hi) {
  check_range(lo, hi);
  // First range that overlaps or touches lo..hi (its hi + 1 >= lo).
  auto first = std::lower_bound(ranges_.begin(), ranges_.end(), lo,
                                [](const Range& r, uint32_t v) { return uint64_t{r.hi} + 1 < v; });
  // Past the last range that overlaps or touches (its lo <= hi + 1).
  auto last = first;
  while (last != ranges_.end() && uint64_t{last->lo} <= uint64_t{hi} + 1) ++last;
  if (first == last) {
    ranges_.insert(first, Range{lo, hi});
    return;
  }
  first->lo = std::min(first->lo, lo);
  first->hi = std::max((last - 1)->hi, hi);
  ranges_.erase(first + 1, last);
}

void Idset::erase(uint32_t lo, uint32_t hi) {
  check_range(lo, hi);
  // First range that ends at or after lo.
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), lo,
                             [](const Range& r, uint32_t v) { return r.hi < v; });
  if (it == ranges_.end() || it->lo > hi) return;
  if (it->lo < lo && it->hi > hi) {  // split one range in two
    Range right{hi + 1, it->hi};
    it->hi = lo - 1;
    ranges_.insert(it + 1, right);
    return;
  }
  if (it->lo < lo) {  // keep its left part
    it->hi = lo - 1;
    ++it;
  }
  auto end = it;
  while (end != ranges_.end() && end->hi <= hi) ++end;
  if (end != ranges_.end() && end->lo <= hi) end->lo = hi + 1;  // keep its right part
  ranges_.erase(it, end);
}

bool Idset::contains(uint32_t id) const {
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), id,
                             [](const Range& r, uint32_t v) { return r.hi < v; });
  return it != ranges_.end() && it->lo <= id;
}

size_t Idset::count() const {
  uint64_t n = 0;
  for (const auto& r : ranges_) n += uint64_t{r.hi} - r.lo + 1;
  if (n > std::numeric_limits<size_t>::max()) return std::numeric_limits<size_t>::max();
  return static_cast<size_t>(n);
}

Idset Idset::first_n(size_t n) const {
  Idset out;
  for (const auto& r : ranges_) {
    if (n == 0) break;
    size_t k = std::min(static_cast<size_t>(r.hi - r.lo) + 1, n);
    out.ranges_.push_back({r.lo, static_cast<uint32_t>(r.lo + k - 1)});
    n -= k;
  }
  return out;
}

std::optional<uint32_t> Idset::first() const {
  if (ranges_.empty()) return std::nullopt;
  return ranges_.front().lo;
}

std::optional<uint32_t> Idset::last() const {
  if (ranges_.empty()) return std::nullopt;
  return ranges_.back().hi;
}

std::optional<uint32_t> Idset::next(uint32_t id) const {
  if (id >= kMaxId) return std::nullopt;
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), id + 1,
                             [](const Range& r, uint32_t v) { return r.hi < v; });
  if (it == ranges_.end()) return std::nullopt;
  return std::max(it->lo, id + 1);
}

std::optional<uint32_t> Idset::prev(uint32_t id) const {
  if (id == 0) return std::nullopt;
  // Last range that starts before id.
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), id,
                             [](const Range& r, uint32_t v) { return r.lo < v; });
  if (it == ranges_.begin()) return std::nullopt;
  --it;
  return std::min(it->hi, id - 1);
}

Idset::Iterator Idset::begin() const {
  if (ranges_.empty()) return end();
  return Iterator(&ranges_, 0, ranges_.front().lo);
}

Idset::Iterator Idset::end() const {
  return Iterator(&ranges_, ranges_.size(), 0);
}

bool Idset::intersects(const Idset& other) const {
  size_t i = 0, j = 0;
  while (i < ranges_.size() && j < other.ranges_.size()) {
    const auto& a = ranges_[i];
    const auto& b = other.ranges_[j];
    if (a.hi < b.lo) {
      i++;
    } else if (b.hi < a.lo) {
      j++;
    } else {
      return true;
    }
  }
  return false;
}

Idset operator|(const Idset& a, const Idset& b) {
  // Merge the two sorted range lists, coalescing overlaps and neighbours.
  Idset out;
  auto& r = out.ranges_;
  r.reserve(a.ranges_.size() + b.ranges_.size());
  size_t i = 0, j = 0;
  while (i < a.ranges_.size() || j < b.ranges_.size()) {
    const Idset::Range* next;
    if (j == b.ranges_.size() || (i < a.ranges_.size() && a.ranges_[i].lo <= b.ranges_[j].lo)) {
      next = &a.ranges_[i++];
    } else {
      next = &b.ranges_[j++];
    }
    if (!r.empty() && uint64_t{r.back().hi} + 1 >= next->lo) {
      r.back().hi = std::max(r.back().hi, next->hi);
    } else {
      r.push_back(*next);
    }
  }
  return out;
}

Idset operator&(const Idset& a, const Idset& b) {
  Idset out;
  size_t i = 0, j = 0;
  while (i < a.ranges_.size() && j < b.ranges_.size()) {
    const auto& x = a.ranges_[i];
    const auto& y = b.ranges_[j];
    uint32_t lo = std::max(x.lo, y.lo);
    uint32_t hi = std::min(x.hi, y.hi);
    if (lo <= hi) out.ranges_.push_back(Idset::Range{lo, hi});
    if (x.hi < y.hi) {
      i++;
    } else {
      j++;
    }
  }
  return out;
}

Idset operator-(const Idset& a, const Idset& b) {
  Idset out;
  size_t j = 0;
  for (const auto& x : a.ranges_) {
    uint64_t lo = x.lo;  // the part of x not yet handled starts here
    while (j < b.ranges_.size() && b.ranges_[j].hi < lo) j++;
    size_t k = j;
    while (lo <= x.hi && k < b.ranges_.size() && b.ranges_[k].lo <= x.hi) {
      const auto& y = b.ranges_[k];
      if (y.lo > lo) {
        out.ranges_.push_back(Idset::Range{static_cast<uint32_t>(lo), y.lo - 1});
      }
      lo = uint64_t{y.hi} + 1;
      if (y.hi <= x.hi)
        k++;
      else
        break;
    }
    if (lo <= x.hi) out.ranges_.push_back(Idset::Range{static_cast<uint32_t>(lo), x.hi});
    j = k;
  }
  return out;
}

Idset& Idset::operator|=(const Idset& other) {
  *this = *this | other;
  return *this;
}

Idset& Idset::operator-=(const Idset& other) {
  *this = *this - other;
  return *this;
}

Idset& Idset::operator&=(const Idset& other) {
  *this = *this & other;
  return *this;
}

}  // namespace flux
