#include "rexec.hpp"

#include "ioencode.hpp"

namespace flux::rexec {

Json Command::to_json() const {
  Json env_obj = Json::object();
  for (const auto& [k, v] : env) env_obj[k] = v;
  Json o = {{"cmdline", argv}, {"env", env_obj}, {"opts", opts}, {"channels", Json::array()}};
  if (!cwd.empty()) o["cwd"] = cwd;
  if (!label.empty()) o["label"] = label;
  return o;
}

Result<Event> parse_event(const Message& m) {
  auto payload = m.json();
  if (!payload) return payload.error();
  const Json& p = *payload;
  Event ev;
  std::string type = p.value("type", std::string());
  if (auto pid = p.find("pid"); pid != p.end() && pid->is_number_integer())
    ev.pid = pid->get<pid_t>();
  if (type == "started" || type == "attached") {
    ev.type = Event::Type::Started;
  } else if (type == "output") {
    ev.type = Event::Type::Output;
    auto io = io_decode(p.value("io", Json()));
    if (!io) return io.error();
    ev.stream = std::move(io->stream);
    ev.data = std::move(io->data);
    ev.eof = io->eof;
  } else if (type == "finished") {
    ev.type = Event::Type::Finished;
    if (!p.contains("status") || !p["status"].is_number_integer())
      return Error{EPROTO, "rexec finished response without status"};
    ev.status = p["status"].get<int>();
  } else if (type == "stopped") {
    ev.type = Event::Type::Stopped;
  } else {
    return Error{EPROTO, "unknown rexec response type '" + type + "'"};
  }
  return ev;
}

Message exec_request(uint32_t rank, const Command& cmd, int flags, const std::string& service) {
  Message m = Message::request(service + ".exec", rank);
  Json payload = {{"cmd", cmd.to_json()}, {"flags", flags}};
  m.set_json(payload);
  m.set_flag(msgflag::kStreaming);
  return m;
}

Process Process::start(Handle& h, uint32_t rank, const Command& cmd, int flags) {
  return Process(h, rank, h.rpc_message(exec_request(rank, cmd, flags)));
}

Process Process::attach(Handle& h, uint32_t rank, pid_t pid, const std::string& label, int flags) {
  Json req = {{"pid", pid}, {"flags", flags}};
  if (!label.empty()) req["label"] = label;
  return Process(h, rank, h.rpc("rexec.attach", req, rank, msgflag::kStreaming));
}

std::optional<Event> Process::take(std::optional<Message> m) {
  if (!m) return std::nullopt;
  Event ev = parse_event(*m).value();
  if (ev.type == Event::Type::Started) pid_ = ev.pid;
  return ev;
}

std::optional<Event> Process::next() {
  return take(rpc_.next());
}

Task<std::optional<Event>> Process::next_async() {
  std::optional<Message> m = co_await rpc_.next_async();
  co_return take(std::move(m));
}

void Process::write(const std::string& data, bool eof) {
  Json io = io_encode("stdin", std::to_string(rank_), data, eof);
  Json req = {{"matchtag", rpc_.matchtag()}, {"io", io}};
  h_->rpc("rexec.write", req, rank_, msgflag::kNoResponse);
}

Rpc Process::kill(int signum) {
  Json req = {{"pid", pid_}, {"signum", signum}};
  return h_->rpc("rexec.kill", req, rank_);
}

}  // namespace flux::rexec
