// The broker's life: join -> init (rc1) -> quorum -> run (initial program)
// -> cleanup -> shutdown -> finalize (rc3) -> goodbye -> exit.
//
// Across ranks: a broker leaves join when its TBON parent welcomes it; after
// rc1 it tells rank 0 it is online; rank 0 leaves quorum (and starts the
// initial program) once broker.quorum ranks are online. In shutdown a broker
// tells its children to shut down and waits for them to leave (leaves first),
// then runs rc3 and says goodbye to its parent. A broker whose parent is lost
// shuts down with an error.
//
// Services:
//   state-machine.get  {} -> {"state","duration"}
//   state-machine.wait {} -> {} once the broker reaches run (EINVAL if it
//                       never will)
//   shutdown.start {"loglevel"} -> streaming: ENODATA once rc3 is done
//                       (an immediate {} without the streaming flag)
//   state-machine.online  {"rank"} (rank 0, no response): rank is online
//   state-machine.offline {"ranks": idset} (rank 0, no response): ranks left
// Rank 0 publishes `broker.online` {"online": idset} when the set changes.
#pragma once

#include <string>
#include <vector>

#include "libflux/handle.hpp"
#include "libflux/idset.hpp"

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
  // Overlay news.
  void parent_welcomed();
  void parent_lost(const std::string& why);
  void child_left(uint32_t rank, bool lost);
  BrokerState state() const { return state_; }
  int exit_code() const { return exit_code_; }

 private:
  void enter(BrokerState s);
  void run_rc(const std::string& attr, BrokerState next_ok, BrokerState next_fail);
  void start_initial_program();
  void online(const Idset& ranks, bool up);
  void check_quorum();
  void publish_online();
  void check_children_gone();

  Broker& b_;
  BrokerState state_ = BrokerState::None;
  double entered_ = 0;
  int exit_code_ = 0;
  pid_t rc2_pid_ = -1;
  bool rc2_signalled_ = false;  // a signal was passed on to the initial program
  pid_t rc_pid_ = -1;           // rc1, cleanup or rc3 while it runs
  bool shutdown_requested_ = false;
  Idset online_;  // rank 0: ranks that finished rc1
  uint32_t quorum_ = 1;
  std::unique_ptr<Timer> shutdown_timer_, warn_timer_;
  std::vector<Message> waiters_;                          // state-machine.wait
  std::vector<Message> shutdown_waiters_;                 // streaming shutdown.start
  std::vector<std::vector<std::string>> pushed_cleanup_;  // runat.push, in push order
};

}  // namespace flux::broker
