#include "state_machine.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker.hpp"
#include "libflux/fsd.hpp"
#include "libflux/log_line.hpp"

namespace flux::broker {

const char* state_name(BrokerState s) {
  static const char* names[] = {"none",    "join",     "init",     "quorum",  "run",
                                "cleanup", "shutdown", "finalize", "goodbye", "exit"};
  return names[static_cast<int>(s)];
}

void StateMachine::start() {
  uint32_t size = b_.router.size();
  quorum_ = size;
  if (auto q = b_.attrs.get("broker.quorum")) {
    try {
      quorum_ = static_cast<uint32_t>(std::stoul(*q));
    } catch (const std::exception&) {
      // An idset (flux-core's older form): its count.
      auto ids = Idset::decode(*q);
      quorum_ = ids ? static_cast<uint32_t>(ids->count()) : size;
    }
    if (quorum_ < 1 || quorum_ > size) quorum_ = size;
  }
  enter(BrokerState::Join);
}

void StateMachine::parent_welcomed() {
  if (state_ == BrokerState::Join) enter(BrokerState::Init);
}

void StateMachine::parent_lost(const std::string& why) {
  b_.log(kLogCrit, "parent is lost: " + why);
  if (exit_code_ == 0) exit_code_ = 1;
  if (state_ == BrokerState::Join) {
    enter(BrokerState::Goodbye);
    return;
  }
  shutdown("the TBON parent is lost");
}

void StateMachine::child_left(uint32_t rank, bool lost) {
  // Rank 0 keeps the online set; others tell it.
  if (b_.overlay) {
    Idset gone;
    for (uint32_t r : b_.overlay->topology().subtree_ranks(rank)) gone.insert(r);
    if (b_.router.rank() == 0) {
      online(gone, false);
    } else {
      Message m = Message::request("state-machine.offline", 0);
      m.set_flag(msgflag::kNoResponse);
      m.set_json({{"ranks", gone.encode()}});
      b_.handle->send(std::move(m));
    }
  }
  (void)lost;
  check_children_gone();
}

void StateMachine::online(const Idset& ranks, bool up) {
  Idset before = online_;
  if (up)
    online_ |= ranks;
  else
    online_ -= ranks;
  if (online_ == before) return;
  b_.attrs.set_internal("broker.online", online_.encode());
  // In the run state only (the first one is the quorum): before it, every
  // rank is presumed to be on its way; after it, the ranks are leaving.
  if (state_ == BrokerState::Run) publish_online();
  check_quorum();
}

// Straight to the router: an event.pub from the broker's own handle would
// not be delivered back to the broker's own event service (RFC 3).
void StateMachine::publish_online() {
  Message ev = Message::event("broker.online");
  ev.set_json({{"online", online_.encode()}});
  ev.set_userid(getuid());
  ev.set_rolemask(role::kOwner);
  b_.router.publish(std::move(ev));
}

void StateMachine::check_quorum() {
  if (state_ == BrokerState::Quorum && online_.count() >= quorum_) {
    warn_timer_.reset();
    enter(BrokerState::Run);
  }
}

void StateMachine::check_children_gone() {
  if (state_ != BrokerState::Shutdown) return;
  if (b_.overlay && b_.overlay->children_online() > 0) return;
  shutdown_timer_.reset();
  warn_timer_.reset();
  enter(BrokerState::Finalize);
}

void StateMachine::enter(BrokerState s) {
  state_ = s;
  entered_ = monotime();
  if (b_.opts.verbose) b_.log(kLogDebug, std::string("state: ") + state_name(s));
  switch (s) {
    case BrokerState::None:
      break;
    case BrokerState::Join:
      // rank 0 has no parent to wait for; others wait for its welcome
      if (!b_.overlay || !b_.overlay->has_parent()) enter(BrokerState::Init);
      break;
    case BrokerState::Init:
      run_rc("broker.rc1_path", BrokerState::Quorum, BrokerState::Shutdown);
      break;
    case BrokerState::Quorum:
      if (b_.router.rank() == 0) {
        online(Idset{0}, true);
        if (state_ == BrokerState::Quorum) {
          double warn = 60;
          warn_timer_ = b_.reactor.after(warn, [this] {
            b_.log(kLogErr, "quorum delayed: " + std::to_string(online_.count()) + " of " +
                                std::to_string(quorum_) + " brokers online (" + online_.encode() +
                                ")");
          });
        }
      } else {
        Message m = Message::request("state-machine.online", 0);
        m.set_flag(msgflag::kNoResponse);
        m.set_json({{"rank", b_.router.rank()}});
        b_.handle->send(std::move(m));
        enter(BrokerState::Run);
      }
      break;
    case BrokerState::Run:
      if (b_.router.rank() == 0 && b_.router.size() > 1) publish_online();
      for (auto& w : waiters_) b_.handle->respond(w, nullptr);
      waiters_.clear();
      if (shutdown_requested_) {
        enter(BrokerState::Cleanup);
      } else if (b_.router.rank() != 0 || b_.attrs.get("broker.rc2_none")) {
        // No initial program: run until asked to shut down.
      } else {
        start_initial_program();
      }
      break;
    case BrokerState::Cleanup:
      // Rank 0 ends the running jobs while every broker is still there.
      if (b_.router.rank() == 0)
        run_rc("broker.cleanup_path", BrokerState::Shutdown, BrokerState::Shutdown);
      else
        enter(BrokerState::Shutdown);
      break;
    case BrokerState::Shutdown:
      // Leaves first: children shut down and leave before rc3 runs here.
      if (b_.overlay && b_.overlay->children_online() > 0) {
        b_.overlay->send_shutdown_to_children();
        warn_timer_ = b_.reactor.after(60, [this] {
          b_.log(kLogErr, "shutdown: still waiting for " +
                              std::to_string(b_.overlay->children_online()) + " children");
        });
        if (auto t = b_.attrs.get("broker.shutdown-timeout")) {
          auto secs = fsd_parse(*t);
          if (secs && *secs > 0)
            shutdown_timer_ = b_.reactor.after(*secs, [this] {
              b_.log(kLogErr, "shutdown: timed out waiting for children");
              enter(BrokerState::Finalize);
            });
        }
      } else {
        enter(BrokerState::Finalize);
      }
      break;
    case BrokerState::Finalize:
      run_rc("broker.rc3_path", BrokerState::Goodbye, BrokerState::Goodbye);
      break;
    case BrokerState::Goodbye:
      for (auto& w : waiters_) b_.handle->respond_error(w, EINVAL, "the broker is shutting down");
      waiters_.clear();
      for (auto& w : shutdown_waiters_) b_.handle->respond_error(w, ENODATA);
      shutdown_waiters_.clear();
      b_.modules->remove_all([this] { enter(BrokerState::Exit); });
      break;
    case BrokerState::Exit:
      // After the modules are gone (a cache may flush upstream on its way out).
      if (b_.overlay) b_.overlay->send_goodbye();
      b_.reactor.stop();
      break;
  }
}

namespace {

std::string user_shell() {
  const char* env_shell = std::getenv("SHELL");
  return env_shell && *env_shell ? env_shell : "/bin/bash";
}

// flux-broker(1): no command is an interactive shell; one argument is a
// shell command line ($SHELL -c ARG) unless it names an executable file
// outright; several are a command and its arguments, run as they are.
std::vector<std::string> initial_program_argv(const std::vector<std::string>& args) {
  std::string shell = user_shell();
  if (args.empty()) return {shell};
  if (args.size() > 1) return args;
  const std::string& a = args[0];
  struct stat st {};
  bool plain_file = a.find_first_of(" \t\n\r\f\v") == std::string::npos &&
                    ::stat(a.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
                    ::access(a.c_str(), R_OK | X_OK) == 0;
  if (plain_file) return args;
  return {shell, "-c", a};
}

}  // namespace

void StateMachine::run_rc(const std::string& attr, BrokerState next_ok, BrokerState next_fail) {
  auto path = b_.attrs.get(attr);
  std::string name = attr == "broker.rc1_path"   ? "rc1"
                     : attr == "broker.rc3_path" ? "rc3"
                                                 : "cleanup";
  // Commands pushed with runat.push run first, last pushed first, as
  // flux-core's runat does (each command goes to the front: a push of
  // [idle, cancel, mute, stop] runs stop, mute, cancel, idle).
  std::string cmdline;
  if (name == "cleanup")
    for (auto it = pushed_cleanup_.rbegin(); it != pushed_cleanup_.rend(); ++it)
      for (auto c = it->rbegin(); c != it->rend(); ++c)
        cmdline += (cmdline.empty() ? "" : "; ") + *c;
  if (path && !path->empty()) cmdline += (cmdline.empty() ? "" : "; ") + *path;
  if (cmdline.empty()) {
    enter(next_ok);
    return;
  }
  // The rc scripts differ by rank; saying it here saves each a flux getattr.
  auto env = b_.child_env();
  env["FLUX_BROKER_RANK"] = std::to_string(b_.router.rank());
  try {
    // Through $SHELL -c, as flux-core runs them (a path may carry arguments).
    rc_pid_ = b_.children.spawn(
        {user_shell(), "-c", cmdline}, env, [this, name, next_ok, next_fail](int status) {
          rc_pid_ = -1;
          int rc = exit_code_of(status);
          if (rc != 0) {
            b_.log(kLogErr, name + " exited with code " + std::to_string(rc));
            if (exit_code_ == 0 && name != "cleanup") exit_code_ = rc;
            enter(next_fail);
          } else {
            enter(next_ok);
          }
        });
  } catch (const FluxError& e) {
    b_.log(kLogErr, name + ": " + e.what());
    if (exit_code_ == 0) exit_code_ = 1;
    enter(next_fail);
  }
}

void StateMachine::start_initial_program() {
  std::vector<std::string> argv = initial_program_argv(b_.opts.initial_program);
  try {
    rc2_pid_ = b_.children.spawn(argv, b_.child_env(), [this](int status) {
      rc2_pid_ = -1;
      int rc = exit_code_of(status);
      bool killed_by_us = shutdown_requested_ && WIFSIGNALED(status);
      exit_code_ = killed_by_us ? 0 : rc;
      if (rc != 0 && !killed_by_us)
        b_.log(kLogInfo, "initial program exited with code " + std::to_string(rc));
      enter(BrokerState::Cleanup);
    });
  } catch (const FluxError& e) {
    b_.log(kLogErr, std::string("initial program: ") + e.what());
    std::fprintf(stderr, "flux-broker: %s\n", e.what());
    // As a shell says it: found but not runnable is 126.
    exit_code_ = e.errnum() == EACCES || e.errnum() == ENOEXEC ? 126 : 127;
    enter(BrokerState::Cleanup);
  }
}

void StateMachine::shutdown(const std::string& why) {
  if (shutdown_requested_) return;
  shutdown_requested_ = true;
  b_.log(kLogInfo, "shutdown: " + why);
  if (state_ == BrokerState::Join) {
    enter(BrokerState::Goodbye);  // never joined: nothing to undo
    return;
  }
  if (state_ == BrokerState::Quorum && b_.router.rank() == 0) {
    warn_timer_.reset();
    enter(BrokerState::Cleanup);
    return;
  }
  if (state_ != BrokerState::Run) return;  // init finishes first, then goes to cleanup
  if (rc2_pid_ > 0)
    ::kill(rc2_pid_, SIGHUP);  // its exit moves us on
  else
    enter(BrokerState::Cleanup);
}

void StateMachine::signal(int signum) {
  // Only rank 0 answers an interrupt: a terminal's Ctrl-C reaches every
  // broker of a test instance, and the initial program decides.
  if (signum == SIGINT && b_.router.rank() != 0) return;
  if (rc2_pid_ > 0) {
    // The initial program decides; its exit moves us on. One that ignores
    // the signal gets SIGKILL at the next, so a signal always ends us.
    ::kill(rc2_pid_, rc2_signalled_ ? SIGKILL : signum);
    rc2_signalled_ = true;
    return;
  }
  shutdown(std::string("signal ") + strsignal(signum));
  // A script the broker is waiting for (rc1, cleanup, rc3) ends too: a
  // stuck one must not keep the instance from going.
  if (rc_pid_ > 0) ::kill(rc_pid_, SIGTERM);
}

void StateMachine::serve(Handle& h) {
  auto drop = [this](const Message& m) {
    const std::string* sender = m.first_route();
    if (!sender) return;
    auto same = [&](const Message& w) { return w.first_route() && *w.first_route() == *sender; };
    std::erase_if(waiters_, same);
    std::erase_if(shutdown_waiters_, same);
  };
  // online/offline come from the brokers (sent without a response wanted);
  // only rank 0 keeps the instance's online set.
  auto rank0 = [this] {
    if (b_.router.rank() != 0) throw FluxError(EPROTO, "only rank 0 tracks online brokers");
  };
  h.serve({
      {"state-machine.get", Access::kUser,
       [this](const Message&) -> Json {
         return {{"state", state_name(state_)}, {"duration", monotime() - entered_}};
       }},
      {"state-machine.wait", Access::kUser,
       [this, &h](const Message& m) {
         if (state_ == BrokerState::Run)
           h.respond(m, nullptr);
         else if (state_ > BrokerState::Run)
           throw FluxError(EINVAL, "the broker is past the run state");
         else
           waiters_.push_back(m);
       }},
      {"state-machine.disconnect", Access::kUser, drop},
      // runat.push {"name":"cleanup","commands":[...]}: more for the
      // cleanup phase (flux-core's runat; only cleanup is kept here).
      {"runat.push", Access::kOwner,
       [this](const Message& m) -> Json {
         Json req = m.json().value();
         std::string name = req.at("name").get<std::string>();
         if (name != "cleanup")
           throw FluxError(EINVAL, "runat.push: only cleanup commands may be added");
         if (state_ >= BrokerState::Cleanup)
           throw FluxError(EINVAL, "runat.push: the cleanup phase has begun");
         auto cmds = req.at("commands").get<std::vector<std::string>>();
         if (cmds.empty() || cmds.size() > 64)
           throw FluxError(EINVAL, "runat.push: 1 to 64 commands");
         if (pushed_cleanup_.size() >= 64) throw FluxError(ENOSPC, "runat.push: too many pushes");
         pushed_cleanup_.push_back(std::move(cmds));
         return nullptr;
       }},
      {"state-machine.online", Access::kOwner,
       [this, rank0](const Message& m) {
         rank0();
         uint32_t rank = m.json().value().at("rank").get<uint32_t>();
         if (rank >= b_.router.size()) throw FluxError(EINVAL, "no such rank");
         online(Idset{rank}, true);
       }},
      {"state-machine.offline", Access::kOwner,
       [this, rank0](const Message& m) {
         rank0();
         auto ids = Idset::decode(m.json().value().at("ranks").get<std::string>());
         if (!ids) throw FluxError(ids.error());
         online(*ids, false);
       }},
      {"shutdown.start", Access::kOwner,
       [this, &h](const Message& m) {
         if (shutdown_requested_) throw FluxError(EINVAL, "shutdown is already in progress");
         if (m.has_flag(msgflag::kStreaming))
           shutdown_waiters_.push_back(m);
         else
           h.respond(m, nullptr);
         shutdown("requested by user " + std::to_string(m.userid()));
       }},
      {"shutdown.disconnect", Access::kOwner, drop},
  });
}

}  // namespace flux::broker
