#include "state_machine.hpp"

#include <signal.h>
#include <unistd.h>

#include "broker.hpp"
#include "libflux/log_line.hpp"

namespace flux::broker {

const char* state_name(BrokerState s) {
  static const char* names[] = {"none",    "join",     "init",     "quorum",  "run",
                                "cleanup", "shutdown", "finalize", "goodbye", "exit"};
  return names[static_cast<int>(s)];
}

void StateMachine::start() {
  enter(BrokerState::Join);
}

void StateMachine::enter(BrokerState s) {
  state_ = s;
  entered_ = monotime();
  if (b_.opts.verbose) b_.log(kLogDebug, std::string("state: ") + state_name(s));
  switch (s) {
    case BrokerState::None:
      break;
    case BrokerState::Join:
      enter(BrokerState::Init);  // rank 0 has no parent to wait for
      break;
    case BrokerState::Init:
      run_rc("broker.rc1_path", BrokerState::Quorum, BrokerState::Shutdown);
      break;
    case BrokerState::Quorum:
      enter(BrokerState::Run);  // a single broker is its own quorum
      break;
    case BrokerState::Run:
      for (auto& w : waiters_) b_.handle->respond(w, nullptr);
      waiters_.clear();
      if (shutdown_requested_) {
        enter(BrokerState::Cleanup);
      } else if (b_.attrs.get("broker.rc2_none")) {
        // No initial program: run until asked to shut down.
      } else {
        start_initial_program();
      }
      break;
    case BrokerState::Cleanup:
      enter(BrokerState::Shutdown);
      break;
    case BrokerState::Shutdown:
      enter(BrokerState::Finalize);  // no children to wait for
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
      b_.reactor.stop();
      break;
  }
}

void StateMachine::run_rc(const std::string& attr, BrokerState next_ok, BrokerState next_fail) {
  auto path = b_.attrs.get(attr);
  if (!path || path->empty()) {
    enter(next_ok);
    return;
  }
  std::string name = attr == "broker.rc1_path" ? "rc1" : "rc3";
  try {
    b_.children.spawn({*path}, b_.child_env(), [this, name, next_ok, next_fail](int status) {
      int rc = exit_code_of(status);
      if (rc != 0) {
        b_.log(kLogErr, name + " exited with code " + std::to_string(rc));
        if (exit_code_ == 0) exit_code_ = rc;
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
  std::vector<std::string> argv = b_.opts.initial_program;
  if (argv.empty()) {
    const char* shell = std::getenv("SHELL");
    argv.push_back(shell && *shell ? shell : "/bin/sh");
  }
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
    exit_code_ = 127;
    enter(BrokerState::Cleanup);
  }
}

void StateMachine::shutdown(const std::string& why) {
  if (shutdown_requested_) return;
  shutdown_requested_ = true;
  b_.log(kLogInfo, "shutdown: " + why);
  if (state_ != BrokerState::Run) return;  // init finishes first, then goes to cleanup
  if (rc2_pid_ > 0)
    ::kill(rc2_pid_, SIGHUP);  // its exit moves us on
  else
    enter(BrokerState::Cleanup);
}

void StateMachine::signal(int signum) {
  if (rc2_pid_ > 0) {
    ::kill(rc2_pid_, signum);  // the initial program decides; its exit moves us on
    return;
  }
  shutdown(std::string("signal ") + strsignal(signum));
}

void StateMachine::serve(Handle& h) {
  h.add_handler(MsgType::Request, "state-machine.get", [this, &h](const Message& m) {
    h.respond(m, {{"state", state_name(state_)}, {"duration", monotime() - entered_}});
  });
  h.add_handler(MsgType::Request, "state-machine.wait", [this, &h](const Message& m) {
    if (state_ == BrokerState::Run)
      h.respond(m, nullptr);
    else if (state_ > BrokerState::Run)
      h.respond_error(m, EINVAL, "the broker is past the run state");
    else
      waiters_.push_back(m);
  });
  h.add_handler(MsgType::Request, "shutdown.start", [this, &h](const Message& m) {
    if (shutdown_requested_) return h.respond_error(m, EINVAL, "shutdown is already in progress");
    if (m.has_flag(msgflag::kStreaming))
      shutdown_waiters_.push_back(m);
    else
      h.respond(m, nullptr);
    shutdown("requested by user " + std::to_string(m.userid()));
  });
  auto drop = [this](const Message& m) {
    const std::string* sender = m.first_route();
    if (!sender) return;
    auto same = [&](const Message& w) { return w.first_route() && *w.first_route() == *sender; };
    std::erase_if(waiters_, same);
    std::erase_if(shutdown_waiters_, same);
  };
  h.add_handler(MsgType::Request, "state-machine.disconnect", drop);
  h.add_handler(MsgType::Request, "shutdown.disconnect", drop);
}

}  // namespace flux::broker
