#include "watch_service.hpp"

#include "libflux/blobref.hpp"
#include "libflux/kvs.hpp"
#include "libflux/treeobj.hpp"

namespace flux::kvswatch {

Task<void> WatchService::start() {
  h_.on_event("kvs.setroot-*", [this](const Message& m) { setroot(m); });
  h_.on_event("kvs.namespace-removed-*", [this](const Message& m) { ns_removed(m); });
  co_await h_.subscribe("kvs.setroot-");
  co_await h_.subscribe("kvs.namespace-removed-");
  auto drop = [this](const Message& m, bool by_tag) {
    const std::string* sender = m.first_route();
    if (!sender) return;
    uint32_t tag = 0;
    if (by_tag) {
      auto j = m.json();
      tag = j ? j->value("matchtag", 0u) : 0;
    }
    for (auto& w : watchers_) {
      if (w->done || !w->req.first_route() || *w->req.first_route() != *sender) continue;
      if (by_tag && w->req.matchtag() != tag) continue;
      if (by_tag)
        finish(*w, ENODATA);
      else {
        w->done = true;  // gone: no answer
        wake(*w);
      }
    }
  };
  // Open to guests: the kvs checks each lookup with the watcher's
  // credentials; cancel and disconnect touch only the sender's watches.
  h_.serve({
      {"kvs-watch.lookup", Access::kUser, [this](const Message& m) { add(m); }},
      {"kvs-watch.cancel", Access::kUser, [drop](const Message& m) { drop(m, true); }},
      {"kvs-watch.disconnect", Access::kUser, [drop](const Message& m) { drop(m, false); }},
      // As flux-core's: watchers in all and per namespace (tests wait on it).
      {"kvs-watch.stats-get", Access::kUser,
       [this](const Message&) -> Json {
         Json per = Json::object();
         size_t total = 0;
         for (const auto& w : watchers_) {
           if (w->done) continue;
           total++;
           Json& n = per[w->ns];
           if (!n.is_object()) n = {{"watchers", 0}};
           n["watchers"] = n["watchers"].get<int>() + 1;
         }
         return {{"watchers", total}, {"namespace-count", per.size()}, {"namespaces", per}};
       }},
  });
}

void WatchService::wake(Watcher& w) {
  // Resume from the loop, not from inside the caller's iteration.
  if (w.waiter) {
    auto h = std::exchange(w.waiter, {});
    h_.reactor().post([h] { h.resume(); });
  }
}

void WatchService::finish(Watcher& w, int errnum, const std::string& why) {
  if (w.done) return;
  w.done = true;
  h_.respond_error(w.req, errnum, why);
  wake(w);
}

void WatchService::setroot(const Message& ev) {
  auto j = ev.json();
  if (!j) return;
  std::string ns = j->value("namespace", "");
  int seq = j->value("rootseq", 0);
  Root& r = roots_[ns];
  if (seq <= r.seq && !r.rootref.empty()) return;
  r = Root{j->value("rootref", ""), seq};
  const Json& keys = (*j)["keys"];
  for (auto& w : watchers_) {
    if (w->done || w->root_ns != ns) continue;
    // As flux-core's: without FULL, only a commit naming the key itself
    // counts (not one replacing a parent directory or a key below it).
    bool relevant = (w->flags & kvs::kWatchFull) || !keys.is_array();
    if (!relevant)
      for (const auto& k : keys)
        if (k.is_string() && k.get<std::string>() == w->root_key) relevant = true;
    if (relevant && seq > w->seq) {
      w->roots.push_back(r);  // every version, in order
      wake(*w);
    }
  }
}

void WatchService::ns_removed(const Message& ev) {
  auto j = ev.json();
  if (!j) return;
  std::string ns = j->value("namespace", "");
  roots_.erase(ns);
  for (auto& w : watchers_)
    if (w->ns == ns) finish(*w, ENOTSUP, "namespace " + ns + " was removed");
}

void WatchService::add(const Message& m) {
  auto w = std::make_shared<Watcher>();
  w->req = m;
  try {
    Json req = m.json().value();
    w->ns = req.value("namespace", kvs::kPrimary);
    w->key = kvs::normalize_key(req.at("key").get<std::string>());
    w->root_ns = w->ns;
    w->root_key = w->key;
    w->flags = req.value("flags", 0);
  } catch (const std::exception& e) {
    h_.respond_error(m, EPROTO, e.what());
    return;
  }
  if (!m.has_flag(msgflag::kStreaming)) {
    h_.respond_error(m, EPROTO, "kvs-watch.lookup needs the streaming flag");
    return;
  }
  watchers_.push_back(w);
  spawn(run(w));
}

// Ask the kvs on behalf of the watcher's requester, so that the kvs checks
// that user's access to the namespace.
Rpc WatchService::as_requester(const Watcher& w, const std::string& topic, const Json& payload) {
  Message m = Message::request(topic);
  m.set_json(payload);
  m.set_userid(w.req.userid());
  m.set_rolemask(w.req.rolemask());
  return h_.rpc_message(std::move(m));
}

Task<std::string> WatchService::load_blob(std::string ref) {
  auto digest = blobref_to_digest(ref);
  if (!digest) throw FluxError(EPROTO, "bad blobref " + ref);
  Message r = co_await h_.rpc_raw("content.load", digest->second);
  co_return std::string(r.payload());
}

// Look the key up at `root`; answer if the watch calls for it. Returns false
// when the stream has ended.
Task<bool> WatchService::check(Watcher& w, Root root) {
  bool append = w.flags & kvs::kWatchAppend;
  int lookup_flags = w.flags & (kvs::kReaddir | kvs::kReadlink | kvs::kTreeobj);
  if (append) lookup_flags |= kvs::kTreeobj;
  Json req = {
      {"key", w.key}, {"namespace", w.ns}, {"flags", lookup_flags}, {"rootref", root.rootref}};
  Json val;
  try {
    Message r = co_await as_requester(w, "kvs.lookup", req);
    val = r.json().value().at("val");
  } catch (const FluxError& e) {
    if (e.errnum() == ENOENT && !w.sent && (w.flags & kvs::kWaitCreate)) co_return true;
    finish(w, e.errnum(), e.what());
    co_return false;
  }
  if (w.done) co_return false;
  if (!append) {
    std::string text = val.dump();
    if ((w.flags & kvs::kWatchUniq) && w.last && *w.last == text) co_return true;
    w.last = std::move(text);
    w.sent = true;
    h_.respond(w.req, {{"val", std::move(val)}});
    co_return true;
  }
  // Append: send what is new since the last answer.
  auto replaced = [&] {
    finish(w, EINVAL, "value of " + w.key + " was replaced, not appended to");
    return false;
  };
  std::string data;
  if (treeobj::is_valref(val)) {
    auto refs = val["data"].get<std::vector<std::string>>();
    size_t k = 0;
    if (!w.sent_inline.empty()) {
      // A value first sent inline became a valref when appended to: its
      // first blobs hold what was already sent.
      std::string head;
      while (k < refs.size() && head.size() < w.sent_inline.size())
        head += co_await load_blob(refs[k++]);
      if (head != w.sent_inline) co_return replaced();
      w.sent_inline.clear();
      w.sent_refs.assign(refs.begin(), refs.begin() + static_cast<long>(k));
    }
    if (refs.size() < w.sent_refs.size() ||
        !std::equal(w.sent_refs.begin(), w.sent_refs.end(), refs.begin()))
      co_return replaced();
    for (size_t i = w.sent_refs.size(); i < refs.size(); i++) data += co_await load_blob(refs[i]);
    w.sent_refs = std::move(refs);
  } else if (treeobj::is_val(val)) {
    std::string all = treeobj::decode_val(val).value();
    if (!w.sent_refs.empty() || all.compare(0, w.sent_inline.size(), w.sent_inline) != 0)
      co_return replaced();
    data = all.substr(w.sent_inline.size());
    w.sent_inline = std::move(all);
  } else {
    finish(w, EINVAL, w.key + " is not a value");
    co_return false;
  }
  if (w.done) co_return false;
  if (data.empty() && w.sent) co_return true;
  w.sent = true;
  h_.respond(w.req, {{"val", treeobj::make_val(data)}});
  co_return true;
}

Task<void> WatchService::run(std::shared_ptr<Watcher> w) {
  try {
    // The first answer comes from the current root.
    Json req = {{"namespace", w->ns}};  // not inside co_await: g++ 12 miscompiles that
    Message r = co_await as_requester(*w, "kvs.getroot", req);
    Json j = r.json().value();
    Root now{j.at("rootref").get<std::string>(), j.at("rootseq").get<int>()};
    if (j.contains("root-namespace")) {
      w->root_ns = j["root-namespace"].get<std::string>();
      std::string prefix = j.value("prefix", "");
      w->root_key = w->key == "." ? prefix : prefix + "." + w->key;
    }
    Root& known = roots_[w->root_ns];
    if (now.seq > known.seq || known.rootref.empty()) known = now;
    // A root that came while we asked (we matched it against the view's
    // name then, not its namespace's).
    if (known.seq > now.seq) w->roots.push_back(known);
    w->seq = now.seq;
    if (co_await check(*w, now)) {
      while (!w->done) {
        co_await WakeAwaiter{*w};
        if (w->done) break;
        Root next = w->roots.front();
        w->roots.pop_front();
        if (next.seq <= w->seq) continue;  // older than what the first answer saw
        w->seq = next.seq;
        if (!co_await check(*w, next)) break;
      }
    }
  } catch (const FluxError& e) {
    finish(*w, e.errnum(), e.what());
  } catch (const std::exception& e) {
    finish(*w, EPROTO, e.what());
  }
  w->done = true;
  watchers_.remove(w);
}

}  // namespace flux::kvswatch
