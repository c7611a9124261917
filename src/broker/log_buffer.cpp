#include "log_buffer.hpp"

#include <unistd.h>

#include "attributes.hpp"
#include "libflux/log_line.hpp"

namespace flux::broker {
namespace {
int int_attr(const Attributes& a, const std::string& name, int dflt) {
  auto v = a.get(name);
  if (!v) return dflt;
  try {
    return std::stoi(*v);
  } catch (...) {
    return dflt;
  }
}
}  // namespace

LogBuffer::~LogBuffer() {
  if (file_) std::fclose(file_);
}

void LogBuffer::log(int severity, const std::string& appname, const std::string& message) {
  append(format_log_line(severity, std::to_string(rank_), appname, getpid(), message));
}

void LogBuffer::append(std::string line) {
  auto e = parse_log_line(line);
  int severity = e ? e->severity : kLogInfo;
  if (severity > int_attr(attrs_, "log-level", kLogDebug)) return;
  // In leader mode (the default) the leader speaks for every rank: the
  // others send it what is worth forwarding, and print only what they
  // could not send.
  bool to_stderr = true;
  if (rank_ > 0 && forward) {
    bool sent = severity <= int_attr(attrs_, "log-forward-level", kLogErr) && forward(line);
    if (attrs_.get_or("log-stderr-mode", "leader") == "leader") to_stderr = !sent;
  }
  if (e && to_stderr && severity <= int_attr(attrs_, "log-stderr-level", kLogErr)) {
    std::fprintf(stderr, "%s.%s[%s]: %s\n", e->appname.c_str(), severity_name(severity),
                 e->hostname.c_str(), e->message.c_str());
  }
  emit(line);
  size_t cap = static_cast<size_t>(std::max(1, int_attr(attrs_, "log-ring-size", 1024)));
  ring_.push_back(std::move(line));
  while (ring_.size() > cap) ring_.pop_front();
  if (h_) {
    for (const auto& f : followers_) h_->respond_raw(f, ring_.back() + '\0');
  }
}

void LogBuffer::emit(const std::string& line) {
  auto name = attrs_.get("log-filename");
  if (!name) return;
  if (!file_ || *name != file_name_) {
    if (file_) std::fclose(file_);
    file_ = std::fopen(name->c_str(), "a");
    file_name_ = *name;
    if (!file_) return;
  }
  auto e = parse_log_line(line);
  if (e)
    std::fprintf(file_, "%s %s.%s[%s]: %s\n", e->timestamp.c_str(), e->appname.c_str(),
                 severity_name(e->severity), e->hostname.c_str(), e->message.c_str());
  else
    std::fprintf(file_, "%s\n", line.c_str());
  std::fflush(file_);
}

void LogBuffer::serve(Handle& h) {
  h_ = &h;
  auto drop = [this, &h](const Message& m, bool by_matchtag) {
    const std::string* sender = m.first_route();
    uint32_t tag = 0;
    if (by_matchtag) {
      auto req = m.json();
      tag = req ? req->value("matchtag", 0u) : 0;
    }
    std::erase_if(followers_, [&](const Message& f) {
      bool same = sender && f.first_route() && *f.first_route() == *sender &&
                  (!by_matchtag || f.matchtag() == tag);
      if (same && by_matchtag) h.respond_error(f, ENODATA);
      return same;
    });
  };
  // Owner only, as flux-core's log service.
  h.serve({
      {"log.append", Access::kOwner,
       [this, &h](const Message& m) {
         append(std::string(m.payload_string()));
         if (m.matchtag() != kMatchtagNone) h.respond(m, nullptr);
       }},
      {"log.dmesg", Access::kOwner,
       [this, &h](const Message& m) {
         if (!m.has_flag(msgflag::kStreaming))
           throw FluxError(EPROTO, "log.dmesg requires the streaming flag");
         Json req = m.json().value();
         bool follow = req.value("follow", false);
         bool nobacklog = req.value("nobacklog", false);
         if (!nobacklog)
           for (const auto& line : ring_) h.respond_raw(m, line + '\0');
         if (follow)
           followers_.push_back(m);
         else
           h.respond_error(m, ENODATA);
       }},
      {"log.clear", Access::kOwner,
       [this](const Message&) -> Json {
         ring_.clear();
         return nullptr;
       }},
      {"log.disconnect", Access::kOwner, [drop](const Message& m) { drop(m, false); }},
      {"log.cancel", Access::kOwner, [drop](const Message& m) { drop(m, true); }},
  });
}

}  // namespace flux::broker
