// A PMI-1 wire protocol client for the flux-shell tests (RFC 13): every
// task puts two keys ("keyR" and "dot.keyR%", the latter not a plain KVS
// path component), enters the barrier, reads every task's keys and the
// process mapping, and prints one line:
//   pmi: rank R size S universe U appnum A kvsname K mapping M ok
// Exits 1 (with a message on stderr) on any protocol failure.
// With argument "abort", rank 0 calls abort with exit code 7 after init.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>

namespace {

int fd = -1;
std::string inbuf;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "pmi_test: %s\n", what.c_str());
  std::exit(1);
}

void send_line(const std::string& line) {
  std::string s = line + "\n";
  if (write(fd, s.data(), s.size()) != static_cast<ssize_t>(s.size())) die("write failed");
}

std::map<std::string, std::string> recv_line() {
  size_t nl;
  while ((nl = inbuf.find('\n')) == std::string::npos) {
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) die("connection closed");
    inbuf.append(buf, static_cast<size_t>(n));
  }
  std::string line = inbuf.substr(0, nl);
  inbuf.erase(0, nl + 1);
  std::map<std::string, std::string> kv;
  std::istringstream in(line);
  std::string w;
  while (in >> w) {
    size_t eq = w.find('=');
    kv[w.substr(0, eq)] = eq == std::string::npos ? "" : w.substr(eq + 1);
  }
  return kv;
}

std::map<std::string, std::string> call(const std::string& req, const std::string& want) {
  send_line(req);
  auto r = recv_line();
  if (r["cmd"] != want) die(req + ": got cmd=" + r["cmd"]);
  if (r.count("rc") && r["rc"] != "0") die(req + ": rc=" + r["rc"]);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const char* f = std::getenv("PMI_FD");
  const char* r = std::getenv("PMI_RANK");
  const char* s = std::getenv("PMI_SIZE");
  if (!f || !r || !s) die("PMI_FD, PMI_RANK or PMI_SIZE is not set");
  fd = std::atoi(f);
  int rank = std::atoi(r), size = std::atoi(s);
  auto init = call("cmd=init pmi_version=1 pmi_subversion=1", "response_to_init");
  if (init["pmi_version"] != "1") die("bad pmi_version");
  if (argc > 1 && std::string(argv[1]) == "abort" && rank == 0) {
    send_line("cmd=abort exitcode=7 msg=test abort");
    pause();
  }
  call("cmd=get_maxes", "maxes");
  std::string kvsname = call("cmd=get_my_kvsname", "my_kvsname")["kvsname"];
  std::string universe = call("cmd=get_universe_size", "universe_size")["size"];
  std::string appnum = call("cmd=get_appnum", "appnum")["appnum"];
  call("cmd=put kvsname=" + kvsname + " key=key" + std::to_string(rank) + " value=val" +
           std::to_string(rank),
       "put_result");
  call("cmd=put kvsname=" + kvsname + " key=dot.key" + std::to_string(rank) + "% value=v.al" +
           std::to_string(rank),
       "put_result");
  call("cmd=barrier_in", "barrier_out");
  for (int i = 0; i < size; i++) {
    auto g = call("cmd=get kvsname=" + kvsname + " key=key" + std::to_string(i), "get_result");
    if (g["value"] != "val" + std::to_string(i))
      die("key" + std::to_string(i) + " has the wrong value");
    g = call("cmd=get kvsname=" + kvsname + " key=dot.key" + std::to_string(i) + "%", "get_result");
    if (g["value"] != "v.al" + std::to_string(i))
      die("dot.key" + std::to_string(i) + "% has the wrong value");
  }
  send_line("cmd=get kvsname=" + kvsname + " key=nosuchkey");
  if (recv_line()["rc"] == "0") die("a missing key was found");
  std::string mapping =
      call("cmd=get kvsname=" + kvsname + " key=PMI_process_mapping", "get_result")["value"];
  send_line("cmd=publish_name service=x port=y");
  if (recv_line()["rc"] == "0") die("publish_name succeeded");
  call("cmd=barrier_in", "barrier_out");
  call("cmd=finalize", "finalize_ack");
  std::printf("pmi: rank %d size %d universe %s appnum %s kvsname %s mapping %s ok\n", rank, size,
              universe.c_str(), appnum.c_str(), kvsname.c_str(), mapping.c_str());
  return 0;
}
