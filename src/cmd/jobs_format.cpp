#include "jobs_format.hpp"

#include <pwd.h>
#include <sys/wait.h>

#include <cmath>
#include <cstring>
#include <ctime>
#include <map>
#include <set>

#include "libflux/jobid.hpp"
#include "libflux/result.hpp"
#include "libflux/wallclock.hpp"

namespace flux::cmd::jobs {

size_t utf8_len(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xc0) != 0x80) n++;
  return n;
}

std::string utf8_prefix(std::string_view s, size_t n) {
  size_t i = 0, count = 0;
  while (i < s.size()) {
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) {
      if (count == n) break;
      count++;
    }
    i++;
  }
  return std::string(s.substr(0, i));
}

namespace {

// RFC 21 bits.
constexpr int kPending = 2 | 4 | 8, kRunning = 16 | 32, kInactive = 64;

// Python's str() of a value.
std::string py_str(const Json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    std::string s = v.dump();
    if (s.find_first_of(".eE") == std::string::npos) s += ".0";
    return s;
  }
  return v.dump();
}

struct Spec {
  char fill = ' ';
  char align = 0;
  int width = -1;
  int precision = -1;
  char type = 0;
};

Spec parse_spec(const std::string& s) {
  Spec sp;
  size_t i = 0;
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (s.size() >= 2 && is_align(s[1])) {
    sp.fill = s[0];
    sp.align = s[1];
    i = 2;
  } else if (!s.empty() && is_align(s[0])) {
    sp.align = s[0];
    i = 1;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) i++;
  if (i < s.size() && s[i] == '0') {
    if (!sp.align) {
      sp.fill = '0';
      sp.align = '=';
    }
    i++;
  }
  size_t start = i;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) i++;
  if (i > start) sp.width = std::stoi(s.substr(start, i - start));
  if (i < s.size() && s[i] == ',') i++;
  if (i < s.size() && s[i] == '.') {
    i++;
    start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) i++;
    if (i == start) throw FluxError(EINVAL, "Format specifier missing precision");
    sp.precision = std::stoi(s.substr(start, i - start));
  }
  if (i < s.size()) sp.type = s[i++];
  if (i != s.size()) throw FluxError(EINVAL, "Invalid format specifier '" + s + "'");
  return sp;
}

std::string pad(const std::string& s, const Spec& sp, char dflt_align) {
  size_t len = utf8_len(s);
  if (sp.width < 0 || len >= static_cast<size_t>(sp.width)) return s;
  size_t n = static_cast<size_t>(sp.width) - len;
  char align = sp.align ? sp.align : dflt_align;
  std::string fill(1, sp.fill);
  auto rep = [&](size_t k) {
    std::string out;
    for (size_t i = 0; i < k; i++) out += fill;
    return out;
  };
  if (align == '>') return rep(n) + s;
  if (align == '^') return rep(n / 2) + s + rep(n - n / 2);
  if (align == '=' && !s.empty() && (s[0] == '-' || s[0] == '+'))
    return s.substr(0, 1) + rep(n) + s.substr(1);
  if (align == '=') return rep(n) + s;
  return s + rep(n);
}

// Python's format(value, spec) plus flux's "h" and "+" suffixes.
std::string apply_spec(Json value, std::string spec) {
  bool mark = false;
  if (!spec.empty() && spec.back() == '+') {
    mark = true;
    spec.pop_back();
  }
  if (!spec.empty() && spec.back() == 'h') {
    spec.pop_back();
    static const char* kBase[] = {"", "0s", "0.0", "0:00:00", "1970-01-01T00:00:00"};
    std::string s = py_str(value);
    for (const char* b : kBase)
      if (s == b) s = "-";
    value = s;
    spec += "s";
  }
  Spec sp = parse_spec(spec);
  if (value.is_null()) value = "";
  if (value.is_boolean() && !spec.empty()) value = value.get<bool>() ? 1 : 0;
  if (value.is_string() || value.is_boolean()) {
    if (sp.type && sp.type != 's') {
      // Python refuses numeric types for strings; an empty value (unset
      // attribute) formats as empty, as flux-core's EmptyObject does.
      if (!py_str(value).empty())
        throw FluxError(EINVAL,
                        "Unknown format code '" + std::string(1, sp.type) + "' for a string");
      return pad("", sp, '<');
    }
    std::string s = py_str(value);
    if (sp.precision >= 0 && utf8_len(s) > static_cast<size_t>(sp.precision)) {
      if (mark && sp.precision > 0)
        s = utf8_prefix(s, static_cast<size_t>(sp.precision - 1)) + "+";
      else
        s = utf8_prefix(s, static_cast<size_t>(sp.precision));
    }
    return pad(s, sp, '<');
  }
  // Numbers.
  char buf[128];
  std::string s;
  bool is_int = value.is_number_integer();
  double d = value.get<double>();
  switch (sp.type) {
    case 0:
      if (is_int || sp.precision < 0) {
        s = py_str(value);
      } else {
        std::snprintf(buf, sizeof buf, "%.*g", sp.precision, d);
        s = buf;
      }
      break;
    case 'd':
      if (!is_int) throw FluxError(EINVAL, "Unknown format code 'd' for a float");
      s = value.dump();
      break;
    case 'x':
    case 'X':
    case 'o':
      if (!is_int) throw FluxError(EINVAL, "Unknown format code for a float");
      std::snprintf(buf, sizeof buf,
                    sp.type == 'x'   ? "%llx"
                    : sp.type == 'X' ? "%llX"
                                     : "%llo",
                    static_cast<unsigned long long>(value.get<int64_t>()));
      s = buf;
      break;
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G': {
      char f[8] = {'%', '.', '*', sp.type, 0};
      std::snprintf(buf, sizeof buf, f, sp.precision < 0 ? 6 : sp.precision, d);
      s = buf;
      break;
    }
    case '%':
      std::snprintf(buf, sizeof buf, "%.*f%%", sp.precision < 0 ? 6 : sp.precision, d * 100);
      s = buf;
      break;
    case 's':
      throw FluxError(EINVAL, "Unknown format code 's' for a number");
    default:
      throw FluxError(EINVAL, std::string("Unknown format code '") + sp.type + "'");
  }
  return pad(s, sp, '>');
}

std::string local_time(double t, const char* fmt) {
  time_t secs = static_cast<time_t>(t);
  struct tm tm;
  localtime_r(&secs, &tm);
  char buf[256];
  size_t n = std::strftime(buf, sizeof buf, fmt, &tm);
  return std::string(buf, n);
}

std::string hms(double secs) {
  if (secs > 0 && secs < 1) secs = 1;
  long total = std::lround(secs);
  long days = total / 86400;
  total %= 86400;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", total / 3600, (total / 60) % 60, total % 60);
  if (days == 0) return buf;
  return std::to_string(days) + (days == 1 ? " day, " : " days, ") + buf;
}

const std::map<std::string, std::string>& headings() {
  static const std::map<std::string, std::string> kHeadings = {
      {"id", "JOBID"},
      {"id.dec", "JOBID"},
      {"id.hex", "JOBID"},
      {"id.f58", "JOBID"},
      {"id.f58plain", "JOBID"},
      {"id.emoji", "JOBID"},
      {"id.kvs", "JOBID"},
      {"id.words", "JOBID"},
      {"id.dothex", "JOBID"},
      {"userid", "UID"},
      {"username", "USER"},
      {"urgency", "URG"},
      {"priority", "PRI"},
      {"state", "STATE"},
      {"state_single", "S"},
      {"name", "NAME"},
      {"cwd", "CWD"},
      {"queue", "QUEUE"},
      {"project", "PROJECT"},
      {"bank", "BANK"},
      {"ntasks", "NTASKS"},
      {"ncores", "NCORES"},
      {"duration", "DURATION"},
      {"nnodes", "NNODES"},
      {"expiration", "EXPIRATION"},
      {"t_remaining", "T_REMAINING"},
      {"ranks", "RANKS"},
      {"nodelist", "NODELIST"},
      {"instance.stats", "STATS"},
      {"instance.stats.total", "NJOBS"},
      {"instance.utilization", "CORE%"},
      {"instance.gpu_utilization", "GPU%"},
      {"instance.progress", "PROG"},
      {"instance.resources.all.ncores", "CORES"},
      {"instance.resources.all.ngpus", "GPUS"},
      {"instance.resources.all.nnodes", "NODES"},
      {"instance.resources.up.ncores", "UP"},
      {"instance.resources.up.ngpus", "UP"},
      {"instance.resources.up.nnodes", "UP"},
      {"instance.resources.down.ncores", "DOWN"},
      {"instance.resources.down.ngpus", "DOWN"},
      {"instance.resources.down.nnodes", "DOWN"},
      {"instance.resources.allocated.ncores", "USED"},
      {"instance.resources.allocated.ngpus", "USED"},
      {"instance.resources.allocated.nnodes", "USED"},
      {"instance.resources.free.ncores", "FREE"},
      {"instance.resources.free.ngpus", "FREE"},
      {"instance.resources.free.nnodes", "FREE"},
      {"success", "SUCCESS"},
      {"result", "RESULT"},
      {"result_abbrev", "RS"},
      {"t_submit", "T_SUBMIT"},
      {"t_depend", "T_DEPEND"},
      {"t_priority", "T_PRIORITY"},
      {"t_sched", "T_SCHED"},
      {"t_run", "T_RUN"},
      {"t_cleanup", "T_CLEANUP"},
      {"t_inactive", "T_INACTIVE"},
      {"runtime", "RUNTIME"},
      {"status", "STATUS"},
      {"status_abbrev", "ST"},
      {"waitstatus", "WSTATUS"},
      {"returncode", "RC"},
      {"exception.occurred", "EXCEPTION-OCCURRED"},
      {"exception.severity", "EXCEPTION-SEVERITY"},
      {"exception.type", "EXCEPTION-TYPE"},
      {"exception.note", "EXCEPTION-NOTE"},
      {"annotations", "ANNOTATIONS"},
      {"dependencies", "DEPENDENCIES"},
      {"contextual_info", "INFO"},
      {"contextual_time", "TIME"},
      {"inactive_reason", "INACTIVE-REASON"},
      {"annotations.sched.t_estimate", "T_ESTIMATE"},
      {"annotations.sched.reason_pending", "REASON"},
      {"annotations.sched.resource_summary", "RESOURCES"},
      {"sched", "SCHED"},
      {"sched.t_estimate", "T_ESTIMATE"},
      {"sched.reason_pending", "REASON"},
      {"sched.resource_summary", "RESOURCES"},
      {"user", "USER"},
  };
  return kHeadings;
}

std::string heading_of(const std::string& field) {
  auto it = headings().find(field);
  if (it != headings().end()) return it->second;
  std::string h;
  if (field.starts_with("annotations."))
    h = field.substr(12);
  else if (field.starts_with("sched.") || field.starts_with("user."))
    h = field;
  else
    throw FluxError(EINVAL, "Unknown format field: " + field);
  for (auto& c : h) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return h;
}

}  // namespace

std::string fsd_display(double secs) {
  if (std::isinf(secs)) return "infinity";
  char buf[64];
  if (secs < 1.0e-3) return "0s";
  if (secs < 10.0)
    std::snprintf(buf, sizeof buf, "%.03fs", secs);
  else if (secs < 60.0)
    std::snprintf(buf, sizeof buf, "%.4gs", secs);
  else if (secs < 3600.0)
    std::snprintf(buf, sizeof buf, "%.4gm", secs / 60.0);
  else if (secs < 86400.0)
    std::snprintf(buf, sizeof buf, "%.4gh", secs / 3600.0);
  else
    std::snprintf(buf, sizeof buf, "%.4gd", secs / 86400.0);
  return buf;
}

const char* named_format(const std::string& name) {
  if (name == "default")
    return "{id.f58:>12} ?:{queue:<8.8} {username:<8.8} {name:<10.10+} {status_abbrev:>2.2} "
           "{ntasks:>6} {nnodes:>6h} {contextual_time!F:>8h} {contextual_info}";
  if (name == "deps")
    return "{id.f58:>12} ?:{queue:<8.8} {name:<10.10+} {urgency:<3} {priority:<12} "
           "{state:<8.8} {dependencies}";
  if (name == "long")
    return "{id.f58:>12} ?:{queue:<8.8} {username:<8.8} {name:<10.10+} {status:>9.9} "
           "{ntasks:>6} {nnodes:>6h} {t_submit!d:%b%d %R::>12} {t_remaining!F:>12h} "
           "{contextual_time!F:>8h} {contextual_info}";
  return nullptr;
}

// ---- JobView -----------------------------------------------------------------

double JobView::num(const char* key, double dflt) const {
  auto it = j_.find(key);
  return it != j_.end() && it->is_number() ? it->get<double>() : dflt;
}

std::string JobView::state_name(bool single) const {
  static const std::map<int, std::pair<const char*, const char*>> kStates = {
      {1, {"NEW", "N"}},  {2, {"DEPEND", "D"}},   {4, {"PRIORITY", "P"}}, {8, {"SCHED", "S"}},
      {16, {"RUN", "R"}}, {32, {"CLEANUP", "C"}}, {64, {"INACTIVE", "I"}}};
  auto it = kStates.find(j_.value("state", 0));
  if (it == kStates.end()) return "";
  return single ? it->second.second : it->second.first;
}

std::string JobView::result_name(bool abbrev) const {
  static const std::map<int, std::pair<const char*, const char*>> kResults = {
      {1, {"COMPLETED", "CD"}},
      {2, {"FAILED", "F"}},
      {4, {"CANCELED", "CA"}},
      {8, {"TIMEOUT", "TO"}}};
  if (!j_.contains("result")) return "";
  auto it = kResults.find(j_.value("result", 0));
  if (it == kResults.end()) return "";
  return abbrev ? it->second.second : it->second.first;
}

Json JobView::returncode() const {
  auto it = j_.find("waitstatus");
  if (it == j_.end() || !it->is_number_integer()) {
    int r = j_.value("result", 0);
    if (r == 4) return -128;
    if (r == 2) return 1;
    return "";
  }
  int status = it->get<int>();
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return "";
}

double JobView::runtime() const {
  double run = num("t_run"), cleanup = num("t_cleanup");
  if (cleanup > 0 && run > 0) return cleanup - run;
  if (run > 0) return wallclock() - run;
  return 0.0;
}

Json JobView::field(const std::string& name) const {
  uint64_t idv = j_.value("id", uint64_t{0});
  JobId id{idv};
  auto str_or_empty = [&](const char* key) -> Json {
    auto it = j_.find(key);
    return it == j_.end() ? Json("") : *it;
  };
  // pstree's stand-in for the enclosing instance: its id is "." in any form.
  if (j_.contains("root") && (name == "id" || name.rfind("id.", 0) == 0)) return ".";
  if (name == "id.dec") return idv;
  if (name == "id") return id.encode(JobIdEncoding::kF58);  // a JobID prints as F58
  if (name == "id.f58") return id.encode(JobIdEncoding::kF58);
  if (name == "id.f58plain") return id.encode(JobIdEncoding::kF58Plain);
  if (name == "id.hex") return id.encode(JobIdEncoding::kHex);
  if (name == "id.dothex") return id.encode(JobIdEncoding::kDothex);
  if (name == "id.kvs") return id.encode(JobIdEncoding::kKvs);
  if (name == "id.words") return id.encode(JobIdEncoding::kWords);
  if (name == "id.emoji") return id.encode(JobIdEncoding::kEmoji);
  if (name == "userid") return j_.value("userid", 0u);
  if (name == "username") {
    uint32_t uid = j_.value("userid", 0u);
    struct passwd pw, *res = nullptr;
    char buf[4096];
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res) return std::string(pw.pw_name);
    return std::to_string(uid);
  }
  if (name == "urgency") return j_.value("urgency", 16);
  if (name == "priority" || name == "ntasks" || name == "ncores" || name == "nnodes" ||
      name == "ranks" || name == "nodelist" || name == "success" || name == "waitstatus" ||
      name == "name" || name == "cwd" || name == "queue" || name == "project" || name == "bank")
    return str_or_empty(name.c_str());
  if (name == "state") return state_name(false);
  if (name == "state_single") return state_name(true);
  if (name == "result") return result_name(false);
  if (name == "result_abbrev") return result_name(true);
  int st = j_.value("state", 0);
  if (name == "status" || name == "status_abbrev") {
    bool abbrev = name == "status_abbrev";
    return (st & (kPending | kRunning)) ? state_name(abbrev) : result_name(abbrev);
  }
  if (name == "returncode") return returncode();
  if (name == "t_submit" || name == "t_depend" || name == "t_priority" || name == "t_sched" ||
      name == "t_run" || name == "t_cleanup" || name == "t_inactive" || name == "duration" ||
      name == "expiration")
    return num(name.c_str());
  if (name == "runtime") return runtime();
  if (name == "t_remaining") {
    if (!(st & 16)) return 0.0;
    double left = num("expiration") - wallclock();
    return left < 0 ? 0.0 : left;
  }
  if (name.starts_with("exception.")) {
    std::string k = "exception_" + name.substr(10);
    if (k != "exception_occurred" && k != "exception_severity" && k != "exception_type" &&
        k != "exception_note")
      throw FluxError(EINVAL, "Unknown format field: " + name);
    return str_or_empty(k.c_str());
  }
  if (name == "dependencies") {
    std::string out;
    for (const auto& d : j_.value("dependencies", Json::array()))
      out += (out.empty() ? "" : ",") + py_str(d);
    return out;
  }
  if (name == "annotations" || name == "sched" || name == "user" ||
      name.starts_with("annotations.") || name.starts_with("sched.") || name.starts_with("user.")) {
    std::string path =
        name.starts_with("annotations") ? name.substr(std::min(name.size(), size_t{12})) : name;
    const Json* cur = &j_;
    auto a = j_.find("annotations");
    if (a == j_.end()) return "";
    cur = &*a;
    size_t start = 0;
    while (start < path.size()) {
      size_t dot = path.find('.', start);
      std::string part = path.substr(start, dot == std::string::npos ? dot : dot - start);
      if (!cur->is_object() || !cur->contains(part)) return "";
      cur = &(*cur)[part];
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    if (cur->is_object()) return cur->empty() ? Json("") : Json(cur->dump());
    return *cur;
  }
  if (name == "contextual_time") {
    if (st & kPending) return num("duration");
    return runtime();
  }
  if (name == "contextual_info") {
    if (st == 4) return "priority-wait";
    if (st == 2) return "depends:" + field("dependencies").get<std::string>();
    if (st == 8) {
      Json eta = field("sched.t_estimate");
      if (eta.is_number()) {
        double left = eta.get<double>() - wallclock();
        return left < 0 ? std::string("eta:now") : "eta:" + fsd_display(left);
      }
      if (j_.value("urgency", 16) == 0) return "held";
      if (j_.contains("priority") && j_.value("priority", -1) == 0) return "priority-hold";
      return "";
    }
    return str_or_empty("nodelist");
  }
  if (name == "inactive_reason") {
    if (st != kInactive) return "";
    std::string result = result_name(false);
    bool exc = j_.value("exception_occurred", false);
    std::string type = j_.value("exception_type", std::string());
    std::string note = j_.value("exception_note", std::string());
    Json rc = returncode();
    if (result == "CANCELED")
      return exc && type == "cancel" && !note.empty() ? "Canceled: " + note
                                                      : std::string("Canceled");
    if (result == "FAILED") {
      if (exc && type != "exec" && j_.value("exception_severity", -1) == 0)
        return "Exception: type=" + type + (note.empty() ? "" : " note=" + note);
      int code = rc.is_number_integer() ? rc.get<int>() : 0;
      if (code > 128) return std::string(strsignal(code - 128));
      if (code == 126) return "Command invoked cannot execute";
      if (code == 127) return "command not found";
      if (code == 128) return "Invalid argument to exit";
      return "Exit " + py_str(rc);
    }
    if (result == "TIMEOUT") return "Timeout";
    return "Exit " + py_str(rc);
  }
  if (name.rfind("instance.", 0) == 0) return instance_field(name.substr(9));
  throw FluxError(EINVAL, "Unknown format field: " + name);
}

// flux-core's instance.* fields, from what JobView::set_instance() was
// given; "" for a job that is not a running instance (or unreachable).
Json JobView::instance_field(const std::string& f) const {
  static const std::set<std::string> kStates = {"all", "up", "down", "allocated", "free"};
  static const std::set<std::string> kKinds = {"ncores", "ngpus", "nnodes"};
  bool known = f == "stats" || f.rfind("stats.", 0) == 0 || f == "utilization" ||
               f == "gpu_utilization" || f == "progress";
  if (f.rfind("resources.", 0) == 0) {
    std::string rest = f.substr(10);
    size_t dot = rest.find('.');
    known = dot != std::string::npos && kStates.count(rest.substr(0, dot)) &&
            kKinds.count(rest.substr(dot + 1));
  }
  if (!known) throw FluxError(EINVAL, "Unknown format field: instance." + f);
  auto it = j_.find("instance");
  if (it == j_.end() || !it->is_object()) return "";
  const Json& in = *it;
  const Json& st = in.at("stats");
  auto count = [&](const char* k) { return st.value(k, int64_t{0}); };
  const Json& states = st.value("job_states", Json::object());
  auto state = [&](const char* k) { return states.value(k, int64_t{0}); };
  int64_t pending = state("depend") + state("priority") + state("sched");
  int64_t running = state("run") + state("cleanup");
  int64_t inactive = state("inactive");
  int64_t total = state("total");
  // As flux-core's JobStats: "failed" counts every unsuccessful job.
  int64_t failed = count("failed") + count("timeout") + count("canceled");
  if (f == "stats")
    return "PD:" + std::to_string(pending) + " R:" + std::to_string(running) +
           " CD:" + std::to_string(count("successful")) + " F:" + std::to_string(failed);
  if (f == "stats.total") return total;
  if (f == "stats.pending") return pending;
  if (f == "stats.running") return running;
  if (f == "stats.inactive") return inactive;
  if (f == "stats.active") return total - inactive;
  if (f == "stats.successful") return count("successful");
  if (f == "stats.failed") return failed;
  if (f.rfind("stats.", 0) == 0) throw FluxError(EINVAL, "Unknown format field: instance." + f);
  const Json& res = in.at("resources");
  auto n = [&](const char* s, const char* k) -> int64_t {
    return res.contains(s) ? res[s].value(k, int64_t{0}) : 0;
  };
  if (f == "utilization") {
    if (n("all", "ncores") == 0) return "";
    return static_cast<double>(n("allocated", "ncores")) / static_cast<double>(n("all", "ncores"));
  }
  if (f == "gpu_utilization") {
    if (n("all", "ngpus") == 0) return "";
    return static_cast<double>(n("allocated", "ngpus")) / static_cast<double>(n("all", "ngpus"));
  }
  if (f == "progress") {
    if (total == 0) return "";
    return static_cast<double>(inactive) / static_cast<double>(total);
  }
  std::string rest = f.substr(10);
  size_t dot = rest.find('.');
  return n(rest.substr(0, dot).c_str(), rest.substr(dot + 1).c_str());
}

std::string JobView::uri_of() const {
  const Json* u = &j_;
  for (const char* k : {"annotations", "user", "uri"}) {
    if (!u->is_object() || !u->contains(k)) return "";
    u = &(*u)[k];
  }
  return u->is_string() ? u->get<std::string>() : "";
}

Json JobView::to_dict() const {
  Json r = Json::object();
  for (const char* k :
       {"t_depend",    "t_priority", "t_sched",  "t_run",      "t_cleanup", "t_inactive",
        "duration",    "expiration", "name",     "cwd",        "queue",     "project",
        "bank",        "ntasks",     "ncores",   "nnodes",     "priority",  "ranks",
        "nodelist",    "success",    "result",   "waitstatus", "id",        "t_submit",
        "t_remaining", "state",      "username", "userid",     "urgency",   "runtime",
        "status",      "returncode"})
    r[k] = field(k);
  r["dependencies"] = j_.value("dependencies", Json::array());
  r["annotations"] = j_.value("annotations", Json::object());
  Json exc = {{"occurred", j_.value("exception_occurred", Json(""))},
              {"severity", j_.value("exception_severity", Json(""))},
              {"type", j_.value("exception_type", Json(""))},
              {"note", j_.value("exception_note", Json(""))}};
  r["exception"] = exc;
  // As flux-core: drop empty values, unset timestamps and zero runtime.
  for (auto it = r.begin(); it != r.end();) {
    const std::string& k = it.key();
    bool zero_drop = k.starts_with("t_") || k == "runtime" || k == "expiration";
    bool empty = it->is_string() && it->get<std::string>().empty();
    bool zero = it->is_number() && it->get<double>() == 0;
    if (empty || (zero_drop && zero))
      it = r.erase(it);
    else
      ++it;
  }
  if (!(r["exception"]["occurred"] == true)) r["exception"] = {{"occurred", false}};
  r["id"] = j_.value("id", uint64_t{0});  // the number; jobid is its F58
  r["jobid"] = JobId{j_.value("id", uint64_t{0})}.encode(JobIdEncoding::kF58);
  // An instance's URI (its memo) on its own, not twice.
  if (auto uri = uri_of(); !uri.empty()) {
    r["uri"] = uri;
    Json& user = r["annotations"]["user"];
    user.erase("uri");
    if (user.empty()) r["annotations"].erase("user");
  }
  return r;
}

// ---- JobFormat ---------------------------------------------------------------

JobFormat::JobFormat(const std::string& fmt) {
  try {
    Item cur;
    size_t i = 0;
    while (i < fmt.size()) {
      char c = fmt[i];
      if (c == '{' && i + 1 < fmt.size() && fmt[i + 1] == '{') {
        cur.literal += '{';
        i += 2;
      } else if (c == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
        cur.literal += '}';
        i += 2;
      } else if (c == '}') {
        throw FluxError(EINVAL, "Single '}' encountered in format string");
      } else if (c == '{') {
        size_t end = fmt.find('}', i);
        if (end == std::string::npos) throw FluxError(EINVAL, "expected '}' before end of string");
        std::string body = fmt.substr(i + 1, end - i - 1);
        size_t colon = body.find(':');
        std::string head = body.substr(0, colon);
        cur.spec = colon == std::string::npos ? "" : body.substr(colon + 1);
        size_t bang = head.find('!');
        cur.name = head.substr(0, bang);
        cur.conv = bang == std::string::npos ? "" : head.substr(bang + 1);
        if (cur.name.empty()) throw FluxError(EINVAL, "empty field name");
        if (!cur.conv.empty() && cur.conv != "D" && cur.conv != "d" && cur.conv != "F" &&
            cur.conv != "H" && cur.conv != "P" && cur.conv != "s" && cur.conv != "r")
          throw FluxError(EINVAL, "Unknown conversion specifier " + cur.conv);
        heading_of(cur.name);  // validates the name
        if (cur.literal.ends_with("?+:")) {
          cur.optional = cur.expand = true;
          cur.literal.resize(cur.literal.size() - 3);
        } else if (cur.literal.ends_with("?:")) {
          cur.optional = true;
          cur.literal.resize(cur.literal.size() - 2);
        } else if (cur.literal.ends_with("+:")) {
          cur.expand = true;
          cur.literal.resize(cur.literal.size() - 2);
        }
        cur.field = true;
        items_.push_back(std::move(cur));
        cur = Item{};
        i = end + 1;
      } else {
        cur.literal += c;
        i++;
      }
    }
    if (!cur.literal.empty()) items_.push_back(std::move(cur));
  } catch (const FluxError& e) {
    throw FluxError(EINVAL, std::string("Error in user format: ") + e.what());
  }
}

std::string JobFormat::format_item(const Item& it, const JobView& job) const {
  Json v = job.field(it.name);
  std::string spec = it.spec;
  if (it.conv == "d") {
    // {t!d:STRFTIME::SPEC}
    std::string tfmt = spec, rest;
    if (size_t p = spec.find("::"); p != std::string::npos) {
      tfmt = spec.substr(0, p);
      rest = spec.substr(p + 2);
    }
    double t = v.is_number() ? v.get<double>() : 0;
    std::string s = t > 0 ? local_time(t, tfmt.empty() ? "%Y-%m-%d %H:%M:%S" : tfmt.c_str()) : "";
    return apply_spec(s, rest);
  }
  if (it.conv == "D") {
    v = v.is_number() && v.get<double>() > 0
            ? Json(local_time(v.get<double>(), "%Y-%m-%dT%H:%M:%S"))
            : Json("");
  } else if (it.conv == "F") {
    if (v.is_number()) v = fsd_display(v.get<double>());
  } else if (it.conv == "H") {
    if (v.is_number()) v = hms(v.get<double>());
  } else if (it.conv == "P") {
    if (v.is_number()) {
      char buf[32];
      double p = v.get<double>() * 100;
      std::snprintf(buf, sizeof buf,
                    p >= 10 || p == 0 ? "%.0f%%"
                    : p >= 1          ? "%.1f%%"
                                      : "%.2f%%",
                    p);
      v = std::string(buf);
    }
  } else if (it.conv == "s" || it.conv == "r") {
    v = py_str(v);
  }
  return apply_spec(v, spec);
}

std::string JobFormat::format(const JobView& job) const {
  std::string out;
  for (const auto& it : items_) {
    out += it.literal;
    if (it.field) out += format_item(it, job);
  }
  return out;
}

namespace {

// A Python format spec with its width set to at least width:
// [[fill]align][sign][#][0][width][,][.precision][type].
std::string widen_spec(const std::string& spec, size_t width) {
  size_t i = 0;
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (spec.size() >= 2 && is_align(spec[1]))
    i = 2;
  else if (!spec.empty() && is_align(spec[0]))
    i = 1;
  while (i < spec.size() && (spec[i] == '+' || spec[i] == '-' || spec[i] == ' ' || spec[i] == '#'))
    i++;
  if (i < spec.size() && spec[i] == '0') i++;
  size_t j = i;
  while (j < spec.size() && std::isdigit(static_cast<unsigned char>(spec[j]))) j++;
  size_t have = j > i ? std::stoul(spec.substr(i, j - i)) : 0;
  if (have >= width) return spec;
  return spec.substr(0, i) + std::to_string(width) + spec.substr(j);
}

}  // namespace

std::string JobFormat::header() const {
  std::string out;
  for (const auto& it : items_) {
    out += it.literal;
    if (!it.field) continue;
    std::string spec = it.spec;
    if (it.conv == "d") {
      size_t p = spec.find("::");
      spec = p == std::string::npos ? "" : spec.substr(p + 2);
    }
    if (!spec.empty() && spec.back() == '+') spec.pop_back();
    // The heading is a string: drop any presentation type.
    if (!spec.empty() && std::isalpha(static_cast<unsigned char>(spec.back()))) spec.pop_back();
    if (!spec.empty() && spec.back() == '%') spec.pop_back();
    out += apply_spec(heading_of(it.name), spec);
  }
  return out;
}

bool JobFormat::uses(const std::string& prefix) const {
  for (const auto& it : items_)
    if (it.field && it.name.rfind(prefix, 0) == 0) return true;
  return false;
}

JobFormat JobFormat::filter_empty(const std::vector<JobView>& jobs, bool with_header) const {
  JobFormat out;
  for (auto it : items_) {
    if (it.expand) {
      size_t width = with_header ? utf8_len(heading_of(it.name)) : 0;
      for (const auto& j : jobs) {
        std::string s = format_item(it, j);
        size_t b = s.find_last_not_of(' '), a = s.find_first_not_of(' ');
        width = std::max(width, a == std::string::npos ? 0 : utf8_len(s.substr(a, b - a + 1)));
      }
      it.spec = widen_spec(it.spec, width);
    }
    if (it.optional) {
      bool any = false;
      for (const auto& j : jobs) {
        std::string s = format_item(it, j);
        size_t a = s.find_first_not_of(' '), b = s.find_last_not_of(' ');
        std::string t = a == std::string::npos ? "" : s.substr(a, b - a + 1);
        if (!(t.empty() || t == "0" || t == "0s" || t == "0.0" || t == "0:00:00" || t == "-" ||
              t == "1970-01-01T00:00:00")) {
          any = true;
          break;
        }
      }
      if (!any) continue;
    }
    out.items_.push_back(it);
  }
  return out;
}

}  // namespace flux::cmd::jobs
