// PMI-1: the libflux server (on a Reactor thread) with simple clients (in
// threads, over socketpairs), the client's error paths against scripted
// peers, and the single and libpmi (dlopen) clients.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include "libflux/pmi_client.hpp"
#include "libflux/pmi_server.hpp"
#include "libflux/result.hpp"

using namespace flux;
using namespace std::chrono_literals;

namespace {

constexpr int kSize = 4;

std::pair<int, int> socket_pair() {
  int sv[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  return {sv[0], sv[1]};
}

void write_all(int fd, const std::string& s) {
  ASSERT_EQ(write(fd, s.data(), s.size()), static_cast<ssize_t>(s.size()));
}

// What a server says to a client's init, get_maxes and get_my_kvsname.
const std::string kHello =
    "cmd=response_to_init rc=0 pmi_version=1 pmi_subversion=1\n"
    "cmd=maxes rc=0 kvsname_max=256 keylen_max=64 vallen_max=1024\n"
    "cmd=my_kvsname rc=0 kvsname=job\n";

// A PmiServer with LocalExchange on its own Reactor thread, `n` clients.
struct ServerThread {
  Reactor r;
  std::unique_ptr<PmiServer> server;
  std::vector<int> client_fds;
  std::atomic<int> aborted_code{-1};
  std::thread thread;

  explicit ServerThread(int n) {
    PmiJob job;
    job.kvsname = "kvs0";
    job.size = n;
    job.local_size = n;
    job.process_mapping = "(vector,(0,1," + std::to_string(n) + "))";
    server = std::make_unique<PmiServer>(
        r, job, std::make_unique<LocalExchange>(),
        [this](int, int code, const std::string&) { aborted_code = code; });
    for (int i = 0; i < n; i++) {
      auto [mine, theirs] = socket_pair();
      server->add_client(i, mine);
      client_fds.push_back(theirs);
    }
    r.keep_alive(true);
    thread = std::thread([this] { r.run(); });
  }
  ~ServerThread() {
    r.post([this] {
      server.reset();
      r.stop();
    });
    thread.join();
  }
};

void expect_error(const std::function<void()>& fn, int errnum, const std::string& text) {
  try {
    fn();
    ADD_FAILURE() << "expected FluxError containing \"" << text << "\"";
  } catch (const FluxError& e) {
    EXPECT_EQ(e.errnum(), errnum) << e.what();
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

// Set (or unset, value null) an environment variable for one test.
struct EnvVar {
  std::string name;
  std::optional<std::string> saved;
  EnvVar(const char* n, const char* value) : name(n) {
    if (const char* old = std::getenv(n)) saved = old;
    if (value) {
      setenv(n, value, 1);
    } else {
      unsetenv(n);
    }
  }
  ~EnvVar() {
    if (saved) {
      setenv(name.c_str(), saved->c_str(), 1);
    } else {
      unsetenv(name.c_str());
    }
  }
};

}  // namespace

// The broker bootstrap: each puts its business card, barrier, each reads
// every other's.
TEST(PmiSimple, FourClientsExchangeBusinessCards) {
  ServerThread st(kSize);
  std::vector<std::string> errors(kSize);
  std::vector<std::thread> threads;
  for (int rank = 0; rank < kSize; rank++) {
    threads.emplace_back([&, rank] {
      try {
        SimplePmiClient pmi(st.client_fds[rank], rank, kSize, 5s);
        if (pmi.kvsname() != "kvs0") throw std::runtime_error("kvsname " + pmi.kvsname());
        pmi.put("card." + std::to_string(rank), "tcp://10.0.0." + std::to_string(rank) + ":1=x");
        pmi.barrier();
        for (int i = 0; i < kSize; i++) {
          auto v = pmi.get("card." + std::to_string(i));
          std::string want = "tcp://10.0.0." + std::to_string(i) + ":1=x";
          if (v != want) throw std::runtime_error("card " + std::to_string(i) + " wrong");
        }
        if (pmi.get("PMI_process_mapping") != "(vector,(0,1,4))") {
          throw std::runtime_error("bad process mapping");
        }
        if (pmi.get("nobody.put.this")) throw std::runtime_error("missing key found");
        pmi.barrier();
        pmi.finalize();
      } catch (const std::exception& e) {
        errors[rank] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int rank = 0; rank < kSize; rank++) EXPECT_EQ(errors[rank], "") << "rank " << rank;
}

TEST(PmiSimple, MissingKeyIsNullopt) {
  ServerThread st(1);
  SimplePmiClient pmi(st.client_fds[0], 0, 1, 5s);
  EXPECT_EQ(pmi.rank(), 0);
  EXPECT_EQ(pmi.size(), 1);
  EXPECT_EQ(pmi.method(), "simple");
  EXPECT_EQ(pmi.get("no.such.key"), std::nullopt);
  pmi.put("k", "");
  pmi.barrier();
  EXPECT_EQ(pmi.get("k"), "");
}

TEST(PmiSimple, AbortReachesTheServer) {
  ServerThread st(1);
  {
    SimplePmiClient pmi(st.client_fds[0], 0, 1, 5s);
    pmi.abort(7, "giving up\nnow");
    // Lock step: a later request is answered only after abort was read.
    EXPECT_EQ(pmi.get("x"), std::nullopt);
  }
  EXPECT_EQ(st.aborted_code.load(), 7);
}

TEST(PmiSimple, BadKeysAndValuesAreRefused) {
  ServerThread st(1);
  SimplePmiClient pmi(st.client_fds[0], 0, 1, 5s);
  expect_error([&] { pmi.put("has space", "v"); }, EINVAL, "put");
  expect_error([&] { pmi.put("k=v", "v"); }, EINVAL, "put");
  expect_error([&] { pmi.put("", "v"); }, EINVAL, "put");
  expect_error([&] { pmi.put("k", "two words"); }, EINVAL, "put");
  expect_error([&] { pmi.put("k", std::string(2000, 'x')); }, EINVAL, "put");
  // The connection is still in step.
  pmi.put("k", "v");
  pmi.barrier();
  EXPECT_EQ(pmi.get("k"), "v");
}

TEST(PmiSimple, GarbageReplyIsAProtocolError) {
  auto [client, server] = socket_pair();
  write_all(server, "this is not PMI\n");
  expect_error([&] { SimplePmiClient pmi(client, 0, 1, 5s); }, EPROTO, "init");
  close(server);
}

TEST(PmiSimple, WrongReplyMidSessionClosesTheConnection) {
  auto [client, server] = socket_pair();
  write_all(server, kHello + "cmd=get_result rc=0 value=x\n");
  SimplePmiClient pmi(client, 0, 1, 5s);
  EXPECT_EQ(pmi.kvsname(), "job");
  expect_error([&] { pmi.barrier(); }, EPROTO, "barrier");
  expect_error([&] { pmi.get("x"); }, ENOTCONN, "get");
  close(server);
}

TEST(PmiSimple, ServerClosedIsAnError) {
  auto [client, server] = socket_pair();
  close(server);
  try {
    SimplePmiClient pmi(client, 0, 1, 5s);
    ADD_FAILURE() << "expected FluxError";
  } catch (const FluxError& e) {
    EXPECT_NE(std::string(e.what()).find("PMI simple: init"), std::string::npos) << e.what();
  }
}

TEST(PmiSimple, ServerClosingMidSessionIsAnError) {
  auto [client, server] = socket_pair();
  write_all(server, kHello);
  SimplePmiClient pmi(client, 0, 1, 5s);
  close(server);
  try {
    pmi.barrier();
    ADD_FAILURE() << "expected FluxError";
  } catch (const FluxError& e) {
    EXPECT_NE(std::string(e.what()).find("barrier"), std::string::npos) << e.what();
  }
}

TEST(PmiSimple, PartialReplyThenEofIsAnError) {
  auto [client, server] = socket_pair();
  write_all(server, "cmd=response_to_init rc=0");
  shutdown(server, SHUT_WR);  // EOF after the partial line; the request is still written
  expect_error([&] { SimplePmiClient pmi(client, 0, 1, 5s); }, ECONNRESET, "closed");
  close(server);
}

TEST(PmiSimple, SilentServerTimesOut) {
  auto [client, server] = socket_pair();
  write_all(server, kHello);
  SimplePmiClient pmi(client, 0, 1, 50ms);
  auto t0 = std::chrono::steady_clock::now();
  expect_error([&] { pmi.barrier(); }, ETIMEDOUT, "barrier: no reply within 50 ms");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  close(server);
}

TEST(PmiSimple, ErrorRcIsAnError) {
  auto [client, server] = socket_pair();
  write_all(server, kHello + "cmd=put_result rc=-1 msg=no_room\n");
  SimplePmiClient pmi(client, 0, 1, 5s);
  expect_error([&] { pmi.put("k", "v"); }, EIO, "put: failed: rc=-1 (no_room)");
  close(server);
}

TEST(PmiSimple, BadRankOrSize) {
  auto [client, server] = socket_pair();
  expect_error([&] { SimplePmiClient pmi(client, 4, 4, 5s); }, EINVAL, "rank 4");
  close(server);
}

TEST(PmiOpen, SimpleFromTheEnvironment) {
  auto [client, server] = socket_pair();
  write_all(server, kHello);
  std::string fd = std::to_string(client);
  EnvVar f("PMI_FD", fd.c_str()), r("PMI_RANK", "2"), s("PMI_SIZE", "3");
  auto pmi = pmi_open("");
  EXPECT_EQ(pmi->method(), "simple");
  EXPECT_EQ(pmi->rank(), 2);
  EXPECT_EQ(pmi->size(), 3);
  EXPECT_EQ(pmi->kvsname(), "job");
  close(server);
}

TEST(PmiOpen, SimpleWithoutEnvironmentIsAnError) {
  EnvVar f("PMI_FD", nullptr), r("PMI_RANK", "0"), s("PMI_SIZE", "1");
  expect_error([] { pmi_open("simple"); }, EINVAL, "PMI_FD is not set");
  EnvVar f2("PMI_FD", "12x");
  expect_error([] { pmi_open("simple"); }, EINVAL, "PMI_FD=12x");
}

TEST(PmiOpen, UnknownMethod) {
  expect_error([] { pmi_open("pmix"); }, EINVAL, "unknown boot method");
}

TEST(PmiSingle, IsRankZeroOfOne) {
  auto pmi = pmi_open("single");
  EXPECT_EQ(pmi->method(), "single");
  EXPECT_EQ(pmi->rank(), 0);
  EXPECT_EQ(pmi->size(), 1);
  EXPECT_FALSE(pmi->kvsname().empty());
  pmi->put("card", "uri");
  pmi->barrier();
  EXPECT_EQ(pmi->get("card"), "uri");
  EXPECT_EQ(pmi->get("other"), std::nullopt);
  pmi->finalize();
}

TEST(PmiOpen, AutoFallsBackToSingle) {
  EnvVar f("PMI_FD", nullptr), lib("FLUX_PMI_LIBRARY_PATH", "/nonexistent/libpmi.so");
  EXPECT_EQ(pmi_open("")->method(), "single");
}

TEST(PmiOpen, AutoUsesALibraryThatLoads) {
  EnvVar f("PMI_FD", nullptr), lib("FLUX_PMI_LIBRARY_PATH", FAKE_LIBPMI);
  EXPECT_EQ(pmi_open("")->method(), "libpmi");
}

TEST(PmiLibpmi, ThroughDlopen) {
  auto pmi = pmi_open(std::string("libpmi:") + FAKE_LIBPMI);
  EXPECT_EQ(pmi->method(), "libpmi");
  EXPECT_EQ(pmi->rank(), 0);
  EXPECT_EQ(pmi->size(), 1);
  EXPECT_EQ(pmi->kvsname(), "fake");
  pmi->put("card.0", "tcp://127.0.0.1:5000");
  pmi->barrier();
  EXPECT_EQ(pmi->get("card.0"), "tcp://127.0.0.1:5000");
  EXPECT_EQ(pmi->get("card.1"), std::nullopt);
  expect_error([&] { pmi->put("", "v"); }, EIO, "PMI_KVS_Put");
  pmi->abort(3, "bye");
  void* dl = dlopen(FAKE_LIBPMI, RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(dl, nullptr);
  auto code = reinterpret_cast<int (*)()>(dlsym(dl, "fake_pmi_abort_code"));
  ASSERT_NE(code, nullptr);
  EXPECT_EQ(code(), 3);
  dlclose(dl);
  pmi->finalize();
}

TEST(PmiLibpmi, HonoursFluxPmiLibraryPath) {
  EnvVar lib("FLUX_PMI_LIBRARY_PATH", FAKE_LIBPMI);
  EXPECT_EQ(pmi_open("libpmi")->kvsname(), "fake");
}

TEST(PmiLibpmi, MissingLibraryIsAClearError) {
  expect_error([] { pmi_open("libpmi:/nonexistent/libpmi.so"); }, ENOENT,
               "PMI libpmi: dlopen /nonexistent/libpmi.so");
}

TEST(PmiLibpmi, MissingSymbolIsAClearError) {
  expect_error([] { pmi_open(std::string("libpmi:") + LIBFLUX_SO); }, ENOSYS, "no symbol PMI_Init");
}
