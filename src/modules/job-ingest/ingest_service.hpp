// IngestService: job-ingest.submit (protocol in README.md).
#pragma once
#include <optional>
#include <vector>

#include "libflux/handle.hpp"
#include "libflux/jobid.hpp"
#include "libflux/policy.hpp"
#include "modules/common/module_log.hpp"

namespace flux::ingest {

class IngestService {
 public:
  IngestService(Handle& h, modules::ModuleLog& log);
  // Start ids after the largest the job-manager knows (restart).
  Task<void> start();

 private:
  struct Pending {
    Message req;
    uint64_t id;
    Json job;  // the job-manager.submit entry
  };
  void submit(const Message& m);
  Json check(const Message& m, JobId& id);
  void schedule();
  Task<void> flush(std::vector<Pending> batch);

  Handle& h_;
  modules::ModuleLog& log_;
  std::optional<FluidGenerator> ids_;
  Policy policy_;  // [policy] and [queues], followed across config loads
  std::vector<Pending> batch_;
  bool scheduled_ = false;
  // Batches sent to the job-manager and not yet answered. More than one,
  // so the job-manager works on the next batch while the last commits.
  static constexpr int kMaxInFlight = 4;
  static constexpr size_t kMaxBatch = 256;
  int in_flight_ = 0;
  uint64_t submitted_ = 0;
  uint64_t rejected_ = 0;
  uint64_t batches_ = 0;
};

}  // namespace flux::ingest
