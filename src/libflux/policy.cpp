#include "policy.hpp"

#include <algorithm>

#include "fsd.hpp"

namespace flux {

namespace {

[[noreturn]] void fail(const std::string& table, const std::string& why) {
  throw FluxError(EINVAL, "error parsing [" + table + "] config table: " + why);
}

// Jansson's words for a key that "!" did not expect.
void only_keys(const Json& o, const std::string& table, std::initializer_list<const char*> keys) {
  if (!o.is_object()) fail(table, "Expected object, got " + std::string(o.type_name()));
  std::vector<std::string> extra;
  for (const auto& [k, v] : o.items()) {
    bool known = false;
    for (const char* want : keys) known = known || k == want;
    if (!known) extra.push_back(k);
  }
  if (extra.empty()) return;
  std::string list;
  for (const auto& k : extra) list += (list.empty() ? "" : ", ") + k;
  fail(table, std::to_string(extra.size()) + " object item(s) left unpacked: " + list);
}

bool valid_fsd(const Json& v) {
  return v.is_string() && fsd_parse(v.get<std::string>()).ok();
}

bool string_array(const Json& v, std::string_view banned = {}) {
  if (!v.is_array()) return false;
  for (const auto& s : v) {
    if (!s.is_string()) return false;
    if (s.get_ref<const std::string&>().find_first_of(banned) != std::string::npos) return false;
  }
  return true;
}

// One policy table (top level or a queue's); returns its default queue.
std::string check_policy(const Json& policy, const std::string& key) {
  only_keys(policy, key, {"jobspec", "limits", "access", "scheduler"});
  std::string defqueue;
  if (auto js = policy.find("jobspec"); js != policy.end()) {
    std::string k = key + ".jobspec";
    only_keys(*js, k, {"defaults"});
    if (auto d = js->find("defaults"); d != js->end()) {
      only_keys(*d, k, {"system"});
      if (auto s = d->find("system"); s != d->end()) {
        only_keys(*s, k, {"duration", "queue"});
        if (s->contains("duration") && !valid_fsd((*s)["duration"]))
          fail(k, "'defaults.system.duration' is not a valid FSD");
        if (s->contains("queue")) {
          if (!(*s)["queue"].is_string()) fail(k, "'defaults.system.queue' is not a string");
          defqueue = (*s)["queue"].get<std::string>();
        }
      }
    }
  }
  if (auto lim = policy.find("limits"); lim != policy.end()) {
    std::string k = key + ".limits";
    only_keys(*lim, k, {"job-size", "duration"});
    if (lim->contains("duration") && !valid_fsd((*lim)["duration"]))
      fail(k, "'duration' is not a valid FSD");
    if (auto size = lim->find("job-size"); size != lim->end()) {
      only_keys(*size, k + ".job-size", {"min", "max"});
      for (const char* bound : {"min", "max"}) {
        if (!size->contains(bound)) continue;
        std::string kb = k + "." + bound;
        only_keys((*size)[bound], kb, {"nnodes", "ncores", "ngpus"});
        for (const auto& [n, v] : (*size)[bound].items()) {
          if (!v.is_number_integer())
            fail(kb, "Expected integer, got " + std::string(v.type_name()));
          if (v.get<int64_t>() < -1) fail(kb, "values must be >= -1");
        }
      }
    }
  }
  if (auto acc = policy.find("access"); acc != policy.end()) {
    std::string k = key + ".access";
    only_keys(*acc, k, {"allow-user", "allow-group"});
    for (const char* list : {"allow-user", "allow-group"})
      if (acc->contains(list) && !string_array((*acc)[list]))
        fail(k, "'" + std::string(list) + "' must be a string array");
  }
  return defqueue;
}

const Json* system_defaults(const Json& table) {
  const Json* p = &table;
  for (const char* k : {"policy", "jobspec", "defaults", "system"}) {
    if (!p->is_object() || !p->contains(k)) return nullptr;
    p = &(*p)[k];
  }
  return p;
}

}  // namespace

Result<Policy> Policy::from_config(const Json& config) try {
  Policy out;
  // [job-manager]'s inactive job limits, checked with the rest.
  if (auto jm = config.find("job-manager"); jm != config.end() && jm->is_object()) {
    if (auto a = jm->find("inactive-age-limit"); a != jm->end()) {
      if (!a->is_string())
        throw FluxError(EINVAL, "job-manager.max-inactive-*: Expected string, got " +
                                    std::string(a->type_name()));
      if (!fsd_parse(a->get<std::string>()))
        throw FluxError(EINVAL, "job-manager.inactive-age-limit: invalid FSD");
    }
    if (auto n = jm->find("inactive-num-limit"); n != jm->end()) {
      if (!n->is_number_integer())
        throw FluxError(EINVAL, "job-manager.max-inactive-*: Expected integer, got " +
                                    std::string(n->type_name()));
      if (n->get<int64_t>() < 0)
        throw FluxError(EINVAL, "job-manager.inactive-num-limit: must be >= 0");
    }
  }
  if (auto p = config.find("policy"); p != config.end()) {
    out.default_queue_ = check_policy(*p, "policy");
    if (const Json* d = system_defaults(config)) out.defaults_ = *d;
  }
  auto qs = config.find("queues");
  if (qs != config.end()) {
    if (!qs->is_object()) fail("queues", "not a table");
    for (const auto& [name, entry] : qs->items()) {
      std::string table = "queues." + name;
      only_keys(entry, table, {"policy", "requires", "parent"});
      QueuePolicy q;
      q.name = name;
      if (entry.contains("parent")) {
        if (!entry["parent"].is_string()) fail(table, "'parent' must be a string");
        q.parent = entry["parent"].get<std::string>();
      }
      if (entry.contains("policy")) {
        if (!check_policy(entry["policy"], table + ".policy").empty())
          fail(table, "'policy' must not define a default queue!");
        if (!q.parent.empty() && entry["policy"].contains("scheduler"))
          fail(table, "a virtual queue must not set 'policy.scheduler'");
      }
      if (entry.contains("requires")) {
        if (!q.parent.empty()) fail(table, "a virtual queue must not set 'requires'");
        if (!string_array(entry["requires"], " \t!&'\"`|()"))
          fail(table, "'requires' must be an array of property strings (RFC 20)");
        q.required = entry["requires"].get<std::vector<std::string>>();
      }
      if (const Json* d = system_defaults(entry)) q.defaults = *d;
      out.queues_.emplace(name, std::move(q));
    }
    // Virtual queues: a configured, non-virtual parent; its requires and
    // defaults under the queue's own.
    for (auto& [name, q] : out.queues_) {
      if (q.parent.empty()) continue;
      std::string table = "queues." + name;
      if (q.parent == name) fail(table, "parent queue is itself");
      auto parent = out.queues_.find(q.parent);
      if (parent == out.queues_.end())
        fail(table, "parent queue '" + q.parent + "' is not configured");
      if (!parent->second.parent.empty())
        fail(table, "parent queue '" + q.parent + "' is itself a virtual queue");
      q.required = parent->second.required;
      Json merged = parent->second.defaults;
      merged.update(q.defaults);
      q.defaults = std::move(merged);
    }
  }
  if (!out.default_queue_.empty() && !out.queues_.count(out.default_queue_))
    throw FluxError(EINVAL, "the [policy] config table defines a default queue " +
                                out.default_queue_ + " that is not in [queues] table");
  return out;
} catch (const FluxError& e) {
  return Error{e.errnum(), e.what()};
}

Result<bool> Policy::apply(Json& jobspec) const {
  if (empty()) return false;
  if (!jobspec.is_object() || !jobspec.contains("attributes") || !jobspec["attributes"].is_object())
    return Error{EINVAL, "jobspec has no attributes"};
  Json& attrs = jobspec["attributes"];
  if (!attrs.contains("system") || !attrs["system"].is_object()) attrs["system"] = Json::object();
  Json& sys = attrs["system"];
  std::string queue = default_queue_;
  if (auto q = sys.find("queue"); q != sys.end() && q->is_string()) queue = q->get<std::string>();
  const QueuePolicy* qp = nullptr;
  if (!queues_.empty()) {
    if (queue.empty()) return Error{EINVAL, "no queue specified"};
    auto it = queues_.find(queue);
    if (it == queues_.end()) return Error{EINVAL, "Invalid queue '" + queue + "' specified"};
    qp = &it->second;
  }
  Json defaults = defaults_;
  if (qp) defaults.update(qp->defaults);
  bool changed = false;
  for (const auto& [attr, value] : defaults.items()) {
    if (attr == "duration") {
      auto d = sys.find("duration");
      if (d == sys.end() || (d->is_number() && d->get<double>() == 0)) {
        sys["duration"] =
            value.is_string() ? Json(fsd_parse(value.get<std::string>()).value()) : value;
        changed = true;
      }
    } else if (!sys.contains(attr)) {
      sys[attr] = value;
      changed = true;
    }
  }
  if (qp && !qp->required.empty()) {
    Json props(qp->required);
    auto c = sys.find("constraints");
    if (c == sys.end() || !c->is_object() || c->empty()) {
      sys["constraints"] = {{"properties", props}};
    } else if (auto p = c->find("properties"); p != c->end() && p->is_array()) {
      for (const auto& prop : props)
        if (std::find(p->begin(), p->end(), prop) == p->end()) p->push_back(prop);
    } else {
      sys["constraints"] = {{"and", Json::array({*c, {{"properties", props}}})}};
    }
    changed = true;
  }
  return changed;
}

}  // namespace flux
