// The kvs on ranks > 0: roots learned from rank 0, writes relayed to it.
//
// A follower holds no state of its own that matters: each namespace entry
// is rank 0's root at some sequence number, loaded on first use with
// kvs.getroot and moved forward by the kvs.setroot events every rank sees.
// Values are read through the local content cache, which loads misses from
// the parent, so a busy rank reads without bothering rank 0 once warm.
#include "kvs_service.hpp"
#include "libflux/kvs.hpp"
#include "libflux/treeobj.hpp"

namespace flux::kvsmod {

Namespace& KvsService::follower_entry(const std::string& name) {
  auto& slot = namespaces_[name];
  if (!slot) {
    slot = std::make_unique<Namespace>();
    slot->name = name;
    slot->known = false;
  }
  return *slot;
}

// Events and answers may arrive out of order: only a newer root counts.
void KvsService::follow(Namespace& ns, const std::string& rootref, int seq) {
  if (ns.root && seq <= ns.seq) return;
  if (!treeobj::is_blobref(rootref)) throw FluxError(EPROTO, "kvs: bad rootref " + rootref);
  set_root(ns, Node::dirref(rootref), rootref, seq);
}

Task<void> KvsService::learn_namespace(std::string name) {
  Json req = {{"namespace", name}};
  Message r = co_await h_.rpc("kvs.getroot", req, 0);
  Json v = r.json().value();
  // An event may have made the entry (with a newer root) while we waited.
  Namespace& ns = follower_entry(name);
  ns.owner = v.at("owner").get<uint32_t>();
  ns.flags = v.value("flags", 0);
  ns.known = true;
  follow(ns, v.at("rootref").get<std::string>(), v.at("rootseq").get<int>());
}

// Rank 0 checks rights against our (owner) credentials: the caller has
// checked the requester's. The answer's root is ours at once, so that a
// writer reads its own write on this rank without waiting for the event.
Task<void> KvsService::relay(Message m, Json req, std::string ns_name) {
  std::string topic(m.topic());
  Message r = co_await h_.rpc(topic, req, 0);
  Json v = r.json().value();
  auto it = namespaces_.find(ns_name);
  if (it != namespaces_.end() && !it->second->removed)
    follow(*it->second, v.at("rootref").get<std::string>(), v.at("rootseq").get<int>());
  h_.respond(m, v);
}

Task<Json> KvsService::relay_namespace_op(const Message& m) {
  std::string topic(m.topic());
  Json req = m.json().value();
  Message r = co_await h_.rpc(topic, req, 0);
  co_return r.json().value();
}

void KvsService::setroot_event(const Message& m) {
  try {
    Json ev = m.json().value();
    Namespace& ns = follower_entry(ev.at("namespace").get<std::string>());
    follow(ns, ev.at("rootref").get<std::string>(), ev.at("rootseq").get<int>());
  } catch (const std::exception& e) {
    log_.err(std::string("kvs: bad setroot event: ") + e.what());
  }
}

void KvsService::removed_event(const Message& m) {
  try {
    std::string name = m.json().value().at("namespace");
    auto it = namespaces_.find(name);
    if (it != namespaces_.end()) drop_namespace(it, "namespace " + name + " removed");
  } catch (const std::exception& e) {
    log_.err(std::string("kvs: bad namespace-removed event: ") + e.what());
  }
}

}  // namespace flux::kvsmod
