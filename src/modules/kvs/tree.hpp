// The KVS tree in memory: directories, values and references to directories
// not yet loaded from the content store.
//
// Published nodes are frozen and shared between roots; a commit copies only
// what it changes (copy-on-write), so a lookup always sees a whole committed
// root while the next one is being written.
//
// A directory's entries live in a tree of buckets keyed by the bits of a
// hash of the name (a hash trie): a small directory is one leaf bucket,
// stored as an RFC 11 "dir"; a leaf that grows too big becomes an inner
// bucket of 16 children, stored as an "hdir" of dirrefs. A commit copies and
// rewrites only the buckets on one path (a few KB), so its cost stays the
// same however large the directory grows.
//
// Coroutine parameters are taken by value throughout: g++ 12 can end a
// temporary's life too early across co_await.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "libflux/json.hpp"
#include "libflux/task.hpp"

namespace flux::kvsmod {

struct Node;
using NodePtr = std::shared_ptr<Node>;

struct Bucket;
using BucketPtr = std::shared_ptr<Bucket>;

struct Bucket {
  std::map<std::string, NodePtr> entries;  // a leaf's entries
  std::vector<BucketPtr> children;         // an inner bucket's 16 (null = empty)
  size_t count = 0;                        // entries at or below this bucket
  std::string ref;                         // blobref once stored
  bool frozen = false;                     // shared with a published root

  bool is_leaf() const { return children.empty(); }
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const auto& [name, child] : entries) fn(name, child);
    for (const auto& c : children)
      if (c) c->for_each(fn);
  }
};

struct Node {
  enum class Kind { Leaf, Dir, DirRef };
  Kind kind = Kind::Leaf;
  Json obj;             // Leaf: val|valref|symlink treeobj
  std::string text;     // Leaf: obj serialized (cached for directory blobs)
  BucketPtr root;       // Dir: its entries
  std::string ref;      // Dir: blobref once serialized; DirRef: the blobref
  bool frozen = false;  // shared with a published root: copy before changing
  // Reached since the last Tree::trim (a cache hint, so it may change on a
  // shared, frozen node).
  mutable bool used = true;

  static NodePtr leaf(Json obj);
  static NodePtr dir();
  static NodePtr dirref(std::string ref);
  bool is_dir() const { return kind != Kind::Leaf; }

  // Directory entries (Dir nodes only).
  NodePtr find(const std::string& name) const;
  void set(const std::string& name, NodePtr child);
  void erase(const std::string& name);
  size_t count() const { return root->count; }
  template <class Fn>
  void for_each(Fn&& fn) const {
    root->for_each(fn);
  }
};

// New blobs a commit must store: (blobref, bytes).
using Blobs = std::vector<std::pair<std::string, std::string>>;

// How the tree reaches the content store.
struct Storage {
  // Blob for a blobref (throws FluxError ENOENT if unknown).
  std::function<Task<std::string>(std::string ref)> load;
  // Blobref of bytes, with the instance's hash.
  std::function<std::string(std::string_view data)> hash;
};

class Tree {
 public:
  explicit Tree(Storage s) : storage_(std::move(s)) {}

  // A loaded directory for n (DirRef nodes are loaded and cached).
  Task<NodePtr> resolve(NodePtr n);

  // Apply one transaction operation to `root` and return the new root.
  // dirent null = unlink. Values larger than kMaxInline become blobs.
  Task<NodePtr> apply(NodePtr root, std::vector<std::string> path, Json dirent, int flags,
                      Blobs& blobs);

  // Serialize every dirty directory under root (bottom-up), freeze them and
  // return the root's blobref; new directory blobs are appended to blobs.
  std::string serialize(const NodePtr& root, Blobs& blobs);

  // The treeobj of a node as its parent's blob holds it.
  static std::string entry_text(const Node& n);

  // Data of a valref (loading its blobs).
  Task<std::string> read_valref(Json valref);

  void dropcache() { cache_.clear(); }
  size_t cached() const { return cache_.size(); }

  // Bound the tree's memory (second chance): each stored directory under
  // the roots that nothing reached since the previous trim is replaced by a
  // reference to its blob, which a later lookup or commit loads again from
  // the content cache; the rest are marked unreached. Resolved references
  // not reached since the previous trim leave the cache. Returns how many
  // directories were unloaded.
  size_t trim(const std::vector<NodePtr>& roots);

  static constexpr size_t kMaxInline = 256;

 private:
  Task<NodePtr> apply_at(NodePtr dir, std::vector<std::string> path, size_t i, Json dirent,
                         int flags, Blobs& blobs);
  Task<NodePtr> make_leaf(NodePtr old, Json dirent, int flags, Blobs& blobs);
  NodePtr build_dir(const Json& dirobj);
  Task<BucketPtr> load_bucket(std::string ref, int level);
  std::string serialize_bucket(Bucket& b, int level, Blobs& blobs);
  size_t trim_dir(const Node& dir);

  Storage storage_;
  std::map<std::string, NodePtr> cache_;  // blobref -> loaded directory
};

// "a.b.c" -> {"a","b","c"}; "." -> {}
std::vector<std::string> split_key(const std::string& key);

}  // namespace flux::kvsmod
