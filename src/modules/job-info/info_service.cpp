#include "info_service.hpp"

#include "libflux/eventlog.hpp"
#include "libflux/kvs.hpp"

namespace flux::jobinfo {

std::string job_key(JobId id, const std::string& path) {
  return id.encode(JobIdEncoding::kKvs) + "." + path;
}

namespace {

JobId request_id(const Json& req) {
  const Json& id = req.at("id");
  if (!id.is_number_unsigned()) throw FluxError(EPROTO, "id must be a job id (an integer)");
  return JobId{id.get<uint64_t>()};
}

// Set the value at a dotted path inside obj, creating objects on the way.
void set_path(Json& obj, const std::string& path, const Json& value) {
  Json* cur = &obj;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? dot : dot - start);
    if (!cur->is_object()) *cur = Json::object();
    if (dot == std::string::npos) {
      (*cur)[part] = value;
      return;
    }
    cur = &(*cur)[part];
    start = dot + 1;
  }
}

// The jobspec or R as the eventlog's jobspec-update / resource-update
// events have changed it.
void apply_updates(Json& doc, const std::string& key, const std::vector<EventlogEntry>& log) {
  for (const auto& e : log) {
    if (!e.context.is_object()) continue;
    if (key == "jobspec" && e.name == "jobspec-update") {
      for (const auto& [k, v] : e.context.items()) set_path(doc, k, v);
    } else if (key == "R" && e.name == "resource-update") {
      if (e.context.contains("expiration"))
        set_path(doc, "execution.expiration", e.context["expiration"]);
    }
  }
}

}  // namespace

void InfoService::register_handlers() {
  // Open to guests, each request checked against the job's owner
  // (check_access), as flux-core's job-info.
  h_.serve({
      {"job-info.lookup", Access::kUser, this, &InfoService::lookup},
      {"job-info.eventlog-watch", Access::kUser, this, &InfoService::watch},
      {"job-info.eventlog-watch-cancel", Access::kUser, this, &InfoService::watch_cancel},
      {"job-info.disconnect", Access::kUser, this, &InfoService::disconnect},
  });
}

Task<std::string> InfoService::kvs_value(std::string key) {
  Message r = co_await kvs::lookup(h_, key);
  co_return kvs::lookup_value(r);
}

Task<uint32_t> InfoService::job_owner(JobId id) {
  if (auto it = owners_.find(id.value); it != owners_.end()) co_return it->second;
  std::string log;
  bool missing = false;
  try {
    log = co_await kvs_value(job_key(id, "eventlog"));
  } catch (const FluxError& e) {
    if (e.errnum() != ENOENT) throw;
    missing = true;
  }
  if (missing) throw FluxError(ENOENT, "job " + id.encode() + " not found");
  size_t nl = log.find('\n');
  auto first = eventlog_entry_decode(std::string_view(log).substr(0, nl));
  if (!first || first->name != "submit" || !first->context.is_object() ||
      !first->context.contains("userid") || !first->context["userid"].is_number_unsigned())
    throw FluxError(EPROTO, "job " + id.encode() + ": eventlog does not start with submit");
  uint32_t userid = first->context["userid"].get<uint32_t>();
  owners_[id.value] = userid;
  co_return userid;
}

void InfoService::check_access(const Message& req, JobId id, uint32_t owner) const {
  if (req.rolemask() & role::kOwner) return;
  if (req.userid() == owner) return;
  throw FluxError(EPERM, "access is restricted to job/instance owner");
}

Task<Json> InfoService::lookup(Message req) {
  Json body = req.json().value();
  JobId id;
  std::vector<std::string> keys;
  int flags = 0;
  try {
    id = request_id(body);
    keys = body.at("keys").get<std::vector<std::string>>();
    flags = body.value("flags", 0);
  } catch (const FluxError&) {
    throw;
  } catch (const std::exception& e) {
    throw FluxError(EPROTO, std::string("job-info.lookup: ") + e.what());
  }
  if (keys.empty()) throw FluxError(EPROTO, "job-info.lookup: keys must not be empty");
  if (flags & ~(kJsonDecode | kCurrent))
    throw FluxError(EPROTO, "job-info.lookup: unknown flags " + std::to_string(flags));
  uint32_t owner = co_await job_owner(id);
  check_access(req, id, owner);

  Json out = {{"id", id.value}};
  std::optional<std::vector<EventlogEntry>> log;  // read once, for kCurrent
  for (const auto& key : keys) {
    if (key.empty()) throw FluxError(EINVAL, "job-info.lookup: empty key");
    std::string value;
    bool missing = false;
    try {
      value = co_await kvs_value(job_key(id, key));
    } catch (const FluxError& e) {
      if (e.errnum() != ENOENT) throw;
      missing = true;
    }
    if (missing) throw FluxError(ENOENT, "job " + id.encode() + ": " + key + " not found");
    bool structured = key == "jobspec" || key == "R";
    if (!structured || !(flags & (kJsonDecode | kCurrent))) {
      out[key] = value;
      continue;
    }
    Json doc = Json::parse(value, nullptr, false);
    if (doc.is_discarded())
      throw FluxError(EPROTO, "job " + id.encode() + ": " + key + " is not JSON");
    if (flags & kCurrent) {
      if (!log) {
        std::string text = co_await kvs_value(job_key(id, "eventlog"));
        auto entries = eventlog_decode(text);
        if (!entries) throw FluxError(entries.error());
        log = std::move(*entries);
      }
      apply_updates(doc, key, *log);
    }
    if (flags & kJsonDecode)
      out[key] = std::move(doc);
    else
      out[key] = doc.dump();
  }
  co_return out;
}

}  // namespace flux::jobinfo
