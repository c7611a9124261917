// The output formats of `flux jobs`: Python-format-like strings such as
// "{id.f58:>12} ?:{queue:<8.8} {name:<10.10+} {runtime!F:>8h}", as
// flux-core's flux-jobs(1) documents them: fields with [!conv][:spec],
// the "h" (hyphen for empty) and "+" (mark truncation) spec suffixes, and
// "?:" columns dropped when empty for every job.
#pragma once

#include <string>
#include <vector>

#include "libflux/json.hpp"

namespace flux::cmd::jobs {

// One job, as job-list sent it (attrs "all"), with the values flux-core's
// JobInfo derives from it.
// Code points in s (its width on a terminal, near enough), and the first
// n of them.
size_t utf8_len(std::string_view s);
std::string utf8_prefix(std::string_view s, size_t n);

class JobView {
 public:
  explicit JobView(Json job) : j_(std::move(job)) {}
  // The value of a format field; FluxError(EINVAL) "Unknown format field"
  // for a name flux jobs does not know.
  Json field(const std::string& name) const;
  // flux-core's JobInfo.to_dict(): what --json prints.
  Json to_dict() const;
  const Json& raw() const { return j_; }
  Json& raw() { return j_; }
  // The URI the job's instance posted (annotations.user.uri), or "".
  std::string uri_of() const;
  // What the job's own instance says (instance.* fields): its job-list
  // job-stats answer and its resources by state ({"all":{"ncores":N,
  // "ngpus":N,"nnodes":N},"up":...,"down","allocated","free"}).
  void set_instance(Json stats, Json resources) {
    j_["instance"] = {{"stats", std::move(stats)}, {"resources", std::move(resources)}};
  }

 private:
  double num(const char* key, double dflt = 0) const;
  std::string state_name(bool single) const;
  std::string result_name(bool abbrev) const;
  Json returncode() const;
  double runtime() const;
  Json instance_field(const std::string& f) const;

  Json j_;
};

class JobFormat {
 public:
  // Throws FluxError(EINVAL) "Error in user format: ..." for bad input.
  explicit JobFormat(const std::string& fmt);
  std::string header() const;
  std::string format(const JobView& job) const;
  // A copy without the "?:" columns that are empty for every job.
  // Also widens each "+:" column to its widest value (and its heading, when
  // a header is printed).
  JobFormat filter_empty(const std::vector<JobView>& jobs, bool with_header = true) const;
  // Whether a field's name starts with prefix (e.g. "instance.").
  bool uses(const std::string& prefix) const;

 private:
  struct Item {
    std::string literal;  // text before the field
    bool field = false;
    bool optional = false;  // "?:" before the field
    bool expand = false;    // "+:" before the field
    std::string name, conv, spec;
  };
  JobFormat() = default;
  std::string format_item(const Item& it, const JobView& job) const;

  std::vector<Item> items_;
};

// Named formats (-o NAME): default, deps, long.
const char* named_format(const std::string& name);

// flux-core's fsd() for display (flux.util.fsd).
std::string fsd_display(double secs);

}  // namespace flux::cmd::jobs
