#include "instance_uri.hpp"

#include <unistd.h>

#include "libflux/eventlog.hpp"
#include "resource_common.hpp"

namespace flux::cmd {

std::optional<std::string> attr_of(Handle& h, const std::string& name) {
  try {
    return h.rpc("attr.get", {{"name", name}}).get_json().at("value").get<std::string>();
  } catch (const FluxError& e) {
    if (e.errnum() == ENOENT) return std::nullopt;
    throw;
  }
}

std::string local_uri_of(const std::string& uri) {
  constexpr std::string_view kSsh = "ssh://";
  if (uri.rfind(kSsh, 0) != 0) return uri;
  size_t slash = uri.find('/', kSsh.size());
  if (slash == std::string::npos) return uri;
  std::string host = uri.substr(kSsh.size(), slash - kSsh.size());
  if (size_t at = host.find('@'); at != std::string::npos) host = host.substr(at + 1);
  char self[256] = "";
  ::gethostname(self, sizeof(self) - 1);
  if (host != self) return uri;
  return "local://" + uri.substr(slash);
}

std::string job_instance_uri(Handle& h, JobId id) {
  Json req = {{"id", id.value}, {"keys", Json::array({"eventlog"})}, {"flags", 0}};
  Json r = h.rpc("job-info.lookup", req).get_json();
  auto events = eventlog_decode(r.at("eventlog").get<std::string>());
  if (!events) throw FluxError(EPROTO, id.encode() + ": " + events.error().message);
  std::string uri;
  bool running = false;
  for (const auto& e : *events) {
    if (e.name == "alloc") running = true;
    if (e.name == "finish" || e.name == "clean") running = false;
    if (e.name == "memo" && e.context.is_object() && e.context.contains("uri") &&
        e.context["uri"].is_string())
      uri = e.context["uri"].get<std::string>();
  }
  if (!running) throw FluxError(ENOENT, "jobid " + id.encode() + " is not running");
  if (uri.empty()) throw FluxError(ENOENT, "jobid " + id.encode() + " is not a Flux instance");
  return uri;
}

std::optional<std::string> running_instance_uri(const Json& job, bool any_user) {
  if (job.value("state", 0) != 16) return std::nullopt;  // RUN
  if (!any_user && job.value("userid", int64_t{-1}) != static_cast<int64_t>(getuid()))
    return std::nullopt;
  const Json* u = &job;
  for (const char* k : {"annotations", "user", "uri"}) {
    if (!u->is_object() || !u->contains(k)) return std::nullopt;
    u = &(*u)[k];
  }
  if (!u->is_string()) return std::nullopt;
  return local_uri_of(u->get<std::string>());
}

std::string resolve_instance_uri(const std::string& target) {
  if (target.find("://") != std::string::npos) return target;
  std::string path = target.rfind("jobid:", 0) == 0 ? target.substr(6) : target;
  std::string uri;  // empty: the enclosing instance
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string one = path.substr(start, slash == std::string::npos ? slash : slash - start);
    start = slash == std::string::npos ? path.size() + 1 : slash + 1;
    if (one.empty()) continue;
    auto id = JobId::parse(one);
    if (!id) throw FluxError(EINVAL, "invalid jobid: " + one);
    auto h = Handle::open(uri);
    uri = local_uri_of(job_instance_uri(*h, *id));
  }
  if (uri.empty()) throw FluxError(EINVAL, "invalid target: " + target);
  return uri;
}

// instance.* fields: ask each running instance job for its job counts and
// resources (one that cannot be reached stays without: its fields are "").
void add_instance_info(std::vector<jobs::JobView>& jobs, bool any_user) {
  for (auto& j : jobs) {
    auto uri = running_instance_uri(j.raw(), any_user);
    if (!uri) continue;
    try {
      auto h = Handle::open(*uri);
      Rpc stats = h->rpc("job-list.job-stats", Json::object());
      auto view = resourcecmd::sched_view(*h);
      Rset up = view.all - view.down;
      Rset used = view.allocated & view.all;
      auto counts = [](const Rset& r) {
        return Json{{"ncores", r.ncores()}, {"ngpus", r.ngpus()}, {"nnodes", r.nnodes()}};
      };
      Json res = {{"all", counts(view.all)},
                  {"up", counts(up)},
                  {"down", counts(view.down)},
                  {"allocated", counts(used)},
                  {"free", counts(up - used)}};
      j.set_instance(stats.get_json(), std::move(res));
    } catch (const std::exception&) {
      // unreachable or gone: no instance information
    }
  }
}

}  // namespace flux::cmd
