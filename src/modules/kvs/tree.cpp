#include "tree.hpp"

#include <optional>

#include "libflux/kvs.hpp"
#include "libflux/result.hpp"
#include "libflux/treeobj.hpp"

namespace flux::kvsmod {

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
  n->buckets.push_back(std::make_shared<Bucket>());
  return n;
}

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

// A directory blob is rewritten whole on every change, so it is kept small:
// past kMaxFlatDir entries it is split, and split 4x finer whenever buckets
// average more than kMaxBucketAvg (bucket list and bucket stay ~10 KB).
constexpr size_t kMaxFlatDir = 256;
constexpr size_t kFirstBuckets = 16;
constexpr size_t kMaxBucketAvg = 256;

}  // namespace

NodePtr Node::find(const std::string& name) const {
  const auto& b = *buckets[buckets.size() == 1 ? 0 : fnv1a32(name) & (buckets.size() - 1)];
  auto it = b.entries.find(name);
  return it == b.entries.end() ? nullptr : it->second;
}

Bucket& Node::bucket_for_write(const std::string& name) {
  auto& slot = buckets[buckets.size() == 1 ? 0 : fnv1a32(name) & (buckets.size() - 1)];
  if (slot->frozen) {
    slot = std::make_shared<Bucket>(*slot);  // entries are shared, not copied
    slot->frozen = false;
  }
  slot->ref.clear();
  return *slot;
}

void Node::set(const std::string& name, NodePtr child) {
  Bucket& b = bucket_for_write(name);
  auto [it, fresh] = b.entries.insert_or_assign(name, std::move(child));
  if (fresh) count++;
  if (buckets.size() == 1 && count > kMaxFlatDir)
    reshard(kFirstBuckets);
  else if (buckets.size() > 1 && count > kMaxBucketAvg * buckets.size())
    reshard(buckets.size() * 4);
}

void Node::erase(const std::string& name) {
  if (!find(name)) return;
  bucket_for_write(name).entries.erase(name);
  count--;
}

void Node::reshard(size_t nbuckets) {
  std::vector<BucketPtr> next(nbuckets);
  for (auto& b : next) b = std::make_shared<Bucket>();
  for_each([&](const std::string& name, const NodePtr& child) {
    next[fnv1a32(name) & (nbuckets - 1)]->entries.emplace(name, child);
  });
  buckets = std::move(next);
}

NodePtr Node::dirref(std::string ref) {
  auto n = std::make_shared<Node>();
  n->kind = Kind::DirRef;
  n->ref = std::move(ref);
  n->frozen = true;
  return n;
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
  for (auto& b : d->buckets) b->frozen = true;
  return d;
}

namespace {

// Our hdir (RFC 11 leaves its details open): {"size":N,"func":"fnv1a32",
// "count":C,"bucket":[dirref or null, ...]} with N a power of two.
std::optional<Error> check_hdir(const Json& obj) {
  const Json& data = obj["data"];
  if (!data.is_object() || !data.contains("size") || !data["size"].is_number_unsigned() ||
      !data.contains("bucket") || !data["bucket"].is_array() || data.value("func", "") != "fnv1a32")
    return Error{EPROTO, "malformed hdir"};
  size_t n = data["size"];
  if (n < 2 || (n & (n - 1)) || data["bucket"].size() != n) return Error{EPROTO, "hdir: bad size"};
  for (const auto& b : data["bucket"])
    if (!b.is_null() && (treeobj::validate(b) || !treeobj::is_dirref(b)))
      return Error{EPROTO, "hdir: buckets must be dirrefs"};
  return std::nullopt;
}

}  // namespace

Task<NodePtr> Tree::resolve(NodePtr n) {
  if (n->kind != Node::Kind::DirRef) co_return n;
  auto it = cache_.find(n->ref);
  if (it != cache_.end()) co_return it->second;
  std::string blob = co_await storage_.load(n->ref);
  Json obj = Json::parse(blob, nullptr, false);
  NodePtr d;
  if (obj.is_object() && obj.value("type", "") == "hdir" && obj.value("ver", 0) == 1) {
    if (auto err = check_hdir(obj)) throw FluxError(EPROTO, "kvs: " + n->ref + ": " + err->message);
    const Json& buckets = obj["data"]["bucket"];
    d = std::make_shared<Node>();
    d->kind = Node::Kind::Dir;
    for (const auto& b : buckets) {
      auto bucket = std::make_shared<Bucket>();
      if (!b.is_null()) {
        NodePtr part = co_await resolve(Node::dirref(b["data"][0].get<std::string>()));
        part->for_each([&](const std::string& name, const NodePtr& child) {
          bucket->entries.emplace(name, child);
        });
        bucket->ref = part->ref;
      }
      bucket->frozen = true;
      d->count += bucket->entries.size();
      d->buckets.push_back(std::move(bucket));
    }
    d->frozen = true;
  } else {
    auto decoded = treeobj::decode(blob);
    if (!decoded)
      throw FluxError(EPROTO, "kvs: directory " + n->ref + ": " + decoded.error().message);
    if (!treeobj::is_dir(*decoded))
      throw FluxError(EPROTO, "kvs: " + n->ref + " is not a directory");
    d = build_dir(*decoded);
  }
  d->ref = n->ref;
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

std::string Tree::dir_blob(const std::map<std::string, NodePtr>& entries, Blobs& blobs) {
  std::string out = "{\"data\":{";
  bool first = true;
  for (const auto& [name, child] : entries) {
    if (child->is_dir()) serialize(child, blobs);
    if (!first) out += ',';
    first = false;
    out += Json(name).dump();
    out += ':';
    out += entry_text(*child);
  }
  out += "},\"type\":\"dir\",\"ver\":1}";
  std::string ref = storage_.hash(out);
  blobs.emplace_back(ref, std::move(out));
  return ref;
}

std::string Tree::serialize(const NodePtr& root, Blobs& blobs) {
  if (root->kind == Node::Kind::DirRef) return root->ref;
  if (!root->ref.empty()) return root->ref;
  if (root->buckets.size() == 1) {
    root->ref = dir_blob(root->buckets[0]->entries, blobs);
  } else {
    // Only buckets changed since the last root are written again.
    std::string out = "{\"data\":{\"bucket\":[";
    for (size_t i = 0; i < root->buckets.size(); i++) {
      Bucket& b = *root->buckets[i];
      if (i > 0) out += ',';
      if (b.entries.empty()) {
        out += "null";
        continue;
      }
      if (b.ref.empty()) b.ref = dir_blob(b.entries, blobs);
      out += "{\"data\":[\"" + b.ref + "\"],\"type\":\"dirref\",\"ver\":1}";
    }
    out += "],\"count\":" + std::to_string(root->count) +
           ",\"func\":\"fnv1a32\",\"size\":" + std::to_string(root->buckets.size()) +
           "},\"type\":\"hdir\",\"ver\":1}";
    root->ref = storage_.hash(out);
    blobs.emplace_back(root->ref, std::move(out));
  }
  root->frozen = true;
  for (auto& b : root->buckets) b->frozen = true;
  return root->ref;
}

}  // namespace flux::kvsmod
