// sched-graph's settings. See options.hpp.
#include "options.hpp"

#include <cerrno>

namespace flux::sched_graph {

namespace {

Result<int64_t> count_of(const std::string& where, const Json& v) {
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return v.get<int64_t>();
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (!s.empty() && s.size() < 12 && s.find_first_not_of("0123456789") == std::string::npos)
      return std::stoll(s);
  }
  return Error{EINVAL, where + ": must be a non-negative integer"};
}

Result<std::string> string_of(const std::string& where, const Json& v) {
  if (!v.is_string()) return Error{EINVAL, where + ": must be a string"};
  return v.get<std::string>();
}

// One key of a table or argument into config (queue: its params).
Result<bool> apply(SchedConfig& config, QueueParams& queue, bool top, const std::string& where,
                   const std::string& key, const Json& v) {
  std::string at = where + key;
  if (key == "queue-policy") {
    auto s = string_of(at, v);
    if (!s) return s.error();
    auto p = queue_policy_parse(*s);
    if (!p) return Error{EINVAL, at + ": " + p.error().message};
    queue.policy = *p;
  } else if (key == "reservation-depth") {
    auto n = count_of(at, v);
    if (!n) return n.error();
    queue.reservation_depth = *n;
  } else if (top && key == "match-policy") {
    auto s = string_of(at, v);
    if (!s) return s.error();
    auto p = match_policy_parse(*s);
    if (!p) return Error{EINVAL, at + ": " + p.error().message};
    config.match = *p;
  } else if (top && key == "queue-depth") {
    auto n = count_of(at, v);
    if (!n) return n.error();
    config.queue_depth = *n;
  } else {
    return Error{EINVAL, at + ": unknown key"};
  }
  return true;
}

}  // namespace

Result<SchedConfig> parse_options(const Json& config, const std::vector<std::string>& args) {
  SchedConfig out;
  const Json* table = nullptr;
  if (config.is_object()) {
    if (auto it = config.find("sched-graph"); it != config.end()) table = &*it;
  }
  if (table) {
    if (!table->is_object()) return Error{EINVAL, "sched-graph: must be a table"};
    for (auto it = table->begin(); it != table->end(); ++it) {
      if (it.key() == "queues") continue;
      auto ok = apply(out, out.defaults, true, "sched-graph.", it.key(), *it);
      if (!ok) return ok.error();
    }
  }
  // Arguments override the table's defaults, before per-queue tables
  // start from them.
  for (const auto& a : args) {
    auto eq = a.find('=');
    if (eq == std::string::npos) return Error{EINVAL, "invalid option '" + a + "'"};
    if (a.starts_with("log-level=")) continue;  // as sched-simple: the broker's log-level rules
    auto ok = apply(out, out.defaults, true, "", a.substr(0, eq), Json(a.substr(eq + 1)));
    if (!ok) return Error{EINVAL, "invalid option '" + a + "': " + ok.error().message};
  }
  if (table) {
    if (auto q = table->find("queues"); q != table->end()) {
      if (!q->is_object()) return Error{EINVAL, "sched-graph.queues: must be a table"};
      for (auto it = q->begin(); it != q->end(); ++it) {
        std::string where = "sched-graph.queues." + it.key() + ".";
        if (!it->is_object())
          return Error{EINVAL, "sched-graph.queues." + it.key() + ": must be a table"};
        QueueParams params = out.defaults;
        for (auto kv = it->begin(); kv != it->end(); ++kv) {
          auto ok = apply(out, params, false, where, kv.key(), *kv);
          if (!ok) return ok.error();
        }
        out.queues[it.key()] = params;
      }
    }
  }
  return out;
}

}  // namespace flux::sched_graph
