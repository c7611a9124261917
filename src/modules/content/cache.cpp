#include "cache.hpp"

#include <algorithm>

namespace flux::content {

CacheEntry* Cache::find(const std::string& digest) {
  auto it = entries_.find(digest);
  if (it == entries_.end()) return nullptr;
  CacheEntry& e = it->second;
  if (e.in_lru && e.lru != lru_.begin()) lru_.splice(lru_.begin(), lru_, e.lru);
  return &e;
}

CacheEntry& Cache::find_or_insert(const std::string& digest) {
  if (CacheEntry* e = find(digest)) return *e;
  return entries_.try_emplace(digest).first->second;
}

void Cache::fill(const std::string& digest, CacheEntry& e, std::string data) {
  if (e.valid) return;
  e.data = std::move(data);
  e.valid = true;
  valid_++;
  size_ += e.data.size();
  relink(digest, e);
}

void Cache::mark_dirty(const std::string& digest, CacheEntry& e) {
  if (e.dirty) return;
  e.dirty = true;
  e.dirty_seq = next_dirty_seq_++;
  dirty_++;
  relink(digest, e);
}

void Cache::mark_clean(const std::string& digest, CacheEntry& e) {
  if (!e.dirty) return;
  e.dirty = false;
  dirty_--;
  relink(digest, e);
}

void Cache::relink(const std::string& key, CacheEntry& e) {
  bool want = e.valid && !e.dirty;
  if (want && !e.in_lru) {
    // The map's key lives as long as the entry: point the list at it.
    auto it = entries_.find(key);
    lru_.push_front(&it->first);
    e.lru = lru_.begin();
    e.in_lru = true;
  } else if (!want && e.in_lru) {
    lru_.erase(e.lru);
    e.in_lru = false;
  }
}

void Cache::remove(const std::string& digest) {
  auto it = entries_.find(digest);
  if (it == entries_.end()) return;
  CacheEntry& e = it->second;
  if (e.in_lru) lru_.erase(e.lru);
  if (e.valid) {
    valid_--;
    size_ -= e.data.size();
  }
  if (e.dirty) dirty_--;
  entries_.erase(it);
}

std::vector<std::string> Cache::dirty_unsent() const {
  std::vector<std::pair<uint64_t, const std::string*>> found;
  for (const auto& [k, e] : entries_)
    if (e.dirty && !e.store_pending) found.emplace_back(e.dirty_seq, &k);
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  out.reserve(found.size());
  for (const auto& f : found) out.push_back(*f.second);
  return out;
}

std::vector<std::string> Cache::loads_pending() const {
  std::vector<std::string> out;
  for (const auto& [k, e] : entries_)
    if (e.load_pending) out.push_back(k);
  return out;
}

size_t Cache::drop_clean() {
  size_t n = 0;
  while (!lru_.empty()) {
    remove(*lru_.back());
    n++;
  }
  return n;
}

size_t Cache::purge() {
  size_t n = 0;
  while (footprint() > purge_target_ && !lru_.empty()) {
    remove(*lru_.back());
    n++;
  }
  return n;
}

}  // namespace flux::content
