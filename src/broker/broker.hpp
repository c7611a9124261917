// Broker: one rank of an instance. Owns the reactor, router, attributes,
// log, local connector, modules and the state machine, and wires the
// broker's own services onto an in-process Handle like any module's.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attributes.hpp"
#include "config.hpp"
#include "libflux/handle.hpp"
#include "local_listener.hpp"
#include "log_buffer.hpp"
#include "module_host.hpp"
#include "overlay.hpp"
#include "rexec.hpp"
#include "router.hpp"
#include "state_machine.hpp"
#include "subprocess.hpp"

namespace flux::broker {

struct BrokerOptions {
  std::vector<std::pair<std::string, std::string>> setattrs;  // -S
  std::vector<std::string> initial_program;                   // empty: a shell
  std::string config_path;                                    // -c: TOML file or dir
  std::vector<std::string> conf;                              // --conf, in order
  int verbose = 0;
};

class Broker {
 public:
  explicit Broker(BrokerOptions opts);
  ~Broker();
  // Run until the state machine reaches exit; returns the exit code.
  int run();

  // Environment for the broker's child processes (rc1, initial program, rc3).
  std::map<std::string, std::string> child_env() const;
  void log(int severity, const std::string& message) { logbuf_.log(severity, "broker", message); }

  Reactor reactor;
  BrokerOptions opts;
  Json config = Json::object();  // the TOML configuration (config.get)
  // config.load/reload on the leader: check, take, and send to every broker.
  void update_config(Json c);
  void check_local_uri();
  void check_critical_ranks();
  void handle_config_updates(Handle& h);
  AccessPolicy access;  // its [access] table
  Attributes attrs;
  Router router{0, 1};
  LogBuffer logbuf_{attrs, 0};
  ChildWatcher children{reactor};
  std::unique_ptr<TbonOverlay> overlay;  // null in a size-1 instance
  std::unique_ptr<ModuleHost> modules;
  std::unique_ptr<LocalListener> listener;
  std::unique_ptr<Handle> handle;  // the broker's own services
  std::unique_ptr<RexecService> rexec;
  std::unique_ptr<StateMachine> state;
  std::string bindir, prefix;
  std::string uuid;
  // FLUX_KVS_NAMESPACE as we were started (a job's guest namespace in the
  // parent); taken out of our environment, which the modules share.
  std::string parent_kvs_namespace;
  bool rundir_created = false;
  bool rundir_existed = false;  // given with -Srundir and already there

 private:
  void setup_attributes();
  void setup_rundir();
  size_t size_attr(const char* name, size_t dflt, size_t min, size_t max);
  size_t max_message_size();
  size_t max_client_backlog();
  void serve_builtins();
  void serve_overlay();
  void cleanup_rundir();
  void tell_parent_our_uri();
  void arm_memory_trim();
  static constexpr double kMemoryTrimPeriod = 1.0;
  std::unique_ptr<Timer> trim_timer_;
  uint64_t trim_seen_ = 0;
  bool trim_pending_ = false;
  void clean_stale_rundir(const std::string& rundir);
};

}  // namespace flux::broker
