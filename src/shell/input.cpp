#include "input.hpp"

#include <cstdio>

#include "libflux/base64.hpp"
#include "libflux/kvs.hpp"

namespace flux::shell {

Result<std::optional<std::string>> parse_input_file(const Json& shell_options) {
  if (!shell_options.is_object() || !shell_options.contains("input"))
    return std::optional<std::string>();
  const Json& in = shell_options["input"];
  if (!in.is_object()) return Error{EINVAL, "input: must be an object"};
  if (!in.contains("stdin")) return std::optional<std::string>();
  const Json& s = in["stdin"];
  if (!s.is_object()) return Error{EINVAL, "input.stdin: must be an object"};
  std::string type = "service";
  if (s.contains("type")) {
    if (!s["type"].is_string()) return Error{EINVAL, "input.stdin.type: must be a string"};
    type = s["type"].get<std::string>();
  }
  if (s.contains("path")) {
    if (!s["path"].is_string()) return Error{EINVAL, "input.stdin.path: must be a string"};
    type = "file";
  }
  if (type == "service" || type == "kvs") return std::optional<std::string>();
  if (type != "file") return Error{EINVAL, "input.stdin.type: unknown type '" + type + "'"};
  if (!s.contains("path")) return Error{EINVAL, "input.stdin: type file needs a path"};
  return std::optional<std::string>(s["path"].get<std::string>());
}

EventlogEntry input_header() {
  Json ctx = Json::object();
  ctx["version"] = 1;
  ctx["encoding"] = Json{{"stdin", "UTF-8"}};
  ctx["count"] = Json{{"stdin", 1}};
  ctx["options"] = Json::object();
  return eventlog_entry_make("header", ctx);
}

Result<std::optional<InputEvent>> input_event_decode(const EventlogEntry& e) {
  if (e.name != "data" || !e.context.is_object()) return std::optional<InputEvent>();
  const Json& c = e.context;
  if (!c.contains("stream") || c["stream"] != "stdin") return std::optional<InputEvent>();
  InputEvent ev;
  if (!c.contains("rank") || !c["rank"].is_string())
    return Error{EINVAL, "input: data event without a rank"};
  std::string rank = c["rank"].get<std::string>();
  if (rank != "all") {
    auto ids = Idset::decode(rank);
    if (!ids) return Error{EINVAL, "input: rank: " + ids.error().message};
    ev.ranks = std::move(*ids);
  }
  if (c.contains("data")) {
    if (!c["data"].is_string()) return Error{EINVAL, "input: data must be a string"};
    std::string d = c["data"].get<std::string>();
    if (c.contains("encoding") && c["encoding"] == "base64") {
      auto raw = base64_decode(d);
      if (!raw) return Error{EINVAL, "input: bad base64 data"};
      d = std::move(*raw);
    }
    ev.data = std::move(d);
  }
  if (c.contains("eof")) ev.eof = c["eof"].is_boolean() && c["eof"].get<bool>();
  return std::optional<InputEvent>(std::move(ev));
}

Task<void> watch_input(Handle& h, std::string key, std::function<void(const InputEvent&)> deliver,
                       std::shared_ptr<bool> stopped) {
  Rpc rpc = kvs::lookup_watch(h, key, kvs::kWaitCreate | kvs::kWatchAppend, kvs::kPrimary);
  std::string buf;  // a partial entry, if an append ever splits one
  try {
    while (auto m = co_await rpc.next_async()) {
      if (*stopped) co_return;
      buf += kvs::lookup_value(*m);
      size_t nl;
      while ((nl = buf.find('\n')) != std::string::npos) {
        auto e = eventlog_entry_decode(std::string_view(buf).substr(0, nl + 1));
        buf.erase(0, nl + 1);
        if (!e) {
          std::fprintf(stderr, "flux-shell: %s: %s\n", key.c_str(), e.error().message.c_str());
          continue;
        }
        auto ev = input_event_decode(*e);
        if (!ev) {
          std::fprintf(stderr, "flux-shell: %s\n", ev.error().message.c_str());
          continue;
        }
        if (*ev && !*stopped) deliver(**ev);
      }
    }
  } catch (const FluxError& e) {
    if (!*stopped) std::fprintf(stderr, "flux-shell: %s: %s\n", key.c_str(), e.what());
  }
}

}  // namespace flux::shell
