// flux start's test mode: N brokers on this host with flux start as their
// PMI server (see start_test.cpp).
#pragma once

#include <string>
#include <vector>

namespace flux::cmd {

struct TestOptions {
  int size = 1;
  std::string hosts;                  // --test-hosts: a hostlist, rank order
  double exit_timeout = 20;           // --test-exit-timeout (0: never kill)
  std::string exit_mode = "any";      // --test-exit-mode: any | leader
  std::string start_mode = "all";     // --test-start-mode: all | leader
  std::string rundir;                 // --test-rundir: shared by all brokers
  bool rundir_cleanup = false;        // --test-rundir-cleanup
  std::string pmi_clique = "single";  // --test-pmi-clique
  int verbose = 0;
};

// broker_argv: the broker and its options, without "--" and the command.
// Returns flux start's exit code.
int run_test_instance(const std::vector<std::string>& broker_argv,
                      const std::vector<std::string>& command, const TestOptions& o);

}  // namespace flux::cmd
