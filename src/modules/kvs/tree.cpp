#include "tree.hpp"

#include <optional>

#include "libflux/kvs.hpp"
#include "libflux/result.hpp"
#include "libflux/treeobj.hpp"

namespace flux::kvsmod {

namespace {

// FNV-1a, 32 bits: cheap, stable across runs and machines ("fnv1a32").
uint32_t fnv1a32(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

// A leaf bucket holds at most this many entries before it splits in 16;
// the top one more, so that ordinary directories stay plain "dir" objects.
constexpr size_t kMaxTopLeaf = 256;
constexpr size_t kMaxLeaf = 64;
constexpr int kFanoutBits = 4;
constexpr int kMaxLevel = 32 / kFanoutBits - 1;  // the hash bits run out here

size_t child_index(uint32_t hash, int level) {
  return (hash >> (level * kFanoutBits)) & ((1u << kFanoutBits) - 1);
}

BucketPtr& writable(BucketPtr& slot) {
  if (!slot) {
    slot = std::make_shared<Bucket>();
  } else if (slot->frozen) {
    slot = std::make_shared<Bucket>(*slot);  // entries and children are shared
    slot->frozen = false;
  }
  slot->ref.clear();
  return slot;
}

void split(Bucket& b, int level) {
  b.children.assign(size_t{1} << kFanoutBits, nullptr);
  for (auto& [name, child] : b.entries) {
    BucketPtr& c = b.children[child_index(fnv1a32(name), level)];
    if (!c) c = std::make_shared<Bucket>();
    c->entries.emplace(name, child);
    c->count++;
  }
  b.entries.clear();
}

void freeze(Bucket& b) {
  b.frozen = true;
  for (auto& c : b.children)
    if (c && !c->frozen) freeze(*c);
}

// Our hdir (RFC 11 leaves its details open): {"size":16,"func":"fnv1a32",
// "level":L,"count":C,"bucket":[dirref or null, ...]}; bucket i holds the
// names whose hash has i in bits 4L..4L+3.
std::optional<Error> check_hdir(const Json& obj, int level) {
  const Json& data = obj["data"];
  if (!data.is_object() || data.value("func", "") != "fnv1a32" || !data.contains("bucket") ||
      !data["bucket"].is_array() || data["bucket"].size() != (size_t{1} << kFanoutBits) ||
      data.value("size", 0) != (1 << kFanoutBits) || data.value("level", -1) != level)
    return Error{EPROTO, "malformed hdir"};
  for (const auto& b : data["bucket"])
    if (!b.is_null() && (treeobj::validate(b) || !treeobj::is_dirref(b)))
      return Error{EPROTO, "hdir: buckets must be dirrefs"};
  return std::nullopt;
}

}  // namespace

NodePtr Node::leaf(Json obj) {
  auto n = std::make_shared<Node>();
  n->kind = Kind::Leaf;
  n->text = obj.dump();
  n->obj = std::move(obj);
  return n;
}

NodePtr Node::dir() {
  auto n = std::make_shared<Node>();
  n->kind = Kind::Dir;
  n->root = std::make_shared<Bucket>();
  return n;
}

NodePtr Node::dirref(std::string ref) {
  auto n = std::make_shared<Node>();
  n->kind = Kind::DirRef;
  n->ref = std::move(ref);
  n->frozen = true;
  return n;
}

NodePtr Node::find(const std::string& name) const {
  const Bucket* b = root.get();
  uint32_t h = fnv1a32(name);
  for (int level = 0; !b->is_leaf(); level++) {
    b = b->children[child_index(h, level)].get();
    if (!b) return nullptr;
  }
  auto it = b->entries.find(name);
  if (it == b->entries.end()) return nullptr;
  it->second->used = true;
  return it->second;
}

void Node::set(const std::string& name, NodePtr child) {
  bool fresh = !find(name);
  uint32_t h = fnv1a32(name);
  BucketPtr* slot = &root;
  for (int level = 0;; level++) {
    Bucket& b = *writable(*slot);
    if (fresh) b.count++;
    if (b.is_leaf()) {
      b.entries.insert_or_assign(name, std::move(child));
      if (b.entries.size() > (level == 0 ? kMaxTopLeaf : kMaxLeaf) && level <= kMaxLevel)
        split(b, level);
      return;
    }
    slot = &b.children[child_index(h, level)];
  }
}

void Node::erase(const std::string& name) {
  if (!find(name)) return;
  uint32_t h = fnv1a32(name);
  BucketPtr* slot = &root;
  for (int level = 0;; level++) {
    Bucket& b = *writable(*slot);
    b.count--;
    if (b.is_leaf()) {
      b.entries.erase(name);
      return;
    }
    slot = &b.children[child_index(h, level)];
  }
}

std::vector<std::string> split_key(const std::string& key) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= key.size()) {
    size_t dot = key.find('.', start);
    std::string part =
        key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!part.empty()) out.push_back(std::move(part));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

NodePtr Tree::build_dir(const Json& dirobj) {
  auto d = Node::dir();
  for (const auto& [name, obj] : dirobj["data"].items()) {
    if (treeobj::is_dirref(obj))
      d->set(name, Node::dirref(obj["data"][0].get<std::string>()));
    else if (treeobj::is_dir(obj))
      d->set(name, build_dir(obj));
    else
      d->set(name, Node::leaf(obj));
  }
  d->frozen = true;
  freeze(*d->root);
  return d;
}

Task<BucketPtr> Tree::load_bucket(std::string ref, int level) {
  std::string blob = co_await storage_.load(ref);
  Json obj = Json::parse(blob, nullptr, false);
  auto b = std::make_shared<Bucket>();
  if (obj.is_object() && obj.value("type", "") == "hdir" && obj.value("ver", 0) == 1) {
    if (level > kMaxLevel) throw FluxError(EPROTO, "kvs: " + ref + ": hdir nested too deep");
    if (auto err = check_hdir(obj, level))
      throw FluxError(EPROTO, "kvs: " + ref + ": " + err->message);
    for (const auto& c : obj["data"]["bucket"]) {
      BucketPtr child;
      if (!c.is_null()) {
        child = co_await load_bucket(c["data"][0].get<std::string>(), level + 1);
        b->count += child->count;
      }
      b->children.push_back(std::move(child));
    }
  } else {
    auto decoded = treeobj::decode(blob);
    if (!decoded) throw FluxError(EPROTO, "kvs: directory " + ref + ": " + decoded.error().message);
    if (!treeobj::is_dir(*decoded)) throw FluxError(EPROTO, "kvs: " + ref + " is not a directory");
    NodePtr d = build_dir(*decoded);  // inline subdirectories become nodes
    d->for_each(
        [&](const std::string& name, const NodePtr& child) { b->entries.emplace(name, child); });
    b->count = b->entries.size();
  }
  b->ref = ref;
  freeze(*b);
  co_return b;
}

Task<NodePtr> Tree::resolve(NodePtr n) {
  if (n->kind != Node::Kind::DirRef) co_return n;
  auto it = cache_.find(n->ref);
  if (it != cache_.end()) {
    it->second->used = true;
    co_return it->second;
  }
  auto d = std::make_shared<Node>();
  d->kind = Node::Kind::Dir;
  d->root = co_await load_bucket(n->ref, 0);
  d->ref = n->ref;
  d->frozen = true;
  cache_[n->ref] = d;
  co_return d;
}

Task<std::string> Tree::read_valref(Json valref) {
  std::string out;
  for (const auto& ref : valref["data"]) out += co_await storage_.load(ref.get<std::string>());
  co_return out;
}

Task<NodePtr> Tree::make_leaf(NodePtr old, Json dirent, int flags, Blobs& blobs) {
  if (!(flags & kvs::kAppend)) {
    if (treeobj::is_val(dirent)) {
      std::string data = treeobj::decode_val(dirent).value();
      if (data.size() > kMaxInline) {
        std::string ref = storage_.hash(data);
        blobs.emplace_back(ref, std::move(data));
        co_return Node::leaf(treeobj::make_valref({ref}));
      }
    }
    co_return Node::leaf(dirent);
  }
  // Append: the new data becomes one more blob of a valref.
  if (!treeobj::is_val(dirent)) throw FluxError(EINVAL, "append needs a value");
  std::string data = treeobj::decode_val(dirent).value();
  std::vector<std::string> refs;
  if (old) {
    if (old->is_dir()) throw FluxError(EISDIR, "cannot append to a directory");
    if (treeobj::is_valref(old->obj)) {
      refs = old->obj["data"].get<std::vector<std::string>>();
    } else if (treeobj::is_val(old->obj)) {
      std::string prev = treeobj::decode_val(old->obj).value();
      std::string ref = storage_.hash(prev);
      blobs.emplace_back(ref, std::move(prev));
      refs.push_back(ref);
    } else {
      throw FluxError(EINVAL, "cannot append to a symlink");
    }
  }
  std::string ref = storage_.hash(data);
  blobs.emplace_back(ref, std::move(data));
  refs.push_back(ref);
  co_return Node::leaf(treeobj::make_valref(std::move(refs)));
}

Task<NodePtr> Tree::apply(NodePtr root, std::vector<std::string> path, Json dirent, int flags,
                          Blobs& blobs) {
  if (path.empty()) {
    // The root itself: only a directory may replace it.
    if (dirent.is_null() || !treeobj::is_dir(dirent))
      throw FluxError(EINVAL, "the root may only be replaced by a directory");
    co_return build_dir(dirent);
  }
  co_return co_await apply_at(std::move(root), path, 0, dirent, flags, blobs);
}

Task<NodePtr> Tree::apply_at(NodePtr dir, std::vector<std::string> path, size_t i, Json dirent,
                             int flags, Blobs& blobs) {
  // Not `dir ? co_await ... : ...`: g++ 12 miscompiles co_await in ?:.
  NodePtr d = Node::dir();
  if (dir) d = co_await resolve(dir);
  if (d->frozen) {
    auto copy = std::make_shared<Node>(*d);  // buckets are shared, not copied
    copy->frozen = false;
    d = copy;
  }
  d->ref.clear();
  const std::string& name = path[i];
  NodePtr child = d->find(name);
  if (i + 1 == path.size()) {
    if (dirent.is_null()) {
      d->erase(name);
    } else if (treeobj::is_dir(dirent)) {
      NodePtr sub = build_dir(dirent);
      sub->frozen = false;
      d->set(name, sub);
    } else if (treeobj::is_dirref(dirent)) {
      d->set(name, Node::dirref(dirent["data"][0].get<std::string>()));
    } else {
      d->set(name, co_await make_leaf(child, dirent, flags, blobs));
    }
    co_return d;
  }
  // An intermediate that is not a directory is replaced by one.
  if (!child || !child->is_dir()) {
    if (dirent.is_null()) co_return d;  // unlinking below a non-directory: nothing to do
    child = nullptr;
  }
  d->set(name, co_await apply_at(child, path, i + 1, dirent, flags, blobs));
  co_return d;
}

std::string Tree::entry_text(const Node& n) {
  if (n.kind == Node::Kind::Leaf) return n.text;
  return "{\"data\":[\"" + n.ref + "\"],\"type\":\"dirref\",\"ver\":1}";
}

std::string Tree::serialize_bucket(Bucket& b, int level, Blobs& blobs) {
  if (!b.ref.empty()) return b.ref;
  std::string out;
  if (b.is_leaf()) {
    out = "{\"data\":{";
    bool first = true;
    for (const auto& [name, child] : b.entries) {
      if (child->is_dir()) serialize(child, blobs);
      if (!first) out += ',';
      first = false;
      out += Json(name).dump();
      out += ':';
      out += entry_text(*child);
    }
    out += "},\"type\":\"dir\",\"ver\":1}";
  } else {
    // Children unchanged since the last root keep their blobs.
    out = "{\"data\":{\"bucket\":[";
    for (size_t i = 0; i < b.children.size(); i++) {
      if (i > 0) out += ',';
      Bucket* c = b.children[i].get();
      if (!c || c->count == 0) {
        out += "null";
        continue;
      }
      out += "{\"data\":[\"" + serialize_bucket(*c, level + 1, blobs) +
             "\"],\"type\":\"dirref\",\"ver\":1}";
    }
    out += "],\"count\":" + std::to_string(b.count) +
           ",\"func\":\"fnv1a32\",\"level\":" + std::to_string(level) +
           ",\"size\":" + std::to_string(b.children.size()) + "},\"type\":\"hdir\",\"ver\":1}";
  }
  b.ref = storage_.hash(out);
  blobs.emplace_back(b.ref, std::move(out));
  return b.ref;
}

std::string Tree::serialize(const NodePtr& root, Blobs& blobs) {
  if (root->kind == Node::Kind::DirRef) return root->ref;
  if (!root->ref.empty()) return root->ref;
  root->ref = serialize_bucket(*root->root, 0, blobs);
  root->frozen = true;
  freeze(*root->root);
  return root->ref;
}

namespace {

// Calls fn(slot) for each entry of the directory's buckets.
template <class Fn>
void for_each_slot(Bucket& b, Fn&& fn) {
  for (auto& [name, child] : b.entries) fn(child);
  for (auto& c : b.children)
    if (c) for_each_slot(*c, fn);
}

}  // namespace

size_t Tree::trim_dir(const Node& dir) {
  size_t unloaded = 0;
  // Only values are assigned (no insert or erase), so an iteration some
  // suspended coroutine holds stays valid.
  for_each_slot(*dir.root, [&](NodePtr& child) {
    if (child->kind != Node::Kind::Dir) return;
    if (!child->used && child->frozen && !child->ref.empty()) {
      child = Node::dirref(child->ref);
      unloaded++;
      return;
    }
    child->used = false;
    unloaded += trim_dir(*child);
  });
  return unloaded;
}

size_t Tree::trim(const std::vector<NodePtr>& roots) {
  size_t unloaded = 0;
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (!it->second->used) {
      it = cache_.erase(it);
      unloaded++;
    } else {
      ++it;
    }
  }
  for (const auto& [ref, dir] : cache_) {
    dir->used = false;
    unloaded += trim_dir(*dir);
  }
  for (const auto& root : roots)
    if (root && root->kind == Node::Kind::Dir) unloaded += trim_dir(*root);
  return unloaded;
}

}  // namespace flux::kvsmod
