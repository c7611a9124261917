// RFC 22 idsets: sets of non-negative integer ids with the compact string
// form "1-3,5,42" (optionally bracketed, "[1-3,5,42]"). An Idset stores
// sorted, disjoint, non-adjacent inclusive ranges, so "0-4000000000" costs
// one range, and every operation works range by range.
//
// Choices where RFC 22 and flux-core leave room (decode accepts exactly the
// strings flux-core's idset_decode() accepts, except empty elements):
//   - Ids are 0 .. kMaxId (UINT32_MAX - 2): flux-core reserves UINT_MAX and
//     UINT_MAX - 1 (IDSET_INVALID_ID). Larger ids are refused, never wrapped.
//   - Elements must ascend strictly: "3,1", "1,1" and "1-3,2" are refused
//     (RFC 22: unique ids in ascending order; flux-core refuses them too).
//     Adjacent elements ("1-2,3") are accepted.
//   - A range needs lo < hi: "3-1" and "3-3" are refused, as flux-core does.
//   - Leading zeros ("01") are refused (RFC 22).
//   - Brackets must enclose the whole string or be absent; "[]" is empty.
//   - Empty elements ("1,,2", ",1", "1,") are refused; flux-core skips them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.hpp"

namespace flux {

class Idset {
 public:
  static constexpr uint32_t kMaxId = UINT32_MAX - 2;

  // An inclusive range of ids, lo <= hi.
  struct Range {
    uint32_t lo;
    uint32_t hi;
    bool operator==(const Range&) const = default;
  };

  // Forward iterator over the ids in ascending order.
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = uint32_t;
    using difference_type = std::ptrdiff_t;
    using pointer = const uint32_t*;
    using reference = uint32_t;

    Iterator() = default;
    uint32_t operator*() const { return id_; }
    Iterator& operator++();
    Iterator operator++(int) {
      Iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const Iterator& o) const { return range_ == o.range_ && id_ == o.id_; }

   private:
    friend class Idset;
    Iterator(const std::vector<Range>* ranges, size_t range, uint32_t id)
        : ranges_(ranges), range_(range), id_(id) {}
    const std::vector<Range>* ranges_ = nullptr;
    size_t range_ = 0;
    uint32_t id_ = 0;
  };

  Idset() = default;
  // Throws FluxError(EINVAL) if an id exceeds kMaxId.
  Idset(std::initializer_list<uint32_t> ids);

  // Parse an RFC 22 string. EINVAL with a message naming the offending
  // element, e.g. "idset: '3-1': range is backwards".
  static Result<Idset> decode(std::string_view text);

  // Canonical ranged form, "0-3,5"; "" when empty. With brackets, a set of
  // more than one id is enclosed in "[...]" (flux-core's
  // IDSET_FLAG_BRACKETS: a singleton or empty set gets none).
  std::string encode(bool brackets = false) const;

  // Add or remove one id or the inclusive range lo..hi. Throws
  // FluxError(EINVAL) if an id exceeds kMaxId or lo > hi. Removing absent
  // ids is not an error.
  void insert(uint32_t id) { insert(id, id); }
  void insert(uint32_t lo, uint32_t hi);
  void erase(uint32_t id) { erase(id, id); }
  void erase(uint32_t lo, uint32_t hi);
  void clear() { ranges_.clear(); }

  bool contains(uint32_t id) const;
  bool empty() const { return ranges_.empty(); }
  // Number of ids (up to kMaxId + 1, so a size_t of 64 bits is needed for
  // the full set; on 32-bit size_t it saturates).
  size_t count() const;

  // Smallest / largest id; the smallest id > id; the largest id < id.
  // nullopt when there is none.
  std::optional<uint32_t> first() const;
  // The n lowest ids (all of them if there are fewer).
  Idset first_n(size_t n) const;
  std::optional<uint32_t> last() const;
  std::optional<uint32_t> next(uint32_t id) const;
  std::optional<uint32_t> prev(uint32_t id) const;

  Iterator begin() const;
  Iterator end() const;
  const std::vector<Range>& ranges() const { return ranges_; }

  // True if the sets share at least one id.
  bool intersects(const Idset& other) const;

  Idset& operator|=(const Idset& other);
  Idset& operator-=(const Idset& other);
  Idset& operator&=(const Idset& other);
  friend Idset operator|(const Idset& a, const Idset& b);  // union
  friend Idset operator-(const Idset& a, const Idset& b);  // difference
  friend Idset operator&(const Idset& a, const Idset& b);  // intersection
  bool operator==(const Idset& other) const = default;

 private:
  std::vector<Range> ranges_;  // sorted, disjoint, never adjacent
};

}  // namespace flux
