// Cache: the content module's table of blobs, keyed by binary digest, with
// its accounting and LRU purge. No messaging here: ContentService decides
// when entries become valid, dirty or clean and answers the requests parked
// on them.
//
// An entry is *valid* once it holds its blob, *dirty* until the blob is
// safe elsewhere (the backing store on rank 0, the parent on rank > 0).
// Only valid clean entries may be dropped; they sit on an LRU list, most
// recently used first, and purge() drops from its tail until the cache's
// footprint (blobs and bookkeeping) is at or below the purge target.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include "libflux/message.hpp"

namespace flux::content {

struct CacheEntry {
  std::string data;
  bool valid = false;
  bool dirty = false;
  bool load_pending = false;   // a load from the backing store/parent is in flight
  bool store_pending = false;  // a write-back/upstream store is in flight
  uint64_t dirty_seq = 0;      // when it became dirty: write-back order
  std::vector<Message> load_waiters;
  std::vector<Message> store_waiters;  // rank > 0: answered once the parent has it

 private:
  friend class Cache;
  bool in_lru = false;
  std::list<const std::string*>::iterator lru;
};

class Cache {
 public:
  explicit Cache(size_t purge_target) : purge_target_(purge_target) {}

  // The entry for digest, or nullptr. A hit on a clean entry makes it the
  // most recently used.
  CacheEntry* find(const std::string& digest);
  // The entry for digest, created invalid if absent.
  CacheEntry& find_or_insert(const std::string& digest);
  // Give an invalid entry its blob. No-op if already valid.
  void fill(const std::string& digest, CacheEntry& e, std::string data);
  void mark_dirty(const std::string& digest, CacheEntry& e);
  void mark_clean(const std::string& digest, CacheEntry& e);
  // Remove an entry (it must have no parked requests).
  void remove(const std::string& digest);

  // Digests of dirty entries with no write-back in flight, in the order
  // they became dirty.
  std::vector<std::string> dirty_unsent() const;
  // Digests of entries with a load in flight.
  std::vector<std::string> loads_pending() const;
  // Drop every valid clean entry; returns how many.
  size_t drop_clean();
  // Drop least recently used clean entries while over the purge target.
  size_t purge();

  size_t count() const { return entries_.size(); }
  size_t valid() const { return valid_; }
  size_t dirty() const { return dirty_; }
  size_t size() const { return size_; }
  // What the entries take in memory, blobs and bookkeeping: the purge
  // target bounds this (small blobs cost more in bookkeeping than data).
  size_t footprint() const { return size_ + entries_.size() * kEntryOverhead; }
  static constexpr size_t kEntryOverhead = 256;
  size_t purge_target() const { return purge_target_; }

 private:
  // Keep e on the LRU list exactly when it is valid and clean.
  void relink(const std::string& key, CacheEntry& e);

  std::unordered_map<std::string, CacheEntry> entries_;
  std::list<const std::string*> lru_;  // keys of valid clean entries, MRU first
  size_t purge_target_;
  size_t valid_ = 0;
  size_t dirty_ = 0;
  size_t size_ = 0;  // bytes in valid entries
  uint64_t next_dirty_seq_ = 1;
};

}  // namespace flux::content
