#include "heartbeat.hpp"

#include <cmath>
#include <cstring>

#include "libflux/fsd.hpp"

namespace flux::heartbeat {

namespace {

double parse_fsd(const std::string& what, const std::string& text) {
  auto d = fsd_parse(text);
  if (!d) throw FluxError(EINVAL, what + ": error parsing FSD: " + d.error().message);
  return *d;
}

}  // namespace

void apply_config(HeartbeatOptions& o, const Json& config) {
  if (!config.is_object() || !config.contains("heartbeat")) return;
  const Json& t = config["heartbeat"];
  if (!t.is_object()) throw FluxError(EINVAL, "error reading [heartbeat] config table");
  HeartbeatOptions n;
  for (const auto& [key, value] : t.items()) {
    if (key == "period" || key == "timeout") {
      if (!value.is_string())
        throw FluxError(EINVAL, "heartbeat." + key + " must be an FSD string");
      double d = parse_fsd("heartbeat." + key, value.get<std::string>());
      if (key == "period") {
        if (d <= 0) throw FluxError(EINVAL, "heartbeat.period must be a positive FSD value");
        n.period = d;
      } else {
        n.timeout = d == 0 || std::isinf(d) ? -1 : d;  // 0 or infinity: never
      }
    } else if (key == "warn_thresh") {
      if (!value.is_number_integer() || value.get<int64_t>() <= 0)
        throw FluxError(EINVAL, "heartbeat.warn_thresh must be positive");
      n.warn_thresh = value.get<int>();
    } else {
      throw FluxError(EINVAL, "error reading [heartbeat] config table: unknown key " + key);
    }
  }
  if (n.timeout > 0 && n.timeout < 2 * n.period)
    throw FluxError(EINVAL, "heartbeat.timeout must be >= 2*heartbeat.period, infinity, or 0");
  o = n;
}

void apply_args(HeartbeatOptions& o, int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    if (std::strncmp(argv[i], "period=", 7) == 0) {
      double d = parse_fsd("period", argv[i] + 7);
      if (d <= 0) throw FluxError(EINVAL, "period must be a positive FSD value");
      o.period = d;
    } else {
      throw FluxError(EINVAL, std::string(argv[i]) + ": unknown option");
    }
  }
}

Heartbeat::Heartbeat(Handle& h, HeartbeatOptions o)
    : h_(h), o_(o), log_(h, "heartbeat"), last_(monotime()) {}

Heartbeat::~Heartbeat() = default;

Task<void> Heartbeat::start() {
  Json req = {{"name", "rank"}};
  Message r = co_await h_.rpc("attr.get", req);
  rank_ = static_cast<uint32_t>(std::stoul(r.json().value().at("value").get<std::string>()));
  log_.set_rank(rank_);
  if (rank_ == 0) {
    pulse();  // the first one at once, as flux-core's timer
    co_return;
  }
  h_.on_event("heartbeat.pulse", [this](const Message&) { on_pulse(); });
  co_await h_.subscribe("heartbeat.pulse");
  last_ = monotime();
  timer_ = h_.reactor().after(o_.period, [this] { check_overdue(); });
  arm_timeout();
}

void Heartbeat::pulse() {
  spawn(publish());
  count_++;
  timer_ = h_.reactor().after(o_.period, [this] { pulse(); });
}

Task<void> Heartbeat::publish() {
  try {
    co_await h_.publish("heartbeat.pulse");
  } catch (const FluxError& e) {
    log_.err(std::string("error publishing heartbeat: ") + e.what());
  }
}

void Heartbeat::on_pulse() {
  count_++;
  last_ = monotime();
  check_overdue();
  arm_timeout();
}

void Heartbeat::check_overdue() {
  bool over = monotime() - last_ > o_.period * o_.warn_thresh;
  if (over && !overdue_) log_(kLogWarning, "heartbeat overdue");
  if (!over && overdue_) log_(kLogWarning, "heartbeat received");
  overdue_ = over;
  timer_ = h_.reactor().after(o_.period, [this] { check_overdue(); });
}

// Rearmed by every pulse; when it fires the broker is asked to leave its
// parent, and it fires again each timeout while no pulse comes.
void Heartbeat::arm_timeout() {
  if (o_.timeout <= 0) return;
  timeout_timer_ = h_.reactor().after(o_.timeout, [this] {
    spawn(leave_parent("no heartbeat for " + fsd_format_digits(monotime() - last_, 2)));
    arm_timeout();
  });
}

Task<void> Heartbeat::leave_parent(std::string reason) {
  Json req = {{"reason", reason}};
  std::string failed;
  try {
    co_await h_.rpc("overlay.disconnect-parent", req);
  } catch (const FluxError& e) {
    failed = e.what();
  }
  if (!failed.empty()) log_.err(reason + "; overlay.disconnect-parent: " + failed);
}

}  // namespace flux::heartbeat
