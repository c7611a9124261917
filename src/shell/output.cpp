#include "output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "libflux/base64.hpp"
#include "libflux/json_check.hpp"
#include "mustache.hpp"

namespace flux::shell {

namespace {

constexpr size_t kMaxPartial = 4096;

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere to report it
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// "TASKID: " before every line of data.
std::string labelled(int taskid, std::string_view data) {
  std::string prefix = std::to_string(taskid) + ": ";
  std::string out;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    size_t end = nl == std::string_view::npos ? data.size() : nl + 1;
    out += prefix;
    out += data.substr(pos, end - pos);
    pos = end;
  }
  return out;
}

Result<StreamOptions> parse_stream(const Json& o, const char* name) {
  StreamOptions s;
  if (o.is_null()) return s;
  std::string where = std::string("output.") + name;
  if (!o.is_object()) return Error{EINVAL, where + ": must be an object"};
  if (auto t = o.find("type"); t != o.end()) {
    if (!t->is_string()) return Error{EINVAL, where + ".type: must be a string"};
    std::string type = t->get<std::string>();
    if (type == "file") {
      s.to_file = true;
    } else if (type != "kvs" && type != "term") {
      return Error{EINVAL, where + ".type: unknown type '" + type + "'"};
    }
  }
  if (auto p = o.find("path"); p != o.end()) {
    if (!p->is_string() || p->get<std::string>().empty())
      return Error{EINVAL, where + ".path: must be a non-empty string"};
    s.path = p->get<std::string>();
    s.to_file = true;
  }
  if (s.to_file && s.path.empty()) return Error{EINVAL, where + ": type file needs a path"};
  if (auto l = o.find("label"); l != o.end()) {
    if (!l->is_boolean() && !l->is_number_integer())
      return Error{EINVAL, where + ".label: must be a boolean"};
    s.label = l->is_boolean() ? l->get<bool>() : l->get<int64_t>() != 0;
  }
  return s;
}

}  // namespace

const char* stream_name(Stream s) {
  return s == Stream::kStdout ? "stdout" : "stderr";
}

Result<OutputOptions> parse_output_options(const Json& shell_options) {
  OutputOptions opts;
  if (!shell_options.is_object()) return opts;
  auto o = shell_options.find("output");
  if (o == shell_options.end()) return opts;
  if (!o->is_object()) return Error{EINVAL, "output: must be an object"};
  auto get = [&](const char* k) { return o->contains(k) ? o->at(k) : Json(); };
  auto out = parse_stream(get("stdout"), "stdout");
  if (!out) return out.error();
  auto err = parse_stream(get("stderr"), "stderr");
  if (!err) return err.error();
  opts.out = *out;
  opts.err = *err;
  // stderr follows stdout to its file unless it has its own destination.
  Json errj = get("stderr");
  bool err_set = errj.is_object() && (errj.contains("type") || errj.contains("path"));
  if (opts.out.to_file && !err_set) {
    bool label = opts.err.label || opts.out.label;
    opts.err = opts.out;
    opts.err.label = label;
  }
  Json mode = get("mode");
  if (mode.is_string()) {
    std::string m = mode.get<std::string>();
    if (m == "append") {
      opts.append = true;
    } else if (m != "truncate") {
      return Error{EINVAL, "output.mode: must be truncate or append"};
    }
  } else if (!mode.is_null()) {
    return Error{EINVAL, "output.mode: must be a string"};
  }
  return opts;
}

Output::Output(const JobInfo& info, OutputOptions opts, KvsWriter* kvs)
    : info_(info), opts_(std::move(opts)), kvs_(kvs) {}

Output::~Output() {
  for (auto& [path, fd] : files_) ::close(fd);
}

std::string Output::path_of(int taskid, Stream s) const {
  MustacheContext ctx = ctx_;
  ctx.taskid = taskid;
  std::string path = mustache_render(options(s).path, ctx);
  if (!path.empty() && path[0] != '/' && !cwd_.empty()) path = cwd_ + "/" + path;
  return path;
}

void Output::open_files(const MustacheContext& ctx, const std::string& cwd) {
  ctx_ = ctx;
  cwd_ = cwd;
  for (Stream s : {Stream::kStdout, Stream::kStderr}) {
    if (!options(s).to_file) continue;
    for (uint32_t t : info_.local_tasks) {
      std::string path = path_of(static_cast<int>(t), s);
      auto it = files_.find(path);
      if (it == files_.end()) {
        int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_APPEND | (opts_.append ? 0 : O_TRUNC);
        int fd = ::open(path.c_str(), flags, 0666);
        if (fd < 0) throw FluxError(errno, path + ": " + std::strerror(errno));
        it = files_.emplace(path, fd).first;
      }
      task_fd_[{static_cast<int>(t), static_cast<int>(s)}] = it->second;
    }
  }
}

EventlogEntry Output::header() const {
  Json ctx = Json::object();
  ctx["version"] = 1;
  ctx["encoding"] = Json{{"stdout", "UTF-8"}, {"stderr", "UTF-8"}};
  ctx["count"] = Json{{"stdout", info_.ntasks()}, {"stderr", info_.ntasks()}};
  ctx["options"] = Json::object();
  return eventlog_entry_make("header", ctx);
}

std::vector<EventlogEntry> Output::redirects() const {
  std::vector<EventlogEntry> v;
  for (Stream s : {Stream::kStdout, Stream::kStderr}) {
    if (!options(s).to_file) continue;
    for (uint32_t t : info_.local_tasks) {
      Json ctx = Json::object();
      ctx["stream"] = stream_name(s);
      ctx["rank"] = std::to_string(t);
      ctx["path"] = path_of(static_cast<int>(t), s);
      v.push_back(eventlog_entry_make("redirect", ctx));
    }
  }
  return v;
}

void Output::emit(int taskid, Stream s, std::string_view data) {
  if (data.empty()) return;
  const StreamOptions& o = options(s);
  if (o.to_file) {
    auto it = task_fd_.find({taskid, static_cast<int>(s)});
    if (it != task_fd_.end()) write_all(it->second, o.label ? labelled(taskid, data) : data);
    return;
  }
  if (!kvs_) {
    write_all(s == Stream::kStdout ? 1 : 2, o.label ? labelled(taskid, data) : data);
    return;
  }
  Json ctx = Json::object();
  ctx["stream"] = stream_name(s);
  ctx["rank"] = std::to_string(taskid);
  if (utf8_valid(data)) {
    ctx["data"] = std::string(data);
  } else {
    ctx["data"] = base64_encode(data);
    ctx["encoding"] = "base64";
  }
  kvs_->append(output_key(), eventlog_entry_make("data", ctx));
}

void Output::write(int taskid, Stream s, std::string_view data) {
  std::string& held = partial_[{taskid, static_cast<int>(s)}];
  held.append(data);
  size_t nl = held.rfind('\n');
  if (nl != std::string::npos) {
    emit(taskid, s, std::string_view(held).substr(0, nl + 1));
    held.erase(0, nl + 1);
  }
  if (held.size() > kMaxPartial) {
    emit(taskid, s, held);
    held.clear();
  }
}

void Output::eof(int taskid, Stream s) {
  auto key = std::make_pair(taskid, static_cast<int>(s));
  auto it = partial_.find(key);
  if (it != partial_.end()) {
    emit(taskid, s, it->second);
    partial_.erase(it);
  }
  if (!kvs_ || options(s).to_file) return;
  Json ctx = Json::object();
  ctx["stream"] = stream_name(s);
  ctx["rank"] = std::to_string(taskid);
  ctx["eof"] = true;
  kvs_->append(output_key(), eventlog_entry_make("data", ctx));
}

}  // namespace flux::shell
