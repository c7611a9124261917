// PMI-1 clients, for a broker joining an instance launched by another
// process manager (Slurm, Hydra, `flux start --test-size`, a Flux job).
// Each client is initialized by its constructor; every call blocks (the
// broker bootstraps before its event loop runs). Failures throw FluxError
// naming the PMI operation.
//
// pmi_open(method) takes flux-core's broker.boot-method vocabulary:
//   "simple"           RFC 13 wire protocol on the fd in PMI_FD, with
//                      PMI_RANK and PMI_SIZE from the environment
//   "libpmi[:PATH]"    dlopen a PMI-1 library: PATH, else
//                      FLUX_PMI_LIBRARY_PATH, else "libpmi.so"
//   "single"           a singleton: rank 0 of 1, a local dictionary
//   ""                 simple if PMI_FD is set, else libpmi if it loads
//                      and initializes, else single
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace flux {

class PmiClient {
 public:
  virtual ~PmiClient() = default;
  // The method that answered: "simple", "libpmi" or "single".
  virtual std::string method() const = 0;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string kvsname() const = 0;
  // Visible to the others after the next barrier(). Keys and values are
  // RFC 13 words: printable ASCII without spaces ('=' allowed in values).
  virtual void put(const std::string& key, const std::string& value) = 0;
  virtual void barrier() = 0;
  // nullopt: nobody put key.
  virtual std::optional<std::string> get(const std::string& key) = 0;
  // Ask the process manager to end the program. A PMI library may exit the
  // process here; otherwise it returns and the caller should exit.
  virtual void abort(int code, const std::string& msg) = 0;
  virtual void finalize() = 0;
};

// How long the simple client waits for each reply; nullopt: forever.
using PmiTimeout = std::optional<std::chrono::milliseconds>;
inline constexpr std::chrono::milliseconds kPmiDefaultTimeout{60'000};

// RFC 13 wire protocol on fd (owned: closed on destruction), with rank and
// size given as the environment would. Sends init (version 1.1),
// get_maxes and get_my_kvsname before returning.
class SimplePmiClient : public PmiClient {
 public:
  SimplePmiClient(int fd, int rank, int size, PmiTimeout timeout = kPmiDefaultTimeout);
  ~SimplePmiClient() override;
  SimplePmiClient(const SimplePmiClient&) = delete;
  SimplePmiClient& operator=(const SimplePmiClient&) = delete;

  std::string method() const override { return "simple"; }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string kvsname() const override { return kvsname_; }
  void put(const std::string& key, const std::string& value) override;
  void barrier() override;
  std::optional<std::string> get(const std::string& key) override;
  void abort(int code, const std::string& msg) override;
  void finalize() override;

 private:
  using Reply = std::map<std::string, std::string>;
  // Send line, read one reply, check its cmd is `expect` (throws otherwise).
  Reply call(const std::string& op, const std::string& line, const std::string& expect);
  void send(const std::string& op, const std::string& line);
  std::string read_line(const std::string& op);
  void check_open(const std::string& op) const;
  [[noreturn]] void broken(int errnum, const std::string& op, const std::string& detail);

  int fd_;
  int rank_;
  int size_;
  PmiTimeout timeout_;
  std::string kvsname_;
  size_t keylen_max_ = 0;
  size_t vallen_max_ = 0;
  std::string buf_;  // bytes read past the last line
  bool finalized_ = false;
};

// The simple client from PMI_FD, PMI_RANK and PMI_SIZE.
std::unique_ptr<PmiClient> pmi_open_simple(PmiTimeout timeout = kPmiDefaultTimeout);
// A PMI-1 library; path "" : FLUX_PMI_LIBRARY_PATH, else "libpmi.so".
std::unique_ptr<PmiClient> pmi_open_libpmi(const std::string& path = "");
std::unique_ptr<PmiClient> pmi_open_single();

// By broker.boot-method (see above). An unknown method is EINVAL.
std::unique_ptr<PmiClient> pmi_open(const std::string& method = "",
                                    PmiTimeout timeout = kPmiDefaultTimeout);

}  // namespace flux
