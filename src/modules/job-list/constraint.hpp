// RFC 31 job constraints as job-list matches them: operators and, or, not;
// properties userid, name, queue, states, results, hostlist, ranks and the
// timestamps t_submit, t_depend, t_run, t_cleanup, t_inactive (values like
// ">=1700000000.5", "<5", "=3"). Compiled once per request, then matched
// against each Job without any JSON work.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "job.hpp"
#include "libflux/hostlist.hpp"
#include "libflux/idset.hpp"

namespace flux::joblist {

class Constraint {
 public:
  // null or {} matches everything. EPROTO with a reason for a malformed one.
  static Result<Constraint> compile(const Json& c);

  bool match(const Job& j) const;
  // The states a matching job can be in (to skip whole lists).
  int states() const;

 private:
  enum class Op {
    kTrue,
    kAnd,
    kOr,
    kNot,
    kUserid,
    kName,
    kQueue,
    kStates,
    kResults,
    kHostlist,
    kRanks,
    kTime
  };
  Op op_ = Op::kTrue;
  std::vector<Constraint> kids_;
  std::set<uint32_t> uids_;
  bool any_user_ = false;
  std::set<std::string> strings_;
  int mask_ = 0;
  Hostlist hosts_;
  Idset ranks_;
  std::string time_attr_;
  std::vector<std::pair<std::string, double>> comparisons_;  // (op, value)
};

}  // namespace flux::joblist
