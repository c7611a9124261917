// sched-graph: a resource-graph scheduler with backfill, reservations and
// per-queue policies, speaking RFC 27 to the job-manager as sched-simple
// does. The planning is in scheduler.hpp; this is the message side. See
// README.md for the protocol.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "libflux/handle.hpp"
#include "modules/common/module_log.hpp"
#include "scheduler.hpp"

namespace flux::sched_graph {

class SchedService {
 public:
  SchedService(Handle& h, std::vector<std::string> args);
  // Read the config, acquire resources, load the advance reservations,
  // say hello and ready to the job-manager, serve.
  Task<void> start();

 private:
  Task<void> load_reservations();
  Task<void> save_reservations();
  void serve();
  void on_alloc(const Message& m);
  void on_free(const Message& m);
  void on_cancel(const Message& m);
  void on_prioritize(const Message& m);
  Json resource_status() const;
  Task<Json> reserve(const Message& m);
  Task<Json> unreserve(const Message& m);
  Json list_reservations() const;
  // A reservation as the requests answer it: with its nodelist.
  Json reservation_json(const Reservation& r) const;
  Json stats() const;
  // Coalesce: one pass after the messages already queued.
  void request_pass();
  void run_pass();
  // Wake for the next reservation boundary (nodes held or given back).
  void arm_timer();

  Handle& h_;
  std::vector<std::string> args_;
  modules::ModuleLog log_;
  std::unique_ptr<Scheduler> sched_;
  Idset up_;
  std::unordered_map<uint64_t, Message> waiting_;  // sched.alloc requests of pending jobs
  bool pass_posted_ = false;
  std::unique_ptr<Timer> timer_;
  uint64_t passes_ = 0;
  double pass_seconds_ = 0;
};

}  // namespace flux::sched_graph
