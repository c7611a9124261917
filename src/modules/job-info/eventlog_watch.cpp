// job-info.eventlog-watch: stream a job's eventlog entry by entry until the
// job is inactive (its main eventlog has `clean`), the client cancels, or
// the client goes away.
#include "info_service.hpp"
#include "libflux/eventlog.hpp"
#include "libflux/kvs.hpp"

namespace flux::jobinfo {

void InfoService::watch(const Message& req) {
  auto w = std::make_shared<Watch>();
  w->req = req;
  Json body = req.json().value();
  try {
    const Json& id = body.at("id");
    if (!id.is_number_unsigned()) throw FluxError(EPROTO, "id must be a job id (an integer)");
    w->id = JobId{id.get<uint64_t>()};
    w->path = body.value("path", std::string("eventlog"));
    w->flags = body.value("flags", 0);
  } catch (const FluxError&) {
    throw;
  } catch (const std::exception& e) {
    throw FluxError(EPROTO, std::string("job-info.eventlog-watch: ") + e.what());
  }
  if (!req.has_flag(msgflag::kStreaming))
    throw FluxError(EPROTO, "job-info.eventlog-watch needs the streaming flag");
  if (w->path.empty()) throw FluxError(EINVAL, "job-info.eventlog-watch: empty path");
  w->main = w->path == "eventlog";
  watches_.push_back(w);
  spawn(run_watch(w));
}

void InfoService::cancel_kvs(const std::optional<Rpc>& rpc) {
  if (!rpc) return;
  h_.rpc("kvs-watch.cancel", {{"matchtag", rpc->matchtag()}}, kNodeidAny, msgflag::kNoResponse);
}

void InfoService::watch_cancel(const Message& req) {
  const std::string* sender = req.first_route();
  uint32_t tag = req.json().value().value("matchtag", 0u);
  for (auto& w : watches_) {
    if (w->done || !sender || !w->req.first_route() || *w->req.first_route() != *sender) continue;
    if (w->req.matchtag() != tag) continue;
    w->cancelled = true;
    cancel_kvs(w->kvs);
    cancel_kvs(w->main_kvs);
  }
  if (!req.has_flag(msgflag::kNoResponse)) h_.respond(req, Json::object());
}

void InfoService::disconnect(const Message& req) {
  const std::string* sender = req.first_route();
  if (!sender) return;
  for (auto& w : watches_) {
    if (w->done || !w->req.first_route() || *w->req.first_route() != *sender) continue;
    w->gone = true;
    cancel_kvs(w->kvs);
    cancel_kvs(w->main_kvs);
  }
}

void InfoService::end_watch(Watch& w, int errnum, const std::string& why) {
  if (w.done) return;
  w.done = true;
  if (!w.gone) h_.respond_error(w.req, errnum, why);
}

bool InfoService::send_entries(Watch& w, std::string_view text) {
  w.consumed += text.size();
  w.partial.append(text);
  size_t start = 0;
  size_t nl;
  while (!w.done && (nl = w.partial.find('\n', start)) != std::string::npos) {
    std::string_view line = std::string_view(w.partial).substr(start, nl - start + 1);
    start = nl + 1;
    auto e = eventlog_entry_decode(line);
    if (!e) {
      end_watch(w, EPROTO, job_key(w.id, w.path) + ": " + e.error().message);
      break;
    }
    if (w.main && !w.allowed) {
      // The first entry is the job's submit event: its userid owns the job.
      if (e->name != "submit" || !e->context.is_object() ||
          !e->context.value("userid", Json()).is_number_unsigned()) {
        end_watch(w, EPROTO, "job " + w.id.encode() + ": eventlog does not start with submit");
        break;
      }
      uint32_t owner = e->context["userid"].get<uint32_t>();
      owners_[w.id.value] = owner;
      try {
        check_access(w.req, w.id, owner);
      } catch (const FluxError& err) {
        end_watch(w, err.errnum(), err.what());
        break;
      }
      w.allowed = true;
    }
    if (!w.gone) h_.respond(w.req, {{"event", std::string(line)}});
    if (w.main && e->name == "clean") {
      w.inactive = true;
      end_watch(w, ENODATA);
    }
  }
  w.partial.erase(0, start);
  if (w.done) cancel_kvs(w.kvs);
  return !w.done;
}

// Non-main paths: notice the job becoming inactive, then stop the path's
// watch (run_watch sends what is left and ends the stream).
Task<void> InfoService::follow_main(std::shared_ptr<Watch> w) {
  w->main_kvs = kvs::lookup_watch(h_, job_key(w->id, "eventlog"), kvs::kWatchAppend);
  std::string buf;
  try {
    while (auto m = co_await w->main_kvs->next_async()) {
      if (w->inactive) continue;
      buf += kvs::lookup_value(*m);
      size_t start = 0;
      size_t nl;
      while ((nl = buf.find('\n', start)) != std::string::npos) {
        auto e = eventlog_entry_decode(std::string_view(buf).substr(start, nl - start + 1));
        start = nl + 1;
        if (e && e->name == "clean") w->inactive = true;
      }
      buf.erase(0, start);
      if (w->inactive) {
        cancel_kvs(w->kvs);
        cancel_kvs(w->main_kvs);
      }
    }
  } catch (const FluxError&) {
    // The main eventlog's stream failed: the path's own stream decides.
  }
}

Task<void> InfoService::run_watch(std::shared_ptr<Watch> w) {
  int errnum = 0;
  std::string errstr;
  std::string key = job_key(w->id, w->path);
  try {
    if (!w->main) {
      uint32_t owner = co_await job_owner(w->id);
      check_access(w->req, w->id, owner);
      w->allowed = true;
      spawn(follow_main(w));
    }
    int flags = kvs::kWatchAppend;
    if (!w->main || (w->flags & kWaitCreate)) flags |= kvs::kWaitCreate;
    w->kvs = kvs::lookup_watch(h_, key, flags);
    if (w->gone || w->cancelled || w->inactive) cancel_kvs(w->kvs);
    while (!w->done) {
      auto m = co_await w->kvs->next_async();
      if (!m) break;
      if (w->done || w->gone) continue;  // wait for the cancelled stream's end
      if (!send_entries(*w, kvs::lookup_value(*m))) continue;
    }
  } catch (const FluxError& e) {
    errnum = e.errnum();
    errstr = e.what();
  } catch (const std::exception& e) {
    errnum = EPROTO;
    errstr = e.what();
  }
  if (errnum == ENOENT && w->main) errstr = "job " + w->id.encode() + " not found";
  if (errnum) {
    end_watch(*w, errnum, errstr);
  } else if (!w->done && !w->gone && !w->cancelled && w->inactive && !w->main) {
    // The job is over: send what was appended since the stream's last answer.
    std::string text;
    bool missing = false;
    try {
      text = co_await kvs_value(key);
    } catch (const FluxError& e) {
      if (e.errnum() != ENOENT) {
        errnum = e.errnum();
        errstr = e.what();
      }
      missing = true;
    }
    if (missing && w->consumed == 0 && !errnum) {
      end_watch(*w, ENOENT, "eventlog path " + w->path + " not found");
    } else if (errnum) {
      end_watch(*w, errnum, errstr);
    } else {
      if (text.size() > w->consumed) send_entries(*w, std::string_view(text).substr(w->consumed));
      end_watch(*w, ENODATA);
    }
  } else {
    end_watch(*w, ENODATA);
  }
  if (w->main_kvs && !w->inactive) cancel_kvs(w->main_kvs);
  w->done = true;
  watches_.remove(w);
}

}  // namespace flux::jobinfo
