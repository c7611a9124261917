// KvsExchange: the PMI exchange among a job's shells through the KVS, as
// flux-core's shell does. At barrier n every shell with tasks commits its
// tasks' puts since barrier n-1 inside one kvs.fence named
// "pmi.<jobid>.<n>" (jobid in decimal, n from 1) with nprocs = the number
// of such shells; once the fence answers, every shell's puts are in the
// primary namespace under
//     job.<kvs-id>.pmi.<encoded key>
// (key_encode: bytes other than [A-Za-z0-9_-] become %XX, so a PMI key is
// one KVS path component). A get for a key not known locally is a lookup
// there, at the root the last fence made (so it sees every put made
// before that barrier and nothing is stale on another broker).
#pragma once

#include <memory>
#include <string>

#include "libflux/handle.hpp"
#include "libflux/pmi_server.hpp"

namespace flux::shell {

class KvsExchange : public PmiExchange {
 public:
  // dir: the job's KVS directory ("job.0000.…"); jobid: for fence names;
  // nprocs: the shells taking part (those with tasks).
  KvsExchange(Handle& h, std::string dir, uint64_t jobid, int nprocs);
  ~KvsExchange() override;

  void exchange(PmiDict local, PmiExchangeDone done) override;
  void lookup(const std::string& key, PmiLookupDone done) override;

  static std::string key_encode(const std::string& key);
  // The KVS key of PMI key `key` in job directory `dir`.
  static std::string kvs_key(const std::string& dir, const std::string& key);

  struct State {
    bool alive = true;
    std::string rootref;  // of the last completed fence
  };

 private:
  Handle& h_;
  std::string dir_;
  uint64_t jobid_;
  int nprocs_;
  int seq_ = 0;
  std::shared_ptr<State> st_ = std::make_shared<State>();
};

}  // namespace flux::shell
