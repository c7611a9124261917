#include "queues.hpp"

namespace flux::jobmgr {

Queues::Queues() {
  anon_.started = anon_.started_sticky = true;
}

void Queues::configure(const Policy& policy) {
  std::map<std::string, Queue> next;
  for (const auto& [name, qp] : policy.queues()) {
    auto it = named_.find(name);
    Queue q = it != named_.end() ? std::move(it->second) : Queue{};
    q.name = name;
    q.parent = qp.parent;
    next.emplace(name, std::move(q));
  }
  named_ = std::move(next);
}

std::vector<std::string> Queues::names() const {
  std::vector<std::string> out;
  for (const auto& [name, q] : named_) out.push_back(name);
  return out;
}

const Queue* Queues::find(const std::string& name) const {
  if (named_.empty()) return name.empty() ? &anon_ : nullptr;
  auto it = named_.find(name);
  return it == named_.end() ? nullptr : &it->second;
}

Queue& Queues::lookup(const std::string& name) {
  if (auto* q = find(name)) return const_cast<Queue&>(*q);
  if (name.empty()) throw FluxError(EINVAL, "a named queue is required");
  throw FluxError(EINVAL, "'" + name + "' is not a valid queue");
}

bool Queues::started(const std::string& job_queue) const {
  const Queue* q = find(job_queue);
  if (!q || !q->started) return false;
  if (q->parent.empty()) return true;
  const Queue* parent = find(q->parent);
  return parent && parent->started;
}

std::vector<Queue*> Queues::targets(const std::string& name) {
  std::vector<Queue*> out;
  if (name.empty() && !named_.empty()) {
    for (auto& [n, q] : named_) out.push_back(&q);
  } else {
    out.push_back(&lookup(name));
  }
  return out;
}

bool Queues::covers(const std::string& name, const std::string& job_queue) const {
  if (name.empty() || name == job_queue) return true;
  const Queue* target = find(name);
  const Queue* jq = find(job_queue);
  return target && jq && target->parent.empty() && jq->parent == name;
}

Json Queues::status(const std::string& name, bool sched_ready) {
  Queue& q = lookup(name);
  bool start = false;
  std::string blocked, stop_reason = q.stop_reason;
  if (!sched_ready) {
    if (q.started) blocked = "scheduler";
    stop_reason = "Scheduler is offline";
  } else {
    start = started(q.name);
    if (!start && q.started) {
      blocked = "parent";
      stop_reason = "parent queue '" + q.parent + "' is stopped";
    }
  }
  Json o = {{"enable", q.enabled}, {"start", start}};
  if (!q.parent.empty()) o["parent"] = q.parent;
  if (!blocked.empty()) o["blocked"] = blocked;
  if (!q.enabled && !q.disable_reason.empty()) o["disable_reason"] = q.disable_reason;
  if (!start && !stop_reason.empty()) o["stop_reason"] = stop_reason;
  return o;
}

Json Queues::save() const {
  Json out = Json::array();
  auto one = [&out](const Queue& q) {
    Json e = {{"enable", q.enabled}, {"start", q.started_sticky}};
    if (!q.name.empty()) e["name"] = q.name;
    if (!q.enabled) e["disable_reason"] = q.disable_reason;
    if (!q.started_sticky && !q.stop_reason.empty()) e["stop_reason"] = q.stop_reason;
    out.push_back(std::move(e));
  };
  if (named_.empty()) one(anon_);
  for (const auto& [name, q] : named_) one(q);
  return out;
}

void Queues::restore(const Json& saved) {
  if (!saved.is_array()) return;
  for (const auto& e : saved) {
    if (!e.is_object()) continue;
    auto* q = const_cast<Queue*>(find(e.value("name", "")));
    if (!q) continue;  // a queue no longer configured
    q->enabled = e.value("enable", true);
    q->disable_reason = q->enabled ? "" : e.value("disable_reason", "");
    q->started = q->started_sticky = e.value("start", true);
    q->stop_reason = q->started ? "" : e.value("stop_reason", "");
  }
}

}  // namespace flux::jobmgr
