#include "pty.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "libflux/ioencode.hpp"

namespace flux::shell {

namespace {

// How long a finished interactive task's output waits for its first
// client (flux alloc attaches within moments of shell.init).
constexpr double kClientWaitSeconds = 10.0;

bool flag_value(const Json& v) {
  return v.is_boolean() ? v.get<bool>() : v.is_number_integer() && v.get<int64_t>() != 0;
}

}  // namespace

Result<std::optional<PtyOptions>> parse_pty_options(const Json& shell_options) {
  if (!shell_options.is_object() || !shell_options.contains("pty"))
    return std::optional<PtyOptions>();
  const Json& o = shell_options["pty"];
  PtyOptions p;
  if (o.is_boolean() || o.is_number_integer()) {
    if (!flag_value(o)) return std::optional<PtyOptions>();
    return std::optional<PtyOptions>(p);
  }
  if (!o.is_object()) return Error{EINVAL, "pty: must be 1 or an object"};
  for (auto it = o.begin(); it != o.end(); ++it) {
    const std::string& k = it.key();
    if (k != "ranks" && k != "capture" && k != "interactive")
      return Error{EINVAL, "pty: unknown option '" + k + "'"};
    if (k != "ranks" && !it->is_boolean() && !it->is_number_integer())
      return Error{EINVAL, "pty." + k + ": must be 0 or 1"};
  }
  p.interactive = o.contains("interactive") && flag_value(o["interactive"]);
  p.capture = o.contains("capture") ? flag_value(o["capture"]) : !p.interactive;
  if (o.contains("ranks")) {
    const Json& r = o["ranks"];
    if (r.is_number_unsigned() || (r.is_number_integer() && r.get<int64_t>() >= 0)) {
      p.ranks = Idset();
      p.ranks->insert(static_cast<uint32_t>(r.get<int64_t>()));
    } else if (r.is_string() && r.get<std::string>() != "all") {
      auto ids = Idset::decode(r.get<std::string>());
      if (!ids) return Error{EINVAL, "pty.ranks: " + ids.error().message};
      p.ranks = std::move(*ids);
    } else if (!r.is_string()) {
      return Error{EINVAL, "pty.ranks: must be an idset or \"all\""};
    }
  } else if (p.interactive) {
    p.ranks = Idset();
    p.ranks->insert(0);
  }
  // An interactive session is always task 0's.
  if (p.interactive && p.ranks) p.ranks->insert(0);
  return std::optional<PtyOptions>(std::move(p));
}

Pty::Pty(Reactor& r, Handle* h, bool wait_for_client, std::function<void(std::string_view)> capture,
         std::function<void()> done)
    : r_(r),
      h_(h),
      waiting_for_client_(wait_for_client),
      capture_(std::move(capture)),
      done_(std::move(done)) {
  leader_ = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (leader_ < 0 || grantpt(leader_) < 0 || unlockpt(leader_) < 0)
    throw FluxError(errno, std::string("pty: ") + std::strerror(errno));
  char name[128];
  if (ptsname_r(leader_, name, sizeof name) != 0)
    throw FluxError(errno, std::string("pty: ptsname: ") + std::strerror(errno));
  follower_ = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (follower_ < 0)
    throw FluxError(errno, std::string("pty: ") + name + ": " + std::strerror(errno));
  // The reader and writer own duplicates; leader_ stays for ioctls.
  int wfd = ::fcntl(leader_, F_DUPFD_CLOEXEC, 0);
  if (wfd < 0) throw FluxError(errno, std::string("pty: dup: ") + std::strerror(errno));
  writer_ = std::make_unique<FdWriter>(r_, wfd);
  if (!waiting_for_client_) start_reading();
}

Pty::~Pty() {
  close_follower();
  reader_.reset();
  writer_.reset();
  if (leader_ >= 0) ::close(leader_);
}

void Pty::close_follower() {
  if (follower_ >= 0) ::close(follower_);
  follower_ = -1;
}

void Pty::start_reading() {
  if (reader_ || eof_) return;
  waiting_for_client_ = false;
  client_wait_.reset();
  int fd = ::fcntl(leader_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    on_eof();  // out of descriptors: the output is lost, but the shell goes on
    return;
  }
  reader_ = std::make_unique<FdReader>(
      r_, fd, [this](std::string_view d) { on_output(d); }, [this] { on_eof(); });
}

void Pty::on_output(std::string_view data) {
  if (capture_) capture_(data);
  Json msg = {{"type", "data"}};
  data_encode_into(msg, data);
  for (const auto& c : clients_)
    if (c.read) h_->respond(c.req, msg);
}

// Linux reports EIO once every holder of the follower has closed it.
void Pty::on_eof() {
  eof_ = true;
  maybe_done();
}

void Pty::task_exited(int wait_status) {
  status_ = wait_status;
  if (waiting_for_client_ && !client_wait_)
    client_wait_ = r_.after(kClientWaitSeconds, [this] { start_reading(); });
  maybe_done();
}

void Pty::maybe_done() {
  if (finished_ || !eof_ || !status_) return;
  finished_ = true;
  for (const auto& c : clients_) send_exit(c, "session exiting", *status_);
  clients_.clear();
  writer_.reset();
  if (done_) r_.post(done_);
}

void Pty::send_exit(const Client& c, const std::string& message, int status) {
  h_->respond(c.req, Json{{"type", "exit"}, {"message", message}, {"status", status}});
  h_->respond_error(c.req, ENODATA);
}

Pty::Client* Pty::find(const std::string& sender) {
  for (auto& c : clients_)
    if (c.sender == sender) return &c;
  return nullptr;
}

void Pty::resize(const Json& req) {
  const Json* ws = req.contains("winsize") ? &req["winsize"] : nullptr;
  if (!ws || !ws->is_object() || !ws->contains("rows") || !ws->contains("cols") ||
      !(*ws)["rows"].is_number_integer() || !(*ws)["cols"].is_number_integer())
    throw FluxError(EPROTO, "winsize {rows, cols} is required");
  int64_t rows = (*ws)["rows"].get<int64_t>(), cols = (*ws)["cols"].get<int64_t>();
  if (rows <= 0 || cols <= 0 || rows > 0xffff || cols > 0xffff)
    throw FluxError(EINVAL, "bad window size");
  winsize w{};
  w.ws_row = static_cast<unsigned short>(rows);
  w.ws_col = static_cast<unsigned short>(cols);
  ::ioctl(leader_, TIOCSWINSZ, &w);
  // Redraw: the foreground job hears SIGWINCH (best effort).
  pid_t pg = tcgetpgrp(leader_);
  if (pg > 0) ::killpg(pg, SIGWINCH);
}

void Pty::handle(const Message& m) {
  if (m.userid() != getuid()) throw FluxError(EPERM, "only the job's owner may use its terminal");
  auto body = m.json();
  if (!body || !body->is_object() || !(*body).contains("type") || !(*body)["type"].is_string())
    throw FluxError(EPROTO, "pty request without a type");
  const Json& req = *body;
  std::string type = req["type"].get<std::string>();
  std::string sender = m.first_route() ? *m.first_route() : std::string();
  Client* c = find(sender);
  if (type == "attach") {
    if (c) throw FluxError(EEXIST, "already attached");
    Client nc{m, sender};
    std::string mode = req.value("mode", std::string());
    if (mode != "rw" && mode != "ro" && mode != "wo") throw FluxError(EPROTO, "invalid mode");
    nc.read = mode != "wo";
    nc.write = mode != "ro";
    if (nc.read && nc.write) resize(req);
    h_->respond(m, Json{{"type", "attach"}});
    if (finished_) {
      send_exit(nc, "session exiting", status_.value_or(0));
      return;
    }
    clients_.push_back(std::move(nc));
    if (clients_.back().read) start_reading();
    return;
  }
  if (!c) throw FluxError(ENOENT, "not attached");
  if (type == "data") {
    auto data = data_decode(req);
    if (!data) throw FluxError(data.error());
    if (c->write && !data->empty()) write(std::move(*data));
  } else if (type == "resize") {
    resize(req);
  } else if (type == "detach") {
    send_exit(*c, "Client requested detach", 0);
    std::erase_if(clients_, [&](const Client& x) { return x.sender == sender; });
  } else {
    throw FluxError(ENOSYS, "unknown pty request type " + type);
  }
  if (!(m.flags() & msgflag::kNoResponse)) h_->respond(m, nullptr);
}

void Pty::write(std::string data) {
  if (writer_) writer_->write(std::move(data));
}

}  // namespace flux::shell
