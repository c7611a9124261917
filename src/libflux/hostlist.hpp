// RFC 29 hostlists: ordered lists of hostnames with the compressed form
// "node[1-3,5]-ib,login0". A Hostlist stores runs of hosts that share a
// prefix, a digit-free suffix and zero padding and have consecutive numbers,
// so "node[0-99999]" costs one run.
//
// Every host is split the same way, by its last run of digits:
// "rack12node" is prefix "rack", number 12, suffix "node". Runs are kept
// maximal as hosts are added, so equal lists have equal runs and the
// encoding depends only on the hosts and their order.
//
// Choices where RFC 29 and flux-core leave room:
//   - Zero padding follows RFC 29: the first id of a bracket sets the width
//     for all of them, so "[005,4,11-13]" is 005,004,011,012,013 (flux-core
//     takes the width of each range's first number instead: 005,4,11,...).
//     encode() only writes brackets that both readings agree on.
//   - encode() compresses hosts with a digit-free suffix too
//     ("rack1node,rack2node" -> "rack[1-2]node"); flux-core never writes a
//     suffix. Hosts whose suffix holds digits ("foo0-eth2") are grouped by
//     their last digits only, as in flux-core.
//   - Refused (EINVAL): whitespace, control and non-ASCII characters
//     (flux-core also splits on spaces and tabs), '[' or ']' outside one
//     "[idlist]" per expression (flux-core mangles "a[1-2]b[3]"), "[]",
//     empty ids ("[1,,2]"), backwards ranges ("[3-1]"), numbers above
//     kMaxNumber, hostnames longer than kMaxHostnameLength, and lists of
//     more than kMaxHosts hosts (flux-core limits one range to 2^20 hosts).
//   - Empty expressions are empty lists (RFC 29), so "a,,b" is "a,b".
//   - sort() orders by prefix, then plain names before numbered ones, then
//     suffix, number, and width ("foo1" before "foo01").
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "result.hpp"

namespace flux {

class Hostlist {
 public:
  static constexpr size_t kMaxHosts = size_t{1} << 20;
  static constexpr size_t kMaxHostnameLength = 255;
  static constexpr uint64_t kMaxNumber = 999'999'999'999'999'999;  // 18 digits

  // Forward iterator over the hostnames, in order (by value).
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = std::string;

    Iterator() = default;
    std::string operator*() const;
    Iterator& operator++();
    Iterator operator++(int) {
      Iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const Iterator& o) const { return run_ == o.run_ && offset_ == o.offset_; }

   private:
    friend class Hostlist;
    Iterator(const Hostlist* hl, size_t run, uint64_t offset)
        : hl_(hl), run_(run), offset_(offset) {}
    const Hostlist* hl_ = nullptr;
    size_t run_ = 0;
    uint64_t offset_ = 0;
  };

  Hostlist() = default;

  // Parse an RFC 29 hostlist string. EINVAL with a message naming the
  // expression, e.g. "hostlist: 'foo[1-': unterminated '['".
  static Result<Hostlist> decode(std::string_view text);

  // The compressed form, e.g. "foo[1-3,5],bar". "" when empty.
  std::string encode() const;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // The host at index i; ENOENT when i >= size().
  Result<std::string> nth(size_t i) const;
  // As nth(), throwing FluxError(ENOENT).
  std::string operator[](size_t i) const;

  // Index of the first occurrence of host, or -1.
  std::ptrdiff_t find(std::string_view host) const;
  bool contains(std::string_view host) const { return find(host) >= 0; }

  // Append one hostname. Throws FluxError(EINVAL) if it is not a valid
  // hostname, FluxError(EOVERFLOW) past kMaxHosts.
  void push_back(std::string_view host);
  // Decode hosts and append them; returns how many were appended.
  Result<size_t> append(std::string_view hosts);
  // Throws FluxError(EOVERFLOW) past kMaxHosts.
  void append(const Hostlist& other);

  // Remove the host at index i (FluxError(ENOENT) if out of range), or the
  // first occurrence of host (false if absent).
  void erase(size_t i);
  bool remove(std::string_view host);
  void clear();

  // Sort (see above for the order); uniq() also drops duplicates.
  void sort();
  void uniq();

  std::vector<std::string> expand() const;
  Iterator begin() const { return Iterator(this, 0, 0); }
  Iterator end() const { return Iterator(this, runs_.size(), 0); }

  bool operator==(const Hostlist& other) const = default;

  // A run: hosts prefix + number (zero-padded to width) + suffix for the
  // numbers lo..hi, or, when width is 0, the one host named prefix.
  struct Run {
    std::string prefix;
    std::string suffix;
    uint64_t lo = 0;
    uint64_t hi = 0;
    size_t width = 0;
    bool operator==(const Run&) const = default;
  };
  const std::vector<Run>& runs() const { return runs_; }

 private:
  friend class HostlistDecoder;
  void add_run(Run run);
  void sort_hosts(bool unique);
  std::string host(const Run& run, uint64_t offset) const;

  std::vector<Run> runs_;
  size_t size_ = 0;
};

// Set operations on hostlists, as flux-hostlist(1) offers them.
// Union: every host of a and b, sorted and unique.
Hostlist hostlist_union(const Hostlist& a, const Hostlist& b);
// Intersection: hosts in both, sorted and unique.
Hostlist hostlist_intersect(const Hostlist& a, const Hostlist& b);
// Difference: a without any host that is in b, keeping a's order.
Hostlist hostlist_difference(const Hostlist& a, const Hostlist& b);

}  // namespace flux
