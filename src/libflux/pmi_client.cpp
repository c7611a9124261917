#include "pmi_client.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "printable.hpp"
#include "result.hpp"

namespace flux {

namespace {

constexpr size_t kMaxLine = 64 * 1024;
// Used when get_maxes leaves a limit out (RFC 13 makes them optional).
constexpr size_t kDefaultKeylenMax = 256;
constexpr size_t kDefaultVallenMax = 1024;

[[noreturn]] void fail(int errnum, const std::string& op, const std::string& detail) {
  throw FluxError(errnum, "PMI simple: " + op + ": " + detail);
}

std::optional<long> parse_int(const std::string& s) {
  long v = 0;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || p != end) return std::nullopt;
  return v;
}

// RFC 13 words: printable ASCII without space; keys also without '='.
bool is_word(const std::string& s, bool allow_eq) {
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7e || (c == '=' && !allow_eq)) return false;
  }
  return true;
}

}  // namespace

// ---- simple: the RFC 13 wire protocol ----

SimplePmiClient::SimplePmiClient(int fd, int rank, int size, PmiTimeout timeout)
    : fd_(fd), rank_(rank), size_(size), timeout_(timeout) {
  try {
    if (fd < 0) fail(EBADF, "init", "no file descriptor");
    if (size < 1 || rank < 0 || rank >= size) {
      fail(EINVAL, "init",
           "rank " + std::to_string(rank) + " is not in a program of size " + std::to_string(size));
    }
    Reply r = call("init", "cmd=init pmi_version=1 pmi_subversion=1", "response_to_init");
    if (r.count("pmi_version") && r["pmi_version"] != "1") {
      broken(EPROTO, "init", "server speaks PMI version " + printable(r["pmi_version"]));
    }
    r = call("get_maxes", "cmd=get_maxes", "maxes");
    auto limit = [&](const char* name, size_t dflt) {
      if (!r.count(name)) return dflt;
      auto v = parse_int(r[name]);
      if (!v || *v < 1) broken(EPROTO, "get_maxes", std::string("bad ") + name);
      return static_cast<size_t>(*v);
    };
    limit("kvsname_max", 0);
    keylen_max_ = limit("keylen_max", kDefaultKeylenMax);
    vallen_max_ = limit("vallen_max", kDefaultVallenMax);
    r = call("get_my_kvsname", "cmd=get_my_kvsname", "my_kvsname");
    kvsname_ = r["kvsname"];
    if (kvsname_.empty() || !is_word(kvsname_, false)) {
      broken(EPROTO, "get_my_kvsname", "bad kvsname \"" + printable(kvsname_) + "\"");
    }
  } catch (...) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    throw;
  }
}

SimplePmiClient::~SimplePmiClient() {
  if (fd_ >= 0) ::close(fd_);
}

void SimplePmiClient::check_open(const std::string& op) const {
  if (finalized_) fail(EINVAL, op, "called after finalize");
  if (fd_ < 0) fail(ENOTCONN, op, "the connection was closed after an earlier error");
}

// Any protocol failure breaks the lock step: RFC 13 says close the
// connection, and later calls fail at once.
void SimplePmiClient::broken(int errnum, const std::string& op, const std::string& detail) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
  fail(errnum, op, detail);
}

void SimplePmiClient::send(const std::string& op, const std::string& line) {
  check_open(op);
  std::string out = line + "\n";
  size_t off = 0;
  while (off < out.size()) {
    // MSG_NOSIGNAL: a vanished server is an error, not SIGPIPE.
    ssize_t n = ::send(fd_, out.data() + off, out.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = ::write(fd_, out.data() + off, out.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) broken(errno, op, std::string("write: ") + std::strerror(errno));
    off += static_cast<size_t>(n);
  }
}

std::string SimplePmiClient::read_line(const std::string& op) {
  using Clock = std::chrono::steady_clock;
  auto deadline = timeout_ ? Clock::now() + *timeout_ : Clock::time_point::max();
  size_t nl;
  while ((nl = buf_.find('\n')) == std::string::npos) {
    if (buf_.size() > kMaxLine) broken(EPROTO, op, "reply line too long");
    int wait_ms = -1;
    if (timeout_) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        broken(ETIMEDOUT, op, "no reply within " + std::to_string(timeout_->count()) + " ms");
      }
      wait_ms = static_cast<int>(left.count());
    }
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, wait_ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) broken(errno, op, std::string("poll: ") + std::strerror(errno));
    if (rc == 0) continue;  // the deadline check above reports it
    char chunk[4096];
    ssize_t n = ::read(fd_, chunk, sizeof(chunk));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) broken(errno, op, std::string("read: ") + std::strerror(errno));
    if (n == 0) broken(ECONNRESET, op, "the server closed the connection");
    buf_.append(chunk, static_cast<size_t>(n));
  }
  std::string line = buf_.substr(0, nl);
  buf_.erase(0, nl + 1);
  return line;
}

SimplePmiClient::Reply SimplePmiClient::call(const std::string& op, const std::string& line,
                                             const std::string& expect) {
  send(op, line);
  std::string text = read_line(op);
  // Tuples in any order, separated by any white space (RFC 13).
  Reply r;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r')) i++;
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t' && text[j] != '\r') j++;
    if (j > i) {
      std::string word = text.substr(i, j - i);
      size_t eq = word.find('=');
      if (eq == std::string::npos) {
        r[word] = "";
      } else {
        r[word.substr(0, eq)] = word.substr(eq + 1);
      }
    }
    i = j;
  }
  if (!r.count("cmd") || r["cmd"] != expect) {
    broken(EPROTO, op, "unexpected reply \"" + printable(text) + "\" (wanted cmd=" + expect + ")");
  }
  if (r.count("rc") && !parse_int(r["rc"])) {
    broken(EPROTO, op, "bad rc \"" + printable(r["rc"]) + "\"");
  }
  if (op != "get" && r.count("rc") && *parse_int(r["rc"]) != 0) {
    std::string msg = r.count("msg") ? " (" + printable(r["msg"]) + ")" : "";
    fail(EIO, op, "failed: rc=" + r["rc"] + msg);
  }
  return r;
}

void SimplePmiClient::put(const std::string& key, const std::string& value) {
  if (key.empty() || !is_word(key, false) || key.size() >= keylen_max_) {
    fail(EINVAL, "put", "invalid key \"" + printable(key) + "\"");
  }
  if (!is_word(value, true) || value.size() >= vallen_max_) {
    fail(EINVAL, "put",
         "invalid value for " + key + " (printable ASCII without spaces, under " +
             std::to_string(vallen_max_) + " bytes)");
  }
  call("put", "cmd=put kvsname=" + kvsname_ + " key=" + key + " value=" + value, "put_result");
}

void SimplePmiClient::barrier() {
  call("barrier", "cmd=barrier_in", "barrier_out");
}

std::optional<std::string> SimplePmiClient::get(const std::string& key) {
  if (key.empty() || !is_word(key, false) || key.size() >= keylen_max_) {
    fail(EINVAL, "get", "invalid key \"" + printable(key) + "\"");
  }
  Reply r = call("get", "cmd=get kvsname=" + kvsname_ + " key=" + key, "get_result");
  if (r.count("rc") && *parse_int(r["rc"]) != 0) return std::nullopt;  // not found
  if (!r.count("value")) broken(EPROTO, "get", "reply without a value");
  return r["value"];
}

void SimplePmiClient::abort(int code, const std::string& msg) {
  std::string text = msg;
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  // No answer comes: the process manager ends the program.
  send("abort", "cmd=abort exitcode=" + std::to_string(code) + " msg=" + text);
}

void SimplePmiClient::finalize() {
  call("finalize", "cmd=finalize", "finalize_ack");
  finalized_ = true;
  ::close(fd_);
  fd_ = -1;
}

// ---- single: a program of one ----

namespace {

class SinglePmiClient : public PmiClient {
 public:
  std::string method() const override { return "single"; }
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string kvsname() const override { return "single"; }
  void put(const std::string& key, const std::string& value) override { kvs_[key] = value; }
  void barrier() override {}
  std::optional<std::string> get(const std::string& key) override {
    auto it = kvs_.find(key);
    if (it == kvs_.end()) return std::nullopt;
    return it->second;
  }
  void abort(int, const std::string&) override {}
  void finalize() override {}

 private:
  std::map<std::string, std::string> kvs_;
};

// ---- libpmi: a PMI-1 library through dlopen ----

constexpr int kPmiSuccess = 0;
constexpr int kPmiErrInit = 1;
constexpr int kPmiErrNomem = 2;
constexpr int kPmiErrInvalidLength = 8;
constexpr size_t kLibpmiValueMax = 4096;  // when the library cannot say

class LibPmiClient : public PmiClient {
 public:
  explicit LibPmiClient(const std::string& path) : path_(path) {
    dl_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!dl_) {
      const char* e = ::dlerror();
      throw FluxError(ENOENT, "PMI libpmi: dlopen " + path + ": " + (e ? e : "failed"));
    }
    try {
      bind(init_, "PMI_Init");
      bind(get_rank_, "PMI_Get_rank");
      bind(get_size_, "PMI_Get_size");
      bind(get_my_name_, "PMI_KVS_Get_my_name");
      bind(name_length_max_, "PMI_KVS_Get_name_length_max");
      bind(put_, "PMI_KVS_Put");
      bind(commit_, "PMI_KVS_Commit");
      bind(barrier_, "PMI_Barrier");
      bind(get_, "PMI_KVS_Get");
      bind(abort_, "PMI_Abort");
      bind(finalize_, "PMI_Finalize");
      // Optional: not every library has it.
      value_length_max_ =
          reinterpret_cast<int (*)(int*)>(::dlsym(dl_, "PMI_KVS_Get_value_length_max"));
      int spawned = 0;
      check(init_(&spawned), "PMI_Init");
      initialized_ = true;
      check(get_rank_(&rank_), "PMI_Get_rank");
      check(get_size_(&size_), "PMI_Get_size");
      if (size_ < 1 || rank_ < 0 || rank_ >= size_) {
        throw FluxError(EPROTO, "PMI libpmi: " + path + ": rank " + std::to_string(rank_) +
                                    " of size " + std::to_string(size_));
      }
      int len = 0;
      check(name_length_max_(&len), "PMI_KVS_Get_name_length_max");
      if (len < 1 || len > 1024 * 1024) len = 1024;
      std::vector<char> name(static_cast<size_t>(len) + 1, '\0');
      check(get_my_name_(name.data(), len), "PMI_KVS_Get_my_name");
      kvsname_ = name.data();
      value_max_ = kLibpmiValueMax;
      int vlen = 0;
      if (value_length_max_ && value_length_max_(&vlen) == kPmiSuccess && vlen > 0 &&
          vlen <= 1024 * 1024) {
        value_max_ = static_cast<size_t>(vlen);
      }
    } catch (...) {
      if (initialized_) finalize_();
      ::dlclose(dl_);
      throw;
    }
  }
  ~LibPmiClient() override {
    if (initialized_ && !finalized_) finalize_();
    ::dlclose(dl_);
  }
  LibPmiClient(const LibPmiClient&) = delete;
  LibPmiClient& operator=(const LibPmiClient&) = delete;

  std::string method() const override { return "libpmi"; }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string kvsname() const override { return kvsname_; }
  void put(const std::string& key, const std::string& value) override {
    check(put_(kvsname_.c_str(), key.c_str(), value.c_str()), "PMI_KVS_Put");
  }
  void barrier() override {
    check(commit_(kvsname_.c_str()), "PMI_KVS_Commit");
    check(barrier_(), "PMI_Barrier");
  }
  std::optional<std::string> get(const std::string& key) override {
    std::vector<char> value(value_max_ + 1, '\0');
    int rc = get_(kvsname_.c_str(), key.c_str(), value.data(), static_cast<int>(value.size()));
    if (rc == kPmiErrInit || rc == kPmiErrNomem || rc == kPmiErrInvalidLength) {
      check(rc, "PMI_KVS_Get");
    }
    if (rc != kPmiSuccess) return std::nullopt;  // libraries differ in how they say "missing"
    value.back() = '\0';
    return std::string(value.data());
  }
  void abort(int code, const std::string& msg) override {
    check(abort_(code, msg.c_str()), "PMI_Abort");
  }
  void finalize() override {
    finalized_ = true;
    check(finalize_(), "PMI_Finalize");
  }

 private:
  template <class Fn>
  void bind(Fn*& fn, const char* name) {
    fn = reinterpret_cast<Fn*>(::dlsym(dl_, name));
    if (!fn) throw FluxError(ENOSYS, "PMI libpmi: " + path_ + ": no symbol " + name);
  }
  void check(int rc, const char* fn) const {
    if (rc != kPmiSuccess) {
      throw FluxError(EIO,
                      std::string("PMI libpmi: ") + fn + " failed (rc=" + std::to_string(rc) + ")");
    }
  }

  void* dl_ = nullptr;
  std::string path_;
  int (*init_)(int*) = nullptr;
  int (*get_rank_)(int*) = nullptr;
  int (*get_size_)(int*) = nullptr;
  int (*get_my_name_)(char*, int) = nullptr;
  int (*name_length_max_)(int*) = nullptr;
  int (*value_length_max_)(int*) = nullptr;
  int (*put_)(const char*, const char*, const char*) = nullptr;
  int (*commit_)(const char*) = nullptr;
  int (*barrier_)() = nullptr;
  int (*get_)(const char*, const char*, char*, int) = nullptr;
  int (*abort_)(int, const char*) = nullptr;
  int (*finalize_)() = nullptr;
  bool initialized_ = false;
  bool finalized_ = false;
  int rank_ = 0;
  int size_ = 0;
  std::string kvsname_;
  size_t value_max_ = kLibpmiValueMax;
};

int env_int(const char* name) {
  const char* s = std::getenv(name);
  if (!s) throw FluxError(EINVAL, std::string("PMI simple: init: ") + name + " is not set");
  auto v = parse_int(s);
  if (!v || *v < 0 || *v > INT_MAX) {
    throw FluxError(EINVAL, std::string("PMI simple: init: ") + name + "=" + printable(s) +
                                " is not a non-negative integer");
  }
  return static_cast<int>(*v);
}

}  // namespace

std::unique_ptr<PmiClient> pmi_open_simple(PmiTimeout timeout) {
  int fd = env_int("PMI_FD");
  int rank = env_int("PMI_RANK");
  int size = env_int("PMI_SIZE");
  int flags = ::fcntl(fd, F_GETFD);
  if (flags < 0) {
    throw FluxError(EBADF, "PMI simple: init: PMI_FD=" + std::to_string(fd) + " is not open");
  }
  // Programs the broker starts must not inherit the connection.
  ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  return std::make_unique<SimplePmiClient>(fd, rank, size, timeout);
}

std::unique_ptr<PmiClient> pmi_open_libpmi(const std::string& path) {
  std::string p = path;
  if (p.empty()) {
    const char* env = std::getenv("FLUX_PMI_LIBRARY_PATH");
    p = env && *env ? env : "libpmi.so";
  }
  return std::make_unique<LibPmiClient>(p);
}

std::unique_ptr<PmiClient> pmi_open_single() {
  return std::make_unique<SinglePmiClient>();
}

std::unique_ptr<PmiClient> pmi_open(const std::string& method, PmiTimeout timeout) {
  if (method == "simple") return pmi_open_simple(timeout);
  if (method == "single") return pmi_open_single();
  if (method == "libpmi") return pmi_open_libpmi();
  if (method.rfind("libpmi:", 0) == 0) return pmi_open_libpmi(method.substr(7));
  if (!method.empty()) {
    throw FluxError(EINVAL, "PMI: unknown boot method \"" + printable(method) +
                                "\" (simple, libpmi[:PATH], single)");
  }
  // Auto, as flux-core: the wire protocol when offered, else a library
  // that loads and initializes, else a singleton.
  if (std::getenv("PMI_FD")) return pmi_open_simple(timeout);
  try {
    return pmi_open_libpmi();
  } catch (const FluxError&) {
    // One of several tasks of a launcher that offered no PMI we speak
    // would become a singleton instance, one per task: refuse instead.
    for (const char* var : {"SLURM_STEP_NUM_TASKS", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE"}) {
      const char* v = std::getenv(var);
      auto n = v ? parse_int(v) : std::nullopt;
      if (n && *n > 1)
        throw FluxError(EINVAL, std::string("PMI: started as one of ") + std::to_string(*n) +
                                    " tasks (" + var +
                                    ") but no PMI was offered: launch with PMI (srun "
                                    "--mpi=pmi2, mpiexec.hydra), or use flux start --test-size");
    }
    return pmi_open_single();
  }
}

}  // namespace flux
