#include "overlay_status.hpp"

#include <chrono>
#include <cstdio>
#include <thread>

#include "libflux/fsd.hpp"

namespace flux::cmd {

namespace {

constexpr const char* kRed = "\x1b[31m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kDarkGray = "\x1b[90m";
constexpr const char* kDefault = "\x1b[39m";
constexpr const char* kBoldBlue = "\x1b[01;34m";
constexpr const char* kReset = "\x1b[0m";
// Between health requests while --wait is not yet met: the broker has no
// streaming overlay.health, so the status is polled.
constexpr double kWaitPoll = 0.05;

enum class Connector { kNil, kPipe, kTee, kElbow, kBlank };

const char* connector_string(Connector c) {
  switch (c) {
    case Connector::kPipe:
      return "│  ";
    case Connector::kTee:
      return "├─ ";
    case Connector::kElbow:
      return "└─ ";
    case Connector::kBlank:
      return "   ";
    case Connector::kNil:
      break;
  }
  return "";
}

struct Node {
  uint32_t rank = 0;
  std::string status;
  double duration = -1;  // unknown: not shown
  bool ghost = false;    // presumed from an offline/lost ancestor, not asked
  Connector connector = Connector::kNil;
  std::string error;
};

bool is_down(const std::string& status) {
  return status == "offline" || status == "lost";
}

class StatusWalk {
 public:
  StatusWalk(Handle& h, OverlayMap& map, const OverlayStatusOptions& o)
      : h_(h), map_(map), o_(o), highlighted_(map.size(), false) {
    mark_highlights();
  }

  void run() { healthwalk(o_.rank, 0, Connector::kNil); }

 private:
  // The --highlight ranks and their ancestors: a name is highlighted when
  // its subtree holds a highlighted rank.
  void mark_highlights() {
    Idset ids;
    for (const auto& target : o_.highlight) {
      Idset one;
      try {
        one = map_.ranks_of(target);
      } catch (const FluxError& e) {
        throw FluxError(e.errnum(), "Error decoding " + target + ": " + e.what());
      }
      ids |= one;
    }
    Idset all;
    all.insert(0, map_.size() - 1);
    Idset outside = ids - all;
    if (!outside.empty())
      throw FluxError(EINVAL, std::string("--highlight: rank") +
                                  (outside.count() > 1 ? "s " : " ") + outside.encode() +
                                  " not in set " + all.encode());
    const Topology& topo = map_.topology();
    for (uint32_t id : ids) {
      std::optional<uint32_t> r = id;
      while (r && !highlighted_[*r]) {
        highlighted_[*r] = true;
        r = topo.parent(*r);
      }
    }
  }

  bool has_children(uint32_t rank) { return map_.topology().descendants(rank) > 0; }

  // What to print and whether to go below the node (flux-core's map
  // functions for --summary, --down and the default).
  bool visit(const Node& n, bool parent, int level) {
    if (o_.summary) {
      print_noname(n, parent, level);
      return false;
    }
    if (o_.down && n.status == "full") return false;
    bool children = has_children(n.rank);
    if (parent || is_down(n.status) || (!children && o_.verbose < 2)) print(n, parent, level);
    return children || o_.verbose >= 2;
  }

  // Ask rank and visit it and its children; false if the request failed
  // below the root (the caller fills in the subtree from the topology).
  bool healthwalk(uint32_t rank, int level, Connector connector) {
    start_ = monotime();
    Node node;
    node.rank = rank;
    node.connector = connector;
    Json health;
    try {
      health = overlay_health(h_, rank, o_.timeout, o_.wait);
      node.rank = health.at("rank").get<uint32_t>();
      node.status = health.at("status").get<std::string>();
      if (health.contains("duration")) node.duration = health["duration"].get<double>();
      if (!health.at("children").is_array()) throw FluxError(EPROTO, "children is not an array");
    } catch (const FluxError& e) {
      if (level == 0) throw FluxError(e.errnum(), e.what());
      std::printf("%s%s%s: %s%s\n", indent(level).c_str(), connector_text(connector),
                  name(rank, false).c_str(), e.what(), rpctime().c_str());
      return false;
    } catch (const Json::exception& e) {
      if (level == 0) throw FluxError(EPROTO, std::string("overlay.health: ") + e.what());
      std::printf("%s%s%s: %s%s\n", indent(level).c_str(), connector_text(connector),
                  name(rank, false).c_str(), "Protocol error", rpctime().c_str());
      return false;
    }
    if (!visit(node, true, level)) return true;
    const Json& children = health["children"];
    for (size_t i = 0; i < children.size(); i++) {
      Node child;
      try {
        child.rank = children[i].at("rank").get<uint32_t>();
        child.status = children[i].at("status").get<std::string>();
        child.duration = children[i].value("duration", -1.0);
        child.error = children[i].value("error", "");
        if (child.rank >= map_.size()) throw FluxError(EPROTO, "rank out of range");
      } catch (const std::exception&) {
        throw FluxError(EPROTO, "error parsing child array entry");
      }
      bool last = i + 1 == children.size();
      stack_.push_back(last ? Connector::kBlank : Connector::kPipe);
      child.connector = last ? Connector::kElbow : Connector::kTee;
      if (visit(child, false, level + 1)) {
        if (is_down(child.status) || !healthwalk(child.rank, level + 1, child.connector)) {
          if (o_.ghost) ghostwalk(child.rank, level + 1, child.status);
        }
      }
      stack_.pop_back();
    }
    return true;
  }

  // The ranks below an offline/lost (or unreachable) rank cannot be asked:
  // show them from the topology with the status of their root.
  void ghostwalk(uint32_t rank, int level, const std::string& status) {
    auto children = map_.topology().children(rank);
    for (size_t i = 0; i < children.size(); i++) {
      Node node;
      node.rank = children[i];
      node.status = status;
      node.ghost = true;
      bool last = i + 1 == children.size();
      stack_.push_back(last ? Connector::kBlank : Connector::kPipe);
      node.connector = last ? Connector::kElbow : Connector::kTee;
      if (visit(node, false, level + 1)) ghostwalk(node.rank, level + 1, status);
      stack_.pop_back();
    }
  }

  void print(const Node& n, bool parent, int level) {
    std::printf("%s%s%s: %s%s%s%s%s\n", indent(level).c_str(), connector_text(n.connector),
                name(n.rank, true).c_str(), colorize(n.status, n.ghost).c_str(),
                duration(n.duration).c_str(), n.error.empty() ? "" : " ", n.error.c_str(),
                parent ? rpctime().c_str() : "");
  }

  void print_noname(const Node& n, bool parent, int level) {
    std::printf("%s%s%s%s%s\n", indent(level).c_str(), connector_text(n.connector),
                colorize(n.status, n.ghost).c_str(), duration(n.duration).c_str(),
                parent ? rpctime().c_str() : "");
  }

  const char* connector_text(Connector c) const { return o_.pretty ? connector_string(c) : ""; }

  // The connectors of the levels above: every one on the stack but the
  // last, which belongs to the node being printed.
  std::string indent(int level) const {
    std::string s;
    if (!o_.pretty || level == 0) return s;
    for (size_t i = 0; i + 1 < stack_.size(); i++) s += connector_string(stack_[i]);
    return s;
  }

  std::string name(uint32_t rank, bool may_highlight) {
    std::string s = std::to_string(rank) + " " + map_.host(rank);
    if (may_highlight && rank < highlighted_.size() && highlighted_[rank])
      return o_.color ? kBoldBlue + s + kReset : "<<" + s + ">>";
    return s;
  }

  std::string colorize(const std::string& status, bool ghost) const {
    if (!o_.color) return status;
    if (ghost) return kDarkGray + status + kDefault;
    if (status == "lost") return kRed + status + kDefault;
    if (status == "offline") return kYellow + status + kDefault;
    return status;
  }

  std::string duration(double seconds) const {
    if (o_.verbose < 1 || seconds <= 0) return "";
    return " for " + fsd_format_digits(seconds, 6);
  }

  std::string rpctime() const {
    if (o_.verbose < 2) return "";
    char buf[64];
    std::snprintf(buf, sizeof buf, " (%.3f ms)", (monotime() - start_) * 1000.0);
    return buf;
  }

  Handle& h_;
  OverlayMap& map_;
  const OverlayStatusOptions& o_;
  std::vector<bool> highlighted_;
  std::vector<Connector> stack_;
  double start_ = 0;
};

}  // namespace

Json overlay_health(Handle& h, uint32_t rank, double timeout, const std::string& wait) {
  const double t0 = monotime();
  for (;;) {
    Rpc rpc = h.rpc("overlay.health", Json::object(), rank);
    if (timeout > 0) {
      double left = timeout - (monotime() - t0);
      if (left <= 0) throw FluxError(ETIMEDOUT, "Connection timed out");
      rpc.timeout(left);
    }
    Json r = rpc.get_json();
    if (wait.empty() || r.value("status", "") == wait) return r;
    std::this_thread::sleep_for(std::chrono::duration<double>(kWaitPoll));
  }
}

void overlay_status(Handle& h, OverlayMap& map, const OverlayStatusOptions& o) {
  StatusWalk(h, map, o).run();
}

}  // namespace flux::cmd
