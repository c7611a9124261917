#include "constraint.hpp"

#include <cstdlib>
#include <map>

namespace flux::joblist {

namespace {

int state_bit(const Json& v) {
  if (v.is_number_integer()) {
    int m = v.get<int>();
    if (m <= 0 || (m & ~(state::kActive | state::kInactive)))
      throw FluxError(EPROTO, "invalid states value " + v.dump());
    return m;
  }
  if (!v.is_string()) throw FluxError(EPROTO, "states must be strings or integers");
  static const std::map<std::string, int> kNames = {
      {"new", state::kNew},           {"depend", state::kDepend},   {"priority", state::kPriority},
      {"sched", state::kSched},       {"run", state::kRun},         {"cleanup", state::kCleanup},
      {"inactive", state::kInactive}, {"pending", state::kPending}, {"running", state::kRunning},
      {"active", state::kActive}};
  std::string s = v.get<std::string>();
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto it = kNames.find(s);
  if (it == kNames.end())
    throw FluxError(EPROTO, "invalid states value '" + v.get<std::string>() + "'");
  return it->second;
}

int result_bit(const Json& v) {
  if (v.is_number_integer()) {
    int m = v.get<int>();
    if (m <= 0 || (m & ~15)) throw FluxError(EPROTO, "invalid results value " + v.dump());
    return m;
  }
  if (!v.is_string()) throw FluxError(EPROTO, "results must be strings or integers");
  static const std::map<std::string, int> kNames = {{"completed", result::kCompleted},
                                                    {"failed", result::kFailed},
                                                    {"canceled", result::kCanceled},
                                                    {"timeout", result::kTimeout}};
  std::string s = v.get<std::string>();
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto it = kNames.find(s);
  if (it == kNames.end())
    throw FluxError(EPROTO, "invalid results value '" + v.get<std::string>() + "'");
  return it->second;
}

std::pair<std::string, double> comparison(const Json& v, const std::string& attr) {
  std::string text;
  if (v.is_number()) {
    text = ">=" + v.dump();
  } else if (v.is_string()) {
    text = v.get<std::string>();
  } else {
    throw FluxError(EPROTO, attr + ": values must be strings or numbers");
  }
  size_t n = 0;
  while (n < text.size() && n < 2 && (text[n] == '<' || text[n] == '>' || text[n] == '=')) n++;
  std::string op = n ? text.substr(0, n) : ">=";
  if (op != "<" && op != "<=" && op != ">" && op != ">=" && op != "=")
    throw FluxError(EPROTO, attr + ": invalid comparison '" + text + "'");
  std::string num = text.substr(n);
  char* end = nullptr;
  double d = std::strtod(num.c_str(), &end);
  if (num.empty() || *end) throw FluxError(EPROTO, attr + ": invalid timestamp '" + text + "'");
  return {op, d};
}

}  // namespace

Result<Constraint> Constraint::compile(const Json& c) {
  Constraint out;
  try {
    if (c.is_null()) return out;
    if (!c.is_object()) throw FluxError(EPROTO, "constraint must be an object");
    if (c.empty()) return out;
    if (c.size() != 1) throw FluxError(EPROTO, "constraint must have exactly one operator");
    auto it = c.begin();
    const std::string& key = it.key();
    const Json& vals = it.value();
    if (!vals.is_array()) throw FluxError(EPROTO, "operator " + key + " needs an array");
    if (key == "and" || key == "or" || key == "not") {
      out.op_ = key == "and" ? Op::kAnd : key == "or" ? Op::kOr : Op::kNot;
      if (key == "not" && vals.size() != 1)
        throw FluxError(EPROTO, "not takes exactly one constraint");
      for (const auto& v : vals) out.kids_.push_back(compile(v).value());
    } else if (key == "userid") {
      out.op_ = Op::kUserid;
      for (const auto& v : vals) {
        if (!v.is_number_integer()) throw FluxError(EPROTO, "userid values must be integers");
        int64_t u = v.get<int64_t>();
        if (u == -1 || u == 0xffffffffLL)
          out.any_user_ = true;
        else if (u >= 0 && u < 0xffffffffLL)
          out.uids_.insert(static_cast<uint32_t>(u));
        else
          throw FluxError(EPROTO, "invalid userid " + v.dump());
      }
    } else if (key == "name" || key == "queue") {
      out.op_ = key == "name" ? Op::kName : Op::kQueue;
      for (const auto& v : vals) {
        if (!v.is_string()) throw FluxError(EPROTO, key + " values must be strings");
        out.strings_.insert(v.get<std::string>());
      }
    } else if (key == "states") {
      out.op_ = Op::kStates;
      for (const auto& v : vals) out.mask_ |= state_bit(v);
    } else if (key == "results") {
      out.op_ = Op::kResults;
      for (const auto& v : vals) out.mask_ |= result_bit(v);
    } else if (key == "hostlist") {
      out.op_ = Op::kHostlist;
      for (const auto& v : vals) {
        if (!v.is_string()) throw FluxError(EPROTO, "hostlist values must be strings");
        auto hl = Hostlist::decode(v.get<std::string>());
        if (!hl) throw FluxError(EPROTO, hl.error().message);
        out.hosts_.append(*hl);
      }
    } else if (key == "ranks") {
      out.op_ = Op::kRanks;
      for (const auto& v : vals) {
        if (!v.is_string()) throw FluxError(EPROTO, "ranks values must be strings");
        auto ids = Idset::decode(v.get<std::string>());
        if (!ids) throw FluxError(EPROTO, ids.error().message);
        out.ranks_ |= *ids;
      }
    } else if (key == "t_submit" || key == "t_depend" || key == "t_run" || key == "t_cleanup" ||
               key == "t_inactive") {
      out.op_ = Op::kTime;
      out.time_attr_ = key;
      for (const auto& v : vals) out.comparisons_.push_back(comparison(v, key));
    } else {
      throw FluxError(EPROTO, "unknown constraint operator: " + key);
    }
  } catch (const FluxError& e) {
    return Error{EPROTO, e.what()};
  }
  return out;
}

bool Constraint::match(const Job& j) const {
  switch (op_) {
    case Op::kTrue:
      return true;
    case Op::kAnd:
      for (const auto& k : kids_)
        if (!k.match(j)) return false;
      return true;
    case Op::kOr:
      for (const auto& k : kids_)
        if (k.match(j)) return true;
      return false;
    case Op::kNot:
      return !kids_[0].match(j);
    case Op::kUserid:
      return any_user_ || uids_.count(j.userid);
    case Op::kName:
      return strings_.count(j.name);
    case Op::kQueue:
      return strings_.count(j.queue);
    case Op::kStates:
      return j.state & mask_;
    case Op::kResults:
      return j.result & mask_;
    case Op::kHostlist: {
      if (j.nodelist.empty()) return false;
      auto hl = Hostlist::decode(j.nodelist);
      if (!hl) return false;
      for (const auto& h : *hl)
        if (hosts_.contains(h)) return true;
      return false;
    }
    case Op::kRanks: {
      if (j.ranks.empty()) return false;
      auto ids = Idset::decode(j.ranks);
      return ids && ids->intersects(ranks_);
    }
    case Op::kTime: {
      double t = time_attr_ == "t_submit"    ? j.t_submit
                 : time_attr_ == "t_depend"  ? j.t_depend
                 : time_attr_ == "t_run"     ? j.t_run
                 : time_attr_ == "t_cleanup" ? j.t_cleanup
                                             : j.t_inactive;
      if (t <= 0) return false;
      for (const auto& [op, v] : comparisons_) {
        bool ok = op == "<"    ? t < v
                  : op == "<=" ? t <= v
                  : op == ">"  ? t > v
                  : op == ">=" ? t >= v
                               : t == v;
        if (!ok) return false;
      }
      return true;
    }
  }
  return false;
}

int Constraint::states() const {
  constexpr int kAll = state::kActive | state::kInactive;
  switch (op_) {
    case Op::kAnd: {
      int m = kAll;
      for (const auto& k : kids_) m &= k.states();
      return m;
    }
    case Op::kOr: {
      int m = 0;
      for (const auto& k : kids_) m |= k.states();
      return m;
    }
    case Op::kStates:
      return mask_;
    case Op::kResults:
      return state::kInactive;
    default:
      return kAll;
  }
}

}  // namespace flux::joblist
