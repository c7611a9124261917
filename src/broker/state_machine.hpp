// The broker's life: join -> init (rc1) -> quorum -> run (initial program)
// -> cleanup -> shutdown -> finalize (rc3) -> goodbye -> exit.
//
// Services:
//   state-machine.get  {} -> {"state","duration"}
//   state-machine.wait {} -> {} once the broker reaches run (EINVAL if it
//                       never will)
//   shutdown.start {"loglevel"} -> streaming: ENODATA once rc3 is done
//                       (an immediate {} without the streaming flag)
#pragma once

#include <string>
#include <vector>

#include "libflux/handle.hpp"

namespace flux::broker {

class Broker;

enum class BrokerState {
  None,
  Join,
  Init,
  Quorum,
  Run,
  Cleanup,
  Shutdown,
  Finalize,
  Goodbye,
  Exit
};
const char* state_name(BrokerState s);

class StateMachine {
 public:
  explicit StateMachine(Broker& b) : b_(b) {}
  void start();
  void serve(Handle& h);
  // A shutdown request or a deadly signal.
  void shutdown(const std::string& why);
  void signal(int signum);
  BrokerState state() const { return state_; }
  int exit_code() const { return exit_code_; }

 private:
  void enter(BrokerState s);
  void run_rc(const std::string& attr, BrokerState next_ok, BrokerState next_fail);
  void start_initial_program();

  Broker& b_;
  BrokerState state_ = BrokerState::None;
  double entered_ = 0;
  int exit_code_ = 0;
  pid_t rc2_pid_ = -1;
  bool shutdown_requested_ = false;
  std::vector<Message> waiters_;           // state-machine.wait
  std::vector<Message> shutdown_waiters_;  // streaming shutdown.start
};

}  // namespace flux::broker
