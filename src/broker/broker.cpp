#include "broker.hpp"

#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "boot.hpp"
#include "config.hpp"
#include "libflux/asio_reactor.hpp"
#include "libflux/base64.hpp"
#include "libflux/idset.hpp"
#include "libflux/jobid.hpp"
#include "libflux/log_line.hpp"
#include "libflux/policy.hpp"
#include "libflux/version.hpp"
#include "uuid.hpp"

extern char** environ;

namespace flux::broker {

namespace fs = std::filesystem;

namespace {

// The broker's own services sit behind an endpoint like any module's, but on
// the broker's thread: messages are posted both ways so that no handler runs
// inside another.
class SelfEndpoint : public Endpoint {
 public:
  SelfEndpoint(Reactor& r, std::string uuid) : Endpoint(std::move(uuid), "broker", true), r_(r) {}
  void deliver(Message&& m) override {
    r_.post([this, m = std::move(m)]() mutable {
      if (on_message) on_message(std::move(m));
    });
  }
  Connector::OnMessage on_message;

 private:
  Reactor& r_;
};

class SelfConnector : public Connector {
 public:
  SelfConnector(Reactor& r, Router& router, std::shared_ptr<SelfEndpoint> ep)
      : r_(r), router_(router), ep_(std::move(ep)) {}
  void start(OnMessage on_message, OnLost) override { ep_->on_message = std::move(on_message); }
  void send(Message&& m) override {
    r_.post([this, m = std::move(m)]() mutable { router_.ingress(*ep_, std::move(m)); });
  }

 private:
  Reactor& r_;
  Router& router_;
  std::shared_ptr<SelfEndpoint> ep_;
};

std::string self_exe_dir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "." : exe.parent_path().string();
}

// Is a broker listening on the UNIX socket at path?
bool socket_answers(const std::string& path) {
  sockaddr_un sa{};
  if (path.size() >= sizeof(sa.sun_path)) return false;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
  ::close(fd);
  return up;
}

std::string hostname() {
  char buf[HOST_NAME_MAX + 1] = {};
  gethostname(buf, sizeof(buf) - 1);
  return buf;
}

}  // namespace

Broker::Broker(BrokerOptions o) : opts(std::move(o)) {
  bindir = self_exe_dir();
  prefix = fs::path(bindir).parent_path().string();
  uuid = make_uuid();
  router.log = [this](int sev, const std::string& msg) { log(sev, msg); };
  if (opts.config_path.empty())
    if (const char* dir = std::getenv("FLUX_CONF_DIR"); dir && *dir) opts.config_path = dir;
  if (!opts.config_path.empty()) config = config_load(opts.config_path);
  for (const auto& c : opts.conf) config_update(config, c);
  access = access_policy(config);
  Policy::from_config(config).value();  // a bad [policy] or [queues] stops the start
  setup_attributes();
  check_local_uri();
  setup_rundir();
  // PMI_FD (if unused by the boot method) must not leak into children.
  if (const char* fd = std::getenv("PMI_FD")) fcntl(std::atoi(fd), F_SETFD, FD_CLOEXEC);
  try {
    overlay = boot(*this);
  } catch (...) {
    cleanup_rundir();
    throw;
  }
  if (overlay) router.set_overlay(overlay.get());
  check_critical_ranks();
  if (rundir_existed) clean_stale_rundir(attrs.get_or("rundir", ""));
  logbuf_.set_rank(router.rank());
  if (!attrs.get("local-uri")) {
    std::string rundir = attrs.get_or("rundir", "");
    attrs.set_internal("local-uri", "local://" + rundir + "/local-" + attrs.get_or("rank", "0"));
  }
  if (router.rank() == 0) tell_parent_our_uri();
}

// An instance started as a job of another: its rank 0 posts its URI in the
// job's memo, where `flux uri JOBID` and flux.uri's jobid: resolver (as
// flux-core's) find it. Best effort: the instance runs without it.
void Broker::tell_parent_our_uri() {
  auto jobid = attrs.get("jobid");
  auto parent = attrs.get("parent-uri");
  if (!jobid || !parent) return;
  try {
    JobId id = JobId::parse(*jobid).value();
    std::string path = attrs.get_or("local-uri", "").substr(std::string("local://").size());
    Json memo = {{"uri", "ssh://" + attrs.get_or("hostname", "localhost") + path}};
    auto h = Handle::open(*parent);
    h->rpc("job-manager.memo", {{"id", id.value}, {"memo", memo}}).timeout(10.0).get_json();
  } catch (const std::exception& e) {
    log(kLogErr, std::string("cannot post this instance's URI to the parent: ") + e.what());
  }
}

Broker::~Broker() {
  state.reset();
  rexec.reset();
  handle.reset();
  modules.reset();
  listener.reset();
  if (overlay) overlay->stop();
  router.set_overlay(nullptr);
  overlay.reset();
  cleanup_rundir();
}

void Broker::setup_attributes() {
  attrs.set_internal("rank", "0");
  attrs.set_internal("size", "1");
  attrs.set_internal("version", kFluxVersion);
  attrs.set_internal("broker.pid", std::to_string(getpid()));
  attrs.set_internal("broker.uuid", uuid);
  attrs.set_internal("broker.starttime",
                     std::to_string(std::chrono::duration<double>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count()));
  attrs.set_internal("security.owner", std::to_string(getuid()));
  // FLUX_FAKE_HOSTNAME: flux start --test-hosts gives each broker a name.
  const char* fake = std::getenv("FLUX_FAKE_HOSTNAME");
  std::string host = fake && *fake ? fake : hostname();
  attrs.set_internal("hostname", host);
  attrs.set_internal("hostlist", host);
  attrs.set_internal("broker.mapping", "[[0,1,1,1]]");
  attrs.set_internal("tbon.level", "0");
  attrs.set_internal("tbon.maxlevel", "0");
  attrs.set_internal("tbon.descendants", "0");
  attrs.set_internal("instance-level", "0");
  if (!opts.config_path.empty()) attrs.set_internal("config.path", opts.config_path);
  attrs.set_internal("broker.rc1_path", prefix + "/etc/flux/rc1");
  attrs.set_internal("broker.rc3_path", prefix + "/etc/flux/rc3");
  attrs.set_internal("broker.cleanup_path", prefix + "/etc/flux/cleanup");
  std::string modpath = prefix + "/lib/flux/modules";
  if (const char* env = std::getenv("FLUX_MODULE_PATH"); env && *env)
    modpath = std::string(env) + ":" + modpath;
  attrs.set_internal("conf.module_path", modpath);
  attrs.set_internal("log-stderr-level", std::to_string(kLogErr));
  attrs.set_internal("log-level", std::to_string(kLogDebug));
  attrs.set_internal("log-ring-size", "1024");
  attrs.set_internal("log-stderr-mode", "leader");

  if (const char* ns = std::getenv("FLUX_KVS_NAMESPACE")) {
    parent_kvs_namespace = ns;
    unsetenv("FLUX_KVS_NAMESPACE");
  }
  if (const char* parent = std::getenv("FLUX_URI"); parent && *parent) {
    // Started inside another instance: one level deeper than it.
    try {
      auto h = Handle::open(parent);
      auto r = h->rpc("attr.get", {{"name", "instance-level"}}).timeout(2.0).get_json();
      attrs.set_internal("instance-level",
                         std::to_string(std::stoi(r.at("value").get<std::string>()) + 1));
      attrs.set_internal("parent-uri", parent);
    } catch (const std::exception&) {
      // A stale FLUX_URI: this is a top-level instance after all.
    }
  }
  for (const auto& [k, v] : opts.setattrs) attrs.set_cmdline(k, v);  // throws on bad names
}

// A byte-count attribute from min to max, set to dflt when not given.
size_t Broker::size_attr(const char* name, size_t dflt, size_t min, size_t max) {
  auto v = attrs.get(name);
  if (!v) {
    attrs.set_internal(name, std::to_string(dflt));
    return dflt;
  }
  char* end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(v->c_str(), &end, 10);
  if (v->empty() || *end || errno || n < min || n > max)
    throw FluxError(EINVAL, std::string(name) + ": '" + *v + "' is not a byte count from " +
                                std::to_string(min) + " to " + std::to_string(max));
  return static_cast<size_t>(n);
}

// The largest message a local client may send: the broker disconnects it
// at the header rather than buffer more (broker.max-message-size).
size_t Broker::max_message_size() {
  return size_attr("broker.max-message-size", size_t{256} << 20, 1024, kMaxMessageSize);
}

// How much a local client may leave unread before the broker disconnects
// it (broker.max-client-backlog): one more message always fits, so a large
// answer still reaches a client that reads.
size_t Broker::max_client_backlog() {
  return size_attr("broker.max-client-backlog", size_t{64} << 20, 1024, kMaxMessageSize);
}

// A local-uri given on the command line must name a socket path that can
// be bound: checked before anything else is set up, with flux-core's words.
void Broker::check_local_uri() {
  auto uri = attrs.get("local-uri");
  if (!uri) return;
  constexpr std::string_view kScheme = "local://";
  if (uri->rfind(kScheme, 0) != 0 || uri->size() == kScheme.size())
    throw FluxError(EINVAL, "local-uri is malformed");
  std::string path = uri->substr(kScheme.size());
  if (path.size() >= 1024) throw FluxError(EOVERFLOW, "buffer overflow while checking local-uri");
  constexpr size_t kSunPathMax = sizeof(sockaddr_un::sun_path) - 1;
  if (path.size() > kSunPathMax)
    throw FluxError(EINVAL, "local-uri length of " + std::to_string(path.size()) +
                                " bytes exceeds max " + std::to_string(kSunPathMax) +
                                " AF_UNIX socket path length");
  std::string dir = fs::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  struct stat sb {};
  if (::stat(dir.c_str(), &sb) < 0)
    throw FluxError(errno, "local-uri directory cannot stat " + dir + ": " + std::strerror(errno));
  if ((sb.st_mode & S_IRWXU) != S_IRWXU)
    throw FluxError(EPERM, "local-uri directory " + dir + " does not have owner=rwx permissions");
}

// broker.critical-ranks: ranks whose loss ends the instance (default 0);
// once the size is known, every one must be a rank of the instance.
void Broker::check_critical_ranks() {
  std::string value = attrs.get_or("broker.critical-ranks", "0");
  auto ids = Idset::decode(value);
  bool ok = ids && !ids.value().empty();
  if (ok)
    for (uint32_t id : ids.value())
      if (id >= router.size()) ok = false;
  if (!ok)
    throw FluxError(EINVAL,
                    "bootstrap.finalize: invalid value for broker.critical-ranks='" + value + "'");
  attrs.set_internal("broker.critical-ranks", value);
}

void Broker::setup_rundir() {
  std::string rundir = attrs.get_or("rundir", "");
  // The socket local-N goes inside: the path must fit AF_UNIX's.
  constexpr size_t kRundirMax = sizeof(sockaddr_un::sun_path) - 12;
  if (!attrs.get("local-uri") && rundir.size() > kRundirMax)
    throw FluxError(EINVAL, "rundir length of " + std::to_string(rundir.size()) +
                                " bytes exceeds max " + std::to_string(kRundirMax) +
                                " to allow for AF_UNIX socket creation.");
  if (rundir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/flux-XXXXXX";
    if (!mkdtemp(tmpl.data())) throw FluxError(errno, "cannot create run directory " + tmpl);
    rundir = tmpl;
    rundir_created = true;
    attrs.set_internal("rundir", rundir);
    // Guests reach the socket inside (by name: the directory stays unlisted).
    if (access.allow_guest_user) ::chmod(rundir.c_str(), 0711);
  } else {
    std::error_code ec;
    rundir_existed = fs::exists(rundir, ec);
    if (rundir_existed) {  // checked before boot: nothing else is set up yet
      struct stat sb {};
      if (::stat(rundir.c_str(), &sb) < 0 || !S_ISDIR(sb.st_mode))
        throw FluxError(ENOTDIR, "run directory " + rundir + " is not a directory");
      if (sb.st_uid != getuid())
        throw FluxError(EPERM, "run directory " + rundir + " is not owned by the instance owner");
    }
    if (fs::create_directories(rundir, ec)) {
      rundir_created = true;
      auto perms = fs::perms::owner_all;
      if (access.allow_guest_user) perms |= fs::perms::group_exec | fs::perms::others_exec;
      fs::permissions(rundir, perms, fs::perm_options::replace, ec);
    }
    if (ec)
      throw FluxError(ec.value(), "cannot create run directory " + rundir + ": " + ec.message());
  }
  if (auto cleanup = attrs.get("rundir-cleanup")) rundir_created = *cleanup != "0";
}

// A run directory we did not create may hold what a killed instance left
// (our socket is replaced when we bind): rank 0's scratch database, which
// only rank 0 uses (without a statedir: it must not bring back the old
// instance's KVS), and jobs' FLUX_JOB_TMPDIRs, which go unless another
// broker is alive in it (brokers of a test instance share one).
void Broker::clean_stale_rundir(const std::string& rundir) {
  std::string own_socket = "local-" + std::to_string(router.rank());
  std::error_code ec;
  if (router.rank() == 0 && !attrs.get("statedir"))
    for (const char* f : {"content.sqlite", "content.sqlite-wal", "content.sqlite-shm"})
      fs::remove(rundir + "/" + f, ec);
  for (const auto& e : fs::directory_iterator(rundir, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("local-", 0) == 0 && name != own_socket && socket_answers(e.path().string()))
      return;
  }
  for (const auto& e : fs::directory_iterator(rundir, ec)) {
    if (e.path().filename().string().rfind("jobtmp-", 0) == 0) {
      std::error_code rm;
      fs::remove_all(e.path(), rm);
    }
  }
}

void Broker::cleanup_rundir() {
  std::string rundir = attrs.get_or("rundir", "");
  if (rundir.empty()) return;
  std::error_code ec;
  fs::remove(rundir + "/local-" + attrs.get_or("rank", "0"), ec);
  if (rundir_created) fs::remove_all(rundir, ec);
}

std::map<std::string, std::string> Broker::child_env() const {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; e++) {
    std::string_view kv = *e;
    size_t eq = kv.find('=');
    if (eq != std::string_view::npos)
      env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  // What describes the enclosing job or launcher is the broker's, not its
  // children's: a script in a nested instance must not think it is that
  // job's task (flux-core's runat blocklist).
  for (const char* name :
       {"FLUX_JOB_ID", "FLUX_ENCLOSING_ID", "FLUX_JOB_SIZE", "FLUX_JOB_NNODES", "FLUX_JOB_TMPDIR",
        "FLUX_TASK_RANK", "FLUX_TASK_LOCAL_ID", "FLUX_KVS_NAMESPACE", "FLUX_PROXY_REMOTE",
        "FLUX_PMI_LIBRARY_PATH", "I_MPI_PMI_LIBRARY", "NOTIFY_SOCKET", "FLUX_FAKE_HOSTNAME"})
    env.erase(name);
  std::erase_if(env, [](const auto& kv) {
    for (std::string_view prefix : {"PMI_", "PMIX_", "SLURM_", "PALS_"})
      if (kv.first.starts_with(prefix)) return true;
    return false;
  });
  if (auto jobid = attrs.get("jobid")) env["FLUX_ENCLOSING_ID"] = *jobid;
  std::string uri = attrs.get_or("local-uri", "");
  env["FLUX_URI"] = uri;
  std::string path = env.count("PATH") ? env["PATH"] : "/usr/bin:/bin";
  if (path.rfind(bindir + ":", 0) != 0) path = bindir + ":" + path;
  env["PATH"] = path;
  return env;
}

void Broker::update_config(Json c) {
  if (router.rank() != 0)
    throw FluxError(EINVAL, "the configuration may only be changed on the leader broker");
  access_policy(c);                // what the broker reads of it must be right
  Policy::from_config(c).value();  // job-ingest and job-manager's tables
  config = std::move(c);
  Message ev = Message::event("config.update");
  ev.set_json(config);
  ev.set_userid(getuid());
  ev.set_rolemask(role::kOwner);
  router.publish(std::move(ev));
}

void Broker::serve_builtins() {
  Handle& h = *handle;
  handle_config_updates(h);
  h.add_module_services("broker", uuid, router.rank());
  logbuf_.serve(h);
  modules->serve(h);
  state->serve(h);
  RexecService::Options ropts;
  ropts.rank = router.rank();
  ropts.local_uri = attrs.get_or("local-uri", "");
  ropts.default_env = [this] { return child_env(); };
  ropts.log = [this](int severity, const std::string& text) {
    logbuf_.log(severity, "rexec", text);
  };
  rexec = std::make_unique<RexecService>(reactor, children, std::move(ropts));
  rexec->serve(h);

  // Event subscriptions and service registration belong to the sender:
  // the endpoint the request entered by.
  auto sender = [this](const Message& m) -> Endpoint& {
    const std::string* id = m.first_route();
    Endpoint* ep = id ? router.find(*id) : nullptr;
    if (!ep) throw FluxError(EPROTO, "request has no sender");
    return *ep;
  };
  // Access as flux-core's broker: attributes readable by all, changed by
  // the owner; subscriptions, services and events open to guests, within
  // the limits checked below.
  h.serve({
      {"attr.get", Access::kUser,
       [this](const Message& m) -> Json {
         Json req = m.json().value();
         auto it = req.find("name");
         if (it == req.end() || !it->is_string()) throw FluxError(EPROTO, "attr.get: missing name");
         std::string name = *it;
         auto v = attrs.get(name);
         if (!v) throw FluxError(ENOENT, "");
         return {{"value", *v}, {"flags", attrs.flags(name) & attrflag::kImmutable}};
       }},
      {"attr.list", Access::kUser,
       [this](const Message&) -> Json {
         return {{"names", attrs.names()}};
       }},
      {"attr.set", Access::kOwner,
       [this](const Message& m) -> Json {
         Json req = m.json().value();
         std::string name = req.at("name");
         if (req.at("value").is_null())
           attrs.remove(name);
         else
           attrs.set_runtime(name, req.at("value").get<std::string>(), req.value("force", false));
         return nullptr;
       }},
      {"attr.rm", Access::kOwner,
       [this](const Message& m) -> Json {
         attrs.remove(m.json().value().at("name"));
         return nullptr;
       }},
      {"config.get", Access::kUser, [this](const Message&) -> Json { return config; }},
      // A new configuration is taken on the leader and sent down to every
      // broker as a config.update event.
      {"config.load", Access::kOwner,
       [this](const Message& m) -> Json {
         Json c = m.json().value();
         if (!c.is_object()) throw FluxError(EPROTO, "config.load: the configuration is an object");
         update_config(std::move(c));
         return nullptr;
       }},
      {"config.reload", Access::kOwner,
       [this](const Message&) -> Json {
         if (router.rank() != 0)
           throw FluxError(EINVAL, "the configuration may only be changed on the leader broker");
         if (!opts.config_path.empty()) update_config(config_load(opts.config_path));
         return nullptr;
       }},
      {"event.pub", Access::kUser,
       [this](const Message& m) -> Json {
         Json req = m.json().value();
         int flags = req.value("flags", 0);
         if (flags & ~msgflag::kPrivate) throw FluxError(EPROTO, "event.pub: invalid flags");
         std::string topic = req.at("topic");
         // A guest's events are its own: USERID-*, as its service names.
         if (!(m.rolemask() & role::kOwner) &&
             topic.rfind(std::to_string(m.userid()) + "-", 0) != 0)
           throw FluxError(EPERM, "guests may only publish events named USERID-*");
         Message ev = Message::event(topic);
         if (flags & msgflag::kPrivate) ev.set_flag(msgflag::kPrivate);
         if (req.contains("payload"))
           ev.set_payload(base64_decode(req["payload"].get<std::string>()).value());
         ev.set_userid(m.userid());
         ev.set_rolemask(m.rolemask());
         return {{"seq", router.publish(std::move(ev))}};
       }},
      {"local.sub", Access::kUser,
       [sender](const Message& m) -> Json {
         Endpoint& ep = sender(m);
         ep.subscriptions.push_back(m.json().value().at("topic").get<std::string>());
         return nullptr;
       }},
      {"local.unsub", Access::kUser,
       [sender](const Message& m) -> Json {
         Endpoint& ep = sender(m);
         std::string topic = m.json().value().at("topic");
         auto it = std::find(ep.subscriptions.begin(), ep.subscriptions.end(), topic);
         if (it == ep.subscriptions.end()) throw FluxError(ENOENT, "");  // flux-core: plain ENOENT
         ep.subscriptions.erase(it);
         return nullptr;
       }},
      {"service.add", Access::kUser,
       [this, sender](const Message& m) -> Json {
         Endpoint& ep = sender(m);
         std::string name = m.json().value().at("service");
         if (!(m.rolemask() & role::kOwner) && name.rfind(std::to_string(m.userid()) + "-", 0) != 0)
           throw FluxError(EPERM, "guests may only register services named USERID-*");
         router.add_service(name, ep.uuid());
         return nullptr;
       }},
      {"service.remove", Access::kUser,
       [this, sender](const Message& m) -> Json {
         Endpoint& ep = sender(m);
         router.remove_service(m.json().value().at("service"), ep.uuid());
         return nullptr;
       }},
      {"broker.disconnect", Access::kUser, [](const Message&) {}},
      {"broker.getenv", Access::kOwner,
       [](const Message& m) -> Json {
         Json env = Json::object();
         Json req = m.json().value();
         for (const auto& n : req.value("names", Json::array()))
           if (const char* v = std::getenv(n.get<std::string>().c_str()))
             env[n.get<std::string>()] = v;
         return {{"env", env}};
       }},
  });
}

void Broker::handle_config_updates(Handle& h) {
  h.on_event("config.update", [this](const Message& m) {
    if (router.rank() == 0) return;  // the leader changed it already
    if (auto c = m.json(); c && c->is_object()) config = std::move(*c);
  });
}

// After a busy spell, once a period passes quietly, give the allocator's
// free pages back to the system: a burst of jobs (megabytes of messages in
// flight) must not leave the broker's RSS at its peak for good.
void Broker::arm_memory_trim() {
  trim_timer_ = reactor.after(kMemoryTrimPeriod, [this] {
    if (router.routed != trim_seen_) {
      trim_seen_ = router.routed;
      trim_pending_ = true;
    } else if (trim_pending_) {
      ::malloc_trim(0);
      trim_pending_ = false;
    }
    arm_memory_trim();
  });
}

int Broker::run() {
  auto self = std::make_shared<SelfEndpoint>(reactor, uuid);
  self->userid = getuid();
  self->rolemask = role::kOwner | role::kLocal;
  self->subscriptions.push_back("config.update");
  router.attach(self);
  for (const char* svc : {"broker", "attr", "log", "local", "service", "module", "state-machine",
                          "shutdown", "config", "rexec", "overlay", "runat"})
    router.add_service(svc, uuid);
  // Events are published through rank 0: elsewhere event.pub goes upstream.
  if (router.rank() == 0) router.add_service("event", uuid);
  handle =
      std::make_unique<Handle>(reactor, std::make_unique<SelfConnector>(reactor, router, self));
  modules = std::make_unique<ModuleHost>(reactor, router, attrs.get_or("conf.module_path", ""));
  state = std::make_unique<StateMachine>(*this);
  serve_builtins();

  std::string path = attrs.get_or("local-uri", "").substr(8);  // after local://
  listener = std::make_unique<LocalListener>(reactor, router, path, getuid(), access,
                                             max_message_size(), max_client_backlog());

  asio::signal_set signals(io_context(reactor), SIGINT, SIGTERM, SIGHUP);
  std::function<void(const asio::error_code&, int)> on_signal = [&](const asio::error_code& ec,
                                                                    int sig) {
    if (ec) return;
    state->signal(sig);
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  arm_memory_trim();

  serve_overlay();
  if (overlay && overlay->has_parent()) {
    logbuf_.forward = [this](const std::string& line) {
      if (!overlay->parent_joined()) return false;
      Message m = Message::request("log.append", router.rank());
      m.set_flag(msgflag::kUpstream | msgflag::kNoResponse);
      m.set_payload(line + '\0');
      handle->send(std::move(m));
      return true;
    };
  }
  if (overlay) {
    overlay->on_parent_hello = [this] { state->parent_welcomed(); };
    overlay->on_parent_lost = [this](std::string why) { state->parent_lost(why); };
    overlay->on_shutdown = [this] { state->shutdown("the instance is shutting down"); };
    overlay->on_child_state = [this](uint32_t rank, PeerState s) {
      if (s != PeerState::Online) state->child_left(rank, s == PeerState::Lost);
    };
  }
  reactor.keep_alive(true);
  if (overlay) overlay->start();
  // Started from inside the loop: with no rc scripts and an initial program
  // that cannot start, the whole life runs at once, and its final stop()
  // must find the loop running (one before run() would be forgotten).
  reactor.post([this] { state->start(); });
  reactor.run();
  asio::error_code ec;
  signals.cancel(ec);
  return state->exit_code();
}

}  // namespace flux::broker
