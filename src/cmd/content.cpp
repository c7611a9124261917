// flux content load|store|flush|dropcache: the content store (RFC 10) from
// the command line, as flux-content(1).
#include <unistd.h>

#include <cstdio>
#include <string>

#include "cli.hpp"
#include "command.hpp"
#include "content_client.hpp"
#include "libflux/blobref.hpp"

namespace flux::cmd {

namespace {

std::string read_all(int fd) {
  std::string data;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      throw FluxError(errno, std::string("reading stdin: ") + std::strerror(errno));
    }
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

void write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw FluxError(errno, std::string("writing stdout: ") + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
}

}  // namespace

HashAlg instance_hash(Handle& h) {
  try {
    auto v = h.rpc("attr.get", {{"name", "content.hash"}}).get_json().at("value");
    return hash_alg_from_name(v.get<std::string>()).value();
  } catch (const FluxError& e) {
    if (e.errnum() == ENOENT) return HashAlg::Sha1;
    throw;
  }
}

Message raw_request(const std::string& topic, const std::string& payload) {
  Message m = Message::request(topic);
  if (!payload.empty()) m.set_payload(payload);
  return m;
}

int cmd_content(int argc, char** argv) {
  CLI::App app{"Access the instance's content store."};
  app.require_subcommand(1);
  bool bypass = false;
  std::string blobref;
  auto* load = app.add_subcommand("load", "Write the blob named by BLOBREF to stdout");
  load->add_option("blobref", blobref, "Blobref, e.g. sha1-<hex digest>")->required();
  load->add_flag("-b,--bypass-cache", bypass, "Load from the backing store directly");
  auto* store = app.add_subcommand("store", "Store stdin as a blob and print its blobref");
  store->add_flag("-b,--bypass-cache", bypass, "Store in the backing store directly");
  auto* flush = app.add_subcommand("flush", "Write dirty cache entries to the backing store");
  auto* dropcache = app.add_subcommand("dropcache", "Drop clean entries from the cache");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto h = open_instance();
  const char* service = bypass ? "content-backing" : "content";

  if (*load) {
    auto ref = blobref_to_digest(blobref);
    if (!ref) throw FluxError(ref.error());
    try {
      Message r = h->rpc_message(raw_request(std::string(service) + ".load", ref->second)).get();
      write_all(STDOUT_FILENO, r.payload());
    } catch (const FluxError& e) {
      throw FluxError(e.errnum(), "load " + blobref + ": " + e.what());
    }
  } else if (*store) {
    std::string data = read_all(STDIN_FILENO);
    HashAlg alg = instance_hash(*h);
    Message r = h->rpc_message(raw_request(std::string(service) + ".store", data)).get();
    if (r.payload().size() != digest_size(alg))
      throw FluxError(
          EPROTO, "store: the response is not a " + std::string(hash_alg_name(alg)) + " digest");
    std::printf("%s\n", blobref_from_digest(alg, r.payload()).c_str());
  } else if (*flush) {
    h->rpc("content.flush").get();
  } else if (*dropcache) {
    h->rpc("content.dropcache").get();
  }
  return 0;
}

}  // namespace flux::cmd
