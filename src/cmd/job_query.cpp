// flux job id | info | last, and the registration of every query
// subcommand (eventlog and wait-event in job_eventlog.cpp, status in
// job_status.cpp).
#include "job_query.hpp"

#include <unistd.h>

#include <climits>
#include <iostream>
#include <memory>
#include <optional>

#include "libflux/signed_request.hpp"

namespace flux::cmd::jobcmd {
namespace {

// ---- id --------------------------------------------------------------------

// Which encoding TEXT is written in, by RFC 19's rules (as JobId::parse
// chooses), or nullopt if it is none of them.
std::optional<JobIdEncoding> detect_encoding(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  if (s.starts_with("job.")) return JobIdEncoding::kKvs;
  if (s.starts_with("0x")) return JobIdEncoding::kHex;
  if (s.starts_with("\xc6\x92")) return JobIdEncoding::kF58;
  if (s.starts_with("f")) return JobIdEncoding::kF58Plain;
  if (static_cast<unsigned char>(s[0]) == 0xf0) return JobIdEncoding::kEmoji;
  if (s.find('.') != std::string_view::npos) return JobIdEncoding::kDothex;
  if (s.find('-') != std::string_view::npos) return JobIdEncoding::kWords;
  return JobIdEncoding::kDec;
}

struct IdOptions {
  std::string from = "any";
  std::string to = "dec";
  std::vector<std::string> ids;
};

std::string convert_id(const IdOptions& o, JobIdEncoding to, const std::string& text) {
  auto id = JobId::parse(text);
  if (!id) throw FluxError(EINVAL, text + ": malformed input");
  if (o.from != "any") {
    auto want = parse_jobid_encoding(o.from).value();
    auto got = detect_encoding(text);
    bool f58 = want == JobIdEncoding::kF58 || want == JobIdEncoding::kF58Plain;
    bool got_f58 = got == JobIdEncoding::kF58 || got == JobIdEncoding::kF58Plain;
    if (!(got == want || (f58 && got_f58)))
      throw FluxError(EINVAL, text + ": malformed input (not " + o.from + ")");
  }
  return id->encode(to);
}

int run_id(const IdOptions& o) {
  auto to = parse_jobid_encoding(o.to);
  if (!to) throw FluxError(EINVAL, "Unknown to=" + o.to);
  if (o.from != "any" && !parse_jobid_encoding(o.from))
    throw FluxError(EINVAL, "Unknown from=" + o.from);
  int count = 0;
  if (!o.ids.empty()) {
    for (const auto& text : o.ids) {
      std::printf("%s\n", convert_id(o, *to, text).c_str());
      count++;
    }
  } else {
    std::string line;
    while (std::getline(std::cin, line)) {
      std::printf("%s\n", convert_id(o, *to, line).c_str());
      count++;
    }
  }
  // As flux-core: at least one id must be converted.
  return count > 0 ? 0 : 1;
}

void add_id(CLI::App& job, Registry& reg) {
  auto o = std::make_shared<IdOptions>();
  auto* cmd = job.add_subcommand("id", "Convert job ids between encodings");
  cmd->add_option("-f,--from", o->from,
                  "Accept only ids in this encoding: dec|hex|dothex|kvs|words|f58|emoji|any");
  cmd->add_option("-t,--to", o->to,
                  "Print ids in this encoding: dec|hex|dothex|kvs|words|f58|f58plain|emoji");
  cmd->add_option("ids", o->ids, "Job ids (default: one per line on stdin)");
  reg.push_back({cmd, [o] { return run_id(*o); }});
}

// ---- info ------------------------------------------------------------------

struct InfoOptions {
  bool original = false;
  bool base = false;
  std::string id;
  std::vector<std::string> keys;
};

std::string value_text(const Json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

int run_info(const InfoOptions& o) {
  JobId id = parse_jobid(o.id);
  auto h = open_instance();
  for (const auto& key : o.keys) {
    std::string want = key;
    int flags = 0;
    if (o.original && key == "jobspec")
      want = "J";
    else if (!o.base && (key == "R" || key == "jobspec"))
      flags = 2;  // current: with the eventlog's updates applied
    Json req = {{"id", id.value}, {"keys", Json::array({want})}, {"flags", flags}};
    Json r = h->rpc("job-info.lookup", req).get_json();
    std::string val = value_text(r.at(want));
    if (want == "J" && key == "jobspec") {
      auto signed_req = unwrap_signed(val);
      if (!signed_req)
        throw FluxError(EINVAL, "Failed to unwrap J to get jobspec: " + signed_req.error().message);
      val = signed_req->payload;
    }
    std::printf("%s\n", val.c_str());
  }
  return 0;
}

void add_info(CLI::App& job, Registry& reg) {
  auto o = std::make_shared<InfoOptions>();
  auto* cmd = job.add_subcommand(
      "info",
      "Print job.<id>.KEY: J (signed request), jobspec, R, eventlog, guest.exec.eventlog, ...");
  cmd->add_flag("-o,--original", o->original, "For jobspec, print the jobspec as submitted");
  cmd->add_flag("-b,--base", o->base, "For jobspec or R, do not apply updates from the eventlog");
  cmd->add_option("id", o->id, "Job id")->required();
  cmd->add_option("keys", o->keys, "Keys to print")->required();
  reg.push_back({cmd, [o] { return run_info(*o); }});
}

// ---- last ------------------------------------------------------------------

// A Python slice "[start:stop:step]" (each part optional, may be negative).
struct Slice {
  std::optional<long> start, stop;
  long step = 1;
};

std::optional<long> slice_part(const std::string& s, const std::string& all) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s.c_str(), &end, 10);
  if (errno || *end) throw FluxError(EINVAL, "invalid slice: " + all);
  return v;
}

Slice parse_slice(const std::string& text) {
  if (text.size() < 2 || text.front() != '[' || text.back() != ']')
    throw FluxError(EINVAL, "invalid slice: " + text);
  std::string inner = text.substr(1, text.size() - 2);
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t c = inner.find(':', start);
    parts.push_back(inner.substr(start, c == std::string::npos ? c : c - start));
    if (c == std::string::npos) break;
    start = c + 1;
  }
  Slice s;
  if (parts.size() == 1) {  // "[i]": one element
    auto i = slice_part(parts[0], text);
    if (!i) throw FluxError(EINVAL, "invalid slice: " + text);
    s.start = *i;
    s.stop = *i == -1 ? std::nullopt : std::optional<long>(*i + 1);
    return s;
  }
  if (parts.size() > 3) throw FluxError(EINVAL, "invalid slice: " + text);
  s.start = slice_part(parts[0], text);
  s.stop = slice_part(parts[1], text);
  if (parts.size() == 3) {
    auto step = slice_part(parts[2], text);
    if (step) s.step = *step;
  }
  if (s.step == 0) throw FluxError(EINVAL, "invalid slice: " + text + " (step 0)");
  return s;
}

// The indexes of a list of n items a slice selects, in order (Python rules).
std::vector<size_t> slice_indexes(const Slice& s, size_t n) {
  long len = static_cast<long>(n);
  auto clamp = [&](std::optional<long> v, long dflt, long lo, long hi) {
    if (!v) return dflt;
    long x = *v < 0 ? *v + len : *v;
    return std::max(lo, std::min(hi, x));
  };
  std::vector<size_t> out;
  if (s.step > 0) {
    long a = clamp(s.start, 0, 0, len);
    long b = clamp(s.stop, len, 0, len);
    for (long i = a; i < b; i += s.step) out.push_back(static_cast<size_t>(i));
  } else {
    long a = clamp(s.start, len - 1, -1, len - 1);
    long b = clamp(s.stop, -1, -1, len - 1);
    if (s.stop && *s.stop < 0 && *s.stop + len < 0) b = -1;
    for (long i = a; i > b; i += s.step) out.push_back(static_cast<size_t>(i));
  }
  return out;
}

int run_last(const std::string& arg) {
  Slice slice;
  if (arg.empty()) {
    slice.stop = 1;
  } else if (arg.find('[') == std::string::npos) {
    char* end = nullptr;
    errno = 0;
    long n = std::strtol(arg.c_str(), &end, 10);
    if (errno || *end || arg.empty() || n < 0)
      throw FluxError(EINVAL, "invalid argument '" + arg + "': expected N or a [SLICE]");
    slice.stop = n;
  } else {
    slice = parse_slice(arg);
  }
  // Ask for as many as the slice can reach; anything from the end needs all.
  long max = INT_MAX;
  if (slice.step > 0 && (!slice.start || *slice.start >= 0) && slice.stop && *slice.stop >= 0)
    max = std::max(*slice.stop, 1L);
  auto h = open_instance();
  Json req = {{"max", max}};
  Json r = h->rpc("job-manager.history.get", req).get_json();
  const Json& jobs = r.at("jobs");
  if (!jobs.is_array()) throw FluxError(EPROTO, "job-manager.history.get: jobs is not an array");
  std::vector<size_t> idx = slice_indexes(slice, jobs.size());
  if (jobs.empty() || idx.empty()) throw FluxError(ENOENT, "job history is empty");
  for (size_t i : idx) std::printf("%s\n", JobId{jobs[i].get<uint64_t>()}.encode().c_str());
  return 0;
}

void add_last(CLI::App& job, Registry& reg) {
  auto arg = std::make_shared<std::string>();
  auto* cmd = job.add_subcommand("last", "Print the most recently submitted job id(s)");
  cmd->add_option("slice", *arg, "N (the last N jobs) or a Python-style [SLICE] (default [:1])");
  reg.push_back({cmd, [arg] { return run_last(*arg); }});
}

}  // namespace

void add_query(CLI::App& job, Registry& reg) {
  add_id(job, reg);
  add_info(job, reg);
  add_eventlog_cmds(job, reg);
  add_status_cmd(job, reg);
  add_last(job, reg);
}

}  // namespace flux::cmd::jobcmd
