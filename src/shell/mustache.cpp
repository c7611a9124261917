#include "mustache.hpp"

namespace flux::shell {

namespace {

std::optional<std::string> expand(std::string_view tag, const MustacheContext& ctx) {
  if (tag == "id" || tag == "jobid") return ctx.id.encode(JobIdEncoding::kF58);
  if (tag == "name") return ctx.name;
  if (tag == "tmpdir" && !ctx.tmpdir.empty()) return ctx.tmpdir;
  if (tag == "nnodes") return std::to_string(ctx.nnodes);
  if (tag == "size" || tag == "ntasks") return std::to_string(ctx.ntasks);
  if (tag == "taskid") {
    if (ctx.taskid) return std::to_string(*ctx.taskid);
    return std::nullopt;
  }
  for (std::string_view prefix : {"id.", "jobid."}) {
    if (tag.substr(0, prefix.size()) == prefix) {
      auto enc = parse_jobid_encoding(tag.substr(prefix.size()));
      if (enc) return ctx.id.encode(*enc);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string mustache_render(std::string_view tmpl, const MustacheContext& ctx) {
  std::string out;
  size_t pos = 0;
  while (pos < tmpl.size()) {
    size_t open = tmpl.find("{{", pos);
    if (open == std::string_view::npos) break;
    size_t close = tmpl.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    out += tmpl.substr(pos, open - pos);
    std::string_view tag = tmpl.substr(open + 2, close - open - 2);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (auto v = expand(tag, ctx)) {
      out += *v;
    } else {
      out += tmpl.substr(open, close + 2 - open);
    }
    pos = close + 2;
  }
  out += tmpl.substr(pos);
  return out;
}

bool mustache_has_taskid(std::string_view tmpl) {
  MustacheContext a, b;
  a.taskid = 0;
  b.taskid = 1;
  return mustache_render(tmpl, a) != mustache_render(tmpl, b);
}

}  // namespace flux::shell
