#include "module_host.hpp"

#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>

#include <thread>

#include "libflux/module.hpp"
#include "libflux/path_search.hpp"
#include "uuid.hpp"

namespace flux::broker {

namespace {
// A coroutine-awaitable one-shot signal for the broker's loop.
struct Signal {
  bool fired = false;
  std::vector<std::coroutine_handle<>> waiters;
  void fire() {
    fired = true;
    auto w = std::move(waiters);
    for (auto h : w) h.resume();
  }
  struct Awaiter {
    Signal& s;
    bool await_ready() const { return s.fired; }
    void await_suspend(std::coroutine_handle<> h) { s.waiters.push_back(h); }
    void await_resume() {}
  };
  Awaiter operator co_await() { return Awaiter{*this}; }
};
}  // namespace

enum class ModState { Init = 0, Running = 1, Finalizing = 2, Exited = 3 };

// The broker's side of a module: its thread, reactor and message channel.
class ModuleEndpoint : public Endpoint, public std::enable_shared_from_this<ModuleEndpoint> {
 public:
  ModuleEndpoint(Reactor& broker, Router& router, std::string name, std::string path,
                 std::vector<std::string> args)
      : Endpoint(make_uuid(), name, true),
        path(std::move(path)),
        args(std::move(args)),
        broker_(broker),
        router_(router) {}

  ~ModuleEndpoint() override {
    if (inline_) {
      stop();
      return;  // no dlclose: the broker's loop may still hold its code
    }
    if (thread_.joinable()) {
      reactor_->stop();
      thread_.join();
    }
    reactor_.reset();  // its queued work may hold the module's code
    if (dso_) dlclose(dso_);
  }

  void deliver(Message&& m) override {
    if (state == ModState::Exited) {
      if (m.type() == MsgType::Request)
        router_.respond_error(m, ENOSYS, "module " + name() + " has exited");
      return;
    }
    loop().post([this, m = std::move(m)]() mutable {
      if (on_message_) on_message_(std::move(m));
    });
  }

  // Load the shared object and start it: on the broker's thread if it
  // exports mod_start, else in a thread of its own. Throws FluxError.
  void start(uint32_t rank) {
    dso_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!dso_) throw FluxError(ENOENT, std::string("dlopen: ") + dlerror());
    if (auto start_fn = reinterpret_cast<ModStartFn>(dlsym(dso_, "mod_start"))) {
      start_inline(start_fn, rank);
      return;
    }
    auto fn = reinterpret_cast<ModMainFn>(dlsym(dso_, "mod_main"));
    if (!fn) throw FluxError(EINVAL, path + ": module does not export mod_main");
    reactor_ = std::make_unique<Reactor>();
    std::weak_ptr<ModuleEndpoint> weak = shared_from_this();
    thread_ = std::thread([this, weak, fn, rank] { run(weak, fn, rank); });
  }

  void set_running() {
    if (state != ModState::Init) return;
    state = ModState::Running;
    running.fire();
  }

  void set_failed(int errnum) {
    if (state == ModState::Exited) return;
    exit_code = errnum;  // before stop(): it wakes whoever waits for the load
    if (inline_) {
      stop();
      return;
    }
    state = ModState::Finalizing;
    reactor_->stop();
  }

  void stop() {
    if (state == ModState::Exited) return;
    if (inline_) {
      if (stop_fn_ && handle_) stop_fn_(handle_.get(), inline_state_);
      on_message_ = nullptr;
      handle_.reset();
      state = ModState::Exited;
      running.fire();
      exited.fire();
      return;
    }
    state = ModState::Finalizing;
    reactor_->stop();
  }

  std::string path;
  std::vector<std::string> args;
  ModState state = ModState::Init;
  int exit_code = 0;
  double last_rx = monotime();
  Signal running, exited;

 private:
  class Channel : public Connector {
   public:
    explicit Channel(ModuleEndpoint& ep) : ep_(ep), weak_(ep.shared_from_this()) {}
    void start(OnMessage on_message, OnLost) override { ep_.on_message_ = std::move(on_message); }
    void send(Message&& m) override {
      ep_.broker_.post([weak = weak_, m = std::move(m)]() mutable {
        auto ep = weak.lock();
        if (!ep) return;
        ep->last_rx = monotime();
        ep->router_.ingress(*ep, std::move(m));
      });
    }

   private:
    ModuleEndpoint& ep_;
    std::weak_ptr<ModuleEndpoint> weak_;
  };

  Reactor& loop() { return inline_ ? broker_ : *reactor_; }

  void start_inline(ModStartFn start_fn, uint32_t rank) {
    inline_ = true;
    stop_fn_ = reinterpret_cast<ModStopFn>(dlsym(dso_, "mod_stop"));
    handle_ = std::make_unique<Handle>(broker_, std::make_unique<Channel>(*this));
    handle_->add_module_services(name(), uuid(), rank);
    std::vector<char*> argv;
    std::string name0 = name();
    argv.push_back(name0.data());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc =
        start_fn(handle_.get(), static_cast<int>(argv.size() - 1), argv.data(), &inline_state_);
    if (rc != 0) {
      stop_fn_ = nullptr;  // nothing to tear down
      exit_code = rc;
      stop();
      return;
    }
    if (!handle_->ready_deferred()) module_ready(*handle_);
  }

  void run(std::weak_ptr<ModuleEndpoint> weak, ModMainFn fn, uint32_t rank) {
    // The module's name on its thread (top -H, perf, gdb); 15 bytes at most.
    pthread_setname_np(pthread_self(), name().substr(0, 15).c_str());
    int rc;
    {
      Handle h(*reactor_, std::make_unique<Channel>(*this));
      h.add_module_services(name(), uuid(), rank);
      reactor_->keep_alive(true);
      // Runs once mod_main enters its reactor: the module is up, unless it
      // said it will announce that itself (module_defer_ready).
      reactor_->post([&h] {
        if (!h.ready_deferred()) module_ready(h);
      });
      std::vector<char*> argv;
      std::string name0 = name();
      argv.push_back(name0.data());
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      rc = fn(&h, static_cast<int>(argv.size() - 1), argv.data());
      on_message_ = nullptr;
    }
    broker_.post([weak, rc] {
      if (auto ep = weak.lock()) {
        ep->exit_code = rc;
        ep->state = ModState::Exited;
        ep->running.fire();
        ep->exited.fire();
      }
    });
  }

  Reactor& broker_;
  Router& router_;
  std::unique_ptr<Reactor> reactor_;
  std::thread thread_;
  void* dso_ = nullptr;
  // Modules on the broker's thread:
  bool inline_ = false;
  std::unique_ptr<Handle> handle_;
  void* inline_state_ = nullptr;
  ModStopFn stop_fn_ = nullptr;
  Connector::OnMessage on_message_;  // used on the module's thread only
};

ModuleHost::ModuleHost(Reactor& r, Router& router, std::string search_path)
    : reactor_(r), router_(router), search_path_(std::move(search_path)) {}

ModuleHost::~ModuleHost() {
  for (auto it = modules_.rbegin(); it != modules_.rend(); ++it) router_.detach((*it)->uuid());
  while (!modules_.empty()) modules_.pop_back();
}

std::string ModuleHost::resolve(const std::string& target) const {
  if (target.find('/') != std::string::npos) {
    char* real = realpath(target.c_str(), nullptr);
    if (!real) throw FluxError(ENOENT, target + ": No such file or directory");
    std::string p = real;
    free(real);
    return p;
  }
  std::string file = target.size() > 3 && target.ends_with(".so") ? target : target + ".so";
  if (auto found = search_path(search_path_, file, R_OK)) return *found;
  throw FluxError(ENOENT, target + ": module not found in search path");
}

Task<Json> ModuleHost::load(const Message& req) {
  Json in = req.json().value();
  std::string path = resolve(in.at("path").get<std::string>());
  std::vector<std::string> args;
  if (in.contains("args")) args = in["args"].get<std::vector<std::string>>();
  std::string base = path.substr(path.rfind('/') + 1);
  std::string name = in.value("name", base.substr(0, base.find('.')));
  for (const auto& m : modules_)
    if (m->name() == name) throw FluxError(EEXIST, "module " + name + " is already loaded");
  auto ep = std::make_shared<ModuleEndpoint>(reactor_, router_, name, path, args);
  ep->userid = getuid();
  ep->rolemask = role::kOwner | role::kLocal;
  router_.add_service(name, ep->uuid());  // throws EEXIST if the name is taken
  router_.attach(ep);
  modules_.push_back(ep);
  try {
    ep->start(router_.rank());
  } catch (...) {
    exited(name);
    throw;
  }
  co_await ep->running;
  if (ep->state == ModState::Exited) {
    int rc = ep->exit_code;
    exited(name);
    throw FluxError(rc > 0 && rc < 256 ? rc : EINVAL,
                    "module " + name + " failed to start (exit code " + std::to_string(rc) + ")");
  }
  co_return Json::object();
}

void ModuleHost::exited(const std::string& name) {
  for (auto it = modules_.begin(); it != modules_.end(); ++it) {
    if ((*it)->name() == name) {
      auto ep = *it;
      modules_.erase(it);
      router_.detach(ep->uuid());
      // Join and unload after the current handler: we may be inside it.
      reactor_.post([ep] {});
      return;
    }
  }
}

Task<Json> ModuleHost::remove(const Message& req) {
  Json in = req.json().value();
  std::string name = in.at("name").get<std::string>();
  std::shared_ptr<ModuleEndpoint> ep;
  for (const auto& m : modules_)
    if (m->name() == name) ep = m;
  if (!ep) throw FluxError(ENOENT, "module " + name + " is not loaded");
  ep->stop();
  co_await ep->exited;
  exited(name);
  co_return Json::object();
}

Json ModuleHost::list() const {
  Json mods = Json::array();
  double now = monotime();
  for (const auto& m : modules_) {
    mods.push_back({{"name", m->name()},
                    {"path", m->path},
                    {"idle", static_cast<int>(now - m->last_rx)},
                    {"status", static_cast<int>(m->state)},
                    {"services", router_.services_of(m->uuid())},
                    {"sendqueue", 0},
                    {"recvqueue", 0}});
  }
  return {{"mods", mods}};
}

void ModuleHost::serve(Handle& h) {
  // Owner only but module.list, as flux-core's module service.
  h.serve({
      {"module.load", Access::kOwner, this, &ModuleHost::load},
      {"module.remove", Access::kOwner, this, &ModuleHost::remove},
      {"module.list", Access::kUser, [this](const Message&) { return list(); }},
      {"module.status", Access::kOwner,
       [this](const Message& m) {
         // From a module about itself; no response.
         const std::string* sender = m.first_route();
         Json req = m.json().value();
         int status = req.value("status", -1);
         for (auto& mod : modules_) {
           if (!sender || mod->uuid() != *sender) continue;
           if (status == static_cast<int>(ModState::Running)) mod->set_running();
           if (status == static_cast<int>(ModState::Exited))
             mod->set_failed(req.value("errnum", EINVAL));
         }
       }},
  });
}

void ModuleHost::remove_all(std::function<void()> done) {
  struct Remover {
    static Task<void> run(ModuleHost* host, std::function<void()> done) {
      while (!host->modules_.empty()) {
        auto ep = host->modules_.back();
        ep->stop();
        co_await ep->exited;
        host->exited(ep->name());
      }
      done();
    }
  };
  spawn(Remover::run(this, std::move(done)));
}

}  // namespace flux::broker
