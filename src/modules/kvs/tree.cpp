#include "tree.hpp"

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
  return n;
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
    std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
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
      d->entries[name] = Node::dirref(obj["data"][0].get<std::string>());
    else if (treeobj::is_dir(obj))
      d->entries[name] = build_dir(obj);
    else
      d->entries[name] = Node::leaf(obj);
  }
  d->frozen = true;
  return d;
}

Task<NodePtr> Tree::resolve(NodePtr n) {
  if (n->kind != Node::Kind::DirRef) co_return n;
  auto it = cache_.find(n->ref);
  if (it != cache_.end()) co_return it->second;
  std::string blob = co_await storage_.load(n->ref);
  auto decoded = treeobj::decode(blob);
  if (!decoded) throw FluxError(EPROTO, "kvs: directory " + n->ref + ": " + decoded.error().message);
  Json& obj = *decoded;
  if (!treeobj::is_dir(obj)) throw FluxError(EPROTO, "kvs: " + n->ref + " is not a directory");
  NodePtr d = build_dir(obj);
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
    auto copy = std::make_shared<Node>(*d);  // entries are shared, not copied
    copy->frozen = false;
    copy->ref.clear();
    d = copy;
  } else {
    d->ref.clear();
  }
  const std::string& name = path[i];
  auto it = d->entries.find(name);
  NodePtr child = it == d->entries.end() ? nullptr : it->second;
  if (i + 1 == path.size()) {
    if (dirent.is_null()) {
      d->entries.erase(name);
    } else if (treeobj::is_dir(dirent)) {
      d->entries[name] = build_dir(dirent);
      d->entries[name]->frozen = false;
    } else if (treeobj::is_dirref(dirent)) {
      d->entries[name] = Node::dirref(dirent["data"][0].get<std::string>());
    } else {
      d->entries[name] = co_await make_leaf(child, dirent, flags, blobs);
    }
    co_return d;
  }
  // An intermediate that is not a directory is replaced by one.
  if (!child || !child->is_dir()) {
    if (dirent.is_null()) co_return d;  // unlinking below a non-directory: nothing to do
    child = nullptr;
  }
  d->entries[name] = co_await apply_at(child, path, i + 1, dirent, flags, blobs);
  co_return d;
}

std::string Tree::entry_text(const Node& n) {
  if (n.kind == Node::Kind::Leaf) return n.text;
  return "{\"data\":[\"" + n.ref + "\"],\"type\":\"dirref\",\"ver\":1}";
}

std::string Tree::serialize(const NodePtr& root, Blobs& blobs) {
  if (root->kind == Node::Kind::DirRef) return root->ref;
  if (!root->ref.empty()) return root->ref;
  std::string out = "{\"data\":{";
  bool first = true;
  for (const auto& [name, child] : root->entries) {
    if (child->is_dir()) serialize(child, blobs);
    if (!first) out += ',';
    first = false;
    out += Json(name).dump();
    out += ':';
    out += entry_text(*child);
  }
  out += "},\"type\":\"dir\",\"ver\":1}";
  root->ref = storage_.hash(out);
  root->frozen = true;
  blobs.emplace_back(root->ref, std::move(out));
  return root->ref;
}

}  // namespace flux::kvsmod
