// flux overlay status|errors|lookup|parentof|disconnect: the tree-based
// overlay network (TBON) of the instance, through the brokers' overlay.*
// services.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "cli.hpp"
#include "command.hpp"
#include "libflux/fsd.hpp"
#include "overlay_errors.hpp"
#include "overlay_map.hpp"
#include "overlay_status.hpp"

namespace flux::cmd {

namespace {

// flux-core's default per-request timeout.
constexpr double kDefaultTimeout = 0.5;

double parse_timeout(const std::string& fsd) {
  if (fsd.empty()) return kDefaultTimeout;
  auto t = fsd_parse(fsd);
  if (!t) throw FluxError(EINVAL, "--timeout: " + t.error().message);
  return *t;
}

// -L/--color[=WHEN]; without the option, auto unless NO_COLOR is set.
bool use_color(const CLI::App& app, const std::string& when) {
  std::string w = when;
  if (app.count("--color") == 0) {
    const char* no_color = std::getenv("NO_COLOR");
    w = no_color && *no_color ? "never" : "auto";
  }
  if (w == "always" || w.empty()) return true;
  if (w == "never") return false;
  if (w == "auto") return isatty(STDOUT_FILENO);
  throw FluxError(EINVAL, "Invalid argument to --color: '" + w + "'");
}

// A rank number, all digits (flux-core's strtol with nothing left over).
std::optional<uint32_t> parse_rank(const std::string& s) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return static_cast<uint32_t>(std::stoul(s));
}

uint32_t parent_of(OverlayMap& map, uint32_t rank) {
  if (rank >= map.size())
    throw FluxError(EINVAL, std::to_string(rank) + " is not a valid rank in this instance");
  auto parent = map.topology().parent(rank);
  if (!parent) throw FluxError(EINVAL, std::to_string(rank) + " has no parent");
  return *parent;
}

int run_status(const CLI::App& app, OverlayStatusOptions o, const std::string& timeout,
               const std::string& color) {
  o.timeout = parse_timeout(timeout);
  o.color = use_color(app, color);
  if (!o.wait.empty() && o.wait != "full" && o.wait != "partial" && o.wait != "degraded" &&
      o.wait != "lost" && o.wait != "offline")
    throw FluxError(EINVAL, "invalid --wait state");
  auto h = open_instance();
  OverlayMap map(*h);
  overlay_status(*h, map, o);
  return 0;
}

int run_lookup(const std::string& target) {
  auto h = open_instance();
  OverlayMap map(*h);
  std::printf("%s\n", map.lookup(target).c_str());
  return 0;
}

int run_parentof(const std::string& arg) {
  auto h = open_instance();
  OverlayMap map(*h);
  auto rank = parse_rank(arg);
  if (!rank) throw FluxError(EINVAL, arg + " is not a valid rank in this instance");
  std::printf("%u\n", parent_of(map, *rank));
  return 0;
}

int run_disconnect(const std::string& target, std::optional<uint32_t> parent) {
  auto h = open_instance();
  OverlayMap map(*h);
  auto rank = parse_rank(target);
  if (!rank) rank = map.rank_of(target);
  if (!rank) throw FluxError(EINVAL, "TARGET must be a valid rank or hostname");
  if (!parent) parent = parent_of(map, *rank);
  std::fprintf(stderr, "flux-overlay: asking %s (rank %u) to disconnect child %s (rank %u)\n",
               map.host(*parent).c_str(), *parent, map.host(*rank).c_str(), *rank);
  try {
    h->rpc("overlay.disconnect-subtree", {{"rank", *rank}}, *parent).get();
  } catch (const FluxError& e) {
    throw FluxError(e.errnum(), std::string("overlay.disconnect-subtree: ") + e.what());
  }
  return 0;
}

// "-v2" is flux-core's spelling of --verbose=2; CLI11 reads it as -v -2.
std::vector<std::string> normalize_verbose(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  for (auto& a : args)
    if (a.size() > 2 && a.starts_with("-v") && a.find_first_not_of("0123456789", 2) == a.npos)
      a = "--verbose=" + a.substr(2);
  return args;
}

}  // namespace

int cmd_overlay(int argc, char** argv) {
  CLI::App app{"Show and manage the instance's overlay network."};
  app.require_subcommand(1);
  Registry reg;

  OverlayStatusOptions so;
  std::string timeout, color = "auto";
  bool no_pretty = false, no_ghost = false;
  auto* status = app.add_subcommand("status", "Show the health of the tree, broker by broker");
  status->add_option("-r,--rank", so.rank, "Show the subtree below RANK (default 0)");
  status->add_flag("-v,--verbose", so.verbose,
                   "More detail: 1 = time in the state, 2 = also request round trips");
  status->add_option("-t,--timeout", timeout, "Wait FSD for each broker, 0 = forever (0.5s)");
  status->add_flag("--summary", so.summary, "Print only the state of the top subtree");
  status->add_flag("--down", so.down, "Show only the subtrees that are not full");
  status->add_flag("--no-pretty", no_pretty, "One line per broker, without tree drawing");
  status->add_flag("--no-ghost", no_ghost, "Hide the brokers behind offline or lost ones");
  status->add_option("-L,--color", color, "Color: always (without WHEN), never or auto")
      ->expected(0, 1)
      ->default_str("always");
  status
      ->add_option("-H,--highlight", so.highlight,
                   "Highlight TARGET (ranks or hosts) and the brokers above")
      ->allow_extra_args(false);
  status->add_option("-w,--wait", so.wait,
                     "Wait for each subtree to reach STATE (full, partial, degraded, ...)");
  reg.push_back({status, [&] {
                   so.pretty = !no_pretty;
                   so.ghost = !no_ghost;
                   return run_status(*status, so, timeout, color);
                 }});

  auto* errors = app.add_subcommand("errors", "List the errors of lost and offline brokers");
  errors->add_option("-t,--timeout", timeout, "Wait FSD for each broker, 0 = forever (0.5s)");
  reg.push_back({errors, [&] {
                   double t = parse_timeout(timeout);
                   auto h = open_instance();
                   OverlayMap map(*h);
                   overlay_errors(*h, map, t);
                   return 0;
                 }});

  std::string target;
  auto* lookup = app.add_subcommand("lookup", "Map ranks to hosts, or hosts to ranks");
  lookup->add_option("target", target, "Ranks (idset) or hosts (hostlist)")->required();
  reg.push_back({lookup, [&] { return run_lookup(target); }});

  auto* parentof = app.add_subcommand("parentof", "Show the parent of RANK");
  parentof->add_option("rank", target, "Broker rank")->required();
  reg.push_back({parentof, [&] { return run_parentof(target); }});

  uint32_t parent = 0;
  auto* disconnect =
      app.add_subcommand("disconnect", "Drop broker TARGET (rank or host) and its subtree");
  auto* parent_opt =
      disconnect->add_option("-r,--parent", parent, "Ask RANK, not the parent in the topology");
  disconnect->add_option("target", target, "Rank or hostname")->required();
  reg.push_back({disconnect, [&] {
                   return run_disconnect(
                       target, parent_opt->count() ? std::optional(parent) : std::nullopt);
                 }});

  std::vector<std::string> args = normalize_verbose(argc, argv);
  std::vector<char*> av;
  for (auto& a : args) av.push_back(a.data());
  return run_subcommand(app, reg, argc, av.data());
}

}  // namespace flux::cmd
