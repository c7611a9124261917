// The KVS tree in memory: directories, values and references to directories
// not yet loaded from the content store. Published nodes are frozen and
// shared between roots; a commit copies only the directories on the paths
// it changes (copy-on-write), so a lookup always sees a whole, committed
// root while the next one is being written.
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

struct Node {
  enum class Kind { Leaf, Dir, DirRef };
  Kind kind = Kind::Leaf;
  Json obj;                                // Leaf: val|valref|symlink treeobj
  std::map<std::string, NodePtr> entries;  // Dir
  std::string ref;     // Dir: blobref once serialized; DirRef: the blobref
  std::string text;    // Leaf: obj serialized (cached for directory blobs)
  bool frozen = false; // shared with a published root: copy before changing

  static NodePtr leaf(Json obj);
  static NodePtr dir();
  static NodePtr dirref(std::string ref);
  bool is_dir() const { return kind != Kind::Leaf; }
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

  static constexpr size_t kMaxInline = 256;

 private:
  Task<NodePtr> apply_at(NodePtr dir, std::vector<std::string> path, size_t i, Json dirent,
                         int flags, Blobs& blobs);
  Task<NodePtr> make_leaf(NodePtr old, Json dirent, int flags, Blobs& blobs);
  NodePtr build_dir(const Json& dirobj);

  Storage storage_;
  std::map<std::string, NodePtr> cache_;  // blobref -> loaded directory
};

// "a.b.c" -> {"a","b","c"}; "." -> {}
std::vector<std::string> split_key(const std::string& key);

}  // namespace flux::kvsmod
